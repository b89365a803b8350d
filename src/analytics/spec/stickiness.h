#pragma once
// Stickiness: how many customers did `event` on exactly k of the periods (days by default) of a
// range, k = 1..N (N = number of periods in the range).
//
// Semantics (exec/stickiness.cc; golden cases in tests/queries/stickiness/):
//   periods = PeriodOf(from_ms) .. PeriodOf(to_ms - 1); a customer (canonical) counts at k when
//   the number of distinct periods holding one of their `event` rows ("" = any) with timestamp in
//   [from_ms, to_ms) is k. Customers with k = 0 are not listed. Sum of counts = customers active.
//   who (optional): the customers counted in counts[who.periods - 1], i.e. active on exactly
//   who.periods periods, one page at a time (spec/who.h); who.periods must be 1..N.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/spec/segment.h"
#include "analytics/spec/time_bucket.h"
#include "analytics/spec/who.h"
#include "base/status.h"

namespace cairn::analytics {

struct StickinessWho {
  uint32_t periods = 1;  // k: customers active on exactly k periods (1..N)
  WhoPage page;
};

struct StickinessSpec {
  std::string event;  // "" = any interaction
  Period interval = Period::kDay;
  int64_t from_ms = 0;  // inclusive; from = to = 0: the index's whole time range
  int64_t to_ms = 0;    // exclusive
  Segment segment;                   // the customers queried (spec/segment.h); empty = everyone
  std::optional<StickinessWho> who;  // also list the customers of one bar
};

struct StickinessResult {
  Period interval = Period::kDay;
  uint32_t periods = 0;          // N
  std::vector<uint64_t> counts;  // counts[k - 1] = customers active on exactly k periods, k = 1..N
  uint64_t customers = 0;        // sum of counts
  double average = 0;            // mean k over those customers
  std::optional<WhoList> who;    // when the spec has `who`
  std::vector<std::string> warnings;
};

Status ValidateStickinessSpec(const StickinessSpec& spec);

}  // namespace cairn::analytics
