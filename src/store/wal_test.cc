// Tests of the WAL format, reader and recovery (docs/format/wal.md), byte by byte through MemEnv,
// in the manner of LevelDB's db/log_test.cc. Committer tests are in wal_committer_test.cc.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/crc32c.h"
#include "io/mem_env.h"
#include "store/wal_committer.h"
#include "store/wal_format.h"
#include "store/wal_reader.h"
#include "store/wal_recovery.h"
#include "store/wal_writer.h"

namespace cairn::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kDir = "/db/wal";

std::string PathOf(uint64_t n) { return io::JoinPath(kDir, wal::FileName(n)); }

std::string RandomPayload(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>('a' + rng() % 26);
  return s;
}

// Writes file `n` holding `payloads`; returns the offset at which each record starts.
std::vector<uint64_t> WriteWalFile(io::Env* env, uint64_t n, uint64_t prev_file_size,
                                   const std::vector<std::string>& payloads) {
  EXPECT_TRUE(env->CreateDirIfMissing(kDir).ok());
  auto w = WalWriter::Create(env, PathOf(n), WalFileHeader{n, prev_file_size}, 0);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  std::vector<uint64_t> offsets;
  for (const auto& p : payloads) {
    offsets.push_back((*w)->size());
    EXPECT_TRUE((*w)->AddRecord(p).ok());
  }
  EXPECT_TRUE((*w)->Sync().ok());
  EXPECT_TRUE((*w)->Close().ok());
  return offsets;
}

struct Recovered {
  Status status;
  WalRecoveryReport report;
  std::vector<std::string> payloads;
  std::vector<uint64_t> files;  // file number of each payload
};

Recovered Recover(io::Env* env) {
  Recovered r;
  auto rep = RecoverWal(env, kDir, [&](std::string_view payload, uint64_t file) {
    r.payloads.emplace_back(payload);
    r.files.push_back(file);
    return Status::Ok();
  });
  r.status = rep.status();
  if (rep.ok()) r.report = *rep;
  return r;
}

std::string Contents(io::MemEnv* env, uint64_t n) {
  auto c = env->Contents(PathOf(n));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : std::string();
}

// Appends `payload` through a committer started from `report`, then closes it.
void AppendWithCommitter(io::Env* env, const WalRecoveryReport& report, const std::string& payload) {
  WalCommitterOptions opts;
  opts.preallocate_bytes = 0;
  auto c = WalCommitter::Open(env, kDir, opts, report);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Status got = Internal("not called");
  ASSERT_TRUE((*c)->Submit(payload, [&](Status s) { got = s; }).ok());
  ASSERT_TRUE((*c)->Close().ok());
  ASSERT_TRUE(got.ok()) << got.ToString();
}

TEST(WalFormatTest, FileNames) {
  EXPECT_EQ(wal::FileName(3), "0000000003.wal");
  EXPECT_EQ(wal::FileName(1234567890), "1234567890.wal");
  EXPECT_EQ(wal::ParseFileName("0000000003.wal"), 3u);
  EXPECT_EQ(wal::ParseFileName("000000003.wal"), std::nullopt);
  EXPECT_EQ(wal::ParseFileName("0000000003.log"), std::nullopt);
  EXPECT_EQ(wal::ParseFileName("00000000x3.wal"), std::nullopt);
  EXPECT_EQ(wal::ParseFileName("0000000003.wal.tmp"), std::nullopt);
}

// Pins the byte layout to docs/format/wal.md.
TEST(WalFormatTest, LayoutMatchesSpec) {
  io::MemEnv env;
  WriteWalFile(&env, 7, 4242, {"abc"});
  std::string f = Contents(&env, 7);
  ASSERT_EQ(f.size(), 32u + 9 + 3);
  EXPECT_EQ(f.substr(0, 8), "CAIRNWAL");
  EXPECT_EQ(DecodeFixed32(f.data() + 8), 1u);
  EXPECT_EQ(DecodeFixed64(f.data() + 12), 7u);
  EXPECT_EQ(DecodeFixed64(f.data() + 20), 4242u);
  EXPECT_EQ(crc32c::Unmask(DecodeFixed32(f.data() + 28)), crc32c::Value(f.data(), 28));
  const char* r = f.data() + 32;
  EXPECT_EQ(DecodeFixed32(r + 4), 3u);
  EXPECT_EQ(r[8], 1);
  EXPECT_EQ(std::string(r + 9, 3), "abc");
  EXPECT_EQ(crc32c::Unmask(DecodeFixed32(r)), crc32c::Value(r + 4, 5 + 3));
}

