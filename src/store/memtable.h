#pragma once
// MemTable: the interactions acknowledged since the last flush, indexed by customer, in memory.
// Rows become visible here only after their WAL record is synced, so a reader never sees an
// interaction that a crash could lose.
//
// Thread-safety: Add() and the readers may run concurrently (internal mutex). Readers take a
// `max_seq` bound so that a snapshot sees exactly the rows committed before it was taken.

#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/interaction.h"

namespace cairn::store {

class MemTable {
 public:
  MemTable() = default;

  // Takes the batch's interactions (moved out of it).
  void Add(Batch&& batch);

  // Rows of the given customers with seq < max_seq, appended to *out (unsorted).
  void ReadCustomers(const std::vector<CustomerId>& customers, uint64_t max_seq, std::vector<Interaction>* out) const;
  // The first `limit` rows of the given customers with seq < max_seq whose (timestamp, seq) is
  // after `after` (all when null), sorted by (timestamp, seq), appended to *out. O(rows of those
  // customers × log limit) per call: a bounded-memory reader pages through a customer with it.
  void ReadCustomersAfter(const std::vector<CustomerId>& customers, uint64_t max_seq,
                          const std::pair<int64_t, uint64_t>* after, size_t limit, std::vector<Interaction>* out) const;
  // Every row with seq < max_seq, sorted by (customer, timestamp, seq) — the segment order.
  std::vector<Interaction> SortedRows(uint64_t max_seq) const;
  // The same as pointers into this memtable, without copying rows. Only for a frozen memtable
  // (no more Add calls): the pointers stay valid while it lives.
  std::vector<const Interaction*> FrozenSortedRows() const;
  // Calls fn(source, message_id) for every row (for rebuilding de-duplication state).
  template <typename Fn>
  void ForEachMessageKey(Fn&& fn) const {
    std::lock_guard lock(mu_);
    for (const auto& rows : chunks_)
      for (const auto& r : rows) fn(r.source, r.message_id);
  }

  size_t ApproximateBytes() const;  // payload + fixed overhead of every row
  size_t rows() const;
  uint64_t max_seq() const;  // one past the highest seq added (0 if empty)

 private:
  mutable std::mutex mu_;
  std::vector<std::vector<Interaction>> chunks_;  // the added batches' rows, never moved; guarded by mu_
  // A row's place in its customer's list: its timeline key beside the pointer, so ordering a
  // customer's rows reads the list, not the rows (scattered over chunks_).
  struct Ref {
    int64_t timestamp_ms;
    uint64_t seq;
    const Interaction* row;
  };
  // Each customer's rows in arrival order (which is almost always timeline order): the flush
  // orders customers, not rows. Into chunks_; guarded by mu_.
  std::unordered_map<CustomerId, std::vector<Ref>> by_customer_;
  size_t bytes_ = 0;                                                      // guarded by mu_
  size_t rows_ = 0;                                                       // guarded by mu_
  uint64_t max_seq_ = 0;                                                  // guarded by mu_
};

// The order of rows in segments and of a customer's timeline: customer, event time, arrival.
inline bool SegmentOrder(const Interaction& a, const Interaction& b) {
  if (a.customer != b.customer) return a.customer < b.customer;
  if (a.timestamp_ms != b.timestamp_ms) return a.timestamp_ms < b.timestamp_ms;
  return a.seq < b.seq;
}

}  // namespace cairn::store
