#pragma once
// DashboardService: the car dashboard's numbers (DOMAIN.md §10, docs/dashboard.md) — goals,
// budgets and activities (DIR/dashboard.db, docs/format/dashboard.md) and the computed overview
// (progress, ETA with an uncertainty band, speedometer, rev counter, fuel, hazard lights).
// Plain structs, no implementation: api/ includes this header only; app/ hands in
// dashboard::Dashboard. Implementations are thread-safe.
//
// Days are UTC calendar days counted from 1970-01-01 (day 0); the API speaks "YYYY-MM-DD".

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace cairn::dashboard {

// "YYYY-MM-DD" of a day number, and back (nullopt on a malformed or impossible date). Inline so
// api/ can use them without linking the implementation.
inline std::string DayString(int64_t day) {
  std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}
inline std::optional<int64_t> ParseDay(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0, d = 0;
  auto num = [&](size_t pos, size_t len, auto* out) {
    auto r = std::from_chars(s.data() + pos, s.data() + pos + len, *out);
    return r.ec == std::errc() && r.ptr == s.data() + pos + len;
  };
  if (!num(0, 4, &y) || !num(5, 2, &m) || !num(8, 2, &d)) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd}.time_since_epoch().count();
}

// A destination: reach `target` of `metric`, counted from day `start_day` (inclusive), by the end
// of day `deadline_day`.
// Metrics: "revenue" (sum of interaction revenue), "orders" (Order Completed + Deal Won),
// "new_customers" (customers whose first order falls in the window), "signups" (Signed Up),
// "interactions" (every interaction), "event:<Name>" (count of track events named Name).
struct Goal {
  int64_t id = 0;  // assigned on create
  std::string name;
  std::string metric;
  double target = 0;
  int64_t start_day = 0;
  int64_t deadline_day = 0;
  int64_t created_ms = 0, updated_ms = 0;
};

// Money set aside for [start_day, end_day]; spent = the cost of its done activities.
struct Budget {
  int64_t id = 0;
  std::string name;
  double amount = 0;
  int64_t start_day = 0, end_day = 0;
  int64_t created_ms = 0, updated_ms = 0;
};

// A planned or done piece of outbound effort (campaign, mailing, call round) on a day.
struct Activity {
  int64_t id = 0;
  std::string name;
  std::string channel;     // free text, e.g. "email"
  int64_t budget_id = 0;   // 0 = none; else must name an existing budget
  double cost = 0;
  int64_t day = 0;
  std::string status = "planned";  // planned | done | cancelled
  int64_t created_ms = 0, updated_ms = 0;
};

struct GoalView {
  Goal goal;
  double progress = 0;        // metric summed over [start_day, today]
  double fraction = 0;        // progress / target
  // ETA: the forecast day the target is reached (median of simulated paths), and the 10th/90th
  // percentiles (an 80% band). nullopt = not reached within the forecast horizon.
  std::optional<int64_t> eta_day, eta_low_day, eta_high_day;
  bool reached = false;       // progress >= target already (eta = the day it was reached)
  bool on_track = false;      // reached, or eta_day <= deadline_day
  double p_on_time = 0;       // share of simulated paths reaching the target by the deadline
  // Speedometer: average per day over the last 7 days vs the rate needed from today to the
  // deadline ((target − progress) / days left; 0 when reached, nullopt when the deadline passed).
  double rate_recent = 0;
  std::optional<double> rate_needed;
  // The ETA as it was forecast a week ago (series cut 7 days back), for the slipping light.
  std::optional<int64_t> eta_week_ago_day;
  std::string method;         // forecast method used, e.g. "holt-winters(a=0.1,b=0.01,g=0.1)+bootstrap"
  std::string error;          // why no forecast (e.g. "unknown metric"), "" if fine
};

struct BudgetView {
  Budget budget;
  double spent = 0, planned = 0, left = 0;  // left = amount − spent
  double burn_per_day = 0;                  // spent in the last 30 days / 30
  std::optional<double> runway_days;        // left / burn; nullopt when nothing is burning
};

struct RevCounter {
  double touches_7d = 0, touches_prev_7d = 0;  // outbound touches (Email Sent, SMS Sent, ...)
  int64_t activities_7d = 0;                   // activities done in the last 7 days
};

struct Hazard {
  std::string light;  // projected_miss | eta_slipping | complaint_spike | nps_drop | value_at_risk | rescues_overdue | slas_overdue
  bool on = false;
  std::string why;
  std::string link;   // the API call with the detail
};

struct Ride {
  std::optional<double> nps_30d, nps_prev_30d;
  int64_t complaints_7d = 0;
  double complaints_weekly_baseline = 0;  // average per week over the 4 weeks before
};