TEST(WalRecoveryTest, MissingDirectoryIsEmpty) {
  io::MemEnv env;
  Recovered r = Recover(&env);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.report.next_file_number, 1u);
  EXPECT_EQ(r.report.last_file_size, 0u);
  EXPECT_TRUE(r.payloads.empty());
}

TEST(WalRecoveryTest, RoundTripsAllSizes) {
  io::MemEnv env;
  std::mt19937_64 rng(1);
  std::vector<std::string> payloads = {"", "x", RandomPayload(rng, 5 << 20)};
  for (int i = 0; i < 1000; ++i) payloads.push_back(RandomPayload(rng, rng() % 3000));
  payloads.push_back("");
  WriteWalFile(&env, 1, 0, payloads);

  auto verified = VerifyWal(&env, kDir);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->records, payloads.size());

  Recovered r = Recover(&env);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.payloads.size(), payloads.size());
  for (size_t i = 0; i < payloads.size(); ++i) ASSERT_EQ(r.payloads[i], payloads[i]) << "record " << i;
  EXPECT_EQ(r.report.records, payloads.size());
  EXPECT_EQ(r.report.bytes_truncated, 0u);
  EXPECT_EQ(r.report.next_file_number, 2u);
  EXPECT_EQ(r.report.last_file_size, Contents(&env, 1).size());
}

TEST(WalRecoveryTest, HeaderOnlyFileHasNoRecords) {
  io::MemEnv env;
  WriteWalFile(&env, 1, 0, {});
  Recovered r = Recover(&env);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(r.payloads.empty());
  EXPECT_EQ(r.report.next_file_number, 2u);
  EXPECT_EQ(r.report.last_file_size, wal::kFileHeaderSize);
}

