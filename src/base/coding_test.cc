#include "base/coding.h"

#include <gtest/gtest.h>

#include <limits>

namespace cairn {
namespace {

TEST(CodingTest, VarintRoundTripAndBoundaries) {
  std::string s;
  std::vector<uint64_t> values = {0, 1, 127, 128, 16383, 16384, (1ull << 32) - 1, 1ull << 32,
                                  std::numeric_limits<uint64_t>::max()};
  for (uint64_t v : values) PutVarint64(&s, v);
  const char* p = s.data();
  const char* limit = s.data() + s.size();
  for (uint64_t v : values) {
    uint64_t got;
    ASSERT_TRUE(GetVarint64(p, limit, &got));
    EXPECT_EQ(got, v);
  }
  EXPECT_EQ(p, limit);
}

TEST(CodingTest, TruncatedAndOverlongVarintsFail) {
  std::string s;
  PutVarint64(&s, std::numeric_limits<uint64_t>::max());
  for (size_t n = 0; n < s.size(); ++n) {
    const char* p = s.data();
    uint64_t v;
    EXPECT_FALSE(GetVarint64(p, s.data() + n, &v)) << n;
  }
  std::string overlong(11, '\x80');
  const char* p = overlong.data();
  uint64_t v;
  EXPECT_FALSE(GetVarint64(p, overlong.data() + overlong.size(), &v));
}

TEST(CodingTest, ZigZagAndFixed) {
  for (int64_t v : std::initializer_list<int64_t>{0, -1, 1, -64, 63, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()})
    EXPECT_EQ(UnZigZag(ZigZag(v)), v);
  EXPECT_EQ(ZigZag(-1), 1u);
  std::string s;
  PutFixed32(&s, 0x01020304);
  PutFixed64(&s, 0x0102030405060708ull);
  EXPECT_EQ(s[0], '\x04');
  EXPECT_EQ(DecodeFixed32(s.data()), 0x01020304u);
  EXPECT_EQ(DecodeFixed64(s.data() + 4), 0x0102030405060708ull);
}

TEST(CodingTest, LengthPrefixedRejectsShortInput) {
  std::string s;
  PutLengthPrefixed(&s, "abcdef");
  std::string_view out;
  const char* p = s.data();
  ASSERT_TRUE(GetLengthPrefixed(p, s.data() + s.size(), &out));
  EXPECT_EQ(out, "abcdef");
  p = s.data();
  EXPECT_FALSE(GetLengthPrefixed(p, s.data() + s.size() - 1, &out));
}

}  // namespace
}  // namespace cairn
