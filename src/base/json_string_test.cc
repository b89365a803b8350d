#include "base/json_string.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

std::string Quote(std::string_view s) {
  std::string out = "x";  // appends, never overwrites
  AppendJsonString(&out, s);
  return out;
}

TEST(JsonString, EscapesWhatJsonRequires) {
  EXPECT_EQ(Quote(""), R"(x"")");
  EXPECT_EQ(Quote("plain"), R"(x"plain")");
  EXPECT_EQ(Quote("a\"b\\c"), R"(x"a\"b\\c")");
  EXPECT_EQ(Quote("\n\r\t\b\f"), R"(x"\n\r\t\b\f")");
  EXPECT_EQ(Quote(std::string_view("\x00\x01\x1f", 3)), R"(x"\u0000\u0001\u001f")");
  EXPECT_EQ(Quote("/<>'\x7f"), "x\"/<>'\x7f\"");  // nothing else is escaped
}

TEST(JsonString, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(Quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "x\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(Quote("a\xff" "b"), R"(x"a\ufffdb")");                  // not a lead byte
  EXPECT_EQ(Quote("\xc3"), R"(x"\ufffd")");                        // truncated sequence
  EXPECT_EQ(Quote("\xc0\xaf"), R"(x"\ufffd\ufffd")");              // overlong '/'
  EXPECT_EQ(Quote("\xed\xa0\x80"), R"(x"\ufffd\ufffd\ufffd")");    // a UTF-16 surrogate
  EXPECT_EQ(Quote("\xf4\x90\x80\x80"), R"(x"\ufffd\ufffd\ufffd\ufffd")");  // above U+10FFFF
}

}  // namespace
}  // namespace cairn
