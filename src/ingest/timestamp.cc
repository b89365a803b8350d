#include "ingest/timestamp.h"

#include <cstdio>

namespace cairn::ingest {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

// Howard Hinnant's days_from_civil.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ParseIso8601Ms(std::string_view s, int64_t* ms) {
  int year, month, day;
  if (!Digits(s, 0, 4, &year) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return false;
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  if (s.size() == 10) {
    *ms = days * 86400000;
    return true;
  }
  size_t i = 10;
  if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return false;
  ++i;
  int hour, minute, second = 0, millis = 0;
  if (!Digits(s, i, 2, &hour) || i + 2 >= s.size() || s[i + 2] != ':' || !Digits(s, i + 3, 2, &minute)) {
    return false;
  }
  i += 5;
  if (hour > 23 || minute > 59) return false;
  if (i < s.size() && s[i] == ':') {
    if (!Digits(s, i + 1, 2, &second) || second > 60) return false;
    i += 3;
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      ++i;
      size_t start = i;
      int scale = 100;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        millis += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
      if (i == start) return false;
    }
  }
  int64_t offset_minutes = 0;
  if (i < s.size()) {
    char z = s[i];
    if (z == 'Z' || z == 'z') {
      ++i;
    } else if (z == '+' || z == '-') {
      int oh, om = 0;
      if (!Digits(s, i + 1, 2, &oh)) return false;
      i += 3;
      if (i < s.size()) {
        if (s[i] == ':') ++i;
        if (!Digits(s, i, 2, &om)) return false;
        i += 2;
      }
      if (oh > 23 || om > 59) return false;
      offset_minutes = (oh * 60 + om) * (z == '-' ? -1 : 1);
    } else {
      return false;
    }
  }
  if (i != s.size()) return false;
  int64_t t = ((days * 24 + hour) * 60 + minute - offset_minutes) * 60 + second;
  *ms = t * 1000 + millis;
  return true;
}

std::string_view FormatIso8601Ms(int64_t ms, char (&buf)[32]) {
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t rem = ms - days * 86400000;
  // civil_from_days
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                        static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600000),
                        static_cast<long long>(rem / 60000 % 60), static_cast<long long>(rem / 1000 % 60),
                        static_cast<long long>(rem % 1000));
  return std::string_view(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

}  // namespace cairn::ingest
