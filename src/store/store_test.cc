#include "store/store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <future>
#include <random>
#include <thread>

#include "io/mem_env.h"
#include "store/manifest.h"
#include "store/memtable.h"
#include "store/segment_builder.h"
#include "store/segment_iterator.h"
#include "store/segment_reader.h"

namespace cairn::store {
namespace {

Batch MakeBatch(CustomerId customer, int n, int64_t ts0) {
  Batch b;
  for (int i = 0; i < n; ++i) {
    Interaction r;
    r.customer = customer;
    r.timestamp_ms = ts0 + i * 1000;
    r.received_at_ms = ts0 + i * 1000;
    r.event = "Page Viewed";
    r.message_id = "m-" + std::to_string(customer) + "-" + std::to_string(ts0 + i);
    r.payload = R"({"type":"track","event":"Page Viewed"})";
    b.interactions.push_back(r);
  }
  return b;
}

Status AppendSync(Store* s, Batch b) {
  std::promise<Status> p;
  Status st = s->Append(std::move(b), [&](Status r) { p.set_value(r); });
  if (!st.ok()) return st;
  return p.get_future().get();
}

StoreOptions TestOptions() {
  StoreOptions o;
  o.background_work = false;
  return o;
}

TEST(StoreTest, AppendIsVisibleAndSurvivesReopen) {
  io::MemEnv env;
  {
    auto s = Store::Open(&env, "/db", TestOptions());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE(AppendSync(s->get(), MakeBatch(7, 3, 1000)).ok());
    ASSERT_TRUE(AppendSync(s->get(), MakeBatch(9, 2, 500)).ok());
    auto rows = (*s)->GetSnapshot()->ReadCustomers({7});
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(rows->size(), 3u);
    ASSERT_TRUE((*s)->Close().ok());
  }
  env.SimulateCrash();
  auto s = Store::Open(&env, "/db", TestOptions());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto rows = (*s)->GetSnapshot()->ReadCustomers({7, 9});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 5u);
  EXPECT_EQ((*rows)[0].timestamp_ms, 500);  // ordered by time across customers
  EXPECT_EQ((*s)->next_seq(), 5u);
}

// Memtable back-pressure (StoreOptions::memtable_max_bytes): with no flush running, Append is
// refused with Unavailable once the unflushed rows reach the limit — nothing is written then — and
// accepted again after a flush; every batch acknowledged before is still there.
TEST(StoreTest, AppendIsRefusedWhileTheMemtableIsFullUntilAFlush) {
  io::MemEnv env;
  StoreOptions o = TestOptions();  // no background flushes: the memtable only grows
  o.memtable_max_bytes = 64u << 10;
  auto s = Store::Open(&env, "/db", o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  int accepted = 0;
  Status refused;
  for (int i = 0; i < 1000 && refused.ok(); ++i) {
    std::promise<Status> durable;
    refused = (*s)->Append(MakeBatch(1, 20, 1000 + i * 100), [&](Status r) { durable.set_value(r); });
    if (refused.ok()) {
      ASSERT_TRUE(durable.get_future().get().ok());
      ++accepted;
    }
  }
  ASSERT_FALSE(refused.ok()) << "never refused: the memtable grew past memtable_max_bytes";
  EXPECT_EQ(refused.code(), Code::kUnavailable) << refused.ToString();
  EXPECT_NE(refused.message().find("memtable is full"), std::string_view::npos) << refused.ToString();
  // Refused when it reached the limit, not long after (a batch here is ~2 KiB of rows).
  EXPECT_LE((*s)->Stats().memtable_bytes, (64u << 10) + (8u << 10));
  EXPECT_GE((*s)->Stats().memtable_bytes, 64u << 10);
  const uint64_t next = (*s)->next_seq();
  EXPECT_FALSE((*s)->Append(MakeBatch(2, 1, 5), [](Status) {}).ok());
  EXPECT_EQ((*s)->next_seq(), next) << "a refused batch takes no seq";
  ASSERT_TRUE((*s)->Flush().ok());
  ASSERT_TRUE(AppendSync(s->get(), MakeBatch(2, 1, 5)).ok());
  auto rows = (*s)->GetSnapshot()->ReadCustomers({1});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), static_cast<size_t>(accepted) * 20);
}