TEST(WalRecoveryTest, ReadsFilesInOrder) {
  io::MemEnv env;
  WriteWalFile(&env, 4, 0, {"a", "b"});
  WriteWalFile(&env, 5, Contents(&env, 4).size(), {"c"});
  WriteWalFile(&env, 6, Contents(&env, 5).size(), {});
  WriteWalFile(&env, 7, Contents(&env, 6).size(), {"d"});
  ASSERT_TRUE(env.SetContents(kDir + "/notes.txt", "not a wal file").ok());
  Recovered r = Recover(&env);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_THAT(r.payloads, ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(r.files, ElementsAre(4, 4, 5, 7));
  EXPECT_EQ(r.report.files, 4u);
  EXPECT_EQ(r.report.next_file_number, 8u);
}

// The last record cut at every byte offset: a torn tail, dropped; every earlier record kept; and
// the log accepts appends afterwards.
TEST(WalRecoveryTest, TornTailAtEveryOffsetOfTheLastRecord) {
  std::mt19937_64 rng(2);
  const std::vector<std::string> payloads = {RandomPayload(rng, 100), "", RandomPayload(rng, 300)};
  std::string full;
  uint64_t last_start;
  {
    io::MemEnv env;
    last_start = WriteWalFile(&env, 1, 0, payloads).back();
    full = Contents(&env, 1);
  }
  for (uint64_t cut = last_start; cut < full.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    io::MemEnv env;
    ASSERT_TRUE(env.SetContents(PathOf(1), full.substr(0, cut)).ok());
    Recovered r = Recover(&env);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_THAT(r.payloads, ElementsAre(payloads[0], payloads[1]));
    EXPECT_EQ(r.report.bytes_truncated, cut - last_start);
    EXPECT_EQ(Contents(&env, 1), full.substr(0, last_start));
    EXPECT_EQ(r.report.last_file_size, last_start);

    AppendWithCommitter(&env, r.report, "after");
    Recovered again = Recover(&env);
    ASSERT_TRUE(again.status.ok()) << again.status.ToString();
    EXPECT_THAT(again.payloads, ElementsAre(payloads[0], payloads[1], "after"));
    EXPECT_EQ(again.report.bytes_truncated, 0u);
  }
}

// A file cut inside its header: the file is dropped and its number reused.
TEST(WalRecoveryTest, TornFileHeaderDropsTheNewestFile) {
  std::string full;
  {
    io::MemEnv env;
    WriteWalFile(&env, 2, 0, {"a"});
    full = Contents(&env, 2);
  }
  for (uint64_t cut = 0; cut < wal::kFileHeaderSize; ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    io::MemEnv env;
    WriteWalFile(&env, 1, 0, {"before"});
    ASSERT_TRUE(env.SetContents(PathOf(2), full.substr(0, cut)).ok());
    auto verified = VerifyWal(&env, kDir);
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_TRUE(env.FileExists(PathOf(2)));  // verify changes nothing

    Recovered r = Recover(&env);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_THAT(r.payloads, ElementsAre("before"));
    EXPECT_FALSE(env.FileExists(PathOf(2)));
    EXPECT_EQ(r.report.next_file_number, 2u);
    EXPECT_EQ(r.report.last_file_size, Contents(&env, 1).size());

    AppendWithCommitter(&env, r.report, "after");
    Recovered again = Recover(&env);
    ASSERT_TRUE(again.status.ok()) << again.status.ToString();
    EXPECT_THAT(again.payloads, ElementsAre("before", "after"));
  }
}

// One flipped byte anywhere: corruption if it precedes the last record (a valid record follows
// the damage), a torn tail within the last record; never a wrong payload.
TEST(WalRecoveryTest, FlippedByteAtEveryOffset) {
  const std::vector<std::string> payloads = {"first record", "x", "", std::string(40, 'q'), "the last record"};
  std::string full;
  uint64_t last_start;
  {
    io::MemEnv env;
    last_start = WriteWalFile(&env, 1, 0, payloads).back();
    full = Contents(&env, 1);
  }
  for (uint64_t at = 0; at < full.size(); ++at) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      SCOPED_TRACE("byte " + std::to_string(at) + " ^ " + std::to_string(mask));
      io::MemEnv env;
      std::string damaged = full;
      damaged[at] = static_cast<char>(damaged[at] ^ mask);
      ASSERT_TRUE(env.SetContents(PathOf(1), damaged).ok());

      auto verified = VerifyWal(&env, kDir);
      Recovered r = Recover(&env);
      EXPECT_EQ(verified.status().code(), r.status.code());
      if (at < last_start) {
        ASSERT_TRUE(r.status.Is(Code::kCorruption)) << r.status.ToString();
        EXPECT_THAT(std::string(r.status.message()), HasSubstr("0000000001.wal offset"));
        EXPECT_EQ(Contents(&env, 1), damaged);  // nothing repaired on corruption
      } else {
        ASSERT_TRUE(r.status.ok()) << r.status.ToString();
        EXPECT_EQ(r.report.bytes_truncated, full.size() - last_start);
        EXPECT_EQ(Contents(&env, 1), full.substr(0, last_start));
      }
      // Whatever was returned is an exact prefix of what was written.
      ASSERT_LE(r.payloads.size(), payloads.size());
      for (size_t i = 0; i < r.payloads.size(); ++i) EXPECT_EQ(r.payloads[i], payloads[i]);
    }
  }
}

TEST(WalRecoveryTest, DamageInASealedFileIsCorruption) {
  const std::vector<std::string> payloads = {"one", "two", "three"};
  auto setup = [&](io::MemEnv* env) {
    auto offsets = WriteWalFile(env, 1, 0, payloads);
    WriteWalFile(env, 2, Contents(env, 1).size(), {"four"});
    return offsets;
  };
  {  // a flipped byte in the last record of the older file (a torn tail, were it the newest)
    io::MemEnv env;
    setup(&env);
    std::string f = Contents(&env, 1);
    f[f.size() - 1] ^= 1;
    ASSERT_TRUE(env.SetContents(PathOf(1), f).ok());
    Recovered r = Recover(&env);
    EXPECT_TRUE(r.status.Is(Code::kCorruption)) << r.status.ToString();
    EXPECT_THAT(std::string(r.status.message()), HasSubstr("0000000001.wal"));
    EXPECT_EQ(Contents(&env, 1), f);
  }
  {  // the older file lost its last bytes
    io::MemEnv env;
    setup(&env);
    std::string f = Contents(&env, 1);
    ASSERT_TRUE(env.SetContents(PathOf(1), f.substr(0, f.size() - 2)).ok());
    Recovered r = Recover(&env);
    EXPECT_TRUE(r.status.Is(Code::kCorruption)) << r.status.ToString();
  }
  {  // the older file's last record was zeroed
    io::MemEnv env;
    auto offsets = setup(&env);
    std::string f = Contents(&env, 1);
    std::fill(f.begin() + static_cast<long>(offsets.back()), f.end(), '\0');
    ASSERT_TRUE(env.SetContents(PathOf(1), f).ok());
    Recovered r = Recover(&env);
    EXPECT_TRUE(r.status.Is(Code::kCorruption)) << r.status.ToString();
  }
  {  // the older file's header is damaged
    io::MemEnv env;
    setup(&env);
    std::string f = Contents(&env, 1);
    f[3] ^= 1;
    ASSERT_TRUE(env.SetContents(PathOf(1), f).ok());
    Recovered r = Recover(&env);
    EXPECT_TRUE(r.status.Is(Code::kCorruption)) << r.status.ToString();
  }
}

