// Tests of WalCommitter: group commit, rolling, failure semantics, crashes (through MemEnv and
// FaultInjectionEnv), and one run on the real file system.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/coding.h"
#include "base/metrics.h"
#include "io/fault_injection_env.h"
#include "io/mem_env.h"
#include "store/wal_committer.h"
#include "store/wal_format.h"
#include "store/wal_recovery.h"
#include "store/wal_writer.h"
#include "testutil/temp_dir.h"

namespace cairn::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kDir = "/db/wal";

// An Env over a MemEnv with knobs the committer tests need beyond FaultInjectionEnv: syncs that
// fail a given number of times, block, or take time; a write that lands partially and fails; and
// a power cut at an arbitrary moment (after Crash() every operation fails, so nothing done after
// the cut can reach the "disk" or be acknowledged).
class TestEnv final : public io::Env {
 public:
  explicit TestEnv(io::MemEnv* base) : base_(base) {}

  void FailNextSyncs(int n) { fail_syncs_.store(n); }
  void FailNextWritePartially() { fail_write_partial_.store(true); }
  void FailNextTruncate() { fail_truncate_.store(true); }
  void SetSyncDelay(std::chrono::microseconds d) { sync_delay_us_.store(d.count()); }
  void BlockSyncs(bool block) {
    {
      std::lock_guard lock(gate_mu_);
      blocked_ = block;
    }
    gate_cv_.notify_all();
  }
  int blocked_syncs() {
    std::lock_guard lock(gate_mu_);
    return waiting_;
  }
  uint64_t syncs() const { return syncs_.load(); }
  void Crash(bool torn, uint64_t seed) {
    std::unique_lock lock(crash_mu_);
    dead_ = true;
    base_->SimulateCrash(torn, seed);
  }

  class File final : public io::WritableFile {
   public:
    File(TestEnv* env, std::unique_ptr<io::WritableFile> f) : env_(env), f_(std::move(f)) {}
    Status Append(std::string_view data) override {
      std::shared_lock lock(env_->crash_mu_);
      if (env_->dead_) return IOError("power is off");
      if (env_->fail_write_partial_.exchange(false)) {
        (void)f_->Append(data.substr(0, data.size() / 2));
        return IOError("write: Input/output error (injected, half written)");
      }
      return f_->Append(data);
    }
    Status WriteAt(uint64_t offset, std::string_view data) override {
      std::shared_lock lock(env_->crash_mu_);
      if (env_->dead_) return IOError("power is off");
      return f_->WriteAt(offset, data);
    }
    Status Flush() override { return f_->Flush(); }
    Status Sync() override {
      if (auto us = env_->sync_delay_us_.load()) std::this_thread::sleep_for(std::chrono::microseconds(us));
      {
        std::unique_lock lock(env_->gate_mu_);
        ++env_->waiting_;
        env_->gate_cv_.wait(lock, [&] { return !env_->blocked_; });
        --env_->waiting_;
      }
      std::shared_lock lock(env_->crash_mu_);
      if (env_->dead_) return IOError("power is off");
      if (env_->fail_syncs_.load() > 0 && env_->fail_syncs_.fetch_sub(1) > 0)
        return IOError("fdatasync: Input/output error (injected)");
      Status s = f_->Sync();
      if (s.ok()) env_->syncs_.fetch_add(1);
      return s;
    }
    Status Close() override { return f_->Close(); }
    Status Preallocate(uint64_t bytes) override { return f_->Preallocate(bytes); }
    uint64_t Size() const override { return f_->Size(); }

   private:
    TestEnv* env_;
    std::unique_ptr<io::WritableFile> f_;
  };

