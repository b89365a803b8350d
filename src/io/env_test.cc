#include "io/env.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "io/fault_injection_env.h"
#include "io/posix_direct_file.h"
#include "testutil/temp_dir.h"

namespace cairn::io {
namespace {

// The same contract on the real file system and the in-memory one.
class EnvContractTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      env_ = Env::Posix();
      dir_ = tmp_.path();
    } else {
      env_ = &mem_;
      dir_ = "/mem";
      ASSERT_TRUE(env_->CreateDirIfMissing(dir_).ok());
    }
  }
  testutil::TempDir tmp_;
  MemEnv mem_;
  Env* env_ = nullptr;
  std::string dir_;
};

TEST_P(EnvContractTest, WriteReadRenameRemove) {
  std::string a = JoinPath(dir_, "a"), b = JoinPath(dir_, "b");
  ASSERT_TRUE(WriteStringToFile(env_, "hello", a, true).ok());
  EXPECT_TRUE(env_->FileExists(a));
  EXPECT_EQ(*env_->GetFileSize(a), 5u);
  ASSERT_TRUE(env_->RenameFile(a, b).ok());
  EXPECT_FALSE(env_->FileExists(a));
  EXPECT_EQ(*ReadFileToString(env_, b), "hello");
  auto children = env_->GetChildren(dir_);
  ASSERT_TRUE(children.ok());
  EXPECT_EQ(std::count(children->begin(), children->end(), "b"), 1);
  ASSERT_TRUE(env_->TruncateFile(b, 2).ok());
  EXPECT_EQ(*ReadFileToString(env_, b), "he");
  ASSERT_TRUE(env_->RemoveFile(b).ok());
  EXPECT_EQ(env_->RemoveFile(b).code(), Code::kNotFound);
  EXPECT_EQ(env_->NewSequentialFile(b).status().code(), Code::kNotFound);
}

TEST_P(EnvContractTest, AppendableKeepsContentsAndRandomAccess) {
  std::string p = JoinPath(dir_, "log");
  ASSERT_TRUE(WriteStringToFile(env_, "0123", p, true).ok());
  {
    auto f = env_->NewAppendableFile(p);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ((*f)->Size(), 4u);
    ASSERT_TRUE((*f)->Append("4567").ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  auto r = env_->NewRandomAccessFile(p);
  ASSERT_TRUE(r.ok());
  char scratch[8];
  std::string_view out;
  ASSERT_TRUE((*r)->Read(2, 4, &out, scratch).ok());
  EXPECT_EQ(out, "2345");
  ASSERT_TRUE((*r)->Read(6, 10, &out, scratch).ok());
  EXPECT_EQ(out, "67");  // short read at end of file
}

// A read-only mapped file reads what a random-access file reads: within the file, across its end
// (short) and past it (empty); an empty file too. On posix the bytes come from the mapping, not
// from the scratch buffer, and they outlive the file's removal while the file object is open.
TEST_P(EnvContractTest, ReadOnlyMappedFileReadsLikeARandomAccessFile) {
  std::string p = JoinPath(dir_, "segment");
  std::string data;
  for (int i = 0; i < 10000; ++i) data.push_back(static_cast<char>('a' + i % 26));
  ASSERT_TRUE(WriteStringToFile(env_, data, p, true).ok());
  auto mapped = env_->NewReadOnlyMappedFile(p);
  ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
  auto plain = env_->NewRandomAccessFile(p);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*mapped)->Size(), data.size());
  std::string scratch_a(20000, '#'), scratch_b(20000, '#');
  for (auto [offset, n] : std::vector<std::pair<uint64_t, size_t>>{{0, 10}, {4095, 3}, {4096, 5000}, {9990, 10}, {9995, 100}, {10000, 5}, {20000, 1}, {0, 10000}}) {
    std::string_view a, b;
    ASSERT_TRUE((*mapped)->Read(offset, n, &a, scratch_a.data()).ok());
    ASSERT_TRUE((*plain)->Read(offset, n, &b, scratch_b.data()).ok());
    EXPECT_EQ(a, b) << offset << "+" << n;
    EXPECT_EQ(a, offset < data.size() ? std::string_view(data).substr(offset, n) : std::string_view()) << offset << "+" << n;
  }
  if (GetParam()) {
    EXPECT_EQ(scratch_a, std::string(20000, '#'));  // no copy on posix: views into the mapping
    ASSERT_TRUE(env_->RemoveFile(p).ok());
    std::string_view still;
    ASSERT_TRUE((*mapped)->Read(26, 3, &still, scratch_a.data()).ok());
    EXPECT_EQ(still, "abc");
  }
  std::string empty = JoinPath(dir_, "empty");
  ASSERT_TRUE(WriteStringToFile(env_, "", empty, true).ok());
  auto e = env_->NewReadOnlyMappedFile(empty);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  std::string_view none;
  ASSERT_TRUE((*e)->Read(0, 8, &none, scratch_a.data()).ok());
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(env_->NewReadOnlyMappedFile(JoinPath(dir_, "absent")).status().code(), Code::kNotFound);
}