// The page-wide filters of the dashboard (docs/dashboard.md "Filters"), resolved by the caller.
//   to_day    the car as it stood at the end of that day: progress through it, the speedometer
//             and the forecast from the days before it, the rev counter, complaints and NPS of the
//             windows ending with it. nullopt (or a day from today on) = now.
//   from_day  the start of the trip meter (totals over [from_day, to_day]); nullopt = no trip
//             meter unless to_day is set, then from the first day with data.
//   members   the canonical customers of the segment (sorted ascending); nullopt = everyone.
//             Every number read from interactions or survey answers counts only theirs; budgets,
//             value at risk, overdue rescues and SLAs are the business's, unfiltered.
//   segment   the segment `members` was resolved from (persona, lifecycle stage, acquisition
//             channel; "" = any): lets the daily totals answer from their per-segment cells
//             (daily_totals.h). The numbers are always those of `members`.
//   key       identifies the filter for the overview cache ("" = no filter); equal keys must
//             mean equal filters for the same member set.
struct SegmentFilter {
  std::string persona, lifecycle, channel;  // "" = any
  bool empty() const { return persona.empty() && lifecycle.empty() && channel.empty(); }
};
struct OverviewFilter {
  std::optional<int64_t> from_day, to_day;
  std::optional<std::vector<uint64_t>> members;
  SegmentFilter segment;
  std::string key;
};

// The trip meter: each series' total over [from_day, to_day] (keys as DailySeries: revenue,
// orders, new_customers, signups, interactions, touches, complaints, event:<Name> of goals).
struct TripMeter {
  int64_t from_day = 0, to_day = 0;
  std::vector<std::pair<std::string, double>> totals;  // by metric name, ascending
};

// Mirrors: mentions of competitors ("Competitor Considered" interactions) per week — Monday to
// Sunday, UTC; the first and last week clipped to the range — over [from_day, to_day]: the filter's
// range, else the 26 weeks ending with today's week. Counted like the goals' "event:<Name>"
// series (the daily totals), so a segment filter counts its members' mentions.
inline constexpr std::string_view kMirrorsEvent = "Competitor Considered";
struct Mirrors {
  std::string event;
  int64_t from_day = 0, to_day = 0;
  std::vector<int64_t> week_days;  // each week's first day (a Monday; the first may be from_day)
  std::vector<double> mentions;    // per week, same order
  double total = 0;
};

struct DashboardView {
  int64_t today = 0;          // the day "now" falls on (the filter's to_day when it is earlier)
  bool filtered = false;      // a range or segment applied
  std::optional<int64_t> segment_customers;  // members in the segment, when one applied
  std::optional<TripMeter> trip;
  int64_t as_of_seq = 0;      // store snapshot the numbers come from
  std::vector<GoalView> goals;
  std::vector<BudgetView> budgets;
  RevCounter rev;
  Ride ride;
  Mirrors mirrors;
  std::vector<Hazard> hazards;
};

class DashboardService {
 public:
  virtual ~DashboardService() = default;
  // CRUD. Create/Update validate (InvalidArgument naming the field); NotFound for unknown ids.
  virtual Result<std::vector<Goal>> ListGoals() = 0;
  virtual Result<Goal> GetGoal(int64_t id) = 0;
  virtual Result<Goal> CreateGoal(const Goal& goal) = 0;
  virtual Result<Goal> UpdateGoal(const Goal& goal) = 0;  // goal.id names the row
  virtual Status DeleteGoal(int64_t id) = 0;
  virtual Result<std::vector<Budget>> ListBudgets() = 0;
  virtual Result<Budget> CreateBudget(const Budget& budget) = 0;
  virtual Result<Budget> UpdateBudget(const Budget& budget) = 0;
  virtual Status DeleteBudget(int64_t id) = 0;  // FailedPrecondition while activities use it
  virtual Result<std::vector<Activity>> ListActivities() = 0;
  virtual Result<Activity> CreateActivity(const Activity& activity) = 0;
  virtual Result<Activity> UpdateActivity(const Activity& activity) = 0;
  virtual Status DeleteActivity(int64_t id) = 0;
  // The day "now" falls on (the default start of new goals, budgets and activities).
  virtual int64_t Today() const = 0;
  // The whole car, computed now, over the filter's customers and as of its range (see
  // OverviewFilter). InvalidArgument naming `from`/`to` for an empty range.
  virtual Result<DashboardView> Overview(const OverviewFilter& filter = {}) = 0;
};

}  // namespace cairn::dashboard