TEST(StoreTest, FlushToSegmentsThenCompactAndDrop) {
  io::MemEnv env;
  auto s = Store::Open(&env, "/db", TestOptions());
  ASSERT_TRUE(s.ok());
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(AppendSync(s->get(), MakeBatch(1, 10, round * 100000)).ok());
    ASSERT_TRUE(AppendSync(s->get(), MakeBatch(2, 5, round * 100000)).ok());
    ASSERT_TRUE((*s)->Flush().ok());
  }
  EXPECT_EQ((*s)->Stats().segments, 3u);
  EXPECT_EQ((*s)->Stats().memtable_rows, 0u);
  auto snap_before = (*s)->GetSnapshot();
  ASSERT_TRUE((*s)->Compact({2}).ok());
  EXPECT_EQ((*s)->Stats().segments, 1u);
  auto rows1 = (*s)->GetSnapshot()->ReadCustomers({1});
  auto rows2 = (*s)->GetSnapshot()->ReadCustomers({2});
  ASSERT_TRUE(rows1.ok() && rows2.ok());
  EXPECT_EQ(rows1->size(), 30u);
  EXPECT_EQ(rows2->size(), 0u) << "customer 2 was dropped by compaction";
  ASSERT_TRUE((*s)->Close().ok());
  s->reset();
  auto r = Store::Open(&env, "/db", TestOptions());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->GetSnapshot()->ReadCustomers({1})->size(), 30u);
  EXPECT_EQ((*r)->GetSnapshot()->ReadCustomers({2})->size(), 0u);
  EXPECT_EQ((*r)->next_seq(), 45u);
  auto verify = Store::Verify(&env, "/db");
  EXPECT_TRUE(verify.ok()) << verify.status().ToString();
}

// The background compaction merges the newest segments (compaction_policy.h): an old, large
// segment is left as it is, and every row stays readable, in order, across a reopen.
TEST(StoreTest, BackgroundCompactionMergesTheNewestSegmentsAndLeavesTheOldOne) {
  io::MemEnv env;
  StoreOptions o;
  o.max_segments = 3;  // background_work on: its loop runs every second
  auto s = Store::Open(&env, "/db", o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(AppendSync(s->get(), MakeBatch(1, 1000, 0)).ok());
  ASSERT_TRUE((*s)->Flush().ok());
  const SegmentReader* oldest = (*s)->GetSnapshot()->segments().at(0).get();
  for (int round = 1; round <= 4; ++round) {
    ASSERT_TRUE(AppendSync(s->get(), MakeBatch(1, 10, round * 10000000)).ok());
    ASSERT_TRUE(AppendSync(s->get(), MakeBatch(2, 10, round * 10000000)).ok());
    ASSERT_TRUE((*s)->Flush().ok());
  }
  for (int i = 0; i < 100 && (*s)->Stats().segments > 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto snap = (*s)->GetSnapshot();
  // (When merges happen between the flushes depends on the loop's timing; the shape does not.)
  ASSERT_LE(snap->segments().size(), 3u) << "compacted back to the limit";
  ASSERT_GE(snap->segments().size(), 2u);
  EXPECT_EQ(snap->segments()[0].get(), oldest) << "the large old segment was not rewritten";
  uint64_t newer = 0;
  for (size_t i = 1; i < snap->segments().size(); ++i) newer += snap->segments()[i]->stats().rows;
  EXPECT_EQ(newer, 80u);
  auto rows = snap->ReadCustomers({1});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1040u);
  for (size_t i = 1; i < rows->size(); ++i) ASSERT_LT((*rows)[i - 1].timestamp_ms, (*rows)[i].timestamp_ms);
  snap.reset();
  ASSERT_TRUE((*s)->Close().ok());
  s->reset();
  auto r = Store::Open(&env, "/db", TestOptions());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->GetSnapshot()->ReadCustomers({1, 2})->size(), 1080u);
  auto verify = Store::Verify(&env, "/db");
  EXPECT_TRUE(verify.ok()) << verify.status().ToString();
}

