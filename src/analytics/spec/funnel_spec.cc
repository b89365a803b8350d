#include "analytics/spec/funnel_spec.h"

#include <fmt/format.h>

namespace cairn::analytics {
namespace {

Status ValidateFilters(const std::vector<PropertyFilter>& where, const std::string& field) {
  for (size_t i = 0; i < where.size(); ++i) {
    if (where[i].property.empty()) return InvalidArgument(fmt::format("{}[{}].property: required", field, i));
  }
  return Status::Ok();
}

}  // namespace

Status ValidateFunnelSpec(const FunnelSpec& spec) {
  const size_t n = spec.steps.size();
  if (n < kMinFunnelSteps || n > kMaxFunnelSteps)
    return InvalidArgument(fmt::format("steps: a funnel has {} to {} steps, got {}", kMinFunnelSteps, kMaxFunnelSteps, n));
  for (size_t s = 0; s < n; ++s) {
    const auto& st = spec.steps[s];
    if (st.event.empty()) return InvalidArgument(fmt::format("steps[{}].event: required", s));
    RETURN_IF_ERROR(ValidateFilters(st.where, fmt::format("steps[{}].where", s)));
    if (st.optional && (s == 0 || s + 1 == n))
      return InvalidArgument(fmt::format("steps[{}].optional: the first and the last step cannot be optional", s));
    if (st.within_ms < 0) return InvalidArgument(fmt::format("steps[{}].within: must be positive", s));
    if (st.within_ms > 0 && s == 0)
      return InvalidArgument("steps[0].within: the first step has no previous step to be within");
    if (st.within_ms > 0 && spec.order == FunnelOrder::kAny)
      return InvalidArgument(fmt::format("steps[{}].within: per-step windows need order ordered or strict", s));
    if (st.optional && spec.order == FunnelOrder::kAny)
      return InvalidArgument(fmt::format("steps[{}].optional: optional steps need order ordered or strict", s));
  }
  if (spec.window_ms <= 0) return InvalidArgument("window: must be positive");
  for (size_t k = 0; k < spec.exclusions.size(); ++k) {
    const auto& ex = spec.exclusions[k];
    if (ex.event.empty()) return InvalidArgument(fmt::format("exclusions[{}].event: required", k));
    RETURN_IF_ERROR(ValidateFilters(ex.where, fmt::format("exclusions[{}].where", k)));
    if (!(ex.from_step < ex.to_step && ex.to_step < n))
      return InvalidArgument(
          fmt::format("exclusions[{}]: from_step < to_step must both be steps (1..{})", k, n));
    if (spec.order == FunnelOrder::kAny)
      return InvalidArgument(fmt::format("exclusions[{}]: exclusions need order ordered or strict", k));
  }
  if (spec.exclusions.size() > 32) return InvalidArgument("exclusions: at most 32");
  if (spec.from_ms && spec.to_ms && *spec.from_ms >= *spec.to_ms) return InvalidArgument("to: must be after from");
  if (spec.counting == FunnelCounting::kTotals && spec.order == FunnelOrder::kAny)
    return InvalidArgument("counting: totals need order ordered or strict");
  const auto& bd = spec.breakdown;
  if (bd.kind == FunnelBreakdown::Kind::kProperty && bd.property.empty())
    return InvalidArgument("breakdown.property: required");
  if (bd.attribution == Attribution::kStep && bd.attribution_step >= n)
    return InvalidArgument(fmt::format("breakdown.attribution_step: must be a step (1..{})", n));
  if (bd.attribution == Attribution::kStep && spec.order == FunnelOrder::kAny)
    return InvalidArgument("breakdown.attribution: step attribution needs order ordered or strict");
  if (bd.limit < 1 || bd.limit > 1000) return InvalidArgument("breakdown.limit: must be in [1, 1000]");
  if (spec.over_time && *spec.over_time == Period::kHour)
    return InvalidArgument("over_time: day, week or month");
  if (spec.who) {
    if (spec.who->step >= n) return InvalidArgument(fmt::format("who.step: must be a step (1..{})", n));
    if (spec.who->limit < 1 || spec.who->limit > 10000) return InvalidArgument("who.limit: must be in [1, 10000]");
  }
  return Status::Ok();
}

}  // namespace cairn::analytics
