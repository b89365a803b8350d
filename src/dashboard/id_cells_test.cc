// IdCells against a std::map doing the same inserts and updates: dense ids (the vector), ids far
// past the others (the hash map), and sparse ids the growing vector later covers.
#include "dashboard/id_cells.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace cairn::dashboard {
namespace {

void ExpectSame(const IdCells& cells, const std::map<uint64_t, uint32_t>& want) {
  ASSERT_EQ(cells.size(), want.size());
  std::map<uint64_t, uint32_t> seen;
  cells.ForEach([&](uint64_t id, uint32_t cell) { EXPECT_TRUE(seen.emplace(id, cell).second) << id; });
  EXPECT_EQ(seen, want);
  for (const auto& [id, cell] : want) {
    const uint32_t* f = cells.Find(id);
    ASSERT_NE(f, nullptr) << id;
    EXPECT_EQ(*f, cell) << id;
  }
}

TEST(IdCellsTest, AnswersLikeAMapForDenseSparseAndLaterCoveredIds) {
  IdCells cells;
  std::map<uint64_t, uint32_t> want;
  std::mt19937_64 rng(3);
  auto insert = [&](uint64_t id, uint32_t cell) {
    cells.Insert(id, cell);
    want.emplace(id, cell);  // an id keeps its first cell: Insert does not overwrite
  };
  // Sparse first: ids the vector does not cover yet, then enough dense ones that it grows over them.
  for (uint64_t id : {200'000ull, 150'000ull, 1ull << 40, 70'000ull}) insert(id, static_cast<uint32_t>(id % 97));
  ExpectSame(cells, want);
  for (uint64_t id = 0; id < 300'000; ++id)
    if (rng() % 4 != 0) insert(id, static_cast<uint32_t>(rng() % 50));
  insert(5, 999);  // already filed: unchanged
  ExpectSame(cells, want);
  for (uint64_t id : {299'999ull, 300'001ull, 1ull << 40, 1ull << 41}) {
    const bool filed = want.count(id);
    EXPECT_EQ(cells.Find(id) != nullptr, filed) << id;
  }
  // Moves through the pointer (a customer re-filed).
  for (uint64_t id : {150'000ull, 1ull << 40, 12ull}) {
    uint32_t* f = cells.Find(id);
    if (!f) continue;
    *f = 4242;
    want[id] = 4242;
  }
  ExpectSame(cells, want);
  EXPECT_EQ(cells.Find(299'998 + 3), nullptr);
}

}  // namespace
}  // namespace cairn::dashboard