TEST_P(EnvContractTest, LockIsExclusive) {
  std::string p = JoinPath(dir_, "LOCK");
  auto l1 = env_->LockFile(p);
  ASSERT_TRUE(l1.ok());
  if (!GetParam()) {
    EXPECT_EQ(env_->LockFile(p).status().code(), Code::kFailedPrecondition);
  }
  l1->reset();
  EXPECT_TRUE(env_->LockFile(p).ok());
}

TEST_P(EnvContractTest, SecureRemove) {
  std::string p = JoinPath(dir_, "secret");
  ASSERT_TRUE(WriteStringToFile(env_, "marker", p, true).ok());
  ASSERT_TRUE(env_->SecureRemoveFile(p).ok());
  EXPECT_FALSE(env_->FileExists(p));
}

INSTANTIATE_TEST_SUITE_P(PosixAndMem, EnvContractTest, ::testing::Values(true, false));

TEST(MemEnvTest, CrashKeepsOnlySyncedBytes) {
  MemEnv env;
  auto f = env.NewWritableFile("/f");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("durable").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Append("-lost").ok());
  env.SimulateCrash();
  EXPECT_EQ(*env.Contents("/f"), "durable");
}

TEST(MemEnvTest, TornCrashKeepsAPrefixOfUnsynced) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    MemEnv env;
    auto f = env.NewWritableFile("/f");
    ASSERT_TRUE((*f)->Append("abc").ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Append("defgh").ok());
    env.SimulateCrash(/*torn=*/true, seed);
    std::string c = *env.Contents("/f");
    EXPECT_EQ(std::string("abcdefgh").compare(0, c.size(), c), 0);
    EXPECT_GE(c.size(), 3u);
  }
}

TEST(FaultInjectionEnvTest, DiskFullAndSyncFailure) {
  FaultInjectionEnv env;
  auto f = env.NewWritableFile("/f");
  env.SetWriteBudget(4);
  EXPECT_TRUE((*f)->Append("abcd").ok());
  EXPECT_EQ((*f)->Append("e").code(), Code::kResourceExhausted);
  env.SetWriteBudget(-1);
  env.SetSyncFails(true);
  EXPECT_EQ((*f)->Sync().code(), Code::kIOError);
  env.SetSyncFails(false);
  EXPECT_TRUE((*f)->Sync().ok());
}

TEST(FaultInjectionEnvTest, FailNthWriteSyncRenameOnce) {
  FaultInjectionEnv env;
  auto f = env.NewWritableFile("/f");
  env.FailNthWrite(2);
  EXPECT_TRUE((*f)->Append("a").ok());
  EXPECT_EQ((*f)->Append("b").code(), Code::kResourceExhausted);
  EXPECT_TRUE((*f)->Append("c").ok()) << "one-shot: the next write succeeds";
  env.FailNthSync(1);
  EXPECT_EQ((*f)->Sync().code(), Code::kIOError);
  EXPECT_TRUE((*f)->Sync().ok());
  EXPECT_TRUE((*f)->Close().ok());
  env.FailNthRename(1);
  EXPECT_EQ(env.RenameFile("/f", "/g").code(), Code::kIOError);
  EXPECT_TRUE(env.FileExists("/f")) << "a failed rename changes nothing";
  EXPECT_TRUE(env.RenameFile("/f", "/g").ok());
  EXPECT_EQ(env.injected_failures(), 3u);
  EXPECT_EQ(*env.Contents("/g"), "ac");
  // Power loss drops what was never synced: "ac" was synced by the second Sync.
  env.SimulateCrash();
  EXPECT_EQ(*env.Contents("/g"), "ac");
}

// The O_DIRECT file (posix_direct_file.h) on the real file system: whatever the mix of append
// sizes, syncs and reopens, the file holds exactly what was appended; between a sync and Close
// it is padded with zeros to the block boundary (the sign that the writes went direct).
class PosixDirectFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = JoinPath(tmp_.path(), "log");
    auto probe = NewPosixDirectFile(path_, /*append=*/false);
    if (probe.status().Is(Code::kUnavailable)) GTEST_SKIP() << "no O_DIRECT on " << tmp_.path();
    ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  }
  std::string OnDisk() { return *ReadFileToString(Env::Posix(), path_); }
  static uint64_t Padded(uint64_t n) { return (n + kDirectBlockSize - 1) / kDirectBlockSize * kDirectBlockSize; }

  testutil::TempDir tmp_;
  std::string path_;
};

