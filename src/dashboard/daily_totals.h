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
// customer, timestamp, event and revenue columns, and channel with cells; segments as columns,
// no row materialised) when missing or stale, then kept current by
// OnCommit. How each change reaches it:
//   - new and late interactions: added to their day (sums do not depend on arrival order);
//   - identity merges: the merge ops of each committed batch fold the absorbed customer's first
//     order into the survivor's (a min, so order does not matter);
//   - erasure and retention drops: Invalidate() — the next Build rescans (they are rare, and a
//     removed first order cannot be undone from totals: the next one is not kept).
// Watermark: totals hold exactly the interactions with seq < as_of_seq; a build from a snapshot
// of seq S applies the batches committed meanwhile from S on.
//
// Segment cells (when a JourneyKeysFn is given): the same per-day numbers are also kept per
// *cell* — customers filed under (persona, lifecycle stage, acquisition channel) — so that a
// segment filter sums the matching cells instead of scanning the store. The answer is always
// exactly that of the scan over the members the caller resolved (ComputeSeries with `members`):
// every stored customer id's rows sit in one cell (`filed`), and SegmentSeries checks the members
// against their cells; a customer filed in the wrong cell (their persona or stage moved, they
// arrived after the last filing, a late event or a merge changed their acquisition channel) is
// read back from the store (Snapshot::VisitCustomers, their rows only) and re-filed under the key
// the journey gives now, so each move costs one read of that customer, once. New customers are
// filed at commit under their first row's channel and an unknown journey key. Cost in memory: a
// Day per (cell, day with data) — 32 B + 8 B per event name + ~48 B of map node — plus ~40 B per
// stored customer id (its cell) and per merged-away id (the survivor's list).
//
// Thread-safety: all methods are thread-safe. OnCommit runs on the store's commit thread and only
// touches memory (a map lookup per row; one batch canonicalisation for the order rows and new
// customers of each batch).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "dashboard/dashboard_service.h"
#include "dashboard/id_cells.h"
#include "dashboard/revenue_sum.h"
#include "dashboard/series.h"
#include "store/store.h"

namespace cairn::dashboard {

// The journey's part of a segment key for canonical customers: persona and lifecycle stage now,
// as the segment resolver judges them (JourneyEngine::SegmentKeys); nullopt for a customer the
// journey does not know (in no persona or lifecycle segment). Called off the commit thread.
using JourneyKeysFn =
    std::function<std::vector<std::optional<std::pair<std::string, std::string>>>(const std::vector<store::CustomerId>&)>;

// `canonical` for many ids at once: roots[i] = canonical(ids[i]) for every i. The identity
// resolver answers these under one lock (IdentityResolver::FindMany), which the ingest threads'
// resolves contend for: one lock per committed batch instead of one per order row.
using CanonicalizeMany = std::function<void(std::span<const store::CustomerId> ids, store::CustomerId* roots)>;

class DailyTotals {
 public:
  using SnapshotFn = std::function<std::shared_ptr<store::Snapshot>()>;

  // `options` name the order, touch, complaint and sign-up events (the same the scan uses);
  // `canonical` maps a stored customer id to its survivor (null: ids as stored). `journey_keys`
  // (optional) turns on the segment cells; without it SegmentSeries is FailedPrecondition.
  // `canonical_many` (optional, only with `canonical`): the same mapping for a committed batch's
  // ids at once; without it OnCommit calls `canonical` once per order row and new customer.
  DailyTotals(SeriesOptions options, Canonicalizer canonical, JourneyKeysFn journey_keys = nullptr,
              CanonicalizeMany canonical_many = nullptr);

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

  // The series ComputeSeries(snapshot, canonical, extra_metrics, first_day, last_day, options,
  // &members) gives — the segment's customers only — from the cells matching `segment` (the
  // segment `members` was resolved from), corrected and re-filed for every customer filed
  // elsewhere (see the file comment). `members`: canonical ids, ascending. Blocks for a build when
  // stale, and for one read of the store per misfiled customer.
  Result<DailySeries> SegmentSeries(const SnapshotFn& snapshot, const SegmentFilter& segment,
                                    const std::vector<uint64_t>& members, const std::vector<std::string>& extra_metrics,
                                    int64_t first_day, int64_t last_day, uint64_t* as_of_seq);
  bool segments_enabled() const { return static_cast<bool>(journey_keys_); }

  bool ready() const;
  uint64_t builds() const;     // completed builds (tests, metrics)
  uint64_t refiled() const;    // stored customer ids re-filed by SegmentSeries (tests, metrics)
  size_t cells() const;        // segment cells (tests)

