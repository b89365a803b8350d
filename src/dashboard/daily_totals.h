#pragma once
// DailyTotals: the overview's daily series kept current from the store's commit stream, so that
// GET /v1/dashboard does not scan the store (docs/dashboard.md "Daily totals").
//
// Per UTC day (by event time): interactions, revenue (RevenueSum, exact), the count of every event
// name, and new customers (canonical customers whose first order ever falls on that day); plus the
// first day with any interaction. Series() answers exactly what ComputeSeries() computes over the
// same rows without a segment filter (members == null) — the test holds them equal.
//
// Derived state, in memory only, never persisted: rebuilt by one scan of a store snapshot (the
// customer, timestamp, event and revenue columns) when missing or stale, then kept current by
// OnCommit. How each change reaches it:
//   - new and late interactions: added to their day (sums do not depend on arrival order);
//   - identity merges: the merge ops of each committed batch fold the absorbed customer's first
//     order into the survivor's (a min, so order does not matter);
//   - erasure and retention drops: Invalidate() — the next Build rescans (they are rare, and a
//     removed first order cannot be undone from totals: the next one is not kept).
// Watermark: totals hold exactly the interactions with seq < as_of_seq; a build from a snapshot
// of seq S applies the batches committed meanwhile from S on.
//
// Thread-safety: all methods are thread-safe. OnCommit runs on the store's commit thread and only
// touches memory (a map lookup per row, the canonicalizer for order rows).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "dashboard/revenue_sum.h"
#include "dashboard/series.h"
#include "store/store.h"

namespace cairn::dashboard {

class DailyTotals {
 public:
  using SnapshotFn = std::function<std::shared_ptr<store::Snapshot>()>;

  // `options` name the order, touch, complaint and sign-up events (the same the scan uses);
  // `canonical` maps a stored customer id to its survivor (null: ids as stored).
  DailyTotals(SeriesOptions options, Canonicalizer canonical);

  // Every batch the store commits, in seq order, recovered ones included
  // (StoreListener::on_commit). Ignored while the totals are stale (the next build reads them).
  void OnCommit(const store::Batch& batch);
  // The store no longer holds what the totals counted (an erasure hid customers, a compaction
  // dropped rows past retention, the identity resolver forgot ids): the next Build rescans. A
  // build running now is discarded. Cheap.
  void Invalidate();
  // Builds from `snapshot()` unless current; concurrent callers wait for one build. Blocks for a
  // scan of the store when stale. `cancel` (optional), once true, stops the scan: Cancelled, the
  // totals stay stale.
  Status Build(const SnapshotFn& snapshot, const std::atomic<bool>* cancel = nullptr);
  // The series ComputeSeries(snapshot, canonical, extra_metrics, first_day, last_day, options,
  // nullptr) would give on a snapshot of `*as_of_seq`; builds first when stale.
  Result<DailySeries> Series(const SnapshotFn& snapshot, const std::vector<std::string>& extra_metrics,
                             int64_t first_day, int64_t last_day, uint64_t* as_of_seq);

  bool ready() const;
  uint64_t builds() const;  // completed builds (tests, metrics)

 private:
  struct Day {
    int64_t interactions = 0;
    RevenueSum revenue;
    int64_t new_customers = 0;
    std::vector<int64_t> events;  // by event id
  };
  struct Data {
    std::map<int64_t, Day> days;
    std::unordered_map<std::string, uint32_t> event_ids;
    std::vector<bool> is_order;                                // by event id
    std::unordered_map<store::CustomerId, int64_t> first_order;  // canonical customer → day
    int64_t first_data_day = INT64_MAX;
  };
  enum class State { kStale, kBuilding, kReady };

  void AddRow(Data& d, store::CustomerId customer, int64_t timestamp_ms, const std::string& event, double revenue) const;
  void ApplyBatch(Data& d, const store::Batch& batch) const;
  static void SetFirstOrder(Data& d, store::CustomerId key, int64_t day);
  static void Fold(Data& d, store::CustomerId from, store::CustomerId into);

  const SeriesOptions options_;
  const Canonicalizer canonical_;

  std::mutex build_mu_;  // one build at a time
  mutable std::mutex mu_;
  State state_ = State::kStale;                     // guarded by mu_
  uint64_t generation_ = 0;                         // guarded by mu_; bumped by Invalidate
  uint64_t last_commit_end_ = 0;                    // guarded by mu_; end seq of the last batch seen
  uint64_t applied_seq_ = 0;                        // guarded by mu_; data_ holds seqs below this
  uint64_t builds_ = 0;                             // guarded by mu_
  Data data_;                                       // guarded by mu_
  std::vector<std::shared_ptr<store::Batch>> pending_;  // guarded by mu_; committed while building
};

}  // namespace cairn::dashboard
