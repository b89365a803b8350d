#include "store/column_bitpack.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string_view>
#include <vector>

namespace cairn::store::bitpack {
namespace {

// Encodes, parses and decodes `values` every way the reader does; checks exact round trips.
void RoundTrip(const std::vector<uint64_t>& values) {
  std::string encoded;
  PutUnsigned(values, &encoded);
  // In an allocation of exactly its size, so that a read past its end is an ASan error.
  std::unique_ptr<char[]> exact(new char[encoded.size()]);
  std::memcpy(exact.get(), encoded.data(), encoded.size());
  const std::string_view buf(exact.get(), encoded.size());
  const char* p = buf.data();
  PackedInts v;
  ASSERT_TRUE(PackedInts::Parse(p, buf.data() + buf.size(), values.size(), &v));
  EXPECT_EQ(p, buf.data() + buf.size()) << "IntVector must be exactly its header and packed bytes";
  ASSERT_EQ(v.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(v.Get(i), values[i]) << "Get " << i;
  std::vector<uint64_t> out(values.size() + 1, 0xdeadbeef);
  v.Decode(0, values.size(), out.data());
  for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(out[i], values[i]) << "Decode " << i << " width " << v.width();
  EXPECT_EQ(out[values.size()], 0xdeadbeefu) << "Decode wrote past n";
  // Ranges at odd and group-aligned starts.
  for (size_t start : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{16}, values.size() / 2}) {
    if (start > values.size()) continue;
    const size_t n = values.size() - start;
    std::vector<uint64_t> part(n);
    v.Decode(start, n, part.data());
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(part[i], values[start + i]) << "range start " << start;
  }
  // Ranges that end before the vector does, in a partial group and on a group boundary.
  for (size_t end : {values.size() - 1, values.size() / 2 + 3, size_t{8}, size_t{1}}) {
    if (end > values.size()) continue;
    std::vector<uint64_t> part(end + 1, 0xdeadbeef);
    v.Decode(0, end, part.data());
    for (size_t i = 0; i < end; ++i) ASSERT_EQ(part[i], values[i]) << "range end " << end;
    EXPECT_EQ(part[end], 0xdeadbeefu) << "Decode wrote past n";
  }
}

TEST(BitPackTest, BitWidth) {
  EXPECT_EQ(BitWidth(0), 0);
  EXPECT_EQ(BitWidth(1), 1);
  EXPECT_EQ(BitWidth(255), 8);
  EXPECT_EQ(BitWidth(256), 9);
  EXPECT_EQ(BitWidth(~uint64_t{0}), 64);
}

TEST(BitPackTest, Boundaries) {
  RoundTrip({});
  RoundTrip({0});
  RoundTrip({42});
  RoundTrip(std::vector<uint64_t>(64, 7));                     // all equal: width 0
  RoundTrip({0, ~uint64_t{0}});                                // max delta: width 64
  RoundTrip({1, ~uint64_t{0}});                                // width 64 with base 1
  RoundTrip({~uint64_t{0}, ~uint64_t{0} - 1});
  std::vector<uint64_t> v64(64);
  for (size_t i = 0; i < 64; ++i) v64[i] = i;
  RoundTrip(v64);
}

TEST(BitPackTest, AllAllWidthsAndLengths) {
  std::mt19937_64 rng(1);
  for (int width = 0; width <= 64; ++width) {
    for (size_t n : {1, 2, 7, 8, 9, 63, 64, 65, 100, 1000}) {
      std::vector<uint64_t> values(n);
      const uint64_t mask = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
      const uint64_t base = rng() >> 8;
      for (auto& x : values) x = base + (rng() & mask);
      if (width > 0) values[n / 2] = base + mask;  // force the full width
      SCOPED_TRACE(testing::Message() << "width " << width << " n " << n);
      RoundTrip(values);
    }
  }
}

TEST(BitPackTest, NarrowOutputTypes) {
  std::vector<uint64_t> values;
  for (uint64_t i = 0; i < 300; ++i) values.push_back(i % 13 + 1);
  std::string buf;
  PutUnsigned(values, &buf);
  const char* p = buf.data();
  PackedInts v;
  ASSERT_TRUE(PackedInts::Parse(p, buf.data() + buf.size(), values.size(), &v));
  EXPECT_EQ(v.width(), 4);
  EXPECT_EQ(v.base(), 1u);
  std::vector<uint8_t> u8(values.size());
  std::vector<uint32_t> u32(values.size());
  v.Decode(0, values.size(), u8.data());
  v.Decode(0, values.size(), u32.data());
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(u8[i], values[i]);
    ASSERT_EQ(u32[i], values[i]);
  }
}

// 32- and 8-bit outputs at every width up to 16 (the widths with a vector path), with a base that
// makes the 8-bit sums wrap: each value is the 64-bit value truncated to the output type.
TEST(BitPackTest, NarrowOutputsAtEveryWidthAndLength) {
  std::mt19937_64 rng(3);
  for (int width = 1; width <= 16; ++width) {
    for (size_t n : {1, 7, 8, 9, 31, 100, 1000}) {
      std::vector<uint64_t> values(n);
      const uint64_t base = width <= 8 ? 250 : 70000;
      for (auto& x : values) x = base + (rng() & ((uint64_t{1} << width) - 1));
      if (n > 1) values[0] = base, values[n - 1] = base + (uint64_t{1} << width) - 1;  // the full width
      std::string buf;
      PutUnsigned(values, &buf);
      const char* p = buf.data();
      PackedInts v;
      ASSERT_TRUE(PackedInts::Parse(p, buf.data() + buf.size(), n, &v));
      if (n > 1) ASSERT_EQ(v.width(), width);
      std::vector<uint32_t> u32(n);
      std::vector<uint8_t> u8(n);
      v.Decode(0, n, u32.data());
      v.Decode(0, n, u8.data());
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(u32[i], static_cast<uint32_t>(values[i])) << "width " << width << " n " << n << " i " << i;
        ASSERT_EQ(u8[i], static_cast<uint8_t>(values[i])) << "width " << width << " n " << n << " i " << i;
      }
    }
  }
}

