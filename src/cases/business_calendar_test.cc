// SLA clock golden cases: business hours across weekends, holidays, time zones and DST, and the
// closing-instant boundary. Expected instants are worked out by hand in the comments.
#include "cases/business_calendar.h"

#include <gtest/gtest.h>

#include <chrono>

namespace cairn::cases {
namespace {

constexpr int64_t kMin = 60 * 1000, kHour = 60 * kMin;

// UTC ms of a civil UTC time.
int64_t Utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
  using namespace std::chrono;
  sys_days dd = year(y) / month(mo) / std::chrono::day(d);
  return duration_cast<milliseconds>(dd.time_since_epoch()).count() + h * kHour + mi * kMin;
}

std::shared_ptr<const BusinessCalendar> Weekdays(const std::string& tz, std::vector<std::string> holidays = {}) {
  CalendarSpec spec;
  spec.name = "office";
  spec.timezone = tz;
  for (int d = 0; d < 5; ++d) spec.hours[d] = {{9 * 60, 17 * 60}};
  spec.holidays = std::move(holidays);
  auto cal = BusinessCalendar::Create(spec);
  EXPECT_TRUE(cal.ok()) << cal.status().ToString();
  return *cal;
}

TEST(BusinessCalendar, AcrossTheWeekend) {
  auto cal = Weekdays("Europe/Berlin");
  // Fri 2026-01-09 16:00 CET (15:00Z) + 2 business hours: 1 h on Friday, 1 h on Monday →
  // Mon 2026-01-12 10:00 CET = 09:00Z.
  EXPECT_EQ(cal->AddBusiness(Utc(2026, 1, 9, 15), 2 * kHour), Utc(2026, 1, 12, 9));
  EXPECT_EQ(cal->BusinessBetween(Utc(2026, 1, 9, 15), Utc(2026, 1, 12, 9)), 2 * kHour);
  // Saturday start: the clock starts Monday 09:00 CET (08:00Z).
  EXPECT_EQ(cal->AddBusiness(Utc(2026, 1, 10, 12), 30 * kMin), Utc(2026, 1, 12, 8, 30));
}

TEST(BusinessCalendar, DeadlineOnTheClosingInstant) {
  auto cal = Weekdays("Europe/Berlin");
  // Mon 2026-01-12 09:00 CET + 8 h = 17:00 CET the same day (16:00Z), not Tuesday's opening.
  EXPECT_EQ(cal->AddBusiness(Utc(2026, 1, 12, 8), 8 * kHour), Utc(2026, 1, 12, 16));
  // One more millisecond is Tuesday 09:00:00.001 CET.
  EXPECT_EQ(cal->AddBusiness(Utc(2026, 1, 12, 8), 8 * kHour + 1), Utc(2026, 1, 13, 8) + 1);
  EXPECT_EQ(cal->AddBusiness(Utc(2026, 1, 12, 8), 0), Utc(2026, 1, 12, 8));
}

TEST(BusinessCalendar, Holidays) {
  // Christmas Day 2026 is a Friday.
  auto cal = Weekdays("Europe/Berlin", {"2026-12-25"});
  // Thu 2026-12-24 16:00 CET (15:00Z) + 2 h: 1 h Thursday, Friday closed, 1 h Monday 12-28 →
  // 10:00 CET = 09:00Z.
  EXPECT_EQ(cal->AddBusiness(Utc(2026, 12, 24, 15), 2 * kHour), Utc(2026, 12, 28, 9));
  EXPECT_EQ(cal->BusinessBetween(Utc(2026, 12, 24, 0), Utc(2026, 12, 29, 0)), 16 * kHour);
}

TEST(BusinessCalendar, TimeZones) {
  auto ny = Weekdays("America/New_York");
  // Mon 2026-01-05 15:00 EST (20:00Z) + 4 h: 2 h Monday, 2 h Tuesday → Tue 11:00 EST = 16:00Z.
  EXPECT_EQ(ny->AddBusiness(Utc(2026, 1, 5, 20), 4 * kHour), Utc(2026, 1, 6, 16));
  auto tokyo = Weekdays("Asia/Tokyo");
  // The same instant is Tue 05:00 JST: Tokyo opens 09:00 JST (00:00Z) → due 04:00Z.
  EXPECT_EQ(tokyo->AddBusiness(Utc(2026, 1, 5, 20), 4 * kHour), Utc(2026, 1, 6, 4));
}

TEST(BusinessCalendar, DaylightSavingTransitions) {
  CalendarSpec spec;
  spec.name = "always_berlin";
  spec.timezone = "Europe/Berlin";
  for (auto& d : spec.hours) d = {{0, 24 * 60}};
  auto cal = BusinessCalendar::Create(spec);
  ASSERT_TRUE(cal.ok());
  // 2026-03-29 (spring forward) is a 23-hour local day: Sun 00:00 CET (Sat 23:00Z) to
  // Mon 00:00 CEST (Sun 22:00Z).
  EXPECT_EQ((*cal)->BusinessBetween(Utc(2026, 3, 28, 23), Utc(2026, 3, 29, 22)), 23 * kHour);
  // Business hours 09:00-17:00 stay 8 h on the Monday after: 07:00Z..15:00Z in CEST.
  auto office = Weekdays("Europe/Berlin");
  EXPECT_EQ(office->AddBusiness(Utc(2026, 3, 30, 7), 8 * kHour), Utc(2026, 3, 30, 15));
  // 2026-10-25 (fall back): the Monday after is back to CET: 08:00Z..16:00Z.
  EXPECT_EQ(office->AddBusiness(Utc(2026, 10, 24, 12), 1 * kHour), Utc(2026, 10, 26, 9));
}

TEST(BusinessCalendar, Always) {
  auto cal = BusinessCalendar::Always();
  EXPECT_EQ(cal->AddBusiness(1000, 5000), 6000);
  EXPECT_EQ(cal->BusinessBetween(1000, 6000), 5000);
  EXPECT_EQ(cal->BusinessBetween(6000, 1000), 0);
}

TEST(BusinessCalendar, RejectsBadSpecsNamingTheField) {
  CalendarSpec spec;
  spec.timezone = "Mars/Olympus";
  spec.hours[0] = {{540, 1020}};
  auto r = BusinessCalendar::Create(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("timezone"), std::string_view::npos);
  spec.timezone = "UTC";
  spec.holidays = {"2026-02-30"};
  r = BusinessCalendar::Create(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("holidays"), std::string_view::npos);
  spec.holidays.clear();
  spec.hours[0].clear();
  r = BusinessCalendar::Create(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("hours"), std::string_view::npos);
  EXPECT_FALSE(ParseInterval("17:00-09:00", "hours.mon").ok());
  EXPECT_FALSE(ParseInterval("9-5", "hours.mon").ok());
  auto iv = ParseInterval("09:30-24:00", "hours.mon");
  ASSERT_TRUE(iv.ok());
  EXPECT_EQ(iv->first, 570);
  EXPECT_EQ(iv->second, 1440);
}

}  // namespace
}  // namespace cairn::cases