  Result<std::unique_ptr<io::WritableFile>> NewWritableFile(const std::string& path) override {
    return Wrap(path, /*append=*/false);
  }
  Result<std::unique_ptr<io::WritableFile>> NewAppendableFile(const std::string& path) override {
    return Wrap(path, /*append=*/true);
  }
  Result<std::unique_ptr<io::SequentialFile>> NewSequentialFile(const std::string& path) override {
    return base_->NewSequentialFile(path);
  }
  Result<std::unique_ptr<io::RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    return base_->NewRandomAccessFile(path);
  }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override { return base_->GetChildren(dir); }
  Result<uint64_t> GetFileSize(const std::string& path) override { return base_->GetFileSize(path); }
  Status CreateDirIfMissing(const std::string& dir) override {
    return Mutate([&] { return base_->CreateDirIfMissing(dir); });
  }
  Status RemoveFile(const std::string& path) override {
    return Mutate([&] { return base_->RemoveFile(path); });
  }
  Status SecureRemoveFile(const std::string& path) override {
    return Mutate([&] { return base_->SecureRemoveFile(path); });
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return Mutate([&] { return base_->RenameFile(from, to); });
  }
  Status TruncateFile(const std::string& path, uint64_t size) override {
    if (fail_truncate_.exchange(false)) return IOError(path + ": ftruncate: Input/output error (injected)");
    return Mutate([&] { return base_->TruncateFile(path, size); });
  }
  Status SyncDir(const std::string& dir) override {
    return Mutate([&] { return base_->SyncDir(dir); });
  }
  Result<std::unique_ptr<io::FileLock>> LockFile(const std::string& path) override { return base_->LockFile(path); }

 private:
  template <typename Fn>
  Status Mutate(Fn fn) {
    std::shared_lock lock(crash_mu_);
    if (dead_) return IOError("power is off");
    return fn();
  }
  Result<std::unique_ptr<io::WritableFile>> Wrap(const std::string& path, bool append) {
    std::shared_lock lock(crash_mu_);
    if (dead_) return IOError("power is off");
    auto f = append ? base_->NewAppendableFile(path) : base_->NewWritableFile(path);
    if (!f.ok()) return f.status();
    return std::unique_ptr<io::WritableFile>(new File(this, std::move(*f)));
  }

  io::MemEnv* base_;
  std::shared_mutex crash_mu_;
  bool dead_ = false;  // guarded by crash_mu_
  std::atomic<int> fail_syncs_{0};
  std::atomic<bool> fail_write_partial_{false};
  std::atomic<bool> fail_truncate_{false};
  std::atomic<int64_t> sync_delay_us_{0};
  std::atomic<uint64_t> syncs_{0};
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool blocked_ = false;  // guarded by gate_mu_
  int waiting_ = 0;       // guarded by gate_mu_
};

WalCommitterOptions SmallOptions() {
  WalCommitterOptions o;
  o.preallocate_bytes = 0;
  return o;
}

std::vector<std::string> RecoverPayloads(io::Env* env, const std::string& dir, WalRecoveryReport* report = nullptr) {
  std::vector<std::string> out;
  auto rep = RecoverWal(env, dir, [&](std::string_view p, uint64_t) {
    out.emplace_back(p);
    return Status::Ok();
  });
  EXPECT_TRUE(rep.ok()) << rep.status().ToString();
  if (report && rep.ok()) *report = *rep;
  return out;
}

std::unique_ptr<WalCommitter> OpenCommitter(io::Env* env, WalCommitterOptions opts = SmallOptions(),
                                            const std::string& dir = kDir) {
  auto rep = RecoverWal(env, dir, nullptr);
  EXPECT_TRUE(rep.ok()) << rep.status().ToString();
  if (!rep.ok()) return nullptr;
  auto c = WalCommitter::Open(env, dir, opts, *rep);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

// Submits and waits for `done`; returns its status (or Submit's error).
Status SubmitAndWait(WalCommitter* c, std::string payload) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Status> result;
  Status s = c->Submit(std::move(payload), [&](Status st) {
    std::lock_guard lock(mu);
    result = st;
    cv.notify_all();
  });
  if (!s.ok()) return s;
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return result.has_value(); });
  return *result;
}

TEST(WalCommitterTest, CompletesInSubmitOrderAndRecovers) {
  io::MemEnv env;
  auto c = OpenCommitter(&env);
  ASSERT_NE(c, nullptr);
  std::vector<int> completed;
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    expected.push_back("record " + std::to_string(i));
    ASSERT_TRUE(c->Submit(expected.back(), [&completed, i](Status s) {
                   EXPECT_TRUE(s.ok()) << s.ToString();
                   completed.push_back(i);  // callbacks run on the one committer thread
                 }).ok());
  }
  ASSERT_TRUE(c->Close().ok());
  ASSERT_EQ(completed.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(completed[i], i);
  EXPECT_EQ(c->stats().records, 200u);
  EXPECT_EQ(RecoverPayloads(&env, kDir), expected);
}

