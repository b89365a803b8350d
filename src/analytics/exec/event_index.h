#pragma once
// EventIndex: the analytics scan layer. An immutable, columnar, per-customer view of one store
// Snapshot, built once by a column scan of its segments (+ memtable) and shared by every query on
// that snapshot (see IndexCache).
//
// Layout (struct-of-arrays, one entry per interaction = "row"):
//   rows are grouped by CANONICAL customer (IdentityResolver::Find applied at build time, so the
//   interactions of merged customers form one run), customers ascending by canonical id;
//   inside a customer's run rows are ordered by (timestamp_ms, seq) — the order every query
//   semantics is defined on ("ordered by event time, then arrival").
//   Customer i owns rows [offsets()[i], offsets()[i+1]).
//
// Event ids: one dictionary for the whole index (segment dictionaries are remapped at build).
// A row's event name is Interaction::event when not empty (track: the event; page/screen: the
// name), else "$" + the message type ("$identify", "$page", "$screen", "$group", "$alias",
// "$track"). Ids are dense, 0..event_count()-1, in first-seen order (not stable across builds).
//
// Columns kept: timestamp_ms, event id, seq, channel id, message type, revenue. The payload
// (properties) is NOT kept: property filters and breakdowns call ForEachPayload, which reads the
// payload column only from segment blocks holding one of the wanted events, and only for rows
// of those events.
//
// Incremental: Extend() derives the index of a later snapshot of the same store from an earlier
// index by merging only the interactions with seq >= the earlier snapshot's seq (and remapping
// customers merged since), so a query after new ingest pays a copy of the columns plus the new
// rows, not a scan and regroup of every segment. Event and channel ids of the earlier index keep
// their values in the extended one (new names get new ids).
//
// Thread-safety: immutable after Build/Extend (the RowOfSeq table is built lazily, once, under a
// std::once_flag); every const method may be called from any thread.
// Memory: ~31 bytes per row + 4 per seq below the snapshot seq (the RowOfSeq table, only once
// ForEachPayload / RowOfSeq is used).

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analytics/exec/column_alloc.h"
#include "analytics/exec/query_context.h"
#include "base/result.h"
#include "store/interaction.h"
#include "store/store.h"

namespace cairn::analytics {

using EventId = uint32_t;
using RowIndex = uint32_t;  // an index holds < 2^32 rows
inline constexpr RowIndex kNoRow = UINT32_MAX;

// Maps a customer id stored with an interaction to its surviving (canonical) customer.
// Usually [&](id) { return resolver.Find(id); }; must return the id itself for unknown ids
// (0 from the resolver means unknown: the builder then keeps the stored id). Build calls it from
// several threads at once: it must be thread-safe (IdentityResolver::Find takes a shared lock).
using Canonicalizer = std::function<store::CustomerId(store::CustomerId)>;
// True = leave this canonical customer out of analytics entirely (e.g. `analytics` consent denied
// or withdrawn: app/consent_wiring.cc). Called once per canonical customer at Build, and at
// Extend for customers with new rows or merged since; must be quick and thread-safe. A change of
// its answer for a customer without new rows is only seen after IndexCache::Invalidate().
using CustomerFilter = std::function<bool(store::CustomerId canonical)>;

class EventIndex {
 public:
  // Scans the snapshot (customer, timestamp, event, type, channel, seq, revenue columns only) on
  // ctx.threads() threads: segment blocks decoded in parallel, then rows grouped by customer in
  // parallel; the result is the same for every thread count, event and channel ids included.
  // `canonical` may be empty (identity: no merges). Checks ctx between blocks.
  // `excluded` may be empty (nobody excluded); excluded customers' rows are not in the index,
  // nor are the rows of customers the snapshot hides (an erasure in progress: store::Snapshot::Hidden).
  static Result<std::shared_ptr<const EventIndex>> Build(const store::Snapshot& snapshot,
                                                         const Canonicalizer& canonical,
                                                         const QueryContext& ctx,
                                                         const CustomerFilter& excluded = {});

