#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <string>

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

TEST(Crc32cTest, Mask) {
  uint32_t crc = Value("foo");
  EXPECT_NE(crc, Mask(crc));
  EXPECT_NE(crc, Mask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Mask(crc)));
}

}  // namespace
}  // namespace cairn::crc32c