 private:
  struct Day {
    int64_t interactions = 0;
    RevenueSum revenue;
    int64_t new_customers = 0;
    std::vector<int64_t> events;  // by event id
  };
  using Days = std::map<int64_t, Day>;
  // Customers filed under one segment key; `journey_known` false: filed before the journey knew them.
  struct Cell {
    std::string persona, lifecycle, channel;
    bool journey_known = false;
    int64_t ids = 0;  // stored customer ids filed here
    Days days;
  };
  struct Data {
    Days days;
    std::unordered_map<std::string, uint32_t> event_ids;
    std::vector<bool> is_order;                                // by event id
    // Canonical customer → the day of their first order and their slot in that day's list.
    struct FirstOrder {
      int64_t day = 0;
      uint32_t slot = 0;
    };
    std::unordered_map<store::CustomerId, FirstOrder> first_order;
    // Day → the canonical customers whose first order falls on it (unordered): a segment's new
    // customers are counted from the range's lists, O(new customers in the range), not by a
    // lookup per member.
    std::map<int64_t, std::vector<store::CustomerId>> first_orders_on;
    int64_t first_data_day = INT64_MAX;
    // Segment cells (journey_keys_ set).
    std::vector<Cell> cells;
    std::map<std::string, uint32_t> cell_ids;                        // CellKey → index in cells
    IdCells filed;                                                   // stored id → its rows' cell
    std::unordered_map<store::CustomerId, std::vector<store::CustomerId>> absorbed;  // survivor → ids merged into it
    // AddRow's cache: the last day's Day, the last customer's cell and that cell's last Day.
    Day* last_total = nullptr;
    int64_t last_total_day = 0;
    store::CustomerId last_customer = 0;
    uint32_t last_cell = UINT32_MAX;
    Day* last_cell_day = nullptr;
    int64_t last_cell_day_day = 0;
  };
  enum class State { kStale, kBuilding, kReady };

  static uint32_t CellFor(Data& d, const std::optional<std::pair<std::string, std::string>>& journey,
                          const std::string& channel);
  // `id`'s survivor by canonical_ (`id` itself without one).
  store::CustomerId Canonical(store::CustomerId id) const { return canonical_ ? canonical_(id) : id; }
  // Files a stored id seen for the first time (its first row's channel; `journey`: the key at hand;
  // `canonical`: its survivor when the caller has it, else 0).
  void FileNew(Data& d, store::CustomerId stored, const std::string& channel,
               const std::optional<std::pair<std::string, std::string>>& journey, store::CustomerId canonical) const;
  // The id of `event` in d.event_ids (added, with its is_order flag, when first seen).
  uint32_t EventId(Data& d, const std::string& event) const;
  // `canonical`: the customer's survivor when the caller has it (ApplyBatch asks for a batch's
  // at once), else 0 (asked here when needed).
  void AddRow(Data& d, store::CustomerId customer, int64_t timestamp_ms, uint32_t event_id, double revenue,
              const std::string& channel, store::CustomerId canonical) const;
  // Counts every row `snap` sees into `d` (empty), filing each stored id (with cells). Stops with
  // Unavailable between blocks once `*cancel` is true.
  Status Scan(const store::Snapshot& snap, const std::atomic<bool>* cancel, Data& d) const;
  // The series of `days` over [first_day, last_day] (new_customers from Day::new_customers). mu_ held.
  void Fill(const Days& days, const std::vector<std::string>& extra_metrics, int64_t first_day, int64_t last_day,
            DailySeries* out) const;
  static bool CellMatches(const Cell& c, const SegmentFilter& s);
  // The survivors whose rows are not where the segment's sum needs them (a member's id outside
  // the matching cells, another's inside), ascending, into *groups (may be null). False, with
  // *groups untouched, when more than `limit` are found. mu_ held.
  bool Misfiled(const SegmentFilter& segment, const std::vector<uint64_t>& members, size_t limit,
                std::vector<store::CustomerId>* groups) const;
  void ApplyBatch(Data& d, const store::Batch& batch) const;
  static void SetFirstOrder(Data& d, store::CustomerId key, int64_t day);
  // Takes `key`'s entry out of its day's list (and the day's count). The entry stays in first_order.
  static void UnlistFirstOrder(Data& d, store::CustomerId key, const Data::FirstOrder& f);
  void Fold(Data& d, store::CustomerId from, store::CustomerId into) const;

  const SeriesOptions options_;
  const Canonicalizer canonical_;
  const JourneyKeysFn journey_keys_;
  const CanonicalizeMany canonical_many_;

  std::mutex build_mu_;  // one build at a time
  mutable std::mutex mu_;
  State state_ = State::kStale;                     // guarded by mu_
  uint64_t generation_ = 0;                         // guarded by mu_; bumped by Invalidate
  uint64_t last_commit_end_ = 0;                    // guarded by mu_; end seq of the last batch seen
  uint64_t applied_seq_ = 0;                        // guarded by mu_; data_ holds seqs below this
  uint64_t builds_ = 0;                             // guarded by mu_
  uint64_t refiled_ = 0;                            // guarded by mu_
  Data data_;                                       // guarded by mu_
  std::vector<std::shared_ptr<store::Batch>> pending_;  // guarded by mu_; committed while building
};

}  // namespace cairn::dashboard