TEST(BitPackTest, SignedUsesSignedMinimum) {
  const std::vector<int64_t> values = {std::numeric_limits<int64_t>::min(), -1, 0, 5,
                                       std::numeric_limits<int64_t>::max()};
  std::string buf;
  PutSigned(values, &buf);
  const char* p = buf.data();
  PackedInts v;
  ASSERT_TRUE(PackedInts::Parse(p, buf.data() + buf.size(), values.size(), &v));
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(static_cast<int64_t>(v.Get(i)), values[i]);
  // Small negative ranges stay narrow.
  buf.clear();
  PutSigned(std::vector<int64_t>{-1000, -999, -998}, &buf);
  p = buf.data();
  ASSERT_TRUE(PackedInts::Parse(p, buf.data() + buf.size(), 3, &v));
  EXPECT_EQ(v.width(), 2);
  EXPECT_EQ(static_cast<int64_t>(v.Get(2)), -998);
}

TEST(BitPackTest, ParseRejectsTruncationAndBadWidth) {
  std::vector<uint64_t> values(100);
  for (size_t i = 0; i < values.size(); ++i) values[i] = i * 3;
  std::string buf;
  PutUnsigned(values, &buf);
  for (size_t len = 0; len < buf.size(); ++len) {
    const char* p = buf.data();
    PackedInts v;
    EXPECT_FALSE(PackedInts::Parse(p, buf.data() + len, values.size(), &v)) << "length " << len;
  }
  buf[0] = 65;
  const char* p = buf.data();
  PackedInts v;
  EXPECT_FALSE(PackedInts::Parse(p, buf.data() + buf.size(), values.size(), &v));
}

}  // namespace
}  // namespace cairn::store::bitpack
