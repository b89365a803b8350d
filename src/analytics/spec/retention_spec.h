#pragma once
// RetentionSpec / RetentionResult: cohort retention, defined once (docs/analytics.md).
//
// A customer's COHORT is the period (day / week = Monday UTC / month) of their first interaction
// matching start_event (+ start_where), or of their first interaction of any kind when
// start_event is empty ("first seen"). Only cohorts whose start period begins in [from_ms, to_ms)
// are reported (when set); customers without a start interaction are in no cohort.
// A RETURN is an interaction matching return_event (+ return_where), or any interaction when
// return_event is empty. For k = 1..periods, with p = period(return) - cohort:
//   mode on:          returned[k-1] counts customers with >= min_returns returns in period p = k;
//   mode on_or_after: customers with >= min_returns returns in some single period p >= k.
// revenue[k-1] = sum of revenue of all returns (of cohort customers) in period p = k.
// Returns in period 0 (and before the cohort) are never counted. Default weekly, 8 periods, mode on,
// min_returns 1 reproduces ../shared/peers/funnel_ref.py's retention exactly.
// WHO (optional): the customers behind one number of the answer, one page at a time (spec/who.h):
// period 0 = the members of the cohort (its `size`); period k >= 1 = the members counted in
// returned[k-1] (status returned) or the members not counted there (status not_returned, i.e.
// size - returned[k-1] customers). With a breakdown the cohort is (value, start).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/spec/segment.h"
#include "analytics/spec/property_filter.h"
#include "analytics/spec/time_bucket.h"
#include "analytics/spec/who.h"
#include "base/status.h"

namespace cairn::analytics {

struct RetentionWho {
  int64_t cohort_ms = 0;     // a time in the cohort's period (the answer's "start" day)
  std::string breakdown;     // the cohort's breakdown value; "" without a breakdown
  size_t period = 0;         // 0 = the cohort's members; 1..periods = returned[period-1]
  bool returned = true;      // false: members NOT counted in returned[period-1] (period >= 1)
  WhoPage page;
};

struct RetentionSpec {
  std::string start_event;            // "" = first seen
  std::vector<PropertyFilter> start_where;
  std::string return_event;           // "" = any interaction
  std::vector<PropertyFilter> return_where;
  Period period = Period::kWeek;      // day, week or month
  size_t periods = 8;                 // 1..400
  bool on_or_after = false;
  uint32_t min_returns = 1;           // >= 1
  std::optional<int64_t> from_ms, to_ms;
  // Breakdown by the start interaction's channel or a property of it; empty = none.
  enum class BreakdownKind : uint8_t { kNone, kChannel, kProperty } breakdown = BreakdownKind::kNone;
  std::string breakdown_property;
  Segment segment;                   // the customers queried (spec/segment.h); empty = everyone
  std::optional<RetentionWho> who;
};

Status ValidateRetentionSpec(const RetentionSpec& spec);

struct RetentionCohort {
  std::string start;                  // ISO date of the cohort period's first day
  std::string breakdown;              // breakdown value ("" without breakdown)
  uint64_t size = 0;
  std::vector<uint64_t> returned;     // periods entries
  std::vector<double> revenue;        // periods entries
};

struct RetentionResult {
  std::vector<RetentionCohort> cohorts;  // by (breakdown, start) ascending
  std::vector<std::string> warnings;
  std::optional<WhoList> who;           // when the spec asked for one
  uint64_t customers_scanned = 0;
  uint64_t rows_scanned = 0;
};

}  // namespace cairn::analytics
