#include "store/memtable.h"

#include <algorithm>
#include <tuple>

namespace cairn::store {
namespace {
size_t RowBytes(const Interaction& r) {
  return sizeof(Interaction) + r.event.size() + r.channel.size() + r.message_id.size() + r.payload.size();
}
}  // namespace

void MemTable::Add(Batch&& batch) {
  if (batch.interactions.empty()) return;
  std::lock_guard lock(mu_);
  // The batch's rows stay where they are (moving the vector keeps its buffer): the index takes a
  // pointer per row instead of moving ~180-byte rows into per-customer vectors.
  chunks_.push_back(std::move(batch.interactions));
  batch.interactions.clear();
  for (const Interaction& r : chunks_.back()) {
    bytes_ += RowBytes(r);
    max_seq_ = std::max(max_seq_, r.seq + 1);
    by_customer_[r.customer].push_back(&r);
  }
  rows_ += chunks_.back().size();
}

void MemTable::ReadCustomers(const std::vector<CustomerId>& customers, uint64_t max_seq,
                             std::vector<Interaction>* out) const {
  std::lock_guard lock(mu_);
  for (CustomerId c : customers) {
    auto it = by_customer_.find(c);
    if (it == by_customer_.end()) continue;
    for (const Interaction* r : it->second)
      if (r->seq < max_seq) out->push_back(*r);
  }
}

void MemTable::ReadCustomersAfter(const std::vector<CustomerId>& customers, uint64_t max_seq,
                                  const std::pair<int64_t, uint64_t>* after, size_t limit,
                                  std::vector<Interaction>* out) const {
  if (limit == 0) return;
  // A max-heap of the `limit` smallest keys seen, as pointers: only those rows are copied.
  using Key = std::pair<int64_t, uint64_t>;
  auto key = [](const Interaction* r) { return Key{r->timestamp_ms, r->seq}; };
  auto less = [&](const Interaction* a, const Interaction* b) { return key(a) < key(b); };
  std::vector<const Interaction*> best;
  std::lock_guard lock(mu_);
  for (CustomerId c : customers) {
    auto it = by_customer_.find(c);
    if (it == by_customer_.end()) continue;
    for (const Interaction* r : it->second) {
      if (r->seq >= max_seq || (after && key(r) <= *after)) continue;
      if (best.size() < limit) {
        best.push_back(r);
        std::push_heap(best.begin(), best.end(), less);
      } else if (less(r, best.front())) {
        std::pop_heap(best.begin(), best.end(), less);
        best.back() = r;
        std::push_heap(best.begin(), best.end(), less);
      }
    }
  }
  std::sort_heap(best.begin(), best.end(), less);
  for (const Interaction* r : best) out->push_back(*r);
}

std::vector<Interaction> MemTable::SortedRows(uint64_t max_seq) const {
  std::vector<Interaction> out;
  {
    std::lock_guard lock(mu_);
    out.reserve(rows_);
    for (const auto& rows : chunks_)
      for (const auto& r : rows)
        if (r.seq < max_seq) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), SegmentOrder);
  return out;
}

std::vector<const Interaction*> MemTable::FrozenSortedRows() const {
  // Sorted as keys beside their pointers: comparing through the pointers cost a cache miss per
  // comparison (rows are ~180 bytes scattered over the batches' vectors), ~6% of a flush.
  struct Keyed {
    CustomerId customer;
    int64_t timestamp_ms;
    uint64_t seq;
    const Interaction* row;
  };
  std::vector<Keyed> keyed;
  {
    std::lock_guard lock(mu_);
    keyed.reserve(rows_);
    for (const auto& rows : chunks_)
      for (const auto& r : rows) keyed.push_back({r.customer, r.timestamp_ms, r.seq, &r});
  }
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {  // SegmentOrder
    return std::tie(a.customer, a.timestamp_ms, a.seq) < std::tie(b.customer, b.timestamp_ms, b.seq);
  });
  std::vector<const Interaction*> out;
  out.reserve(keyed.size());
  for (const Keyed& k : keyed) out.push_back(k.row);
  return out;
}

size_t MemTable::ApproximateBytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t MemTable::rows() const {
  std::lock_guard lock(mu_);
  return rows_;
}

uint64_t MemTable::max_seq() const {
  std::lock_guard lock(mu_);
  return max_seq_;
}

}  // namespace cairn::store
