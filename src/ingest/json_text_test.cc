#include "ingest/json_text.h"

#include <gtest/gtest.h>

namespace cairn::ingest::json_text {
namespace {

TEST(JsonTextTest, Numbers) {
  for (std::string_view ok : {"0", "-0", "1", "-12", "1.5", "0.25", "1e5", "1E+5", "1e-05", "-0.0e0",
                              "123456789012345678901234567890"}) {
    EXPECT_TRUE(IsValidNumber(ok)) << ok;
  }
  for (std::string_view bad : {"", "-", "01", "+1", "1.", ".5", "1e", "1e+", "0x10", "1.2.3", "NaN", "Infinity", "1 "}) {
    EXPECT_FALSE(IsValidNumber(bad)) << bad;
  }
}

TEST(JsonTextTest, Escapes) {
  EXPECT_TRUE(HasValidEscapes(R"(plain)"));
  EXPECT_TRUE(HasValidEscapes(R"(\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00)"));
  EXPECT_TRUE(HasValidEscapes(R"(\ud800)"));  // lone surrogate: accepted, replaced on unescape
  EXPECT_FALSE(HasValidEscapes(R"(\x)"));
  EXPECT_FALSE(HasValidEscapes(R"(\u12)"));
  EXPECT_FALSE(HasValidEscapes(R"(\u12G4)"));
  EXPECT_FALSE(HasValidEscapes("\\"));
}

TEST(JsonTextTest, Unescape) {
  std::string out;
  UnescapeString(R"(a\"b\\c\/d\n\u00e9\ud83d\ude00)", &out);
  EXPECT_EQ(out, "a\"b\\c/d\n\xC3\xA9\xF0\x9F\x98\x80");
  out.clear();
  UnescapeString(R"(\ud83dx\ude00)", &out);
  EXPECT_EQ(out, "\xEF\xBF\xBDx\xEF\xBF\xBD");
  out.clear();
  UnescapeString(R"(\u0000)", &out);
  EXPECT_EQ(out, std::string(1, '\0'));
}

TEST(JsonTextTest, FindStringEnd) {
  bool escaped = true;
  std::string plain = R"(abc"tail)";
  EXPECT_EQ(FindStringEnd(plain.data(), plain.data() + plain.size(), &escaped), plain.data() + 3);
  EXPECT_FALSE(escaped);
  std::string s = R"(ab\"c\\"tail)";
  const char* end = FindStringEnd(s.data(), s.data() + s.size(), &escaped);
  ASSERT_NE(end, nullptr);
  EXPECT_EQ(end - s.data(), 7);
  EXPECT_TRUE(escaped);
  std::string open = R"(abc\")";
  EXPECT_EQ(FindStringEnd(open.data(), open.data() + open.size(), &escaped), nullptr);
}

TEST(JsonTextTest, FirstInvalidUtf8) {
  EXPECT_EQ(FirstInvalidUtf8("ascii"), 5u);
  EXPECT_EQ(FirstInvalidUtf8("caf\xC3\xA9"), 5u);
  EXPECT_EQ(FirstInvalidUtf8("caf\xC3"), 3u);           // truncated sequence
  EXPECT_EQ(FirstInvalidUtf8("a\xC0\x80"), 1u);         // overlong
  EXPECT_EQ(FirstInvalidUtf8("ab\xED\xA0\x80"), 2u);    // surrogate
  EXPECT_EQ(FirstInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // > U+10FFFF
  EXPECT_EQ(FirstInvalidUtf8("\xF0\x9F\x98\x80!"), 5u);
}

}  // namespace
}  // namespace cairn::ingest::json_text
