#pragma once
// Calendar periods in UTC for cohorts and "over time" series. Header-only, pure functions.
//   day:   floor(ts / 86 400 000)
//   week:  Monday-based UTC weeks, (day + 3) div 7 (1970-01-01 was a Thursday) — the same rule as
//          ../shared/peers/funnel_ref.py's week_of()
//   month: 12 * (year - 1970) + (month - 1) of the UTC civil date
// Period numbers are comparable within one kind; label = ISO date (YYYY-MM-DD) of its first day.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace cairn::analytics {

enum class Period : uint8_t { kHour, kDay, kWeek, kMonth };

inline constexpr int64_t kHourMs = 3'600'000;
inline constexpr int64_t kDayMs = 86'400'000;

inline int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, UTC).
inline int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
inline void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

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
  const int64_t ms = PeriodStartMs(n, p);
  int64_t y;
  unsigned m, d;
  CivilFromDays(FloorDiv(ms, kDayMs), &y, &m, &d);
  char buf[40];
  if (p == Period::kHour) {
    const int64_t h = FloorDiv(ms, kHourMs) - FloorDiv(ms, kDayMs) * 24;
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:00:00Z", static_cast<long long>(y), m, d,
                  static_cast<long long>(h));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  }
  return buf;
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
