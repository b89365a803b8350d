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

#include <cstdint>
#include <string>
#include <vector>

#include "analytics/spec/segment.h"
#include "analytics/spec/time_bucket.h"
#include "base/status.h"

namespace cairn::analytics {

struct LifecycleSpec {
  std::string event;  // "" = any interaction
  Period period = Period::kWeek;
  int64_t from_ms = 0;  // inclusive; from = to = 0: the index's whole time range
  int64_t to_ms = 0;    // exclusive
  Segment segment;                   // the customers queried (spec/segment.h); empty = everyone
};

struct LifecycleRow {
  int64_t start_ms = 0;
  std::string start;  // PeriodLabel
  uint64_t new_customers = 0, returning = 0, resurrecting = 0, dormant = 0;
};

struct LifecycleResult {
  Period period = Period::kWeek;
  std::vector<LifecycleRow> rows;
  std::vector<std::string> warnings;
};

Status ValidateLifecycleSpec(const LifecycleSpec& spec);

}  // namespace cairn::analytics
