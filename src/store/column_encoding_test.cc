#include "store/column_encoding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>

#include "base/coding.h"
#include "base/crc32c.h"
#include "store/column_bytes.h"

namespace cairn::store::column {
namespace {

CustomerRuns RunsOf(const std::vector<uint64_t>& customers) {
  std::string chunk;
  EncodeCustomers(customers, &chunk);
  CustomerRuns runs;
  EXPECT_TRUE(DecodeCustomers(chunk, static_cast<uint32_t>(customers.size()), &runs).ok());
  return runs;
}

TEST(CustomerColumnTest, RunsRoundTrip) {
  const std::vector<uint64_t> customers = {5, 5, 5, 9, 1000000, 1000000, ~uint64_t{0}};
  CustomerRuns runs = RunsOf(customers);
  ASSERT_EQ(runs.runs(), 4u);
  EXPECT_EQ(runs.values, (std::vector<uint64_t>{5, 9, 1000000, ~uint64_t{0}}));
  EXPECT_EQ(runs.starts, (std::vector<uint32_t>{0, 3, 4, 6, 7}));
  std::vector<uint64_t> out(customers.size());
  runs.Expand(0, customers.size(), out.data());
  EXPECT_EQ(out, customers);
  std::vector<uint64_t> part(3);
  runs.Expand(2, 5, part.data());
  EXPECT_EQ(part, (std::vector<uint64_t>{5, 9, 1000000}));
  EXPECT_EQ(runs.RunOf(0), 0u);
  EXPECT_EQ(runs.RunOf(3), 1u);
  EXPECT_EQ(runs.RunOf(6), 3u);
}

TEST(CustomerColumnTest, OneRowAndEmpty) {
  EXPECT_EQ(RunsOf({1}).values, std::vector<uint64_t>{1});
  CustomerRuns runs = RunsOf({});
  EXPECT_EQ(runs.runs(), 0u);
}

TEST(CustomerColumnTest, RejectsInconsistentRows) {
  std::string chunk;
  EncodeCustomers(std::vector<uint64_t>{3, 3, 4}, &chunk);
  CustomerRuns runs;
  EXPECT_TRUE(DecodeCustomers(chunk, 3, &runs).ok());
  EXPECT_TRUE(DecodeCustomers(chunk, 4, &runs).Is(Code::kCorruption)) << "lengths must add up to the rows";
  EXPECT_TRUE(DecodeCustomers(chunk, 2, &runs).Is(Code::kCorruption));
  chunk[0] = 9;
  EXPECT_TRUE(DecodeCustomers(chunk, 3, &runs).Is(Code::kCorruption)) << "unknown encoding";
  EXPECT_TRUE(DecodeCustomers("", 3, &runs).Is(Code::kCorruption));
}

TEST(TimestampColumnTest, RoundTripWithRangesAndExtremes) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> customers;
  std::vector<int64_t> ts;
  for (uint64_t c = 1; c <= 50; ++c) {
    int64_t t = static_cast<int64_t>(rng() % 2'000'000'000'000) - 1'000'000'000'000;
    const int n = 1 + static_cast<int>(rng() % 30);
    for (int i = 0; i < n; ++i) {
      customers.push_back(c);
      ts.push_back(t);
      t += static_cast<int64_t>(rng() % 100'000'000);
    }
  }
  // A customer with the extreme timestamps (deltas of 2^64 - 1).
  customers.push_back(51);
  ts.push_back(std::numeric_limits<int64_t>::min());
  customers.push_back(51);
  ts.push_back(std::numeric_limits<int64_t>::max());
  CustomerRuns runs = RunsOf(customers);
  std::string chunk;
  EncodeTimestamps(ts, runs, &chunk);
  std::vector<uint64_t> scratch;
  std::vector<int64_t> out(ts.size());
  ASSERT_TRUE(DecodeTimestamps(chunk, runs, 0, ts.size(), out.data(), &scratch).ok());
  EXPECT_EQ(out, ts);
  for (int k = 0; k < 200; ++k) {
    size_t a = rng() % ts.size(), b = rng() % (ts.size() + 1);
    if (a > b) std::swap(a, b);
    std::vector<int64_t> part(b - a);
    ASSERT_TRUE(DecodeTimestamps(chunk, runs, a, b, part.data(), &scratch).ok());
    EXPECT_EQ(part, std::vector<int64_t>(ts.begin() + a, ts.begin() + b)) << a << ".." << b;
  }
}

TEST(ForColumnTest, LimitsAreChecked) {
  std::string chunk;
  EncodeFor(std::vector<uint64_t>{1, 2, 6, 3}, &chunk);
  std::vector<uint8_t> out(4);
  EXPECT_TRUE(DecodeFor(chunk, 4, 0, 4, out.data(), 7, 1).ok());
  EXPECT_EQ(out, (std::vector<uint8_t>{1, 2, 6, 3}));
  EXPECT_TRUE(DecodeFor(chunk, 4, 0, 4, out.data(), 6, 1).Is(Code::kCorruption)) << "6 >= limit 6";
  EXPECT_TRUE(DecodeFor(chunk, 4, 0, 4, out.data(), 7, 2).Is(Code::kCorruption)) << "1 < min 2";
  EXPECT_TRUE(DecodeFor(chunk, 4, 0, 2, out.data(), 3, 1).ok()) << "only the decoded range is checked";
  // The row count must match the packed length (4 values x 3 bits = 2 bytes; 6 rows need 3).
  std::vector<uint8_t> big(6);
  EXPECT_TRUE(DecodeFor(chunk, 6, 0, 6, big.data()).Is(Code::kCorruption)) << "too short for 6 rows";
  EXPECT_TRUE(DecodeFor(chunk, 2, 0, 2, out.data()).Is(Code::kCorruption)) << "trailing bytes for 2 rows";
}

TEST(ReceivedAtColumnTest, ExtremesRoundTrip) {
  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  const std::vector<int64_t> ref = {0, lo, hi, 1000, -5};
  const std::vector<int64_t> values = {5, hi, lo, 1000, -5};
  std::string chunk;
  EncodeReceivedAt(values, ref, &chunk);
  std::vector<int64_t> out(values.size());
  ASSERT_TRUE(DecodeReceivedAt(chunk, 5, 0, 5, ref.data(), out.data()).ok());
  EXPECT_EQ(out, values);
  std::vector<int64_t> part(2);
  ASSERT_TRUE(DecodeReceivedAt(chunk, 5, 1, 3, ref.data() + 1, part.data()).ok());
  EXPECT_EQ(part, (std::vector<int64_t>{hi, lo}));
}

// Live traffic: received a few ms after it happened, so the difference is narrow (encoding 1).
// An import of history: received within seconds, happened over months, so the values themselves
// are narrow (encoding 2). Equal widths keep the difference.
TEST(ReceivedAtColumnTest, TheNarrowerFormIsStored) {
  const int64_t t0 = 1'700'000'000'000;
  std::vector<int64_t> ts, live, imported;
  for (int64_t i = 0; i < 100; ++i) {
    ts.push_back(t0 + i * 86'400'000);  // one a day
    live.push_back(ts.back() + 3 + i % 7);
    imported.push_back(t0 + 400LL * 86'400'000 + i * 50);  // 5 s of import
  }
  for (const auto& [values, encoding] : {std::pair{live, kEncodingForDiff}, std::pair{imported, kEncodingForRaw}}) {
    std::string chunk;
    EncodeReceivedAt(values, ts, &chunk);
    EXPECT_EQ(static_cast<uint8_t>(chunk[0]), encoding);
    EXPECT_LE(chunk.size(), 1 + 9 + (100 * 13 + 7) / 8) << "at most 13 bits a row";
    std::vector<int64_t> out(100);
    ASSERT_TRUE(DecodeReceivedAt(chunk, 100, 0, 100, ts.data(), out.data()).ok());
    EXPECT_EQ(out, values);
    std::vector<int64_t> part(10);
    ASSERT_TRUE(DecodeReceivedAt(chunk, 100, 40, 50, ts.data() + 40, part.data()).ok());
    EXPECT_EQ(part, std::vector<int64_t>(values.begin() + 40, values.begin() + 50));
  }
  std::string same;
  EncodeReceivedAt(ts, std::vector<int64_t>(100, 0), &same);  // both forms equally wide
  EXPECT_EQ(static_cast<uint8_t>(same[0]), kEncodingForDiff);
  same[0] = 3;
  std::vector<int64_t> out(100);
  EXPECT_TRUE(DecodeReceivedAt(same, 100, 0, 100, ts.data(), out.data()).Is(Code::kCorruption)) << "unknown encoding";
}

TEST(SparseColumnTest, KeepsExactBits) {
  std::vector<double> values(100, 0.0);
  values[0] = 49.99;
  values[17] = -0.0;
  values[50] = std::numeric_limits<double>::quiet_NaN();
  values[99] = -1e300;
  std::string chunk;
  EncodeSparseDoubles(values, &chunk);
  std::vector<double> out(100, 1.0);
  ASSERT_TRUE(DecodeSparseDoubles(chunk, 100, 0, 100, out.data()).ok());
  EXPECT_EQ(std::memcmp(out.data(), values.data(), 100 * sizeof(double)), 0);
  std::vector<double> part(40);
  ASSERT_TRUE(DecodeSparseDoubles(chunk, 100, 10, 50, part.data()).ok());
  EXPECT_TRUE(std::signbit(part[7]) && part[7] == 0.0);
  EXPECT_EQ(part[0], 0.0);
  EXPECT_TRUE(DecodeSparseDoubles(chunk, 99, 0, 99, out.data()).Is(Code::kCorruption)) << "position 99 >= rows";
  std::string empty;
  EncodeSparseDoubles(std::vector<double>(10, 0.0), &empty);
  EXPECT_LE(empty.size(), 12u) << "all-zero revenue must cost a few bytes";
}

// ---- byte columns ----

struct DecodedBytes {
  Status status;
  std::vector<std::string> rows;
};

DecodedBytes DecodeRanges(const std::string& region, uint32_t rows, std::vector<RowRange> ranges) {
  DecodedBytes d;
  auto head = ByteHeadSize(region, region.size());
  if (!head.ok()) return {head.status(), {}};
  std::vector<ByteFrame> frames;
  d.status = ParseByteHead(std::string_view(region).substr(0, *head), rows, region.size(), &frames);
  if (!d.status.ok()) return d;
  ByteColumn col;
  for (const auto& f : frames) {
    d.status = DecodeByteFrame(f, std::string_view(region).substr(f.offset, f.stored_size), ranges, &col);
    if (!d.status.ok()) return d;
  }
  for (size_t i = 0; i < col.size(); ++i) d.rows.emplace_back(col[i]);
  return d;
}

// The frames of a region, parsed. Empty when its head does not parse.
std::vector<ByteFrame> FramesOf(const std::string& region, uint32_t rows) {
  std::vector<ByteFrame> frames;
  auto head = ByteHeadSize(region, region.size());
  if (!head.ok() || !ParseByteHead(std::string_view(region).substr(0, *head), rows, region.size(), &frames).ok()) {
    frames.clear();
  }
  return frames;
}

size_t FramesWithMethod(const std::vector<ByteFrame>& frames, uint8_t method) {
  return static_cast<size_t>(std::count_if(frames.begin(), frames.end(), [&](const ByteFrame& f) { return f.method == method; }));
}

// Each compressing codec: frames it shrinks are stored with its method, and decode back.
class ByteColumnCodecTest : public ::testing::TestWithParam<FrameCodec> {
 protected:
  ByteColumnOptions Options(size_t frame_bytes) const {
    ByteColumnOptions o;
    o.frame_bytes = frame_bytes;
    o.codec = GetParam();
    return o;
  }
  uint8_t Method() const { return GetParam() == FrameCodec::kLz4 ? kFrameLz4 : kFrameZstd; }
};

INSTANTIATE_TEST_SUITE_P(Codecs, ByteColumnCodecTest, ::testing::Values(FrameCodec::kZstd, FrameCodec::kLz4),
                         [](const auto& info) { return info.param == FrameCodec::kLz4 ? "Lz4" : "Zstd"; });

TEST_P(ByteColumnCodecTest, RoundTripFramesAndRanges) {
  std::mt19937_64 rng(3);
  std::vector<std::string> values;
  std::vector<uint32_t> starts;
  for (uint32_t i = 0; i < 2000; ++i) {
    if (i % 20 == 0) starts.push_back(i);
    std::string v = R"({"event":"Page Viewed","properties":{"n":)" + std::to_string(rng() % 1000) + "}}";
    if (i == 5) v.clear();
    if (i == 6) v = std::string(60 << 10, 'x');  // 60 KiB
    if (i == 7) v = "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80";
    values.push_back(v);
  }
  starts.push_back(2000);
  std::vector<std::string_view> views(values.begin(), values.end());
  std::string region;
  EncodeBytes(views, starts, Options(4096), &region);
  auto all = DecodeRanges(region, 2000, {{0, 2000}});
  ASSERT_TRUE(all.status.ok()) << all.status.ToString();
  EXPECT_EQ(all.rows, values);
  auto part = DecodeRanges(region, 2000, {{3, 9}, {40, 60}, {1999, 2000}});
  ASSERT_TRUE(part.status.ok());
  std::vector<std::string> want(values.begin() + 3, values.begin() + 9);
  want.insert(want.end(), values.begin() + 40, values.begin() + 60);
  want.push_back(values[1999]);
  EXPECT_EQ(part.rows, want);
  // Frames end at customer boundaries unless one grows past 4x the target.
  const auto frames = FramesOf(region, 2000);
  EXPECT_GT(frames.size(), 10u);
  EXPECT_EQ(FramesWithMethod(frames, Method()), frames.size()) << "every frame compresses";
  for (const auto& f : frames) {
    if (f.first_row > 0 && f.first_row != 7) {
      EXPECT_EQ(f.first_row % 20, 0u) << f.first_row;
    }
  }
}

TEST(ByteColumnTest, EmptyValuesAndRandomBytesStoredRaw) {
  std::vector<std::string_view> empties(10, "");
  std::string region;
  EncodeBytes(empties, std::vector<uint32_t>{0, 10}, {}, &region);
  auto d = DecodeRanges(region, 10, {{0, 10}});
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.rows, std::vector<std::string>(10, ""));
  // Incompressible data is stored raw.
  std::mt19937_64 rng(1);
  std::string noise(5000, '\0');
  for (auto& ch : noise) ch = static_cast<char>(rng());
  std::vector<std::string_view> one = {noise};
  region.clear();
  EncodeBytes(one, std::vector<uint32_t>{0, 1}, {}, &region);
  std::vector<ByteFrame> frames;
  auto head = ByteHeadSize(region, region.size());
  ASSERT_TRUE(ParseByteHead(std::string_view(region).substr(0, *head), 1, region.size(), &frames).ok());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].method, kFrameRaw);
  EXPECT_EQ(DecodeRanges(region, 1, {{0, 1}}).rows, std::vector<std::string>{noise});
}

