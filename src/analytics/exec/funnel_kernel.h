#pragma once
// Funnel kernels: the per-customer evaluation of spec/funnel_spec.h over one customer's rows.
//
// Input is a customer's rows in (timestamp, seq) order as parallel arrays: time, the bit set of
// steps each row matches (filters already applied) and the bit set of exclusions it matches.
// Two kernels give the same answer where both apply:
//   EvaluateFast     — one pass, O(rows x matched steps), the windowFunnel algorithm; only for
//                      order ordered, no optional steps, no per-step windows, no exclusions.
//   EvaluateGeneral  — every option: a DP over "chains ending at row i performing step s" keeping,
//                      per (row, step), the latest possible start; O(rows x steps x rows in window).
//   EvaluateAnyOrder — order any (sliding window over distinct steps).
// All are pure functions of their inputs; thread-safe.

#include <cstdint>
#include <span>
#include <vector>

#include "analytics/spec/funnel_spec.h"

namespace cairn::analytics {

inline constexpr int64_t kNoTime = INT64_MIN;

// The per-query constants the kernels need, derived from a validated FunnelSpec.
struct FunnelPlan {
  size_t steps = 0;
  int64_t window_ms = 0;
  FunnelOrder order = FunnelOrder::kOrdered;
  std::vector<int64_t> within_ms;     // per step, 0 = none
  std::vector<bool> optional;         // per step
  struct Excl {
    size_t from_step, to_step;
  };
  std::vector<Excl> exclusions;       // bit k of an exclusion mask = exclusions[k]
  bool fast = false;                  // EvaluateFast applies

  static FunnelPlan From(const FunnelSpec& spec);
};

// A customer's outcome. Positions are indices into the input arrays.
struct FunnelOutcome {
  uint32_t reached = 0;               // bit s: step s reached
  int level = 0;                      // 1 + highest reached step (0: none)
  // Reported chain per reached step (spec: earliest completion, latest start).
  int64_t from_first[kMaxFunnelSteps];
  int64_t from_previous[kMaxFunnelSteps];
  // Reported chain of the highest reached step: position performing each step (-1 if skipped /
  // beyond), its first position and its start time.
  int32_t chain[kMaxFunnelSteps];
  int64_t chain_start_ms = kNoTime;

  void Reset(size_t steps);
};

struct FunnelRows {
  std::span<const int64_t> ts;
  std::span<const uint32_t> step_mask;
  std::span<const uint32_t> excl_mask;  // may be empty when the plan has no exclusions
};

// Scratch reused across customers by one thread.
struct FunnelScratch {
  struct Node {
    int32_t pos;
    int32_t pred;       // index into nodes[pred_step], -1 for step 0
    int8_t pred_step;
    int64_t t, start;
  };
  std::vector<std::vector<Node>> nodes;
  std::vector<std::vector<int32_t>> excl_pos;
};

void EvaluateFast(const FunnelPlan& plan, const FunnelRows& rows, FunnelOutcome* out);
// The same straight off the index columns: the step mask of row i is step_mask_by_event[events[i]]
// (no property filters). Positions in `out` index these spans.
void EvaluateFastEvents(const FunnelPlan& plan, std::span<const int64_t> ts, std::span<const uint32_t> events,
                        const uint32_t* step_mask_by_event, FunnelOutcome* out);

// The event ids with a non-zero step mask, for the vectorised row filter below: most rows of a
// customer match no step, and comparing 8 event ids at a time against the (few) step events
// finds the ones that do without a table lookup and a branch per row.
// When every step event id lies in [base, base + 32) (the usual case: event ids are dictionary
// positions, first seen first, and funnel steps are common events), a row's id is tested against
// a 32-bit membership set by one variable shift instead of one compare per id, whatever the
// number of step events, and changing the set as steps are reached is one broadcast.
struct StepEventFilter {
  static constexpr int kMaxIds = 8;
  uint32_t ids[kMaxIds] = {};
  int count = 0;      // distinct step event ids (unused slots repeat ids[0])
  bool usable = false;  // false: more than kMaxIds step events (or no SIMD): scalar scan
  bool in_window = false;  // every step event id is in [base, base + 32)
  uint32_t base = 0;
  // step_bits[s]: bit (id - base) set for every id matching step s (in_window only).
  uint32_t step_bits[32] = {};
  static StepEventFilter From(const uint32_t* step_mask_by_event, size_t event_count);
};
// EvaluateFastEvents with the row filter: same result. With AVX2 (x86-64-v3 builds) tests 8
// rows per instruction (the membership set when filter.in_window, else up to 8 id compares);
// without AVX2, or when neither applies, the scalar loop.
void EvaluateFastEvents(const FunnelPlan& plan, std::span<const int64_t> ts, std::span<const uint32_t> events,
                        const uint32_t* step_mask_by_event, const StepEventFilter& filter, FunnelOutcome* out);
// Receives the outcomes of EvaluateFastEventsBatch, one call per customer that reached step 1, in
// customer order, on the calling thread. `out` is valid during the call only.
class FunnelSink {
 public:
  virtual void Add(size_t customer, const FunnelOutcome& out) = 0;

 protected:
  ~FunnelSink() = default;
};
// EvaluateFastEvents(…, filter, …) for customers [cb, ce) of index columns at once — customer c's
// rows are [offsets[c], offsets[c+1]) of ts and events, and positions in its outcome index from
// offsets[c] — without per-customer loop overhead (the SIMD driver runs across customers). Same
// outcomes as calling EvaluateFastEvents per customer; customers who reach nothing (and those
// without rows) are not reported.
void EvaluateFastEventsBatch(const FunnelPlan& plan, const int64_t* ts, const uint32_t* events,
                             const uint32_t* offsets, size_t cb, size_t ce, const uint32_t* step_mask_by_event,
                             const StepEventFilter& filter, FunnelSink* sink);
// fixed_start >= 0: only chains whose first interaction is at that position (counting totals).
void EvaluateGeneral(const FunnelPlan& plan, const FunnelRows& rows, int32_t fixed_start, FunnelScratch* scratch,
                     FunnelOutcome* out);
void EvaluateAnyOrder(const FunnelPlan& plan, const FunnelRows& rows, FunnelOutcome* out);

}  // namespace cairn::analytics
