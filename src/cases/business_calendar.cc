#include "cases/business_calendar.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <charconv>
#include <chrono>

namespace cairn::cases {
namespace {

using Ms = std::chrono::milliseconds;

// Ten years of days: beyond that a calendar is treated as having no more hours (protects against
// loops on pathological calendars; Create() already rejects calendars without any hours).
constexpr int kHorizonDays = 3660;

bool ParseHhMm(std::string_view s, int* minutes) {
  if (s.size() != 5 || s[2] != ':') return false;
  int h = 0, m = 0;
  auto r1 = std::from_chars(s.data(), s.data() + 2, h);
  auto r2 = std::from_chars(s.data() + 3, s.data() + 5, m);
  if (r1.ec != std::errc() || r1.ptr != s.data() + 2 || r2.ec != std::errc() || r2.ptr != s.data() + 5) return false;
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return false;
  *minutes = h * 60 + m;
  return true;
}

// Local wall time (days since epoch + minutes) → UTC ms. Times in a DST gap map to the first
// valid instant after the gap; ambiguous times (fall back) take the earlier instant.
int64_t LocalToUtc(const date::time_zone* zone, int day, int minutes) {
  auto local = date::local_days(date::days(day)) + std::chrono::minutes(minutes);
  auto info = zone->get_info(local);
  std::chrono::sys_seconds sys;
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:
      sys = std::chrono::sys_seconds((local - info.first.offset).time_since_epoch());
      break;
    case date::local_info::nonexistent:
      sys = info.first.end;  // the transition instant: first valid time after the gap
      break;
  }
  return std::chrono::duration_cast<Ms>(sys.time_since_epoch()).count();
}

int LocalDay(const date::time_zone* zone, int64_t utc_ms) {
  auto sys = std::chrono::sys_time<Ms>(Ms(utc_ms));
  auto local = zone->to_local(sys);
  return static_cast<int>(date::floor<date::days>(local).time_since_epoch().count());
}

}  // namespace

Result<std::pair<int, int>> ParseInterval(std::string_view text, std::string_view field) {
  size_t dash = text.find('-');
  int a = 0, b = 0;
  if (dash == std::string_view::npos || !ParseHhMm(text.substr(0, dash), &a) || !ParseHhMm(text.substr(dash + 1), &b))
    return InvalidArgument(fmt::format("{}: '{}' is not an interval HH:MM-HH:MM", field, text));
  if (b <= a) return InvalidArgument(fmt::format("{}: '{}' ends before it starts", field, text));
  return std::make_pair(a, b);
}

std::string FormatInterval(std::pair<int, int> iv) {
  return fmt::format("{:02}:{:02}-{:02}:{:02}", iv.first / 60, iv.first % 60, iv.second / 60, iv.second % 60);
}

Result<std::shared_ptr<const BusinessCalendar>> BusinessCalendar::Create(const CalendarSpec& spec) {
  std::shared_ptr<BusinessCalendar> cal(new BusinessCalendar());
  cal->spec_ = spec;
  try {
    cal->zone_ = date::locate_zone(spec.timezone);
  } catch (const std::exception&) {
    return InvalidArgument(fmt::format("timezone: unknown time zone '{}'", spec.timezone));
  }
  static constexpr const char* kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  bool any = false;
  for (int d = 0; d < 7; ++d) {
    auto& list = cal->spec_.hours[d];
    std::sort(list.begin(), list.end());
    for (size_t i = 0; i < list.size(); ++i) {
      auto [a, b] = list[i];
      if (a < 0 || b > 1440 || b <= a)
        return InvalidArgument(fmt::format("hours.{}: interval {} is not within a day", kDays[d], FormatInterval(list[i])));
      if (i > 0 && a < list[i - 1].second)
        return InvalidArgument(fmt::format("hours.{}: intervals overlap", kDays[d]));
      any = true;
    }
  }
  if (!any) return InvalidArgument("hours: a calendar needs at least one business interval");
  for (const std::string& h : spec.holidays) {
    int y = 0;
    unsigned m = 0, dd = 0;
    if (h.size() != 10 || h[4] != '-' || h[7] != '-' ||
        std::from_chars(h.data(), h.data() + 4, y).ec != std::errc() ||
        std::from_chars(h.data() + 5, h.data() + 7, m).ec != std::errc() ||
        std::from_chars(h.data() + 8, h.data() + 10, dd).ec != std::errc())
      return InvalidArgument(fmt::format("holidays: '{}' is not a date YYYY-MM-DD", h));
    date::year_month_day ymd{date::year(y), date::month(m), date::day(dd)};
    if (!ymd.ok()) return InvalidArgument(fmt::format("holidays: '{}' is not a valid date", h));
    cal->holidays_.insert(static_cast<int>(date::sys_days(ymd).time_since_epoch().count()));
  }
  return std::shared_ptr<const BusinessCalendar>(std::move(cal));
}

std::shared_ptr<const BusinessCalendar> BusinessCalendar::Always() {
  static const std::shared_ptr<const BusinessCalendar> always = [] {
    std::shared_ptr<BusinessCalendar> c(new BusinessCalendar());
    c->spec_.name = "24x7";
    for (auto& d : c->spec_.hours) d = {{0, 1440}};
    return std::shared_ptr<const BusinessCalendar>(std::move(c));
  }();
  return always;
}

template <typename Fn>
void BusinessCalendar::ForEachInterval(int64_t from_ms, Fn fn) const {
  const int first = LocalDay(zone_, from_ms) - 1;  // the day before: an interval may end after midnight UTC
  for (int day = first; day < first + kHorizonDays; ++day) {
    if (holidays_.contains(day)) continue;
    // 1970-01-01 was a Thursday (index 3 with Monday = 0).
    const int wd = ((day % 7) + 7 + 3) % 7;
    for (auto [a, b] : spec_.hours[wd]) {
      int64_t open = LocalToUtc(zone_, day, a), close = LocalToUtc(zone_, day, b);
      if (close <= from_ms || close <= open) continue;
      if (!fn(open, close)) return;
    }
  }
}

int64_t BusinessCalendar::AddBusiness(int64_t start_ms, int64_t duration_ms) const {
  if (duration_ms <= 0) return start_ms;
  if (always()) return start_ms + duration_ms;
  int64_t result = INT64_MAX;  // no hours within the horizon: never due
  int64_t left = duration_ms;
  ForEachInterval(start_ms, [&](int64_t open, int64_t close) {
    const int64_t from = std::max(open, start_ms);
    const int64_t avail = close - from;
    if (left <= avail) {
      result = from + left;
      return false;
    }
    left -= avail;
    return true;
  });
  return result;
}

int64_t BusinessCalendar::BusinessBetween(int64_t from_ms, int64_t to_ms) const {
  if (to_ms <= from_ms) return 0;
  if (always()) return to_ms - from_ms;
  int64_t total = 0;
  ForEachInterval(from_ms, [&](int64_t open, int64_t close) {
    if (open >= to_ms) return false;
    total += std::min(close, to_ms) - std::max(open, from_ms);
    return true;
  });
  return total;
}

}  // namespace cairn::cases
