#pragma once
// Calendar arithmetic for UTC instants in milliseconds since the Unix epoch: the proleptic
// Gregorian calendar (Howard Hinnant's days_from_civil / civil_from_days, exact over the whole
// range ingest accepts and far beyond) and the one ISO-8601 text form Cairn writes. Header-only
// so that tools outside the libraries (bench/gen_events) print the very same text.

#include <cstddef>
#include <cstdint>
#include <string>

namespace cairn {

inline constexpr int64_t kMsPerDay = 86'400'000;

// a / b rounded toward negative infinity (b > 0): the day of an instant before 1970 is the day
// before, not day 0.
constexpr int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days since 1970-01-01 of the date y-m-d (m 1..12, d 1..31; not validated).
constexpr int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// The date of day `days` since 1970-01-01.
constexpr void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d) {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

inline constexpr size_t kIsoMillisSize = 24;

// Writes `ms` as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out[0..24). Years 0000..9999 — the range ingest
// accepts (ingest/timestamp.h kMinTimeMs..kMaxTimeMs); outside it the year is printed modulo
// 10000, never out of bounds. No locale, no allocation.
inline void WriteIsoMillis(char* out, int64_t ms) {
  const int64_t days = FloorDiv(ms, kMsPerDay);
  const auto in_day = static_cast<unsigned>(ms - days * kMsPerDay);
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  const auto year = static_cast<unsigned>(((y % 10000) + 10000) % 10000);
  const unsigned secs = in_day / 1000, milli = in_day % 1000;
  auto two = [](char* p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  two(out, year / 100);
  two(out + 2, year % 100);
  out[4] = '-';
  two(out + 5, m);
  out[7] = '-';
  two(out + 8, d);
  out[10] = 'T';
  two(out + 11, secs / 3600);
  out[13] = ':';
  two(out + 14, secs / 60 % 60);
  out[16] = ':';
  two(out + 17, secs % 60);
  out[19] = '.';
  out[20] = static_cast<char>('0' + milli / 100);
  two(out + 21, milli % 100);
  out[23] = 'Z';
}

inline void AppendIsoMillis(std::string* out, int64_t ms) {
  const size_t at = out->size();
  out->resize(at + kIsoMillisSize);
  WriteIsoMillis(out->data() + at, ms);
}

inline std::string FormatIsoMillis(int64_t ms) {
  std::string s;
  AppendIsoMillis(&s, ms);
  return s;
}

}  // namespace cairn