// Compaction reads its inputs a page (SegmentReader::kIteratorPageRows) at a time. Its output is
// byte for byte the segment that all the inputs' rows — read a whole block at a time, the dropped
// customers left out, sorted — make when built at the compaction's zstd level: paging changes
// what is held in memory, never what is written. Several blocks per input, pages crossing frames
// and blocks, payloads from 20 bytes to 6 KiB, customers dropped (erasure) on the way.
TEST(StoreTest, PagedCompactionWritesTheSegmentOfAllRowsSorted) {
  io::MemEnv env;
  auto s = Store::Open(&env, "/db", TestOptions());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::mt19937_64 rng(8);
  for (int round = 0; round < 3; ++round) {
    for (int b = 0; b < 9; ++b) {
      Batch batch;
      for (int i = 0; i < 500; ++i) {
        Interaction r;
        r.customer = 1 + rng() % 400;
        r.timestamp_ms = 1'700'000'000'000 + static_cast<int64_t>(rng() % 100'000'000);
        r.received_at_ms = r.timestamp_ms + 5;
        r.event = i % 3 ? "Page Viewed" : "Order Completed";
        r.channel = i % 2 ? "web" : "email";
        r.message_id = "m-" + std::to_string(rng());
        r.revenue = i % 3 ? 0 : static_cast<double>(rng() % 10000) / 100;
        r.payload = R"({"event":"Page Viewed","properties":{"n":)" + std::to_string(rng()) + R"(,"pad":")" +
                    std::string(rng() % 8 == 0 ? 6000 : rng() % 1200, static_cast<char>('a' + rng() % 26)) + "\"}}";
        batch.interactions.push_back(std::move(r));
      }
      ASSERT_TRUE(AppendSync(s->get(), std::move(batch)).ok());
    }
    ASSERT_TRUE((*s)->Flush().ok());
  }
  auto snap = (*s)->GetSnapshot();
  ASSERT_EQ(snap->segments().size(), 3u);
  for (const auto& seg : snap->segments()) ASSERT_GE(seg->block_count(), 2u);
  const std::vector<CustomerId> drop = {3, 150, 151, 399};
  std::vector<Interaction> rows;
  size_t dropped = 0;
  for (const auto& seg : snap->segments()) {
    auto it = seg->NewIterator(segment::kAllColumns, UINT32_MAX);  // whole blocks
    for (; it->Valid(); it->Next()) {
      if (std::binary_search(drop.begin(), drop.end(), it->customer())) ++dropped;
      else rows.push_back(it->row());
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  }
  ASSERT_GT(dropped, 0u);
  ASSERT_EQ(rows.size() + dropped, 3u * 9 * 500);
  std::sort(rows.begin(), rows.end(), SegmentOrder);
  SegmentBuilderOptions bo;
  bo.bytes.zstd_level = TestOptions().compaction_zstd_level;
  auto ref = SegmentBuilder::Create(&env, "/ref", bo);
  ASSERT_TRUE(ref.ok());
  for (const auto& r : rows) ASSERT_TRUE((*ref)->Add(r).ok());
  ASSERT_TRUE((*ref)->Finish().ok());

  ASSERT_TRUE((*s)->Compact(drop).ok());
  auto after = (*s)->GetSnapshot();
  ASSERT_EQ(after->segments().size(), 1u);
  auto want = io::ReadFileToString(&env, "/ref");
  auto got = io::ReadFileToString(&env, after->segments()[0]->path());
  ASSERT_TRUE(want.ok() && got.ok());
  EXPECT_GE(after->segments()[0]->block_count(), 3u);
  EXPECT_EQ(got->size(), want->size());
  EXPECT_TRUE(*got == *want) << "the compacted segment differs from the sorted rows' segment";
}

