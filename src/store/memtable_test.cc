#include "store/memtable.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace cairn::store {
namespace {

// Rows as they arrive: seq ascending, customers interleaved, and with `late` > 0 some events older
// than the ones their customer sent before (a late event, or a client with a skewed clock).
std::vector<Batch> Arrivals(uint64_t seed, size_t batches, int late_percent) {
  std::mt19937_64 rng(seed);
  std::vector<Batch> out;
  uint64_t seq = 0;
  int64_t now = 1'700'000'000'000;
  for (size_t b = 0; b < batches; ++b) {
    Batch batch;
    batch.first_seq = seq;
    const size_t n = 1 + rng() % 40;
    for (size_t i = 0; i < n; ++i) {
      Interaction r;
      r.customer = 1 + rng() % 25;
      now += static_cast<int64_t>(rng() % 3);  // ties too: (timestamp, seq) decides
      r.timestamp_ms = static_cast<int>(rng() % 100) < late_percent ? now - static_cast<int64_t>(rng() % 50'000) : now;
      r.seq = seq++;
      r.message_id = "m" + std::to_string(r.seq);
      batch.interactions.push_back(r);
    }
    out.push_back(std::move(batch));
  }
  return out;
}

std::vector<uint64_t> Seqs(const std::vector<const Interaction*>& rows) {
  std::vector<uint64_t> out;
  for (const Interaction* r : rows) out.push_back(r->seq);
  return out;
}

TEST(MemTableTest, FrozenSortedRowsAreInSegmentOrderAlsoWithLateEvents) {
  for (int late : {0, 5, 50}) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      MemTable m;
      for (Batch& b : Arrivals(seed, 30, late)) m.Add(std::move(b));
      std::vector<Interaction> expected = m.SortedRows(UINT64_MAX);  // a sort of every row
      std::vector<const Interaction*> want;
      for (const Interaction& r : expected) want.push_back(&r);
      std::vector<const Interaction*> got = m.FrozenSortedRows();
      ASSERT_EQ(got.size(), m.rows());
      EXPECT_EQ(Seqs(got), Seqs(want)) << "late " << late << "% seed " << seed;
      EXPECT_TRUE(std::is_sorted(got.begin(), got.end(),
                                 [](const Interaction* a, const Interaction* b) { return SegmentOrder(*a, *b); }));
    }
  }
}

TEST(MemTableTest, ALateEventGoesBeforeItsCustomersEarlierArrivals) {
  MemTable m;
  Batch b;
  auto row = [&](CustomerId c, int64_t ts, uint64_t seq) {
    Interaction r;
    r.customer = c;
    r.timestamp_ms = ts;
    r.seq = seq;
    b.interactions.push_back(r);
  };
  row(7, 300, 0);
  row(3, 100, 1);
  row(7, 100, 2);  // late: before seq 0 on customer 7's timeline
  row(7, 300, 3);  // same time as seq 0: after it (arrival breaks the tie)
  row(3, 50, 4);   // late
  m.Add(std::move(b));
  EXPECT_EQ(Seqs(m.FrozenSortedRows()), (std::vector<uint64_t>{4, 1, 2, 0, 3}));
}

}  // namespace
}  // namespace cairn::store
