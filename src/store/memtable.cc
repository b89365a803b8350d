#include "store/memtable.h"

#include <algorithm>

namespace cairn::store {
namespace {
size_t RowBytes(const Interaction& r) {
  return sizeof(Interaction) + r.event.size() + r.channel.size() + r.message_id.size() + r.payload.size();
}
}  // namespace

void MemTable::Add(Batch&& batch) {
  std::lock_guard lock(mu_);
  for (auto& r : batch.interactions) {
    bytes_ += RowBytes(r);
    max_seq_ = std::max(max_seq_, r.seq + 1);
    by_customer_[r.customer].push_back(std::move(r));
  }
  rows_ += batch.interactions.size();
  batch.interactions.clear();
}

void MemTable::ReadCustomers(const std::vector<CustomerId>& customers, uint64_t max_seq,
                             std::vector<Interaction>* out) const {
  std::lock_guard lock(mu_);
  for (CustomerId c : customers) {
    auto it = by_customer_.find(c);
    if (it == by_customer_.end()) continue;
    for (const auto& r : it->second)
      if (r.seq < max_seq) out->push_back(r);
  }
}

std::vector<Interaction> MemTable::SortedRows(uint64_t max_seq) const {
  std::vector<Interaction> out;
  {
    std::lock_guard lock(mu_);
    out.reserve(rows_);
    for (const auto& [c, rows] : by_customer_)
      for (const auto& r : rows)
        if (r.seq < max_seq) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), SegmentOrder);
  return out;
}

std::vector<const Interaction*> MemTable::FrozenSortedRows() const {
  std::vector<const Interaction*> out;
  {
    std::lock_guard lock(mu_);
    out.reserve(rows_);
    for (const auto& [c, rows] : by_customer_)
      for (const auto& r : rows) out.push_back(&r);
  }
  std::sort(out.begin(), out.end(), [](const Interaction* a, const Interaction* b) { return SegmentOrder(*a, *b); });
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
