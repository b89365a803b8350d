#pragma once
// Lifecycle: for each period in a range, how many customers were new, returning, resurrecting,
// and how many went dormant (PostHog's lifecycle definition).
//
// Semantics (exec/lifecycle.cc; golden cases in tests/queries/lifecycle/):
//   active(c, p) = customer c (canonical) has an interaction of `event` ("" = any) in period p.
//   first(c)     = the first period c was ever active (over all data, not only the range).
//   For every period p from PeriodOf(from_ms) to PeriodOf(to_ms - 1):
//     new          = active(c, p) and p = first(c)
//     returning    = active(c, p) and active(c, p - 1)
//     resurrecting = active(c, p), p > first(c), not active(c, p - 1)
//     dormant      = active(c, p - 1) and not active(c, p)     (reported as a positive count)
//   new + returning + resurrecting = customers active in p.
//   who (optional): the customers counted in one cell — the given status in the period holding
//   who.period_ms (which must be a period of the range) — one page at a time (spec/who.h).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/spec/segment.h"
#include "analytics/spec/time_bucket.h"
#include "analytics/spec/who.h"
#include "base/status.h"

namespace cairn::analytics {

enum class LifecycleStatus : uint8_t { kNew, kReturning, kResurrecting, kDormant };

struct LifecycleWho {
  LifecycleStatus status = LifecycleStatus::kNew;
  int64_t period_ms = 0;  // any time in the period (usually its start, as the rows label it)
  WhoPage page;
};

struct LifecycleSpec {
  std::string event;  // "" = any interaction
  Period period = Period::kWeek;
  int64_t from_ms = 0;  // inclusive; from = to = 0: the index's whole time range
  int64_t to_ms = 0;    // exclusive
  Segment segment;                   // the customers queried (spec/segment.h); empty = everyone
  std::optional<LifecycleWho> who;   // also list the customers of one cell
};

struct LifecycleRow {
  int64_t start_ms = 0;
  std::string start;  // PeriodLabel
  uint64_t new_customers = 0, returning = 0, resurrecting = 0, dormant = 0;
};

struct LifecycleResult {
  Period period = Period::kWeek;
  std::vector<LifecycleRow> rows;
  std::optional<WhoList> who;  // when the spec has `who`
  std::string who_period;      // its period's label (PeriodLabel), as in rows[].start
  std::vector<std::string> warnings;
};

Status ValidateLifecycleSpec(const LifecycleSpec& spec);

}  // namespace cairn::analytics