TEST(WalCommitterTest, SubmitAfterCloseIsUnavailable) {
  io::MemEnv env;
  auto c = OpenCommitter(&env);
  ASSERT_TRUE(c->Close().ok());
  bool called = false;
  EXPECT_TRUE(c->Submit("x", [&](Status) { called = true; }).Is(Code::kUnavailable));
  EXPECT_TRUE(c->RollFile().status().Is(Code::kUnavailable));
  EXPECT_FALSE(called);
}

TEST(WalCommitterTest, OpenRefusesToOverwriteAFile) {
  io::MemEnv env;
  auto c = OpenCommitter(&env);
  ASSERT_TRUE(SubmitAndWait(c.get(), "acked").ok());
  ASSERT_TRUE(c->Close().ok());
  WalRecoveryReport stale;  // as if recovery had not run: would start at file 1 again
  auto again = WalCommitter::Open(&env, kDir, SmallOptions(), stale);
  EXPECT_TRUE(again.status().Is(Code::kFailedPrecondition)) << again.status().ToString();
  WalRecoveryReport wrong_size;  // right number, wrong predecessor size
  wrong_size.next_file_number = 2;
  wrong_size.last_file_size = 5;
  again = WalCommitter::Open(&env, kDir, SmallOptions(), wrong_size);
  EXPECT_TRUE(again.status().Is(Code::kFailedPrecondition)) << again.status().ToString();
  EXPECT_FALSE(env.FileExists(io::JoinPath(kDir, wal::FileName(2))));
  EXPECT_THAT(RecoverPayloads(&env, kDir), ElementsAre("acked"));
}

TEST(WalCommitterTest, RollsBySizeAndContinuesAfterReopen) {
  io::MemEnv env;
  WalCommitterOptions opts = SmallOptions();
  opts.max_file_bytes = 1000;
  std::vector<std::string> expected;
  for (int round = 0; round < 3; ++round) {
    auto c = OpenCommitter(&env, opts);
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < 50; ++i) {
      expected.push_back(std::string(100, static_cast<char>('a' + round)) + std::to_string(i));
      ASSERT_TRUE(SubmitAndWait(c.get(), expected.back()).ok());
    }
    EXPECT_GT(c->current_file_number(), 3u);
    // The last sync covered the current file, or the one before if a roll followed it.
    EXPECT_LE(c->LastSyncedFile(), c->current_file_number());
    EXPECT_GE(c->LastSyncedFile() + 1, c->current_file_number());
    ASSERT_TRUE(c->Close().ok());
  }
  WalRecoveryReport report;
  EXPECT_EQ(RecoverPayloads(&env, kDir, &report), expected);
  EXPECT_GT(report.files, 10u);
  for (const auto& f : report.file_reports) EXPECT_LT(f.file_size, 1000u + 200u) << f.path;
}

TEST(WalCommitterTest, RollFileSealsEarlierRecordsAndDeleteFilesBeforeRemovesThem) {
  io::MemEnv env;
  auto c = OpenCommitter(&env);
  ASSERT_TRUE(c->Submit("old 1", nullptr).ok());
  ASSERT_TRUE(c->Submit("old 2", nullptr).ok());
  auto n = c->RollFile();  // without waiting for the submits: ordering is by the queue
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(c->current_file_number(), 2u);
  ASSERT_TRUE(SubmitAndWait(c.get(), "new 1").ok());

  EXPECT_TRUE(c->DeleteFilesBefore(3).Is(Code::kInvalidArgument));
  ASSERT_TRUE(c->DeleteFilesBefore(*n).ok());
  EXPECT_FALSE(env.FileExists(io::JoinPath(kDir, wal::FileName(1))));
  ASSERT_TRUE(SubmitAndWait(c.get(), "new 2").ok());
  ASSERT_TRUE(c->Close().ok());
  EXPECT_THAT(RecoverPayloads(&env, kDir), ElementsAre("new 1", "new 2"));
}