  // Derives the index of `snapshot` from `prev`, the index built from `prev_snapshot`, an earlier
  // snapshot of the same store (same `canonical`). Reads only segments that are not in
  // prev_snapshot (new flushes, compaction outputs: their rows below prev's seq are counted, not
  // kept) and the memtable rows with seq >= prev's seq; every customer id of prev is passed
  // through `canonical` again, so identity merges since prev regroup their runs.
  // Returns nullptr (not an error) when the rows below prev's seq are not exactly prev's — rows
  // were erased or dropped by compaction — or snapshot is older than prev: the caller then Builds.
  // Also nullptr when a customer excluded in prev has since been merged into another one, or
  // when the snapshots hide different customers (an erasure began in between).
  // `spare`: an index nobody else references any more, whose column memory is reused (its
  // columns are left empty or unchanged); may be null.
  static Result<std::shared_ptr<const EventIndex>> Extend(const EventIndex& prev, const store::Snapshot& prev_snapshot,
                                                          const store::Snapshot& snapshot,
                                                          const Canonicalizer& canonical, const QueryContext& ctx,
                                                          const CustomerFilter& excluded = {},
                                                          EventIndex* spare = nullptr);

  // The index of `full` restricted to the customers i with keep[i] != 0 (keep has
  // full.customer_count() entries): their runs copied whole, in the same order, with the same
  // snapshot seq, dictionaries (event and channel ids keep their values), excluded list and
  // min/max timestamps (the data range of a query without from/to stays the store's), so every
  // query runs on it unchanged (the segment filter, spec/segment.h). O(kept rows).
  // Defined in exec/event_index_subset.cc.
  static std::shared_ptr<const EventIndex> Subset(const EventIndex& full, const std::vector<char>& keep);

  uint64_t snapshot_seq() const { return snapshot_seq_; }
  size_t customer_count() const { return customers_.size(); }
  size_t row_count() const { return ts_.size(); }
  int64_t min_timestamp_ms() const { return min_ts_; }  // 0 when empty
  int64_t max_timestamp_ms() const { return max_ts_; }
  // Canonical customers left out by the CustomerFilter (ascending) and how many rows they had.
  const std::vector<store::CustomerId>& excluded_customers() const { return excluded_ids_; }
  uint64_t excluded_rows() const { return excluded_rows_; }

  // Customers: canonical ids ascending; offsets has customer_count()+1 entries.
  const std::vector<store::CustomerId>& customers() const { return customers_; }
  const std::vector<RowIndex>& offsets() const { return offsets_; }
  // Index of a canonical customer id in customers(), or nullopt.
  std::optional<size_t> FindCustomer(store::CustomerId canonical) const;

  // Row columns (indexed by RowIndex).
  // Row columns (exec/column_alloc.h: std::vector in huge pages).
  const Column<int64_t>& timestamps() const { return ts_; }
  const Column<EventId>& events() const { return event_; }
  const Column<uint64_t>& seqs() const { return seq_; }
  const Column<uint16_t>& channels() const { return channel_; }  // id into channel_names()
  const Column<uint8_t>& types() const { return type_; }         // store::MessageType value
  const Column<double>& revenues() const { return revenue_; }

  // Dictionaries.
  size_t event_count() const { return event_names_.size(); }
  const std::string& event_name(EventId e) const { return event_names_[e]; }
  std::optional<EventId> FindEvent(std::string_view name) const;
  const std::vector<std::string>& channel_names() const { return channel_names_; }  // id 0 = ""

  // The row holding interaction `seq`, or kNoRow (not in this snapshot / erased).
  // The table is built on first use (O(rows)), once per index.
  RowIndex RowOfSeq(uint64_t seq) const {
    const auto& t = RowOfSeqTable();
    return seq < t.size() ? t[seq] : kNoRow;
  }

