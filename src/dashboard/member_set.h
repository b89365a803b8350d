#pragma once
// MemberSet: constant-time membership in a segment's member list, for tests of many ids (a
// segment's new customers among a range's first orders).
//
// `members` must be ascending (the page filter's canonical ids). Customer ids come from the
// identity resolver's counter, so they are dense: a bitmap over [0, largest member] costs at
// most 4 bits per member (plus 8 KiB) and a test is one bit, within cache for a million customers.
// Sparse ids (a bitmap more than 4 times that size) fall back to a binary search of `members`,
// which must then outlive the set.

#include <algorithm>
#include <cstdint>
#include <vector>

namespace cairn::dashboard {

class MemberSet {
 public:
  explicit MemberSet(const std::vector<uint64_t>& members) : members_(members) {
    if (members.empty()) return;
    const uint64_t words = members.back() / 64 + 1;
    if (words > members.size() / 16 + 1024) return;  // over 4 bits a member: too sparse
    bits_.assign(words, 0);
    for (uint64_t m : members) bits_[m / 64] |= uint64_t{1} << (m % 64);
    bitmap_ = true;
  }

  bool Contains(uint64_t id) const {
    if (bitmap_) return id / 64 < bits_.size() && (bits_[id / 64] >> (id % 64) & 1);
    return std::binary_search(members_.begin(), members_.end(), id);
  }

 private:
  const std::vector<uint64_t>& members_;
  std::vector<uint64_t> bits_;
  bool bitmap_ = false;
};

}  // namespace cairn::dashboard
