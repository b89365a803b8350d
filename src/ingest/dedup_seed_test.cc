// NewestMessageKeys against the straightforward computation: every row through Snapshot::ForEach,
// those with seq in range kept, sorted by seq.
#include "ingest/dedup_seed.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <string>
#include <utility>

#include "ingest/dedup_table.h"
#include "io/mem_env.h"
#include "store/segment_format.h"

namespace cairn::ingest {
namespace {

using store::Batch;
using store::CustomerId;
using store::Interaction;

Status AppendSync(store::Store* s, Batch b) {
  std::promise<Status> p;
  Status st = s->Append(std::move(b), [&](Status r) { p.set_value(r); });
  if (!st.ok()) return st;
  return p.get_future().get();
}

// `n` rows spread over customers 1..7 (interleaved, so a segment's customer order is not its seq
// order), two sources.
Batch Rows(int n, int salt) {
  Batch b;
  for (int i = 0; i < n; ++i) {
    Interaction r;
    r.customer = static_cast<CustomerId>(1 + (i * 5 + salt) % 7);
    r.timestamp_ms = 1'700'000'000'000 + int64_t{(i * 7919 + salt * 104729) % 5000} * 1000;
    r.received_at_ms = r.timestamp_ms;
    r.event = "Page Viewed";
    r.source = static_cast<uint32_t>(1 + i % 2);
    r.message_id = "m-" + std::to_string(salt) + "-" + std::to_string(i);
    b.interactions.push_back(std::move(r));
  }
  return b;
}

std::vector<uint64_t> Straightforward(const store::Snapshot& snap, uint64_t count) {
  using store::segment::Bit;
  using store::segment::Column;
  const uint64_t from = snap.seq() > count ? snap.seq() - count : 0;
  std::vector<std::pair<uint64_t, uint64_t>> recent;
  EXPECT_TRUE(snap.ForEach(
                      [&](const Interaction& r) {
                        if (r.seq >= from) recent.emplace_back(r.seq, MessageKey(r.source, r.message_id));
                        return true;
                      },
                      Bit(Column::kSeq) | Bit(Column::kSource) | Bit(Column::kMessageId))
                  .ok());
  std::sort(recent.begin(), recent.end());
  std::vector<uint64_t> keys;
  for (const auto& [seq, key] : recent) keys.push_back(key);
  return keys;
}

class SeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions o;
    o.background_work = false;
    auto s = store::Store::Open(&env_, "/db", o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    // Three segments of two blocks each (4096 rows a block), then rows still in the memtable.
    for (int round = 0; round < 3; ++round) {
      ASSERT_TRUE(AppendSync(store_.get(), Rows(5000, round)).ok());
      ASSERT_TRUE(store_->Flush().ok());
    }
    ASSERT_TRUE(AppendSync(store_.get(), Rows(1000, 7)).ok());
  }

  io::MemEnv env_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(SeedTest, SameKeysInTheSameOrderAsEveryRowScanned) {
  auto snap = store_->GetSnapshot();
  ASSERT_EQ(snap->seq(), 3u * 5000 + 1000);
  // Everything; all but seq 0; within the memtable; from the newest segment's first seq; from
  // inside the middle segment (its blocks hold seqs on both sides); one key.
  for (uint64_t count : {uint64_t{1} << 40, uint64_t{15999}, uint64_t{500}, uint64_t{6000}, uint64_t{8000},
                         uint64_t{1}}) {
    auto got = NewestMessageKeys(*snap, count);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    auto want = Straightforward(*snap, count);
    EXPECT_EQ(want.size(), std::min<uint64_t>(count, snap->seq())) << count;
    EXPECT_EQ(*got, want) << "count " << count;
  }
}

TEST_F(SeedTest, ErasedCustomersAreLeftOutAsTheSnapshotHidesThem) {
  store_->HideCustomers({3, 6});
  auto snap = store_->GetSnapshot();
  ASSERT_TRUE(snap->HidesAny());
  for (uint64_t count : {uint64_t{1} << 40, uint64_t{8000}, uint64_t{500}}) {
    auto got = NewestMessageKeys(*snap, count);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    auto want = Straightforward(*snap, count);
    EXPECT_LT(want.size(), std::min<uint64_t>(count, snap->seq())) << count;
    EXPECT_EQ(*got, want) << "count " << count;
  }
}

}  // namespace
}  // namespace cairn::ingest