TEST_P(ByteColumnCodecTest, EveryFlippedByteIsCorruption) {
  std::vector<std::string> values;
  for (int i = 0; i < 50; ++i) values.push_back("message-" + std::to_string(i * 7919));
  std::vector<std::string_view> views(values.begin(), values.end());
  std::string region;
  EncodeBytes(views, std::vector<uint32_t>{0, 10, 20, 30, 40, 50}, Options(200), &region);
  ASSERT_GT(FramesWithMethod(FramesOf(region, 50), Method()), 1u);
  for (size_t i = 0; i < region.size(); ++i) {
    std::string bad = region;
    bad[i] ^= 0x20;
    auto d = DecodeRanges(bad, 50, {{0, 50}});
    EXPECT_TRUE(d.status.Is(Code::kCorruption)) << "offset " << i << ": " << d.status.ToString();
  }
}


// ---- LZ4 frames (method 2) byte by byte: the frame's crc is made to match, so the LZ4 decoder
// itself meets the damage. Stored bytes are copied into buffers of exactly their size, so that a
// read past them is an AddressSanitizer error in the dev build, not a silent pass.

struct Lz4Frame {
  ByteFrame frame;
  std::string stored;
  std::string raw;  // what it decodes to
};

// One LZ4 frame of payload-like values (a few KB, several LZ4 sequences).
Lz4Frame OneLz4Frame() {
  std::vector<std::string> values;
  for (int i = 0; i < 40; ++i) {
    values.push_back(R"({"type":"track","event":"Product Viewed","properties":{"sku":"SKU-)" + std::to_string(i * 37) +
                     R"(","channel":"web"}})");
  }
  std::vector<std::string_view> views(values.begin(), values.end());
  std::string region;
  ByteColumnOptions o;
  o.codec = FrameCodec::kLz4;
  EncodeBytes(views, std::vector<uint32_t>{0, 40}, o, &region);
  const auto frames = FramesOf(region, 40);
  EXPECT_EQ(frames.size(), 1u);
  if (frames.size() != 1) return {};
  Lz4Frame f{frames[0], region.substr(frames[0].offset, frames[0].stored_size), {}};
  EXPECT_EQ(f.frame.method, kFrameLz4);
  EXPECT_LT(f.stored.size(), f.frame.raw_size / 2);
  for (const auto& v : values) PutVarint64(&f.raw, v.size());
  for (const auto& v : values) f.raw += v;
  EXPECT_EQ(f.raw.size(), f.frame.raw_size);
  return f;
}

