#include "ingest/dedup_table.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <set>

namespace cairn::ingest {
namespace {

TEST(DedupTableTest, RemembersAndRejectsRepeats) {
  DedupTable t(100);
  EXPECT_TRUE(t.Insert(MessageKey(1, "m1")));
  EXPECT_FALSE(t.Insert(MessageKey(1, "m1")));
  EXPECT_TRUE(t.Contains(MessageKey(1, "m1")));
  EXPECT_TRUE(t.Insert(MessageKey(2, "m1"))) << "the same messageId from another source is different";
  EXPECT_FALSE(t.Contains(MessageKey(1, "m2")));
}

TEST(DedupTableTest, ForgetsOldestAtCapacity) {
  DedupTable t(1000);
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(t.Insert(MessageKey(0, "m" + std::to_string(i))));
  EXPECT_EQ(t.size(), 1000u);
  for (int i = 0; i < 4000; ++i) EXPECT_FALSE(t.Contains(MessageKey(0, "m" + std::to_string(i)))) << i;
  for (int i = 4000; i < 5000; ++i) EXPECT_TRUE(t.Contains(MessageKey(0, "m" + std::to_string(i)))) << i;
}

TEST(DedupTableTest, EraseKeepsOtherKeysFindable) {
  // Against a model of the ring: a std::set of present keys and the deque of ring entries (one
  // per successful insert, erased keys keeping theirs); at capacity the oldest entry is evicted
  // and forgets its key if present — also a key erased and inserted again since (Erase is O(1)).
  // With erasures, evictions and colliding probe chains.
  DedupTable t(64);
  std::mt19937_64 rng(3);
  std::deque<uint64_t> ring;
  std::set<uint64_t> model;
  for (int step = 0; step < 20000; ++step) {
    uint64_t k = rng() % 200 + 1;
    if (rng() % 4 == 0) {
      t.Erase(k);
      model.erase(k);
      continue;
    }
    bool inserted = t.Insert(k);
    ASSERT_EQ(inserted, !model.count(k)) << "step " << step;
    if (inserted) {
      if (ring.size() == 64) {
        model.erase(ring.front());
        ring.pop_front();
      }
      model.insert(k);
      ring.push_back(k);
    }
    for (uint64_t m = 1; m <= 200; ++m) ASSERT_EQ(t.Contains(m), model.count(m) == 1) << "step " << step << " key " << m;
  }
}

TEST(DedupTableTest, GrowsWithUseAndKeepsEveryKeyAcrossGrowth) {
  // The table starts small and doubles: keys inserted and erased before, during and after each
  // growth stay exactly as findable as a set says, up to capacity and past it.
  DedupTable t(20000);
  std::set<uint64_t> model;
  auto key = [](int i) { return MessageKey(7, "g" + std::to_string(i)); };
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(t.Insert(key(i))) << i;
    model.insert(key(i));
    if (i % 3 == 0) {
      t.Erase(key(i / 2));
      model.erase(key(i / 2));
    }
  }
  for (int i = 0; i < 20000; ++i) ASSERT_EQ(t.Contains(key(i)), model.count(key(i)) == 1) << i;
  EXPECT_EQ(t.capacity(), 20000u);
  // Past capacity the oldest ring entries go: the 20000 newest inserts are all that remain.
  for (int i = 20000; i < 45000; ++i) ASSERT_TRUE(t.Insert(key(i))) << i;
  EXPECT_EQ(t.size(), 20000u);
  for (int i = 0; i < 25000; ++i) ASSERT_FALSE(t.Contains(key(i))) << i;
  for (int i = 25000; i < 45000; ++i) ASSERT_TRUE(t.Contains(key(i))) << i;
}

}  // namespace
}  // namespace cairn::ingest
