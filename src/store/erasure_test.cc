// Store-level erasure (docs/erasure.md): HideCustomers filters every new snapshot at once;
// Erase removes a customer's rows from the memtable, every segment and every WAL file (byte
// level, through the in-memory Env), respecting derived state's WAL retention; the compaction
// filter ("drop this interaction?") drops rows in forced and background compactions.

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "io/mem_env.h"
#include "store/store.h"

namespace cairn::store {
namespace {

Batch MakeBatch(CustomerId customer, int n, int64_t ts0, const std::string& marker) {
  Batch b;
  for (int i = 0; i < n; ++i) {
    Interaction r;
    r.customer = customer;
    r.timestamp_ms = ts0 + i * 1000;
    r.received_at_ms = ts0 + i * 1000;
    r.event = "Page Viewed";
    r.message_id = "m-" + std::to_string(customer) + "-" + std::to_string(ts0 + i);
    r.payload = R"({"type":"track","properties":{"note":")" + marker + R"("}})";
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
  // Flushes store both byte columns raw, so a segment file written by a flush holds each payload's
  // bytes as they are and a test can look for them, as it does in the WAL.
  o.flush_codec = column::FrameCodec::kRaw;
  return o;
}

size_t CountAll(const Snapshot& snap) {
  size_t n = 0;
  EXPECT_TRUE(snap.ForEach([&](const Interaction&) { return ++n, true; }).ok());
  return n;
}

// Files of `dir` whose raw bytes hold `needle`.
std::vector<std::string> FilesWith(io::Env* env, const std::string& dir, const std::string& needle) {
  std::vector<std::string> out;
  auto names = env->GetChildren(dir);
  EXPECT_TRUE(names.ok());
  for (const auto& n : *names) {
    auto data = io::ReadFileToString(env, dir + "/" + n);
    if (data.ok() && data->find(needle) != std::string::npos) out.push_back(n);
  }
  return out;
}
// WAL payloads are not compressed; TestOptions' flushes write raw frames.
std::vector<std::string> WalFilesWith(io::Env* env, const std::string& needle) { return FilesWith(env, "/db/wal", needle); }
std::vector<std::string> SegmentFilesWith(io::Env* env, const std::string& needle) {
  return FilesWith(env, "/db/seg", needle);
}

TEST(StoreErasureTest, HideFiltersNewSnapshotsOnly) {
  io::MemEnv env;
  auto s = Store::Open(&env, "/db", TestOptions());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(AppendSync(s->get(), MakeBatch(7, 3, 1000, "A")).ok());
  ASSERT_TRUE((*s)->Flush().ok());
  ASSERT_TRUE(AppendSync(s->get(), MakeBatch(7, 2, 9000, "A")).ok());
  ASSERT_TRUE(AppendSync(s->get(), MakeBatch(9, 2, 500, "B")).ok());
  auto old_snap = (*s)->GetSnapshot();
  (*s)->HideCustomers({7});
  auto snap = (*s)->GetSnapshot();
  EXPECT_TRUE(snap->ReadCustomers({7})->empty());
  EXPECT_EQ(snap->ReadCustomers({7, 9})->size(), 2u);
  EXPECT_EQ(CountAll(*snap), 2u);  // segment rows and memtable rows both filtered
  for (const auto& r : snap->MemTableRows()) EXPECT_NE(r.customer, 7u);
  EXPECT_EQ(old_snap->ReadCustomers({7})->size(), 5u);  // a snapshot is a snapshot
}

TEST(StoreErasureTest, EraseRemovesRowsFromSegmentsAndWal) {
  io::MemEnv env;
  std::atomic<uint64_t> retain{0};
  StoreListener listener;
  listener.retain_from_seq = [&] { return retain.load(); };
  uint64_t rows = 0;
  {
    auto s = Store::Open(&env, "/db", TestOptions(), listener);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE(AppendSync(s->get(), MakeBatch(7, 3, 1000, "MARK-seven")).ok());
    ASSERT_TRUE(AppendSync(s->get(), MakeBatch(9, 4, 2000, "MARK-nine")).ok());
    ASSERT_TRUE((*s)->Flush().ok());  // a segment (WAL kept: retain is 0)
    ASSERT_TRUE(AppendSync(s->get(), MakeBatch(7, 2, 5000, "MARK-seven")).ok());  // memtable + WAL
    EXPECT_FALSE(WalFilesWith(&env, "MARK-seven").empty());
    EXPECT_FALSE(SegmentFilesWith(&env, "MARK-seven").empty());

    // Derived state has not persisted the batches yet: the WAL must stay, and Erase says so.
    Status st = (*s)->Erase({7}, &rows);
    EXPECT_EQ(st.code(), Code::kFailedPrecondition) << st.ToString();
    retain = UINT64_MAX;  // the rows were dropped by the first call already: counts add up
    ASSERT_TRUE((*s)->Erase({7}, &rows).ok());
    EXPECT_EQ(rows, 5u);
    EXPECT_EQ(WalFilesWith(&env, "MARK-seven"), std::vector<std::string>{});
    EXPECT_EQ(SegmentFilesWith(&env, "MARK-seven"), std::vector<std::string>{});
    // The rewrite is zstd (compaction's), which keeps these short payloads' text as literals:
    // the other customer's marker is still there to find, so the line above can fail.
    EXPECT_FALSE(SegmentFilesWith(&env, "MARK-nine").empty());
    auto snap = (*s)->GetSnapshot();
    EXPECT_TRUE(snap->ReadCustomers({7})->empty());
    EXPECT_EQ(snap->ReadCustomers({9})->size(), 4u);
    EXPECT_EQ((*s)->Stats().segments, 1u);
    ASSERT_TRUE((*s)->Close().ok());
  }
  // After a restart (nothing hidden any more) the rows are physically gone; others intact.
  auto s = Store::Open(&env, "/db", TestOptions(), listener);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto snap = (*s)->GetSnapshot();
  EXPECT_TRUE(snap->ReadCustomers({7})->empty());
  EXPECT_EQ(CountAll(*snap), 4u);
  // Idempotent.
  ASSERT_TRUE((*s)->Erase({7}, &rows).ok());
  EXPECT_TRUE(Store::Verify(&env, "/db").ok());
}

TEST(StoreErasureTest, CompactionFilterDropsRows) {
  io::MemEnv env;
  StoreOptions o = TestOptions();
  o.compaction_filter = [](const Interaction& r) { return r.timestamp_ms < 3000; };  // e.g. retention
  auto s = Store::Open(&env, "/db", o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(AppendSync(s->get(), MakeBatch(7, 5, 1000, "x")).ok());  // ts 1000..5000
  ASSERT_TRUE((*s)->Flush().ok());
  EXPECT_EQ(CountAll(*(*s)->GetSnapshot()), 5u);
  ASSERT_TRUE((*s)->Compact().ok());  // one segment, not forced: left alone
  EXPECT_EQ(CountAll(*(*s)->GetSnapshot()), 5u);
  ASSERT_TRUE((*s)->Compact({}, /*force=*/true).ok());
  auto rows = (*s)->GetSnapshot()->ReadCustomers({7});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ(rows->front().timestamp_ms, 3000);
}

}  // namespace
}  // namespace cairn::store