TEST_F(PosixDirectFileTest, AppendsSyncsAndClosesToTheExactBytes) {
  std::mt19937_64 rng(7);
  std::string expected;
  auto f = NewPosixDirectFile(path_, /*append=*/false);
  ASSERT_TRUE(f.ok());
  // Pieces from 1 byte to past the 1 MiB buffer, so writes start and end mid-block, cross the
  // buffer's end and rewrite the partial last block many times.
  for (int i = 0; i < 60; ++i) {
    size_t n = std::uniform_int_distribution<size_t>(0, 3)(rng) == 0
                   ? std::uniform_int_distribution<size_t>(1, 1500000)(rng)
                   : std::uniform_int_distribution<size_t>(1, 9000)(rng);
    std::string piece(n, '\0');
    for (auto& c : piece) c = static_cast<char>('a' + rng() % 26);
    ASSERT_TRUE((*f)->Append(piece).ok());
    expected += piece;
    EXPECT_EQ((*f)->Size(), expected.size());
    if (rng() % 3 == 0) {
      ASSERT_TRUE((*f)->Sync().ok());
      std::string disk = OnDisk();
      ASSERT_EQ(disk.size(), Padded(expected.size())) << "after " << i << " appends";
      EXPECT_EQ(disk.compare(0, expected.size(), expected), 0);
      EXPECT_EQ(disk.find_first_not_of('\0', expected.size()), std::string::npos) << "padding is zeros";
    }
  }
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(OnDisk(), expected);
  EXPECT_EQ((*f)->WriteAt(0, "x").code(), Code::kFailedPrecondition);
}

TEST_F(PosixDirectFileTest, ReopenedMidBlockKeepsTheBlocksBytes) {
  std::string expected(5000, 'h');
  ASSERT_TRUE(WriteStringToFile(Env::Posix(), expected, path_, true).ok());
  for (int round = 0; round < 3; ++round) {
    auto f = NewPosixDirectFile(path_, /*append=*/true);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ((*f)->Size(), expected.size());
    std::string more(3000 + round * 4096, static_cast<char>('0' + round));
    ASSERT_TRUE((*f)->Append(more).ok());
    expected += more;
    ASSERT_TRUE((*f)->Sync().ok());
    EXPECT_EQ(OnDisk().substr(0, expected.size()), expected);
    ASSERT_TRUE((*f)->Close().ok());
    EXPECT_EQ(OnDisk(), expected);
  }
}

TEST_F(PosixDirectFileTest, PosixEnvLogFilesAreDirect) {
  auto f = NewLogFile(Env::Posix(), path_, /*append=*/false);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("0123456789").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  EXPECT_EQ(*Env::Posix()->GetFileSize(path_), kDirectBlockSize) << "written as one padded block";
  ASSERT_TRUE((*f)->Close().ok());
  auto g = NewLogFile(Env::Posix(), path_, /*append=*/true);
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE((*g)->Append("ab").ok());
  ASSERT_TRUE((*g)->Sync().ok());
  EXPECT_EQ(*Env::Posix()->GetFileSize(path_), kDirectBlockSize);
  ASSERT_TRUE((*g)->Close().ok());
  EXPECT_EQ(OnDisk(), "0123456789ab");
  // Any other Env keeps its own byte-exact files.
  MemEnv mem;
  ASSERT_TRUE(mem.CreateDirIfMissing("/m").ok());
  auto m = NewLogFile(&mem, "/m/log", /*append=*/false);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*m)->Append("xyz").ok());
  ASSERT_TRUE((*m)->Sync().ok());
  EXPECT_EQ(*mem.GetFileSize("/m/log"), 3u);
}

// SecureRemoveFile overwrites every byte, the last partial block included, before unlinking: read
// through a descriptor opened before the removal (the inode lives on while it is open).
TEST(PosixEnvTest, SecureRemoveZeroesEveryByte) {
  testutil::TempDir tmp;
  const std::string p = JoinPath(tmp.path(), "secret");
  std::string data;
  for (int i = 0; data.size() < (1 << 20) + 5000; ++i) data += "marker-" + std::to_string(i) + ";";
  ASSERT_TRUE(WriteStringToFile(Env::Posix(), data, p, true).ok());
  int fd = ::open(p.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(Env::Posix()->SecureRemoveFile(p).ok());
  EXPECT_FALSE(Env::Posix()->FileExists(p));
  std::string after(data.size(), 'x');
  ASSERT_EQ(::pread(fd, after.data(), after.size(), 0), static_cast<ssize_t>(after.size()));
  ::close(fd);
  EXPECT_EQ(after.find_first_not_of('\0'), std::string::npos);
}

}  // namespace
}  // namespace cairn::io
