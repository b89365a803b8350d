#pragma once
// The rescue decision as pure functions (DOMAIN.md §5), so the arithmetic is testable alone:
//
//   expected gain = value at stake × (p(success | rescue) − p(success | none)) − cost
//   rescue  ⇔  expected gain > 0  and  cost fits in what is left of the period's budget (if any)
//
// Chances are Beta-Binomial posterior means: a path's prior chance p with strength n is the
// prior Beta(p·n, (1−p)·n); each observed outcome of that arm adds a success or a failure, so
// the mean moves from the prior towards the observed rate as outcomes accumulate.

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "rescue/rescue_service.h"

namespace cairn::rescue {

struct ArmCounts {
  int64_t successes = 0;
  int64_t failures = 0;
  int64_t total() const { return successes + failures; }
};

// (p·n + s) / (n + s + f). prior in [0,1], strength > 0.
double PosteriorMean(double prior, double strength, const ArmCounts& counts);

struct BudgetState {
  double limit = 0;  // per period, business currency
  double spent = 0;  // committed in the current period (costs of rescues decided to go ahead)
};

struct DecisionMath {
  double p_rescue = 0;
  double p_none = 0;
  double expected_gain = 0;
  bool worth = false;          // expected_gain > 0
  bool within_budget = true;   // no budget, or cost <= limit − spent
  bool rescue = false;         // worth && within_budget
  std::string explanation;
};

// `rescued` / `none`: outcomes observed so far for this path × persona in each arm.
DecisionMath ComputeDecision(const PathConfig& path, double value_at_stake, const ArmCounts& rescued,
                             const ArmCounts& none, const std::optional<BudgetState>& budget);

// InvalidArgument naming the field ("paths[going_cold].prior_p_rescue: must be in [0, 1], got 1.5").
Status ValidatePath(const PathConfig& path);

}  // namespace cairn::rescue
