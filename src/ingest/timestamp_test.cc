#include "ingest/timestamp.h"

#include <gtest/gtest.h>

namespace cairn::ingest {
namespace {

int64_t P(std::string_view s) {
  int64_t ms = -1;
  EXPECT_TRUE(ParseIso8601Ms(s, &ms)) << s;
  return ms;
}

bool Rejects(std::string_view s) {
  int64_t ms;
  return !ParseIso8601Ms(s, &ms);
}

TEST(TimestampTest, Iso8601Forms) {
  EXPECT_EQ(P("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(P("2024-05-01T12:00:00.000Z"), 1714564800000);
  EXPECT_EQ(P("2024-05-01T12:00:00Z"), 1714564800000);
  EXPECT_EQ(P("2024-05-01T12:00Z"), 1714564800000);
  EXPECT_EQ(P("2024-05-01T12:00:00.5Z"), 1714564800500);
  EXPECT_EQ(P("2024-05-01T12:00:00.123456789Z"), 1714564800123);  // truncated, not rounded
  EXPECT_EQ(P("2024-05-01t12:00:00.000z"), 1714564800000);
  EXPECT_EQ(P("2024-05-01 12:00:00.000Z"), 1714564800000);
  EXPECT_EQ(P("2024-05-01T14:00:00.000+02:00"), 1714564800000);
  EXPECT_EQ(P("2024-05-01T14:00:00+0200"), 1714564800000);
  EXPECT_EQ(P("2024-05-01T14:00:00+02"), 1714564800000);
  EXPECT_EQ(P("2024-05-01T06:30:00-05:30"), 1714564800000);
  EXPECT_EQ(P("2024-05-01T12:00:00,250Z"), 1714564800250);
  EXPECT_EQ(P("2024-05-01T12:00:00"), 1714564800000);  // no zone: UTC
  EXPECT_EQ(P("2024-05-01"), 1714521600000);
  EXPECT_EQ(P("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_EQ(P("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(P("0000-01-01T00:00:00Z"), kMinTimeMs);
  EXPECT_EQ(P("9999-12-31T23:59:59.999Z"), kMaxTimeMs);
}

TEST(TimestampTest, Rejects) {
  for (std::string_view s : {"", "yesterday", "2024", "2024-05", "2024-13-01", "2024-00-10", "2023-02-29",
                             "2024-04-31", "2024-05-01T24:00:00Z", "2024-05-01T12:60:00Z", "2024-05-01T12:00:61Z",
                             "2024-05-01T12:00:00.Z", "2024-05-01T12:00:00ZZ", "2024-05-01T12:00:00+2", "2024-05-01X12:00",
                             "2024-05-01T12", "2024-05-01T12:00:00 Z", "+2024-05-01", "2024-05-01T12:00:00+02:0",
                             "2024-05-01T12:00:00+25:00", "1714564800000"}) {
    EXPECT_TRUE(Rejects(s)) << s;
  }
}

TEST(TimestampTest, FormatRoundTrips) {
  char buf[32];
  for (int64_t ms : {int64_t{0}, int64_t{-1}, int64_t{1714564800123}, kMinTimeMs, kMaxTimeMs, int64_t{951782400000}}) {
    std::string_view s = FormatIso8601Ms(ms, buf);
    EXPECT_EQ(P(s), ms) << s;
  }
  EXPECT_EQ(FormatIso8601Ms(1714564800123, buf), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(FormatIso8601Ms(-1, buf), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace cairn::ingest
