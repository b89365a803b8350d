#pragma once
// IdCells: stored customer id → the segment cell its rows are filed in (DailyTotals' `filed`).
//
// Customer ids come from the identity resolver's counter, so they are dense: ids up to a bound
// that grows with the count live in a vector indexed by id (4 B an id, a lookup is one load —
// a segment filter looks up every member), the rare id far past the others in a hash map. The
// vector grows while the ids stay dense: at most about twice the largest dense id, never more
// than 2 slots per id filed plus 64 Ki. Not thread-safe (DailyTotals holds its mutex).

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace cairn::dashboard {

class IdCells {
 public:
  // The cell of `id`, or null when it has none. The pointer is valid until the next Insert.
  uint32_t* Find(uint64_t id) {
    if (id < dense_.size()) return dense_[id] == kNone ? nullptr : &dense_[id];
    auto it = sparse_.find(id);
    return it == sparse_.end() ? nullptr : &it->second;
  }
  const uint32_t* Find(uint64_t id) const { return const_cast<IdCells*>(this)->Find(id); }

  // Files `id` in `cell` unless it has a cell already (then nothing changes).
  void Insert(uint64_t id, uint32_t cell) {
    if (id >= dense_.size() && id < 2 * size_ + kSlack) {
      dense_.resize(std::max<uint64_t>(id + 1, std::min<uint64_t>(2 * dense_.size(), 2 * size_ + kSlack)), kNone);
      // Ids the hash map held that the vector now covers move into it.
      for (auto it = sparse_.begin(); it != sparse_.end();)
        if (it->first < dense_.size()) dense_[it->first] = it->second, it = sparse_.erase(it);
        else ++it;
    }
    if (id < dense_.size()) {
      if (dense_[id] != kNone) return;
      dense_[id] = cell;
    } else if (!sparse_.emplace(id, cell).second) {
      return;
    }
    ++size_;
  }

  size_t size() const { return size_; }

  // f(id, cell) for every filed id: ascending ids first (the vector), then the others.
  template <typename F>
  void ForEach(F f) const {
    for (uint64_t id = 0; id < dense_.size(); ++id)
      if (dense_[id] != kNone) f(id, dense_[id]);
    for (const auto& [id, cell] : sparse_) f(id, cell);
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr uint64_t kSlack = 65536;
  std::vector<uint32_t> dense_;
  std::unordered_map<uint64_t, uint32_t> sparse_;
  size_t size_ = 0;
};

}  // namespace cairn::dashboard
