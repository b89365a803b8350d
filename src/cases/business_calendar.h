#pragma once
// BusinessCalendar: business hours in a time zone, with holidays — the clock SLAs run on.
//
// A calendar is weekly opening intervals in local wall time (per weekday, Monday first, each
// [start, end) in minutes after local midnight, end ≤ 1440) plus holiday dates (local, whole days
// closed). Local times convert to UTC through the system tz database (/usr/share/zoneinfo, via
// Howard Hinnant's date library, since libstdc++ 12 has no std::chrono::tzdb): an interval that
// crosses a DST change is as long as the wall clock says (a 09:00–17:00 day on a spring-forward
// date that jumps 02:00→03:00 is still 8 hours; an opening inside a skipped hour starts at the
// first valid instant after it).
//
// The 24×7 calendar (Always()) counts every millisecond.
//
// Contracts (all times ms since the Unix epoch, UTC):
//   AddBusiness(t, d): the earliest instant u ≥ t with BusinessBetween(t, u) == d. d == 0 → t.
//     So a deadline that falls on the end of a business day is that closing instant, not the
//     next opening.
//   BusinessBetween(a, b): business ms in [a, b); 0 when b ≤ a.
// Thread-safe (immutable).

#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace date {
class time_zone;
}

namespace cairn::cases {

struct CalendarSpec {
  std::string name;
  std::string timezone = "UTC";  // IANA name, e.g. "Europe/Berlin"
  // hours[0] = Monday … hours[6] = Sunday; [start_min, end_min) intervals, sorted, non-overlapping.
  std::array<std::vector<std::pair<int, int>>, 7> hours;
  std::vector<std::string> holidays;  // "YYYY-MM-DD", local dates
};

// "09:00-17:00" → {540, 1020}; InvalidArgument naming `field` on bad input.
Result<std::pair<int, int>> ParseInterval(std::string_view text, std::string_view field);
std::string FormatInterval(std::pair<int, int> interval);

class BusinessCalendar {
 public:
  // InvalidArgument naming the field: unknown time zone, bad interval, bad holiday date, or no
  // business hours at all (a deadline could never be reached).
  static Result<std::shared_ptr<const BusinessCalendar>> Create(const CalendarSpec& spec);
  static std::shared_ptr<const BusinessCalendar> Always();

  int64_t AddBusiness(int64_t start_ms, int64_t duration_ms) const;
  int64_t BusinessBetween(int64_t from_ms, int64_t to_ms) const;

  const CalendarSpec& spec() const { return spec_; }
  bool always() const { return zone_ == nullptr; }

 private:
  BusinessCalendar() = default;
  // Calls fn(open_ms, close_ms) for each business interval (UTC) overlapping days from the local
  // date of `from_ms` on, in order, until fn returns false (or a ten-year horizon passes).
  template <typename Fn>
  void ForEachInterval(int64_t from_ms, Fn fn) const;

  CalendarSpec spec_;
  const date::time_zone* zone_ = nullptr;  // null: 24×7
  std::set<int> holidays_;                 // days since epoch (local dates)
};

}  // namespace cairn::cases