// Decodes `stored` (from an exact-size heap copy) as `frame` through both decoders, with the crc
// recomputed; both must agree on OK or fail with Corruption.
Status DecodeBoth(ByteFrame frame, std::string_view stored, std::string* raw = nullptr) {
  std::unique_ptr<char[]> exact(new char[std::max<size_t>(stored.size(), 1)]);
  std::memcpy(exact.get(), stored.data(), stored.size());
  const std::string_view view(exact.get(), stored.size());
  frame.stored_size = stored.size();
  frame.masked_crc = crc32c::Mask(crc32c::Value(view));
  ByteColumn col;
  const RowRange all{frame.first_row, frame.first_row + frame.rows};
  const Status a = DecodeByteFrame(frame, view, std::span(&all, 1), &col);
  DecodedFrame decoded;
  const Status b = DecodeFrame(frame, view, &decoded);
  EXPECT_EQ(a.code(), b.code()) << a.ToString() << " / " << b.ToString();
  if (!a.ok()) {
    EXPECT_TRUE(a.Is(Code::kCorruption)) << a.ToString();
  }
  if (raw && b.ok()) raw->assign(decoded.raw.data(), frame.raw_size);
  return a;
}

TEST(Lz4FrameTest, DecodesToItsRawFrame) {
  const Lz4Frame f = OneLz4Frame();
  std::string raw;
  ASSERT_TRUE(DecodeBoth(f.frame, f.stored, &raw).ok());
  EXPECT_EQ(raw, f.raw);
}

