#include "rescue/decision_math.h"

#include <fmt/format.h>

#include <cmath>

namespace cairn::rescue {

double PosteriorMean(double prior, double strength, const ArmCounts& counts) {
  const double alpha = prior * strength + static_cast<double>(counts.successes);
  const double total = strength + static_cast<double>(counts.total());
  return total > 0 ? alpha / total : prior;
}

namespace {

std::string DescribeArm(const char* name, double prior, double strength, const ArmCounts& c, double p) {
  if (c.total() == 0) return fmt::format("p(success|{}) {:.3f} is the prior (no outcomes yet)", name, p);
  return fmt::format("p(success|{}) {:.3f} learned from {} outcome{} ({} succeeded) over the prior {:.3f} (strength {:g})",
                     name, p, c.total(), c.total() == 1 ? "" : "s", c.successes, prior, strength);
}

}  // namespace

DecisionMath ComputeDecision(const PathConfig& path, double value_at_stake, const ArmCounts& rescued,
                             const ArmCounts& none, const std::optional<BudgetState>& budget) {
  DecisionMath m;
  m.p_rescue = PosteriorMean(path.prior_p_rescue, path.prior_strength, rescued);
  m.p_none = PosteriorMean(path.prior_p_none, path.prior_strength, none);
  m.expected_gain = value_at_stake * (m.p_rescue - m.p_none) - path.cost;
  m.worth = m.expected_gain > 0;
  if (budget) m.within_budget = path.cost <= budget->limit - budget->spent + 1e-9;
  m.rescue = m.worth && m.within_budget;

  std::string verdict;
  if (!m.worth) {
    verdict = "Not worth rescuing: the expected gain is not positive.";
  } else if (!m.within_budget) {
    verdict = fmt::format("Worth rescuing, but over budget: cost {:.2f} exceeds the {:.2f} left of this period's {:.2f}.",
                          path.cost, budget->limit - budget->spent, budget->limit);
  } else {
    verdict = "Worth rescuing.";
    if (budget) verdict += fmt::format(" Budget left this period after it: {:.2f} of {:.2f}.",
                                       budget->limit - budget->spent - path.cost, budget->limit);
  }
  m.explanation = fmt::format(
      "Expected gain {:.2f} = value at stake {:.2f} × (p(success|rescue) {:.3f} − p(success|none) {:.3f}) − cost {:.2f}. "
      "{}; {}. {}",
      m.expected_gain, value_at_stake, m.p_rescue, m.p_none, path.cost,
      DescribeArm("rescue", path.prior_p_rescue, path.prior_strength, rescued, m.p_rescue),
      DescribeArm("none", path.prior_p_none, path.prior_strength, none, m.p_none), verdict);
  return m;
}

Status ValidatePath(const PathConfig& p) {
  auto bad = [&](std::string_view field, std::string_view what) {
    return InvalidArgument(fmt::format("paths[{}].{}: {}", p.name, field, what));
  };
  if (p.name.empty()) return InvalidArgument("paths[].name: must not be empty");
  auto prob = [&](std::string_view field, double v) -> Status {
    if (!std::isfinite(v) || v < 0 || v > 1) return bad(field, fmt::format("must be in [0, 1], got {}", v));
    return Status::Ok();
  };
  RETURN_IF_ERROR(prob("prior_p_rescue", p.prior_p_rescue));
  RETURN_IF_ERROR(prob("prior_p_none", p.prior_p_none));
  if (!std::isfinite(p.cost) || p.cost < 0) return bad("cost", fmt::format("must be a finite number >= 0, got {}", p.cost));
  if (!std::isfinite(p.prior_strength) || p.prior_strength <= 0) {
    return bad("prior_strength", fmt::format("must be > 0, got {}", p.prior_strength));
  }
  if (p.outcome_window_ms <= 0) return bad("outcome_window", "must be positive");
  if (p.channel.empty()) return bad("channel", "must not be empty");
  if (p.purpose.empty()) return bad("purpose", "must not be empty");
  return Status::Ok();
}

}  // namespace cairn::rescue
