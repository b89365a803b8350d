// SegmentIndex against a plain map of customer → key, through sets, erasures and resets on both
// sides of the overlay's merge into the base.
#include "journey/segment_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace cairn::journey {
namespace {

using Key = SegmentIndex::Key;

std::vector<store::CustomerId> Expected(const std::map<store::CustomerId, Key>& model, const SegmentIndex::Match& m) {
  std::vector<store::CustomerId> out;
  for (const auto& [id, k] : model)
    if (m.persona[k.persona] && m.lifecycle[k.lifecycle]) out.push_back(id);
  return out;
}

SegmentIndex::Match Only(int persona, int lifecycle) {  // -1: any
  SegmentIndex::Match m;
  for (int i = 0; i < 256; ++i) {
    m.persona[i] = persona < 0 || i == persona;
    m.lifecycle[i] = lifecycle < 0 || i == lifecycle;
  }
  return m;
}

void ExpectSame(const SegmentIndex& index, const std::map<store::CustomerId, Key>& model) {
  ASSERT_EQ(index.size(), model.size());
  for (int p = -1; p < 4; ++p)
    for (int l = -1; l < 3; ++l) ASSERT_EQ(index.Members(Only(p, l)), Expected(model, Only(p, l))) << p << " " << l;
}

TEST(SegmentIndexTest, EqualsAPlainMapThroughSetsErasuresAndMerges) {
  SegmentIndex index;
  std::map<store::CustomerId, Key> model;
  std::mt19937_64 rng(7);
  // Sparse, large ids too: the index must not assume dense ids.
  auto id = [&rng] { return rng() % 3 == 0 ? (rng() % 50'000) + (uint64_t{1} << 40) : rng() % 50'000; };
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 20'000; ++i) {  // several overlay merges a round (past 4096 changes)
      const store::CustomerId c = id();
      if (rng() % 5 == 0) {
        index.Erase(c);
        model.erase(c);
      } else {
        const Key k{static_cast<uint8_t>(rng() % 4), static_cast<uint8_t>(rng() % 3)};
        index.Set(c, k);
        model[c] = k;
      }
      if (i % 4999 == 0) ExpectSame(index, model);  // mid-overlay
    }
    ExpectSame(index, model);
  }
  // Erasing an unknown customer, twice, or one only in the overlay changes nothing else.
  index.Erase(uint64_t{1} << 50);
  index.Set(12345678, {1, 1});
  model[12345678] = {1, 1};
  index.Erase(12345678);
  index.Erase(12345678);
  model.erase(12345678);
  ExpectSame(index, model);
  // Reset replaces everything (any order in).
  std::vector<std::pair<store::CustomerId, Key>> all = {{9, {2, 0}}, {3, {1, 2}}, {5, {2, 2}}};
  index.Reset(all);
  ExpectSame(index, {{3, {1, 2}}, {5, {2, 2}}, {9, {2, 0}}});
}

}  // namespace
}  // namespace cairn::journey