TEST(Lz4FrameTest, ADeclaredRawSizeThatLiesIsCorruption) {
  const Lz4Frame f = OneLz4Frame();
  const uint64_t raw = f.frame.raw_size, stored = f.stored.size();
  for (uint64_t lie : {raw - 1, raw + 1, uint64_t{0}, raw / 2, 2 * raw, 255 * stored, 255 * stored + 1,
                       uint64_t{INT32_MAX} + 1, uint64_t{1} << 40, UINT64_MAX}) {
    SCOPED_TRACE(::testing::Message() << "raw_size " << lie << " instead of " << raw);
    ByteFrame frame = f.frame;
    frame.raw_size = lie;
    const Status s = DecodeBoth(frame, f.stored);
    EXPECT_TRUE(s.Is(Code::kCorruption)) << s.ToString();
  }
}

TEST(Lz4FrameTest, ATruncatedBlockIsCorruptionAtEveryLength) {
  const Lz4Frame f = OneLz4Frame();
  for (size_t len = 0; len < f.stored.size(); ++len) {
    const Status s = DecodeBoth(f.frame, std::string_view(f.stored).substr(0, len));
    EXPECT_TRUE(s.Is(Code::kCorruption)) << "length " << len << ": " << s.ToString();
  }
  // Bytes past the block's end are not part of it either.
  EXPECT_TRUE(DecodeBoth(f.frame, f.stored + std::string(1, '\0')).Is(Code::kCorruption));
}

// Damage the checksum cannot see (a flipped literal byte decodes to other bytes of the same
// size) is the crc's to catch; what reaches the decoder must never be read or written out of
// bounds: every damaged block decodes or is Corruption.
TEST(Lz4FrameTest, EveryDamagedBlockDecodesOrIsCorruption) {
  const Lz4Frame f = OneLz4Frame();
  size_t corrupt = 0;
  for (size_t i = 0; i < f.stored.size(); ++i) {
    for (uint8_t flip : {0x01, 0x10, 0x80, 0xff}) {
      std::string bad = f.stored;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      corrupt += !DecodeBoth(f.frame, bad).ok();
    }
  }
  EXPECT_GT(corrupt, 0u);
}

}  // namespace
}  // namespace cairn::store::column
