#include "ingest/dedup_table.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>

namespace cairn::ingest {
uint64_t MessageKey(uint32_t source, std::string_view message_id) {
  const uint64_t key = XXH3_64bits_withSeed(message_id.data(), message_id.size(), source);
  return key == 0 ? 1 : key;  // as DedupTable::Normalize
}

DedupTable::DedupTable(size_t capacity) {
  constexpr size_t kInitialSlots = 1024;
  capacity_ = std::max<size_t>(capacity, 1);
  max_slots_ = std::bit_ceil(capacity_ * 2);
  const size_t slots = std::min(max_slots_, kInitialSlots);
  table_.assign(slots, 0);
  mask_ = slots - 1;
}

void DedupTable::Grow() {
  std::vector<uint64_t> old(table_.size() * 2, 0);
  old.swap(table_);
  mask_ = table_.size() - 1;
  for (uint64_t key : old)
    if (key != 0) table_[Slot(key)] = key;
}

size_t DedupTable::Slot(uint64_t key) const {
  size_t i = Home(key);
  while (table_[i] != 0 && table_[i] != key) i = (i + 1) & mask_;
  return i;
}

bool DedupTable::Contains(uint64_t key) const { return table_[Slot(Normalize(key))] != 0; }

bool DedupTable::Insert(uint64_t key) {
  key = Normalize(key);
  size_t s = Slot(key);
  if (table_[s] != 0) return false;
  if (ring_.size() < capacity_) {  // still growing: head_ is 0 and every ring slot is in use
    if ((size_ + 1) * 2 > table_.size() && table_.size() < max_slots_) {
      Grow();
      s = Slot(key);
    }
    table_[s] = key;
    ring_.push_back(key);
    ++size_;
    return true;
  }
  if (size_ == ring_.size()) {  // at capacity: forget the oldest
    if (ring_[head_] != 0) EraseFromTable(ring_[head_]);
    head_ = (head_ + 1) % ring_.size();
    --size_;
    s = Slot(key);  // the erasure may have shifted entries
  }
  table_[s] = key;
  ring_[(head_ + size_) % ring_.size()] = key;
  ++size_;
  return true;
}

void DedupTable::EraseFromTable(uint64_t key) {
  size_t i = Slot(key);
  if (table_[i] == 0) return;
  table_[i] = 0;
  // Backward-shift deletion keeps linear-probe chains intact without tombstones.
  size_t j = i;
  while (true) {
    j = (j + 1) & mask_;
    if (table_[j] == 0) return;
    size_t home = Home(table_[j]);
    // Move table_[j] into the hole at i if its home is not in (i, j] cyclically.
    bool between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
    if (!between) {
      table_[i] = table_[j];
      table_[j] = 0;
      i = j;
    }
  }
}

void DedupTable::Erase(uint64_t key) {
  key = Normalize(key);
  if (table_[Slot(key)] == 0) return;
  EraseFromTable(key);
  // The ring entry stays: when it comes up for eviction it forgets the key if it is present
  // again by then (inserted anew after this erasure) — slightly early, which is harmless for a
  // bounded "recent messages" table, and keeps Erase O(1) (a failed batch erases every key it
  // took; scanning the ring for each cost O(batch²)).
}

}  // namespace cairn::ingest
