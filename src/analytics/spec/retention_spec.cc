#include "analytics/spec/retention_spec.h"

#include <fmt/format.h>

namespace cairn::analytics {

Status ValidateRetentionSpec(const RetentionSpec& spec) {
  if (spec.period == Period::kHour) return InvalidArgument("period: day, week or month");
  if (spec.periods < 1 || spec.periods > 400) return InvalidArgument("periods: must be in [1, 400]");
  if (spec.min_returns < 1) return InvalidArgument("min_returns: must be at least 1");
  for (size_t i = 0; i < spec.start_where.size(); ++i)
    if (spec.start_where[i].property.empty()) return InvalidArgument(fmt::format("start_where[{}].property: required", i));
  for (size_t i = 0; i < spec.return_where.size(); ++i)
    if (spec.return_where[i].property.empty())
      return InvalidArgument(fmt::format("return_where[{}].property: required", i));
  if (spec.start_event.empty() && !spec.start_where.empty())
    return InvalidArgument("start_where: needs start_event");
  if (spec.return_event.empty() && !spec.return_where.empty())
    return InvalidArgument("return_where: needs return_event");
  if (spec.breakdown == RetentionSpec::BreakdownKind::kProperty && spec.breakdown_property.empty())
    return InvalidArgument("breakdown.property: required");
  if (spec.breakdown == RetentionSpec::BreakdownKind::kProperty && spec.start_event.empty())
    return InvalidArgument("breakdown.property: needs start_event (the property is read from it)");
  if (spec.from_ms && spec.to_ms && *spec.from_ms >= *spec.to_ms) return InvalidArgument("to: must be after from");
  if (spec.who) {
    const RetentionWho& w = *spec.who;
    if (w.period > spec.periods)
      return InvalidArgument(fmt::format("who.period: must be 0 (the cohort) to periods ({})", spec.periods));
    if (!w.returned && w.period == 0)
      return InvalidArgument("who.status: not_returned needs a period from 1 (period 0 is the cohort itself)");
    if (w.page.limit < 1 || w.page.limit > 10000) return InvalidArgument("who.limit: must be 1..10000");
    const bool bd = spec.breakdown != RetentionSpec::BreakdownKind::kNone;
    if (bd && w.breakdown.empty())
      return InvalidArgument("who.breakdown: required with a breakdown (the cohort's value, e.g. \"(none)\")");
    if (!bd && !w.breakdown.empty()) return InvalidArgument("who.breakdown: only with a breakdown");
  }
  return Status::Ok();
}

}  // namespace cairn::analytics
