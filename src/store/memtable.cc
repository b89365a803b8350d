#include "store/memtable.h"

#include <algorithm>

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
    by_customer_[r.customer].push_back({r.timestamp_ms, r.seq, &r});
  }
  rows_ += chunks_.back().size();
}

void MemTable::ReadCustomers(const std::vector<CustomerId>& customers, uint64_t max_seq,
                             std::vector<Interaction>* out) const {
  std::lock_guard lock(mu_);
  for (CustomerId c : customers) {
    auto it = by_customer_.find(c);
    if (it == by_customer_.end()) continue;
    for (const Ref& r : it->second)
      if (r.seq < max_seq) out->push_back(*r.row);
  }
}

void MemTable::ReadCustomersAfter(const std::vector<CustomerId>& customers, uint64_t max_seq,
                                  const std::pair<int64_t, uint64_t>* after, size_t limit,
                                  std::vector<Interaction>* out) const {
  if (limit == 0) return;
  // A max-heap of the `limit` smallest keys seen (keys beside pointers): only those rows are copied.
  using Key = std::pair<int64_t, uint64_t>;
  auto key = [](const Ref& r) { return Key{r.timestamp_ms, r.seq}; };
  auto less = [&](const Ref& a, const Ref& b) { return key(a) < key(b); };
  std::vector<Ref> best;
  std::lock_guard lock(mu_);
  for (CustomerId c : customers) {
    auto it = by_customer_.find(c);
    if (it == by_customer_.end()) continue;
    for (const Ref& r : it->second) {
      if (r.seq >= max_seq || (after && key(r) <= *after)) continue;
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
  for (const Ref& r : best) out->push_back(*r.row);
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
  // by_customer_ already groups the rows and keeps each customer's in arrival order, which is
  // their timeline order unless events came late: sort the customers, and only the lists that are
  // out of order. A sort of every row (as keys beside pointers) was ~10% of a flush.
  auto key = [](const Ref& r) { return std::pair(r.timestamp_ms, r.seq); };
  auto before = [&](const Ref& a, const Ref& b) { return key(a) < key(b); };
  std::vector<std::pair<CustomerId, const std::vector<Ref>*>> customers;
  std::vector<const Interaction*> out;
  std::lock_guard lock(mu_);
  customers.reserve(by_customer_.size());
  for (const auto& [c, refs] : by_customer_) customers.emplace_back(c, &refs);
  std::sort(customers.begin(), customers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  out.reserve(rows_);
  std::vector<Ref> late;  // a copy of an out-of-order list, sorted
  for (const auto& [c, refs] : customers) {
    if (std::is_sorted(refs->begin(), refs->end(), before)) {
      for (const Ref& r : *refs) out.push_back(r.row);
    } else {
      late.assign(refs->begin(), refs->end());
      std::sort(late.begin(), late.end(), before);
      for (const Ref& r : late) out.push_back(r.row);
    }
  }
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
