#include "base/civil_time.h"

#include <gtest/gtest.h>

#include <ctime>

namespace cairn {
namespace {

TEST(CivilTime, FormatsKnownInstants) {
  EXPECT_EQ(FormatIsoMillis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIsoMillis(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIsoMillis(951782400000 + 45296789), "2000-02-29T12:34:56.789Z");  // a leap day
  EXPECT_EQ(FormatIsoMillis(-62167219200000), "0000-01-01T00:00:00.000Z");          // ingest's earliest
  EXPECT_EQ(FormatIsoMillis(253402300799999), "9999-12-31T23:59:59.999Z");          // ingest's latest
}

// Every day from 1600 to 2400 round-trips and agrees with the C library's timegm/gmtime_r.
TEST(CivilTime, AgreesWithTheCLibraryOnEveryDayOfEightCenturies) {
  const int64_t first = DaysFromCivil(1600, 1, 1), last = DaysFromCivil(2400, 12, 31);
  for (int64_t day = first; day <= last; ++day) {
    int64_t y;
    unsigned m, d;
    CivilFromDays(day, &y, &m, &d);
    ASSERT_EQ(DaysFromCivil(y, m, d), day);
    const std::time_t t = static_cast<std::time_t>(day * 86400 + 3723);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&t, &tm), nullptr);
    ASSERT_EQ(y, tm.tm_year + 1900) << day;
    ASSERT_EQ(m, static_cast<unsigned>(tm.tm_mon + 1)) << day;
    ASSERT_EQ(d, static_cast<unsigned>(tm.tm_mday)) << day;
    char want[32];
    std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S.042Z", &tm);
    ASSERT_EQ(FormatIsoMillis(day * kMsPerDay + 3723042), want);
  }
}

TEST(CivilTime, FloorDivRoundsTowardNegativeInfinity) {
  EXPECT_EQ(FloorDiv(-1, kMsPerDay), -1);
  EXPECT_EQ(FloorDiv(-kMsPerDay, kMsPerDay), -1);
  EXPECT_EQ(FloorDiv(-kMsPerDay - 1, kMsPerDay), -2);
  EXPECT_EQ(FloorDiv(kMsPerDay - 1, kMsPerDay), 0);
}

}  // namespace
}  // namespace cairn