TEST(WalCommitterTest, GroupCommitSharesSyncs) {
  io::MemEnv mem;
  TestEnv env(&mem);
  env.SetSyncDelay(std::chrono::microseconds(1000));  // a sync takes about as long as a real one
  metrics::Registry registry;
  WalCommitterOptions opts = SmallOptions();
  opts.metrics = &registry;
  auto c = OpenCommitter(&env, opts);
  ASSERT_NE(c, nullptr);
  const uint64_t syncs_before = env.syncs();
  constexpr int kThreads = 8, kPerThread = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i)
        EXPECT_TRUE(SubmitAndWait(c.get(), "t" + std::to_string(t) + " r" + std::to_string(i)).ok());
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(c->Close().ok());
  constexpr uint64_t kRecords = kThreads * kPerThread;
  const uint64_t syncs = env.syncs() - syncs_before;
  EXPECT_LT(syncs * 2, kRecords) << syncs << " syncs for " << kRecords << " records";
  EXPECT_EQ(c->stats().syncs, syncs);
  EXPECT_EQ(registry.GetCounter("cairn_wal_records_total", "")->Value(), kRecords);
  EXPECT_EQ(registry.GetCounter("cairn_wal_syncs_total", "")->Value(), syncs);
  auto* group = registry.GetHistogram("cairn_wal_group_records", "", {});
  EXPECT_EQ(group->Count(), syncs);
  EXPECT_EQ(group->Sum(), static_cast<double>(kRecords));
  EXPECT_EQ(registry.GetHistogram("cairn_wal_sync_seconds", "", {})->Count(), syncs);
  EXPECT_EQ(RecoverPayloads(&mem, kDir).size(), kRecords);
}

TEST(WalCommitterTest, BackPressureRejectsWithoutCallingDone) {
  io::MemEnv mem;
  TestEnv env(&mem);
  WalCommitterOptions opts = SmallOptions();
  opts.max_pending_bytes = 1000;
  auto c = OpenCommitter(&env, opts);
  ASSERT_NE(c, nullptr);
  env.BlockSyncs(true);
  std::atomic<int> ok{0};
  auto count = [&](Status s) {
    EXPECT_TRUE(s.ok());
    ok.fetch_add(1);
  };
  ASSERT_TRUE(c->Submit(std::string(600, 'a'), count).ok());
  while (env.blocked_syncs() == 0) std::this_thread::yield();  // the committer is inside the sync
  bool rejected_called = false;
  Status s = c->Submit(std::string(600, 'b'), [&](Status) { rejected_called = true; });
  EXPECT_TRUE(s.Is(Code::kUnavailable)) << s.ToString();
  EXPECT_THAT(std::string(s.message()), HasSubstr("WAL is behind"));
  ASSERT_TRUE(c->Submit(std::string(400, 'c'), count).ok());  // still fits: 600 + 400
  env.BlockSyncs(false);
  while (ok.load() < 2) std::this_thread::yield();  // nothing pending any more
  ASSERT_TRUE(SubmitAndWait(c.get(), std::string(900, 'd')).ok());
  ASSERT_TRUE(c->Close().ok());
  EXPECT_EQ(ok.load(), 2);
  EXPECT_FALSE(rejected_called);
  auto got = RecoverPayloads(&mem, kDir);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0][0], 'a');
  EXPECT_EQ(got[1][0], 'c');
  EXPECT_EQ(got[2][0], 'd');
}

