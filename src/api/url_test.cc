#include "api/url.h"

#include <gtest/gtest.h>

namespace cairn::api {
namespace {

TEST(UrlTest, PercentDecode) {
  EXPECT_EQ(*PercentDecode("user%40example.com"), "user@example.com");
  EXPECT_EQ(*PercentDecode("a%2Fb%2fc"), "a/b/c");
  EXPECT_EQ(*PercentDecode("a+b"), "a+b");
  EXPECT_EQ(*PercentDecode("a+b", true), "a b");
  EXPECT_EQ(*PercentDecode("%E2%82%AC"), "\xE2\x82\xAC");
  EXPECT_FALSE(PercentDecode("%").ok());
  EXPECT_FALSE(PercentDecode("%4").ok());
  EXPECT_FALSE(PercentDecode("%zz").ok());
}

TEST(UrlTest, Query) {
  auto q = ParseQuery("limit=10&before=2026-01-01T00%3A00%3A00Z&&flag&x=a+b");
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 4u);
  EXPECT_EQ((*q)[1].second, "2026-01-01T00:00:00Z");
  EXPECT_EQ((*q)[2].first, "flag");
  EXPECT_EQ((*q)[2].second, "");
  EXPECT_EQ((*q)[3].second, "a b");
  EXPECT_EQ(**QueryParam("a=1&limit=5&limit=6", "limit"), "5");
  EXPECT_FALSE(QueryParam("a=1", "limit")->has_value());
  auto bad = QueryParam("limit=%g0", "limit");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("limit"), std::string_view::npos);
}

TEST(ParsePositiveId, AcceptsOnlyWholePositiveIntegers) {
  EXPECT_EQ(ParsePositiveId("id", "42").value(), 42);
  for (std::string_view bad : {"0", "-3", "4x", "", " 7", "99999999999999999999"}) {
    auto r = ParsePositiveId("id", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("id: must be a positive integer"), std::string_view::npos) << bad;
  }
}

}  // namespace
}  // namespace cairn::api