// An Env whose segment writes block, while armed, on every thread that is not marked exempt:
// here only the compaction thread writes segments unmarked (no background flush runs, the test's
// batches stay under memtable_flush_bytes).
class CompactionGateEnv : public io::MemEnv {
 public:
  static inline thread_local bool exempt = false;
  void Arm() {
    std::lock_guard l(mu_);
    armed_ = true;
  }
  void Release() {
    {
      std::lock_guard l(mu_);
      armed_ = false;
    }
    cv_.notify_all();
  }
  bool WaitBlocked(std::chrono::seconds timeout) {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, timeout, [&] { return blocked_ > 0; });
  }

 protected:
  Status BeforeWrite(const std::string& path, size_t) override {
    if (exempt || path.find("/seg/") == std::string::npos) return Status::Ok();
    std::unique_lock l(mu_);
    if (!armed_) return Status::Ok();
    ++blocked_;
    cv_.notify_all();
    cv_.wait(l, [&] { return !armed_; });
    --blocked_;
    return Status::Ok();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  int blocked_ = 0;
};

// Background compactions run on their own thread and do not hold up flushes (so appends): a
// flush completes while a merge is stuck writing its output, and when the merge lands the
// flushed segment stays after it — every row there once, in order, across a reopen.
TEST(StoreTest, FlushGoesOnWhileABackgroundCompactionMerges) {
  CompactionGateEnv env;
  CompactionGateEnv::exempt = true;
  StoreOptions o;
  o.max_segments = 3;  // background_work on
  auto s = Store::Open(&env, "/db", o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(AppendSync(s->get(), MakeBatch(1, 10, round * 1000000)).ok());
    ASSERT_TRUE((*s)->Flush().ok());
  }
  env.Arm();
  ASSERT_TRUE(AppendSync(s->get(), MakeBatch(1, 10, 3 * 1000000)).ok());
  ASSERT_TRUE((*s)->Flush().ok());  // 4 segments > max_segments: the compaction thread starts
  ASSERT_TRUE(env.WaitBlocked(std::chrono::seconds(30))) << "no background compaction started";
  ASSERT_TRUE(AppendSync(s->get(), MakeBatch(1, 10, 4 * 1000000)).ok());
  auto flushed = std::async(std::launch::async, [&] {
    CompactionGateEnv::exempt = true;
    return (*s)->Flush();
  });
  ASSERT_EQ(flushed.wait_for(std::chrono::seconds(20)), std::future_status::ready)
      << "the flush waited for the compaction";
  ASSERT_TRUE(flushed.get().ok());
  EXPECT_EQ((*s)->Stats().segments, 5u) << "the merge has not landed yet";
  env.Release();
  for (int i = 0; i < 200 && (*s)->Stats().segments > 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_LE((*s)->Stats().segments, 3u);
  auto check = [&env](Store* st) {
    auto m = Manifest::Load(&env, "/db/MANIFEST");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    for (size_t i = 1; i < m->segments.size(); ++i) {
      EXPECT_GT(m->segments[i].file_number, m->segments[i - 1].file_number) << i;
      EXPECT_GT(m->segments[i].min_seq, m->segments[i - 1].max_seq) << i;
    }
    EXPECT_GT(m->next_file, m->segments.back().file_number);
    auto snap = st->GetSnapshot();
    auto rows = snap->ReadCustomers({1});
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), 50u);
    for (size_t i = 1; i < rows->size(); ++i) ASSERT_LT((*rows)[i - 1].timestamp_ms, (*rows)[i].timestamp_ms);
  };
  check(s->get());
  ASSERT_TRUE((*s)->Close().ok());
  s->reset();
  auto r = Store::Open(&env, "/db", TestOptions());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  check(r->get());
  auto verify = Store::Verify(&env, "/db");
  EXPECT_TRUE(verify.ok()) << verify.status().ToString();
}