TEST(WalRecoveryTest, MissingFileInTheMiddleIsCorruption) {
  io::MemEnv env;
  WriteWalFile(&env, 1, 0, {"a"});
  WriteWalFile(&env, 2, Contents(&env, 1).size(), {"b"});
  WriteWalFile(&env, 3, Contents(&env, 2).size(), {"c"});
  ASSERT_TRUE(env.RemoveFile(PathOf(2)).ok());
  Recovered r = Recover(&env);
  EXPECT_TRUE(r.status.Is(Code::kCorruption)) << r.status.ToString();
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("0000000002.wal is missing"));
}

TEST(WalRecoveryTest, SuccessorWithoutPredecessorSizeIsCorruption) {
  io::MemEnv env;
  WriteWalFile(&env, 1, 0, {"a"});
  WriteWalFile(&env, 2, 0, {"b"});
  Recovered r = Recover(&env);
  EXPECT_TRUE(r.status.Is(Code::kCorruption)) << r.status.ToString();
}

// Bytes of a sealed file past the size its successor declares come from a group whose sync
// failed: cut, not replayed, not corruption.
TEST(WalRecoveryTest, AbandonedTailOfASealedFileIsCut) {
  io::MemEnv env;
  auto offsets = WriteWalFile(&env, 1, 0, {"acked 1", "acked 2", "never acked"});
  const std::string f1 = Contents(&env, 1);
  WriteWalFile(&env, 2, offsets[2], {"acked 3"});

  auto verified = VerifyWal(&env, kDir);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->bytes_truncated, f1.size() - offsets[2]);
  EXPECT_EQ(verified->file_reports[0].end, WalFileEnd::kAbandonedTail);
  EXPECT_EQ(Contents(&env, 1), f1);

  Recovered r = Recover(&env);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_THAT(r.payloads, ElementsAre("acked 1", "acked 2", "acked 3"));
  EXPECT_EQ(Contents(&env, 1), f1.substr(0, offsets[2]));
}

TEST(WalRecoveryTest, SealedSizeInsideARecordIsCorruption) {
  io::MemEnv env;
  auto offsets = WriteWalFile(&env, 1, 0, {"acked 1", "acked 2"});
  WriteWalFile(&env, 2, offsets[1] + 3, {"acked 3"});
  Recovered r = Recover(&env);
  EXPECT_TRUE(r.status.Is(Code::kCorruption)) << r.status.ToString();
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("straddles"));
}

TEST(WalRecoveryTest, ZeroFilledTailIsACleanEnd) {
  io::MemEnv env;
  WriteWalFile(&env, 1, 0, {"a", "b"});
  const std::string f = Contents(&env, 1);
  ASSERT_TRUE(env.SetContents(PathOf(1), f + std::string(4096, '\0')).ok());
  auto verified = VerifyWal(&env, kDir);
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->file_reports[0].end, WalFileEnd::kZeroTail);

  Recovered r = Recover(&env);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_THAT(r.payloads, ElementsAre("a", "b"));
  EXPECT_EQ(r.report.bytes_truncated, 4096u);
  EXPECT_EQ(Contents(&env, 1), f);
}

TEST(WalRecoveryTest, ZerosFollowedByAValidRecordAreCorruption) {
  io::MemEnv env;
  WriteWalFile(&env, 1, 0, {"a"});
  std::string f = Contents(&env, 1);
  io::MemEnv other;
  WriteWalFile(&other, 1, 0, {"b"});
  std::string record_b = Contents(&other, 1).substr(wal::kFileHeaderSize);
  ASSERT_TRUE(env.SetContents(PathOf(1), f + std::string(100, '\0') + record_b).ok());
  Recovered r = Recover(&env);
  EXPECT_TRUE(r.status.Is(Code::kCorruption)) << r.status.ToString();
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("valid record follows"));
}

