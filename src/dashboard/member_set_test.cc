// MemberSet answers what a binary search of the member list answers, with dense ids (the bitmap)
// and sparse ones (the fallback).
#include "dashboard/member_set.h"

#include <gtest/gtest.h>

#include <random>

namespace cairn::dashboard {
namespace {

void ExpectSameAsSearch(const std::vector<uint64_t>& members, uint64_t probe_below) {
  const MemberSet set(members);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20'000; ++i) {
    const uint64_t id = i < 10'000 ? static_cast<uint64_t>(i) : rng() % probe_below;
    ASSERT_EQ(set.Contains(id), std::binary_search(members.begin(), members.end(), id)) << id;
  }
  for (uint64_t m : members) ASSERT_TRUE(set.Contains(m)) << m;
}

TEST(MemberSetTest, DenseAndSparseIdsAnswerLikeTheList) {
  std::mt19937_64 rng(1);
  std::vector<uint64_t> dense, sparse;
  for (uint64_t c = 0; c < 200'000; ++c)
    if (rng() % 3 == 0) dense.push_back(c);  // a third of the customers: the bitmap
  for (int i = 0; i < 5'000; ++i) sparse.push_back(rng() >> 8);  // ids up to 2^56: the search
  std::sort(sparse.begin(), sparse.end());
  sparse.erase(std::unique(sparse.begin(), sparse.end()), sparse.end());
  ExpectSameAsSearch(dense, 300'000);
  ExpectSameAsSearch(sparse, uint64_t{1} << 56);
  ExpectSameAsSearch({}, 1000);
  ExpectSameAsSearch({0, 63, 64, 65, 127, 128}, 1000);
  EXPECT_FALSE(MemberSet({5}).Contains(uint64_t{1} << 40));  // past the bitmap's end
}

}  // namespace
}  // namespace cairn::dashboard