// WaitForRoom (for `cairn import`): blocks while the memtable is full, returns once a flush made
// room, and gives up at its timeout.
TEST(StoreTest, WaitForRoomReturnsWhenAFlushMadeRoom) {
  io::MemEnv env;
  StoreOptions o = TestOptions();
  o.memtable_max_bytes = 64u << 10;
  auto s = Store::Open(&env, "/db", o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE((*s)->WaitForRoom(std::chrono::milliseconds(0)));
  for (int i = 0; i < 1000; ++i) {
    Status st = AppendSync(s->get(), MakeBatch(1, 20, 1000 + i * 100));
    if (!st.ok()) break;
  }
  EXPECT_FALSE((*s)->WaitForRoom(std::chrono::milliseconds(50))) << "full, and nothing flushes";
  auto waited = std::async(std::launch::async, [&] { return (*s)->WaitForRoom(std::chrono::seconds(30)); });
  EXPECT_EQ(waited.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  ASSERT_TRUE((*s)->Flush().ok());
  ASSERT_EQ(waited.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(waited.get());
  EXPECT_TRUE(AppendSync(s->get(), MakeBatch(2, 1, 5)).ok());
}

TEST(StoreTest, SnapshotKeepsReadingSegmentsACompactionReplaced) {
  io::MemEnv env;
  auto s = Store::Open(&env, "/db", TestOptions());
  ASSERT_TRUE(s.ok());
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(AppendSync(s->get(), MakeBatch(1, 10, round * 100000)).ok());
    ASSERT_TRUE((*s)->Flush().ok());
  }
  auto snap = (*s)->GetSnapshot();
  auto before = env.GetChildren("/db/seg");
  ASSERT_TRUE((*s)->Compact().ok());
  // The replaced files are zeroed (erasure) only when no snapshot reads them any more.
  auto rows = snap->ReadCustomers({1});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->size(), 30u);
  EXPECT_EQ(env.GetChildren("/db/seg")->size(), 4u) << "3 retired + 1 compacted";
  snap.reset();
  ASSERT_TRUE((*s)->Compact().ok());  // nothing to merge, but it reaps
  EXPECT_EQ(env.GetChildren("/db/seg")->size(), 4u) << "Compact with one segment returns early";
  ASSERT_TRUE((*s)->Close().ok());
  EXPECT_EQ(env.GetChildren("/db/seg")->size(), 1u) << "retired files removed once released";
}

TEST(StoreTest, SnapshotDoesNotSeeLaterAppends) {
  io::MemEnv env;
  auto s = Store::Open(&env, "/db", TestOptions());
  ASSERT_TRUE(AppendSync(s->get(), MakeBatch(1, 2, 0)).ok());
  auto snap = (*s)->GetSnapshot();
  ASSERT_TRUE(AppendSync(s->get(), MakeBatch(1, 2, 5000)).ok());
  EXPECT_EQ(snap->ReadCustomers({1})->size(), 2u);
  EXPECT_EQ((*s)->GetSnapshot()->ReadCustomers({1})->size(), 4u);
  size_t n = 0;
  ASSERT_TRUE(snap->ForEach([&](const Interaction&) { return ++n, true; }).ok());
  EXPECT_EQ(n, 2u);
}

TEST(StoreTest, CrashKeepsEveryAcknowledgedBatch) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    io::MemEnv env;
    size_t acked = 0;
    {
      auto s = Store::Open(&env, "/db", TestOptions());
      ASSERT_TRUE(s.ok());
      for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE(AppendSync(s->get(), MakeBatch(i % 4 + 1, 3, i * 10000)).ok());
        acked += 3;
        if (i == 10) ASSERT_TRUE((*s)->Flush().ok());
      }
      env.SimulateCrash(/*torn=*/true, seed);
      // The store object is abandoned as a crashed process would be; Close without syncing more.
      (void)(*s)->Close();
    }
    auto s = Store::Open(&env, "/db", TestOptions());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->GetSnapshot()->ReadCustomers({1, 2, 3, 4})->size(), acked) << "seed " << seed;
  }
}

}  // namespace
}  // namespace cairn::store