TEST(WalRecoveryTest, ZerosFollowedByGarbageAreATornTail) {
  io::MemEnv env;
  WriteWalFile(&env, 1, 0, {"a"});
  std::string f = Contents(&env, 1);
  ASSERT_TRUE(env.SetContents(PathOf(1), f + std::string(100, '\0') + "garbage").ok());
  Recovered r = Recover(&env);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_THAT(r.payloads, ElementsAre("a"));
  EXPECT_EQ(r.report.file_reports[0].end, WalFileEnd::kTornTail);
  EXPECT_EQ(Contents(&env, 1), f);
}

TEST(WalRecoveryTest, HugeLengthFieldIsDamage) {
  io::MemEnv env;
  WriteWalFile(&env, 1, 0, {"a"});
  std::string f = Contents(&env, 1);
  std::string bad(9, '\0');
  EncodeFixed32(bad.data(), 12345);
  EncodeFixed32(bad.data() + 4, 0xffffffffu);
  bad[8] = 1;
  {  // as the last thing in the file: a torn tail
    ASSERT_TRUE(env.SetContents(PathOf(1), f + bad).ok());
    auto v = VerifyWal(&env, kDir);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->file_reports[0].end, WalFileEnd::kTornTail);
    EXPECT_THAT(v->file_reports[0].damage, HasSubstr("exceeds the maximum"));
  }
  {  // followed by a valid record: corruption
    ASSERT_TRUE(env.SetContents(PathOf(1), f + bad + f.substr(wal::kFileHeaderSize)).ok());
    EXPECT_TRUE(VerifyWal(&env, kDir).status().Is(Code::kCorruption));
  }
}

// Builds a file header with a valid checksum around arbitrary fields.
std::string ForgeHeader(std::string_view magic, uint32_t version, uint64_t number) {
  std::string h(magic);
  PutFixed32(&h, version);
  PutFixed64(&h, number);
  PutFixed64(&h, 0);
  PutFixed32(&h, crc32c::Mask(crc32c::Value(h.data(), h.size())));
  return h;
}

TEST(WalRecoveryTest, ChecksummedButWrongHeaderIsCorruption) {
  for (const auto& [header, why] : std::vector<std::pair<std::string, std::string>>{
           {ForgeHeader("CAIRNWAL", 2, 1), "unsupported WAL version 2"},
           {ForgeHeader("NOTAWAL!", 1, 1), "bad magic"},
           {ForgeHeader("CAIRNWAL", 1, 9), "names file 9"}}) {
    io::MemEnv env;
    ASSERT_TRUE(env.SetContents(PathOf(1), header).ok());
    Recovered r = Recover(&env);
    EXPECT_TRUE(r.status.Is(Code::kCorruption)) << r.status.ToString();
    EXPECT_THAT(std::string(r.status.message()), HasSubstr(why));
    EXPECT_TRUE(env.FileExists(PathOf(1)));
  }
}

TEST(WalRecoveryTest, ValidRecordOfUnknownTypeIsCorruption) {
  io::MemEnv env;
  WriteWalFile(&env, 1, 0, {"a"});
  std::string f = Contents(&env, 1);
  std::string rec(9, '\0');
  EncodeFixed32(rec.data() + 4, 2);
  rec[8] = 3;
  rec += "zz";
  EncodeFixed32(rec.data(), crc32c::Mask(crc32c::Value(rec.data() + 4, rec.size() - 4)));
  ASSERT_TRUE(env.SetContents(PathOf(1), f + rec).ok());
  Recovered r = Recover(&env);
  EXPECT_TRUE(r.status.Is(Code::kCorruption)) << r.status.ToString();
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("unknown record type 3"));
}

TEST(WalRecoveryTest, ApplyErrorStopsRecoveryAndChangesNothing) {
  io::MemEnv env;
  WriteWalFile(&env, 1, 0, {"a", "b", "c"});
  std::string f = Contents(&env, 1);
  ASSERT_TRUE(env.SetContents(PathOf(1), f + "torn").ok());
  int calls = 0;
  auto rep = RecoverWal(&env, kDir, [&](std::string_view payload, uint64_t) {
    ++calls;
    return payload == "b" ? Corruption("batch: bad version") : Status::Ok();
  });
  ASSERT_TRUE(rep.status().Is(Code::kCorruption));
  EXPECT_THAT(std::string(rep.status().message()), HasSubstr("0000000001.wal offset 42"));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(Contents(&env, 1), f + "torn");
}

}  // namespace
}  // namespace cairn::store