TEST(WalCommitterTest, DiskFullFailsTheGroupAndRecovers) {
  io::FaultInjectionEnv env;
  auto c = OpenCommitter(&env);
  ASSERT_NE(c, nullptr);
  std::vector<std::string> acked;
  int failed = 0;
  for (int i = 0; i < 60; ++i) {
    if (i == 20) env.SetWriteBudget(1500);  // room for a dozen more records, then disk full
    if (i == 45) env.SetWriteBudget(-1);    // space freed
    std::string p = "record " + std::to_string(i) + std::string(90, '.');
    Status s = SubmitAndWait(c.get(), p);
    if (s.ok()) {
      acked.push_back(p);
    } else {
      EXPECT_TRUE(s.Is(Code::kResourceExhausted)) << s.ToString();
      ++failed;
    }
  }
  EXPECT_GT(failed, 10);
  EXPECT_GT(acked.size(), 45u);
  EXPECT_FALSE(c->stats().failed);
  EXPECT_EQ(c->stats().failed_records, static_cast<uint64_t>(failed));
  ASSERT_TRUE(c->Close().ok());
  WalRecoveryReport report;
  EXPECT_EQ(RecoverPayloads(&env, kDir, &report), acked);
  EXPECT_EQ(report.bytes_truncated, 0u);  // failed appends were cut back at once
}

TEST(WalCommitterTest, HalfWrittenRecordIsCutBack) {
  io::MemEnv mem;
  TestEnv env(&mem);
  auto c = OpenCommitter(&env);
  ASSERT_TRUE(SubmitAndWait(c.get(), "one").ok());
  env.FailNextWritePartially();
  EXPECT_TRUE(SubmitAndWait(c.get(), std::string(1000, 'x')).Is(Code::kIOError));
  ASSERT_TRUE(SubmitAndWait(c.get(), "two").ok());
  EXPECT_EQ(c->current_file_number(), 1u);  // cut back in place, no roll
  ASSERT_TRUE(c->Close().ok());
  auto v = VerifyWal(&mem, kDir);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->bytes_truncated, 0u);
  EXPECT_THAT(RecoverPayloads(&mem, kDir), ElementsAre("one", "two"));
}

TEST(WalCommitterTest, HalfWrittenRecordThatCannotBeCutBackIsAbandoned) {
  io::MemEnv mem;
  TestEnv env(&mem);
  auto c = OpenCommitter(&env);
  ASSERT_TRUE(SubmitAndWait(c.get(), "one").ok());
  env.FailNextWritePartially();
  env.FailNextTruncate();
  EXPECT_TRUE(SubmitAndWait(c.get(), std::string(1000, 'x')).Is(Code::kIOError));
  EXPECT_EQ(c->current_file_number(), 2u);  // rolled: file 2 records where file 1's good part ends
  ASSERT_TRUE(SubmitAndWait(c.get(), "two").ok());
  ASSERT_TRUE(c->Close().ok());
  WalRecoveryReport report;
  EXPECT_THAT(RecoverPayloads(&mem, kDir, &report), ElementsAre("one", "two"));
  EXPECT_EQ(report.file_reports[0].end, WalFileEnd::kAbandonedTail);
  EXPECT_GT(report.bytes_truncated, 0u);
}

TEST(WalCommitterTest, FailedSyncAbandonsTheFile) {
  io::MemEnv mem;
  TestEnv env(&mem);
  auto c = OpenCommitter(&env);
  ASSERT_TRUE(SubmitAndWait(c.get(), "one").ok());
  env.FailNextSyncs(1);
  Status s = SubmitAndWait(c.get(), "not acked");
  EXPECT_TRUE(s.Is(Code::kIOError)) << s.ToString();
  EXPECT_EQ(c->current_file_number(), 2u);  // never appends to the untrusted file again
  ASSERT_TRUE(SubmitAndWait(c.get(), "two").ok());
  ASSERT_TRUE(c->Close().ok());
  // The record whose sync failed is still in file 1 (MemEnv keeps it), past the size file 2
  // declares: an abandoned tail, cut by recovery, not replayed.
  WalRecoveryReport report;
  EXPECT_THAT(RecoverPayloads(&mem, kDir, &report), ElementsAre("one", "two"));
  EXPECT_EQ(report.file_reports[0].end, WalFileEnd::kAbandonedTail);
  EXPECT_EQ(report.bytes_truncated, wal::kRecordHeaderSize + 9);
}

