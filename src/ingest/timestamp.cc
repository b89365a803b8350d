#include "ingest/timestamp.h"

#include "base/civil_time.h"

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
  WriteIsoMillis(buf, ms);
  return std::string_view(buf, kIsoMillisSize);
}

}  // namespace cairn::ingest
