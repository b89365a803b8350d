#include <cstdint>
#include <string>

#include "sim/json_line.h"

namespace cairn::sim {
namespace {

void Two(std::string* out, int v) {
  out->push_back(static_cast<char>('0' + v / 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

}  // namespace

void AppendIsoTime(std::string* out, int64_t ms) {
  int64_t days = ms >= 0 ? ms / 86'400'000 : (ms - 86'399'999) / 86'400'000;
  int64_t rem = ms - days * 86'400'000;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  if (m <= 2) ++y;
  int year = static_cast<int>(y);
  Two(out, year / 100);
  Two(out, year % 100);
  out->push_back('-');
  Two(out, m);
  out->push_back('-');
  Two(out, d);
  out->push_back('T');
  int secs = static_cast<int>(rem / 1000);
  Two(out, secs / 3600);
  out->push_back(':');
  Two(out, secs / 60 % 60);
  out->push_back(':');
  Two(out, secs % 60);
  out->push_back('.');
  int milli = static_cast<int>(rem % 1000);
  out->push_back(static_cast<char>('0' + milli / 100));
  Two(out, milli % 100);
  out->push_back('Z');
}

}  // namespace cairn::sim
