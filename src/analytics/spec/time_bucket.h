#pragma once
// Calendar periods in UTC for cohorts and "over time" series. Header-only, pure functions.
//   day:   floor(ts / 86 400 000)
//   week:  Monday-based UTC weeks, (day + 3) div 7 (1970-01-01 was a Thursday) — the same rule as
//          ../shared/peers/funnel_ref.py's week_of()
//   month: 12 * (year - 1970) + (month - 1) of the UTC civil date
// Period numbers are comparable within one kind; label = ISO date (YYYY-MM-DD) of its first day.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/civil_time.h"

namespace cairn::analytics {

enum class Period : uint8_t { kHour, kDay, kWeek, kMonth };

inline constexpr int64_t kHourMs = 3'600'000;
inline constexpr int64_t kDayMs = 86'400'000;

using cairn::CivilFromDays;
using cairn::DaysFromCivil;
using cairn::FloorDiv;

inline int64_t PeriodOf(int64_t ts_ms, Period p) {
  const int64_t day = FloorDiv(ts_ms, kDayMs);
  switch (p) {
    case Period::kHour: return FloorDiv(ts_ms, kHourMs);
    case Period::kDay: return day;
    case Period::kWeek: return FloorDiv(day + 3, 7);
    case Period::kMonth: {
      int64_t y;
      unsigned m, d;
      CivilFromDays(day, &y, &m, &d);
      return (y - 1970) * 12 + (m - 1);
    }
  }
  return day;
}

// First millisecond of period n.
inline int64_t PeriodStartMs(int64_t n, Period p) {
  switch (p) {
    case Period::kHour: return n * kHourMs;
    case Period::kDay: return n * kDayMs;
    case Period::kWeek: return (n * 7 - 3) * kDayMs;
    case Period::kMonth: {
      const int64_t y = 1970 + FloorDiv(n, 12);
      const unsigned m = static_cast<unsigned>(n - FloorDiv(n, 12) * 12) + 1;
      return DaysFromCivil(y, m, 1) * kDayMs;
    }
  }
  return n * kDayMs;
}

// "2026-01-05" (day/week/month) or "2026-01-05T13:00:00Z" (hour).
inline std::string PeriodLabel(int64_t n, Period p) {
  char iso[kIsoMillisSize];
  WriteIsoMillis(iso, PeriodStartMs(n, p));
  return p == Period::kHour ? std::string(iso, 13) + ":00:00Z" : std::string(iso, 10);
}

inline const char* PeriodName(Period p) {
  switch (p) {
    case Period::kHour: return "hour";
    case Period::kDay: return "day";
    case Period::kWeek: return "week";
    case Period::kMonth: return "month";
  }
  return "day";
}
inline bool ParsePeriod(std::string_view s, Period* out) {
  if (s == "hour") *out = Period::kHour;
  else if (s == "day") *out = Period::kDay;
  else if (s == "week") *out = Period::kWeek;
  else if (s == "month") *out = Period::kMonth;
  else return false;
  return true;
}

}  // namespace cairn::analytics