TEST(WalCommitterTest, FailedSyncThenFailedRollStallsUntilANewFileStarts) {
  io::FaultInjectionEnv env;
  WalCommitterOptions opts = SmallOptions();
  opts.roll_retry_ms = 50;
  auto c = OpenCommitter(&env, opts);
  ASSERT_TRUE(SubmitAndWait(c.get(), "one").ok());
  env.SetSyncFails(true);
  EXPECT_TRUE(SubmitAndWait(c.get(), "not acked").Is(Code::kIOError));
  // Stalled: Submit still queues (no restart needed), but the group fails with the roll's error
  // without touching the untrusted file.
  Status s = SubmitAndWait(c.get(), "refused");
  EXPECT_TRUE(s.Is(Code::kIOError)) << s.ToString();
  EXPECT_TRUE(c->stats().stalled);
  EXPECT_FALSE(c->stats().failed);
  EXPECT_EQ(c->current_file_number(), 1u);
  // The storage heals: after the retry interval the next group starts file 2 and is acknowledged.
  env.SetSyncFails(false);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  ASSERT_TRUE(SubmitAndWait(c.get(), "two").ok());
  EXPECT_FALSE(c->stats().stalled);
  EXPECT_EQ(c->current_file_number(), 2u);
  ASSERT_TRUE(c->Close().ok());
  // Everything acknowledged is there; what followed "one" in file 1 is an abandoned tail (file 2
  // declares where file 1 ends), so neither refused record is replayed.
  WalRecoveryReport report;
  EXPECT_THAT(RecoverPayloads(&env, kDir, &report), ElementsAre("one", "two"));
}

TEST(WalCommitterTest, RollFileEndsAStall) {
  io::FaultInjectionEnv env;
  WalCommitterOptions opts = SmallOptions();
  opts.roll_retry_ms = 3600 * 1000;  // only RollFile may end this stall
  auto c = OpenCommitter(&env, opts);
  ASSERT_TRUE(SubmitAndWait(c.get(), "one").ok());
  env.SetSyncFails(true);
  EXPECT_TRUE(SubmitAndWait(c.get(), "not acked").Is(Code::kIOError));
  EXPECT_TRUE(c->RollFile().status().Is(Code::kIOError));
  EXPECT_TRUE(c->stats().stalled);
  env.SetSyncFails(false);
  auto n = c->RollFile();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2u);
  ASSERT_TRUE(SubmitAndWait(c.get(), "two").ok());
  ASSERT_TRUE(c->Close().ok());
  EXPECT_THAT(RecoverPayloads(&env, kDir), ElementsAre("one", "two"));
}

std::string CrashPayload(uint64_t seq) {
  std::string p;
  PutFixed64(&p, seq);
  p.append(seq % 257, static_cast<char>('a' + seq % 26));
  return p;
}

