// Corruption and truncation of segment files, byte by byte, through MemEnv::Contents/SetContents,
// for payload frames of each codec a builder writes (zstd: compaction's; LZ4: a flush's).

#include <gtest/gtest.h>

#include <set>

#include "io/mem_env.h"
#include "store/segment_iterator.h"
#include "store/segment_reader.h"
#include "store/segment_test_util.h"

namespace cairn::store {
namespace {

using testing::BuildSegment;
using testing::RandomRows;
using testing::RandomRowsOptions;

class SegmentCorruptionTest : public ::testing::TestWithParam<column::FrameCodec> {
 protected:
  void SetUp() override {
    RandomRowsOptions o;
    o.customers = 8;
    o.max_rows_per_customer = 6;
    rows_ = RandomRows(21, o);
    SegmentBuilderOptions bo;
    bo.block_rows = 8;
    bo.bytes.frame_bytes = 64;  // several frames per block
    bo.bytes.codec = GetParam();
    ASSERT_TRUE(BuildSegment(&env_, "/s", rows_, bo).ok());
    good_ = *env_.Contents("/s");
    auto r = SegmentReader::Open(&env_, "/s");
    ASSERT_TRUE(r.ok());
    footer_ = (*r)->footer();
    // The payload frames really are of the codec under test (not all left raw).
    const uint8_t method = GetParam() == column::FrameCodec::kLz4 ? column::kFrameLz4 : column::kFrameZstd;
    size_t compressed = 0;
    ByteColumnRegion region;
    for (size_t b = 0; b < footer_.blocks.size(); ++b) {
      ASSERT_TRUE((*r)->ReadByteColumnRegion(b, segment::Column::kPayload, &region).ok());
      for (const auto& f : region.frames) compressed += f.method == method;
    }
    ASSERT_GT(compressed, 1u);
    for (const auto& x : rows_) customers_.insert(x.customer);
  }

  // The block whose chunks hold `offset`, or -1 for footer/trailer bytes.
  int BlockAt(uint64_t offset) const {
    for (size_t b = 0; b < footer_.blocks.size(); ++b) {
      const auto& e = footer_.blocks[b];
      if (offset >= e.offset && offset < e.offset + e.size()) return static_cast<int>(b);
    }
    return -1;
  }

  std::vector<Interaction> Of(CustomerId c) const {
    std::vector<Interaction> out;
    for (const auto& r : rows_) if (r.customer == c) out.push_back(r);
    return out;
  }

  io::MemEnv env_;
  std::vector<Interaction> rows_;
  std::string good_;
  segment::Footer footer_;
  std::set<CustomerId> customers_;
};

TEST_P(SegmentCorruptionTest, EveryFlippedByteIsDetectedNeverReturned) {
  ASSERT_GT(footer_.blocks.size(), 3u);
  for (size_t i = 0; i < good_.size(); ++i) {
    SCOPED_TRACE(::testing::Message() << "offset " << i << " of " << good_.size());
    std::string bad = good_;
    bad[i] ^= 0x01;
    ASSERT_TRUE(env_.SetContents("/s", bad).ok());
    auto r = SegmentReader::Open(&env_, "/s");
    const int block = BlockAt(i);
    if (!r.ok()) {
      EXPECT_TRUE(r.status().Is(Code::kCorruption)) << r.status().ToString();
      EXPECT_EQ(block, -1) << "Open reads only the footer: a chunk byte must not fail it";
      EXPECT_NE(r.status().message().find("/s"), std::string_view::npos) << "must name the file";
      continue;
    }
    ASSERT_GE(block, 0) << "a flipped footer/trailer byte must fail Open";
    const Status v = (*r)->Verify();
    ASSERT_TRUE(v.Is(Code::kCorruption)) << v.ToString();
    EXPECT_NE(v.message().find("block " + std::to_string(block) + " column "), std::string_view::npos)
        << v.ToString();
    FixedColumns cols;
    EXPECT_TRUE((*r)->ReadBlock(block, segment::kAllColumns, &cols).Is(Code::kCorruption));
    // Other blocks still read; lookups either fail or return exactly the right rows.
    for (size_t b = 0; b < footer_.blocks.size(); ++b) {
      if (static_cast<int>(b) != block) {
        EXPECT_TRUE((*r)->ReadBlock(b, segment::kAllColumns, &cols).ok());
      }
    }
    for (CustomerId c : customers_) {
      std::vector<Interaction> got;
      const Status s = (*r)->ReadCustomer(c, &got);
      if (s.ok()) {
        EXPECT_EQ(got, Of(c)) << "customer " << c;
      } else {
        EXPECT_TRUE(s.Is(Code::kCorruption)) << s.ToString();
      }
    }
    auto it = (*r)->NewIterator();
    size_t n = 0;
    for (; it->Valid(); it->Next(), ++n) ASSERT_EQ(it->row(), rows_[n]);
    EXPECT_TRUE(it->status().Is(Code::kCorruption)) << "the iterator must stop with an error, not end cleanly";
  }
}

TEST_P(SegmentCorruptionTest, TruncationAtEveryLengthFailsOpen) {
  for (size_t len = 0; len < good_.size(); ++len) {
    ASSERT_TRUE(env_.SetContents("/s", good_.substr(0, len)).ok());
    auto r = SegmentReader::Open(&env_, "/s");
    ASSERT_FALSE(r.ok()) << "length " << len;
    EXPECT_TRUE(r.status().Is(Code::kCorruption)) << r.status().ToString();
  }
  ASSERT_TRUE(env_.SetContents("/s", good_).ok());
  EXPECT_TRUE(SegmentReader::Open(&env_, "/s").ok());
}

TEST_P(SegmentCorruptionTest, FileChangedAfterOpenIsCorruptionNotAShortRead) {
  auto r = SegmentReader::Open(&env_, "/s");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(env_.SetContents("/s", good_.substr(0, good_.size() / 2)).ok());
  EXPECT_TRUE((*r)->Verify().Is(Code::kCorruption));
}

TEST_P(SegmentCorruptionTest, MissingFileIsNotFound) {
  auto r = SegmentReader::Open(&env_, "/nope");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.status().Is(Code::kCorruption));
}

INSTANTIATE_TEST_SUITE_P(Codecs, SegmentCorruptionTest,
                         ::testing::Values(column::FrameCodec::kZstd, column::FrameCodec::kLz4),
                         [](const auto& info) { return info.param == column::FrameCodec::kLz4 ? "Lz4" : "Zstd"; });

}  // namespace
}  // namespace cairn::store
