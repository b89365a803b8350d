#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace cairn::crc32c {
namespace {

// Test vectors from RFC 3720 section B.4.
TEST(Crc32cTest, StandardResults) {
  std::string buf(32, '\0');
  EXPECT_EQ(Value(buf.data(), buf.size()), 0x8a9136aau);
  buf.assign(32, '\xff');
  EXPECT_EQ(Value(buf.data(), buf.size()), 0x62a8ab43u);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(i);
  EXPECT_EQ(Value(buf.data(), buf.size()), 0x46dd794eu);
  EXPECT_EQ(Value("123456789"), 0xe3069283u);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string s = "hello world, this string is longer than eight bytes";
  for (size_t cut = 0; cut <= s.size(); ++cut)
    EXPECT_EQ(Extend(Value(s.data(), cut), s.data() + cut, s.size() - cut), Value(s));
}

// The definition, one bit at a time: the reference for the fast paths.
uint32_t BitwiseCrc32c(const std::string& s) {
  uint32_t c = ~0u;
  for (unsigned char byte : s) {
    c ^= byte;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
  }
  return ~c;
}

// Every length to 64 and lengths around multiples of 256 and 8192 bytes (where block-wise
// implementations switch loops), at every alignment, and extending across those boundaries.
TEST(Crc32cTest, EqualsTheBitwiseDefinitionAtEveryLengthAndAlignment) {
  std::mt19937_64 rng(7);
  std::string data(3 * 8192 * 2 + 3 * 256 * 3 + 64, '\0');
  for (char& ch : data) ch = static_cast<char>(rng());
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 64; ++n) lengths.push_back(n);
  for (size_t base : {size_t{3 * 256}, size_t{2 * 3 * 256}, size_t{3 * 8192}, size_t{2 * 3 * 8192}, size_t{3 * 8192 + 3 * 256}})
    for (size_t d = 0; d <= 9; ++d) {
      lengths.push_back(base + d);
      lengths.push_back(base - d);
    }
  for (int i = 0; i < 40; ++i) lengths.push_back(rng() % (data.size() - 8));
  for (size_t n : lengths)
    for (size_t offset = 0; offset < 8; ++offset) {
      const std::string s = data.substr(offset, n);
      ASSERT_EQ(Value(data.data() + offset, n), BitwiseCrc32c(s)) << "length " << n << " offset " << offset;
    }
  const std::string whole = data.substr(0, 3 * 8192 + 1000);
  for (size_t cut : {size_t{1}, size_t{255}, size_t{3 * 256 + 1}, size_t{8191}, size_t{3 * 8192 - 1}})
    EXPECT_EQ(Extend(Value(whole.data(), cut), whole.data() + cut, whole.size() - cut), BitwiseCrc32c(whole)) << cut;
}

TEST(Crc32cTest, Mask) {
  uint32_t crc = Value("foo");
  EXPECT_NE(crc, Mask(crc));
  EXPECT_NE(crc, Mask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Mask(crc)));
}

}  // namespace
}  // namespace cairn::crc32c