// Power cuts at random moments while many threads submit: after recovery every acknowledged
// record is present exactly once, in order, and nothing else but submitted records appears.
TEST(WalCommitterTest, CrashAtRandomMomentsLosesNothingAcknowledged) {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    io::MemEnv mem;
    std::mt19937_64 rng(seed);
    // Some history first, so recovery also crosses files written by an earlier run.
    {
      auto c = OpenCommitter(&mem);
      ASSERT_TRUE(SubmitAndWait(c.get(), CrashPayload(0)).ok());
      ASSERT_TRUE(c->Close().ok());
    }
    TestEnv env(&mem);
    WalCommitterOptions opts = SmallOptions();
    opts.max_file_bytes = 2000 + rng() % 4000;
    auto c = OpenCommitter(&env, opts);
    ASSERT_NE(c, nullptr);

    std::mutex order_mu;
    uint64_t next_seq = 1;  // guarded by order_mu
    std::mutex ack_mu;
    std::vector<uint64_t> acked = {0};  // guarded by ack_mu
    std::atomic<int> acks{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        while (!stop.load()) {
          std::lock_guard lock(order_mu);  // seq assigned and submitted under one lock
          uint64_t seq = next_seq;
          Status s = c->Submit(CrashPayload(seq), [&, seq](Status st) {
            if (!st.ok()) return;
            std::lock_guard l(ack_mu);
            acked.push_back(seq);
            acks.fetch_add(1);
          });
          if (s.ok()) ++next_seq;
        }
      });
    }
    const int threshold = static_cast<int>(rng() % 400);
    while (acks.load() < threshold) std::this_thread::yield();
    env.Crash(/*torn=*/seed % 4 != 0, seed);
    stop.store(true);
    for (auto& t : threads) t.join();
    (void)c->Close();  // fails: the power is off
    c.reset();

    std::vector<uint64_t> recovered;
    WalRecoveryReport report;
    auto rep = RecoverWal(&mem, kDir, [&](std::string_view p, uint64_t) {
      if (p.size() < 8) return Corruption("short test payload");
      uint64_t seq = DecodeFixed64(p.data());
      if (p != CrashPayload(seq)) return Corruption("wrong test payload");
      recovered.push_back(seq);
      return Status::Ok();
    });
    ASSERT_TRUE(rep.ok()) << rep.status().ToString();
    for (size_t i = 1; i < recovered.size(); ++i) ASSERT_LT(recovered[i - 1], recovered[i]) << "order or duplicate";
    ASSERT_FALSE(recovered.empty());
    EXPECT_LT(recovered.back(), next_seq);
    std::set<uint64_t> present(recovered.begin(), recovered.end());
    for (size_t i = 0; i < acked.size(); ++i) {
      if (i > 0) {
        ASSERT_LT(acked[i - 1], acked[i]) << "done called out of order";
      }
      ASSERT_TRUE(present.count(acked[i])) << "acknowledged record " << acked[i] << " lost";
    }

    // The WAL keeps working after the crash.
    auto again = WalCommitter::Open(&mem, kDir, SmallOptions(), *rep);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    ASSERT_TRUE(SubmitAndWait(again->get(), CrashPayload(next_seq)).ok());
    ASSERT_TRUE((*again)->Close().ok());
    auto final_rep = VerifyWal(&mem, kDir);
    ASSERT_TRUE(final_rep.ok()) << final_rep.status().ToString();
    EXPECT_EQ(final_rep->records, recovered.size() + 1);
  }
}

TEST(WalCommitterTest, RealFileSystem) {
  testutil::TempDir tmp;
  io::Env* env = io::Env::Posix();
  const std::string dir = tmp.Sub("wal");
  WalCommitterOptions opts;  // defaults: 64 MiB preallocation exercises fallocate
  opts.max_file_bytes = 256 * 1024;
  std::vector<std::string> expected;
  {
    auto c = OpenCommitter(env, opts, dir);
    ASSERT_NE(c, nullptr);
    std::vector<std::thread> threads;
    std::mutex mu;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 100; ++i) {
          std::string p = "thread " + std::to_string(t) + " record " + std::to_string(i) + std::string(t * 1000, 'p');
          std::lock_guard lock(mu);  // keeps `expected` in Submit order
          ASSERT_TRUE(c->Submit(p, [](Status s) { EXPECT_TRUE(s.ok()) << s.ToString(); }).ok());
          expected.push_back(p);
        }
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_TRUE(SubmitAndWait(c.get(), std::string(3 << 20, 'L')).ok());
    expected.push_back(std::string(3 << 20, 'L'));
    ASSERT_TRUE(c->Close().ok());
  }
  WalRecoveryReport report;
  EXPECT_EQ(RecoverPayloads(env, dir, &report), expected);
  EXPECT_GT(report.files, 2u);

  // A torn record at the end of the newest file on disk: recovery cuts it, the log carries on.
  const std::string last = io::JoinPath(dir, wal::FileName(report.next_file_number - 1));
  {
    std::string torn(wal::kRecordHeaderSize, '\0');
    EncodeWalRecordHeader(std::string(5000, 't'), torn.data());
    torn.append(2000, 't');
    auto f = env->NewAppendableFile(last);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(torn).ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  EXPECT_EQ(RecoverPayloads(env, dir, &report), expected);
  EXPECT_EQ(report.bytes_truncated, wal::kRecordHeaderSize + 2000);
  auto c = WalCommitter::Open(env, dir, opts, report);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(SubmitAndWait(c->get(), "after").ok());
  ASSERT_TRUE((*c)->Close().ok());
  expected.push_back("after");
  auto v = VerifyWal(env, dir);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(RecoverPayloads(env, dir), expected);
}

}  // namespace
}  // namespace cairn::store
