#pragma once
// Trends: how often something happened per calendar period (hour/day/week/month, UTC).
//
// Semantics (exec/trends.cc computes exactly this; tests/queries/trends/ are the golden cases):
//   matching rows = interactions whose event is `event` ("" = every interaction) with timestamp in
//   [from_ms, to_ms). Customers are canonical (identity merges applied).
//   bucket(row)   = PeriodOf(timestamp, interval); the buckets listed are every period from
//                   PeriodOf(from_ms) to PeriodOf(to_ms - 1), empty ones included.
//   count   = matching rows in the bucket;     uniques = distinct customers with a matching row;
//   sum     = sum of `property` over them;     avg     = sum / count (0 when count = 0).
//   Series totals: count/sum add up; uniques = distinct customers over the whole range (not the
//   sum of the buckets); avg = total sum / total count.
//   breakdown: one series per channel (empty channel = "") or per event name; the `top_n` series
//   with the largest total (ties: label ascending) are kept, every other group is one series
//   "$other" (its uniques are distinct customers over those groups, so they are not the sum of
//   the groups either). No breakdown: one series labelled with the event name ("$all" for "").
//   compare_previous: the same computation over [from_ms - L, from_ms), L = to_ms - from_ms,
//   with the current period's series (same top-N groups), bucketed from its own start.
// Property: only "revenue" is a numeric column today (Interaction::revenue); other names are
// rejected by Validate naming the field.

#include <cstdint>
#include <string>
#include <vector>

#include "analytics/spec/segment.h"
#include "analytics/spec/time_bucket.h"
#include "base/status.h"

namespace cairn::analytics {

struct TrendsSpec {
  enum class Measure : uint8_t { kCount, kUniques, kSum, kAvg };
  enum class Breakdown : uint8_t { kNone, kChannel, kEvent };
  std::string event;                 // "" = every interaction
  Measure measure = Measure::kCount;
  std::string property = "revenue";  // sum/avg only
  Period interval = Period::kDay;
  int64_t from_ms = 0;               // inclusive; from = to = 0: the index's whole time range
  int64_t to_ms = 0;                 // exclusive
  Breakdown breakdown = Breakdown::kNone;
  uint32_t top_n = 10;               // 1..100
  bool compare_previous = false;
  Segment segment;                   // the customers queried (spec/segment.h); empty = everyone
};

struct TrendsSeries {
  std::string label;
  std::vector<double> values;  // one per bucket
  double total = 0;
};

struct TrendsPeriod {
  std::vector<int64_t> bucket_starts_ms;
  std::vector<std::string> labels;  // PeriodLabel of each bucket
  std::vector<TrendsSeries> series;
};

struct TrendsResult {
  Period interval = Period::kDay;
  int64_t from_ms = 0, to_ms = 0;
  TrendsPeriod current;
  bool has_previous = false;
  TrendsPeriod previous;
  std::vector<std::string> warnings;  // e.g. unknown event names (answered with zeros)
};

// InvalidArgument naming the field ("to", "top_n", "property", ...) when the spec is unusable.
Status ValidateTrendsSpec(const TrendsSpec& spec);
const char* TrendsMeasureName(TrendsSpec::Measure m);
const char* TrendsBreakdownName(TrendsSpec::Breakdown b);

}  // namespace cairn::analytics