  // Calls fn(row, payload) for every row whose event is in `events` (payload = the message's
  // minified JSON, valid only during the call). Reads only segment blocks that contain one of
  // the events. Rows come in storage order, not customer order. Single-threaded; checks ctx.
  Status ForEachPayload(const store::Snapshot& snapshot, std::span<const EventId> events, const QueryContext& ctx,
                        const std::function<void(RowIndex row, std::string_view payload)>& fn) const;

  // Runs fn(first_customer, end_customer, worker) over chunks of customers on ctx.threads()
  // workers (worker in [0, Workers(ctx)): size per-worker accumulators with Workers(ctx)),
  // chunks of ~64k rows, stopping at the first error of fn or of ctx.Check() between chunks.
  static unsigned Workers(const QueryContext& ctx);
  Status ParallelForCustomers(const QueryContext& ctx,
                              const std::function<Status(size_t begin, size_t end, unsigned worker)>& fn) const;

 private:
  EventIndex() = default;
  friend class EventIndexBuilder;
  const Column<RowIndex>& RowOfSeqTable() const;

  uint64_t snapshot_seq_ = 0;
  int64_t min_ts_ = 0, max_ts_ = 0;
  std::vector<store::CustomerId> customers_;
  std::vector<RowIndex> offsets_;
  Column<int64_t> ts_;
  Column<EventId> event_;
  Column<uint64_t> seq_;
  Column<uint16_t> channel_;
  Column<uint8_t> type_;
  Column<double> revenue_;
  std::vector<std::string> event_names_;
  std::unordered_map<std::string, EventId> event_ids_;
  std::vector<std::string> channel_names_;
  std::vector<store::CustomerId> excluded_ids_;
  uint64_t excluded_rows_ = 0;
  mutable std::once_flag row_of_seq_once_;
  mutable Column<RowIndex> row_of_seq_;  // written once under row_of_seq_once_
};

// IndexCache: one EventIndex per snapshot seq. When the store has moved on, the cached index is
// extended to the new snapshot (EventIndex::Extend; identity merges only happen with new batches,
// so a new seq also covers a changed canonical mapping), and rebuilt from scratch only when that
// is not possible (rows below the cached seq were erased / dropped, or customers were hidden
// for an erasure: the snapshot then hides others at the same seq) or after Invalidate().
// Concurrent Get()s for the same seq build once. Thread-safe.
class IndexCache {
 public:
  IndexCache(store::Store* store, Canonicalizer canonical, CustomerFilter excluded = {})
      : store_(store), canonical_(std::move(canonical)), excluded_(std::move(excluded)) {}
  struct Entry {
    std::shared_ptr<store::Snapshot> snapshot;  // keeps the segments the index was built from alive
    std::shared_ptr<const EventIndex> index;
  };
  Result<Entry> Get(const QueryContext& ctx);
  // Drops the cached index and the snapshot it holds (queries running keep their own
  // references); the next Get() builds from scratch. For changes the seq does not show: an
  // erasure, a CustomerFilter answer that changed. Waits for a build in progress.
  void Invalidate();

  struct Stats {
    uint64_t full_builds = 0, extends = 0, reuses = 0;
    double last_build_ms = 0;   // wall time of the last full build or extension
    bool last_was_extend = false;
    uint64_t last_delta_rows = 0;  // rows added by the last extension
  };
  Stats stats() const;

 private:
  store::Store* const store_;
  const Canonicalizer canonical_;
  const CustomerFilter excluded_;
  mutable std::mutex mu_;  // held while building: one build at a time
  Entry current_;  // guarded by mu_
  bool invalid_ = false;  // guarded by mu_
  // The index current_ replaced at the last extension: memory for the next one (see Get).
  std::shared_ptr<const EventIndex> spare_;  // guarded by mu_
  Stats stats_;    // guarded by mu_
};

}  // namespace cairn::analytics
