#pragma once
// FunnelSpec / FunnelResult: the semantics of a funnel query, defined once (docs/analytics.md has
// the long form with examples). The kernels in exec/funnel_kernel.* implement exactly this.
//
// Input: each customer's interactions (identity merges applied), ordered by (timestamp, seq),
// restricted to [from_ms, to_ms) when set. An interaction "matches step s" when its event name is
// steps[s].event and every steps[s].where filter holds.
//
// A CHAIN is a sequence of distinct interactions e_1 < e_2 < ... (in that order) performing steps
// s_1 = 0 < s_2 < ... , where every skipped step index between consecutive performed steps is
// optional, and
//   * window:         t(last) - t(e_1) <= window_ms (inclusive);
//   * per-step window: t(e_j) - t(e_{j-1}) <= steps[s_j].within_ms when that is > 0 (inclusive);
//   * order strict:   e_j is the interaction immediately after e_{j-1} among ALL of the
//                     customer's interactions in range (nothing else in between);
//   * exclusions:     for every exclusion {event, from_step a, to_step b} no interaction matching
//                     it lies strictly between e_{j-1} and e_j when the chain's segment
//                     (s_{j-1}, s_j) overlaps (a, b), i.e. s_{j-1} < b and s_j > a.
// A customer REACHES step s when some chain ends performing s. With default options (ordered, no
// optional steps, no per-step windows, no exclusions) this is: level = the largest k with a chain
// of steps 1..k inside the window, reached(s) <=> s < level — ClickHouse windowFunnel and
// ../shared/peers/funnel_ref.py --ms.
// order any: steps in any order; a customer's level = the largest number of distinct steps each
// matched by some interaction inside one window [t(e), t(e) + window_ms] where e matches a step;
// "step k" then counts customers with level >= k. (Per-step windows and exclusions are refused.)
//
// Counting: uniques (default) counts customers reaching each step. totals counts attempts: every
// interaction matching step 1 starts one attempt, whose chains must begin with it; count[s] =
// attempts reaching s.
//
// The REPORTED chain of a customer (for time-to-convert, attribution and cohorts): for each step s,
// the chain that reaches s at the earliest interaction, with the latest start among those (ties:
// the latest predecessor). Attribution / cohort use the reported chain of the customer's highest
// reached step.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/spec/segment.h"
#include "analytics/spec/property_filter.h"
#include "base/status.h"
#include "analytics/spec/time_bucket.h"

namespace cairn::analytics {

inline constexpr size_t kMinFunnelSteps = 2;
inline constexpr size_t kMaxFunnelSteps = 30;

struct FunnelStep {
  std::string event;                 // required
  std::vector<PropertyFilter> where;
  bool optional = false;             // not allowed on the first or the last step
  int64_t within_ms = 0;             // > 0: max gap from the previous performed step (inclusive)
};

struct FunnelExclusion {
  std::string event;                 // required
  std::vector<PropertyFilter> where;
  size_t from_step = 0;              // 0-based step indices, from_step < to_step < steps.size()
  size_t to_step = 1;
};

enum class FunnelOrder : uint8_t { kOrdered, kStrict, kAny };
enum class FunnelCounting : uint8_t { kUniques, kTotals };
enum class Attribution : uint8_t { kFirstTouch, kLastTouch, kStep };

struct FunnelBreakdown {
  enum class Kind : uint8_t { kNone, kChannel, kProperty } kind = Kind::kNone;
  std::string property;              // kProperty: path (spec/property_filter.h)
  Attribution attribution = Attribution::kFirstTouch;
  size_t attribution_step = 0;       // kStep: 0-based step index
  size_t limit = 25;                 // top values by step-1 count; the rest are summed as "(other)"
};

struct FunnelWho {
  size_t step = 0;                   // 0-based
  bool dropped = false;              // false: customers reaching `step`; true: reaching it and no later step
  size_t limit = 100;                // 1..10000
  uint64_t after = 0;                // cursor: canonical customer ids > after
};

struct FunnelSpec {
  std::vector<FunnelStep> steps;
  int64_t window_ms = 14 * kDayMs;   // > 0
  FunnelOrder order = FunnelOrder::kOrdered;
  FunnelCounting counting = FunnelCounting::kUniques;
  std::vector<FunnelExclusion> exclusions;
  std::optional<int64_t> from_ms, to_ms;  // interactions in [from, to) only
  FunnelBreakdown breakdown;
  std::optional<Period> over_time;   // conversion over time, cohorts by the reported chain's start
  std::optional<FunnelWho> who;
  Segment segment;                   // the customers queried (spec/segment.h); empty = everyone
};

// InvalidArgument naming the field ("steps[2].event: required") or OK.
Status ValidateFunnelSpec(const FunnelSpec& spec);

struct DurationStats {
  uint64_t count = 0;
  int64_t min_ms = 0, max_ms = 0, avg_ms = 0;
  int64_t p25_ms = 0, median_ms = 0, p75_ms = 0, p90_ms = 0, p99_ms = 0;
  // Counts per kDurationBucketsMs bucket: [0,1m) [1m,10m) [10m,1h) [1h,6h) [6h,1d) [1d,3d) [3d,7d)
  // [7d,14d) [14d,30d) [30d,inf).
  std::vector<uint64_t> histogram;
};
inline constexpr int64_t kDurationBucketsMs[] = {60'000,        600'000,        3'600'000,      21'600'000,
                                                 86'400'000,    259'200'000,    604'800'000,    1'209'600'000,
                                                 2'592'000'000};

struct FunnelStepResult {
  std::string event;
  uint64_t count = 0;
  DurationStats from_previous;       // reported chain: t(step) - t(previous performed step); step >= 1
  DurationStats from_first;          // t(step) - t(step 1)
};

struct FunnelRow {                   // one breakdown value or one cohort period
  std::string key;
  std::vector<uint64_t> counts;      // per step
};

struct FunnelResult {
  std::vector<FunnelStepResult> steps;
  std::vector<FunnelRow> breakdown;  // when breakdown.kind != kNone; sorted by step-1 count desc
  std::vector<FunnelRow> over_time;  // when over_time; ascending period
  std::vector<uint64_t> who;         // canonical customer ids, ascending
  std::optional<uint64_t> who_next;  // cursor for the next page
  std::vector<std::string> warnings; // e.g. unknown event names
  uint64_t customers_scanned = 0;
  uint64_t rows_scanned = 0;
};

}  // namespace cairn::analytics
