#pragma once
// DedupTable: remembers the most recent `capacity` message keys (a 64-bit hash of source and
// messageId) so that a client's retry of an already stored message is recognised and not stored
// twice. Memory is bounded: at most 24 bytes per slot of capacity (a ring of keys in arrival order
// plus an open-addressing table at ≤ 50% load); the oldest key is forgotten when a new one arrives
// at capacity. Both grow with use (doubling) instead of being allocated whole: a server's start
// would otherwise spend ~1 s zero-filling 96 MiB for the default 4M keys. It survives restarts: at startup the
// pipeline re-inserts the keys of the newest `capacity` stored interactions by seq, oldest first
// (IngestPipeline::SeedFromStore).
//
// A 64-bit hash makes a false "duplicate" for two different messages astronomically unlikely
// (~n²/2⁶⁵: 1e-7 at n = 2e6).
//
// Not thread-safe: the ingest pipeline uses it under its sequencing lock.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace cairn::ingest {

uint64_t MessageKey(uint32_t source, std::string_view message_id);

class DedupTable {
 public:
  explicit DedupTable(size_t capacity);

  bool Contains(uint64_t key) const;
  // A hint that `key` is about to be inserted or looked up: starts loading its home slot into the
  // cache. Changes nothing. At millions of keys the table is tens of MiB and every Insert is a
  // cache (and TLB) miss of ~300 ns; a caller with a batch of keys prefetches a few ahead so the
  // misses overlap instead of running one after another.
  void Prefetch(uint64_t key) const { __builtin_prefetch(&table_[Home(Normalize(key))]); }
  // Returns false (and changes nothing) if the key is already present.
  bool Insert(uint64_t key);
  // Forgets a key (a batch that failed to become durable). No-op if absent. O(1). The key's ring
  // entry stays, so if the key is inserted again it is forgotten when that older entry is evicted.
  void Erase(uint64_t key);

  size_t size() const { return size_; }  // ring slots in use (erased keys keep theirs until evicted)
  size_t capacity() const { return capacity_; }

 private:
  static uint64_t Normalize(uint64_t key) { return key == 0 ? 1 : key; }  // 0 marks an empty slot
  size_t Home(uint64_t key) const { return static_cast<size_t>(key * 0x9E3779B97F4A7C15ull) & mask_; }
  size_t Slot(uint64_t key) const;
  void EraseFromTable(uint64_t key);
  void Grow();  // doubles table_ and re-inserts its keys

  std::vector<uint64_t> table_;  // 0 = empty; key 0 is stored as 1 (see Normalize in .cc)
  std::vector<uint64_t> ring_;   // insertion order; grows to capacity_, then ring_[head_] is the oldest
  size_t capacity_ = 0;
  size_t max_slots_ = 0;  // table_'s final size: bit_ceil(2 × capacity_)
  size_t head_ = 0;
  size_t size_ = 0;
  size_t mask_ = 0;
};

}  // namespace cairn::ingest
