#include "dashboard/dashboard.h"

#include <algorithm>
#include <numeric>

#include "base/logging.h"
#include "base/thread_name.h"

namespace cairn::dashboard {
namespace {
constexpr int64_t kDayMs = 86'400'000;
int64_t DayOf(int64_t ms) { return ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs; }

// The Monday of day d's week (day 0, 1970-01-01, was a Thursday).
int64_t WeekStart(int64_t d) {
  const int64_t k = d + 3;
  return (k >= 0 ? k / 7 : (k - 6) / 7) * 7 - 3;
}

double Sum(const std::vector<double>& v, int64_t first_day, int64_t from, int64_t to) {  // [from, to] days
  double s = 0;
  for (int64_t d = std::max(from, first_day); d <= to && d - first_day < static_cast<int64_t>(v.size()); ++d)
    s += v[static_cast<size_t>(d - first_day)];
  return s;
}
}  // namespace

Result<std::unique_ptr<Dashboard>> Dashboard::Open(DashboardOptions options, DashboardSources sources) {
  if (!options.clock) options.clock = Clock::Real();
  if (!sources.snapshot) return InvalidArgument("dashboard: sources.snapshot is required");
  ASSIGN_OR_RETURN(auto db, DashboardDb::Open(options.path, options.clock));
  std::unique_ptr<Dashboard> d(new Dashboard(std::move(options), std::move(sources), std::move(db)));
  if (d->sources_.totals && d->options_.build_totals_at_open) {
    d->totals_build_ = std::thread([totals = d->sources_.totals, snapshot = d->sources_.snapshot, stop = &d->stopping_] {
      NameThisThread("totals-build");
      Status s = totals->Build(snapshot, stop);  // an overview retries a failed build itself
      if (!s.ok() && !stop->load()) LOG_WARN("dashboard: building the daily totals: {}", s.ToString());
    });
  }
  return d;
}

Dashboard::~Dashboard() { Stop(); }

void Dashboard::Stop() {
  stopping_ = true;
  if (totals_build_.joinable()) totals_build_.join();
}

GoalView Dashboard::Evaluate(const Goal& goal, const std::vector<double>& daily, int64_t first_day,
                             int64_t first_data_day, int64_t today, const DashboardOptions& options,
                             ForecastMemo* memo) {
  GoalView v;
  v.goal = goal;
  v.progress = Sum(daily, first_day, goal.start_day, today);
  v.fraction = goal.target > 0 ? v.progress / goal.target : 0;
  v.rate_recent = Sum(daily, first_day, today - 7, today - 1) / 7;
  if (today <= goal.deadline_day)
    v.rate_needed = std::max(0.0, goal.target - v.progress) / static_cast<double>(goal.deadline_day - today + 1);
  if (v.progress >= goal.target) {
    v.reached = v.on_track = true;
    v.p_on_time = 1;
    double cum = 0;
    for (int64_t d = goal.start_day; d <= today; ++d) {
      cum += Sum(daily, first_day, d, d);
      if (cum >= goal.target) {
        v.eta_day = v.eta_low_day = v.eta_high_day = d;
        break;
      }
    }
    return v;
  }
  // The forecast as of `as_of` (complete days end at as_of − 1), fitted on at most history_days,
  // never before the first day with any data (leading empty days would fake a trend).
  auto forecast = [&](int64_t as_of) -> std::optional<EtaForecast> {
    int64_t from = std::max({as_of - options.history_days, first_data_day < 0 ? as_of : first_data_day, first_day});
    if (from >= as_of) return std::nullopt;
    std::vector<double> y(daily.begin() + (from - first_day), daily.begin() + (as_of - first_day));
    double remaining = goal.target - Sum(daily, first_day, goal.start_day, as_of);
    const int deadline_offset = static_cast<int>(goal.deadline_day - as_of);
    return memo ? memo->Get(y, remaining, deadline_offset, options.forecast)
                : ForecastEta(y, remaining, deadline_offset, options.forecast);
  };
  std::optional<EtaForecast> now = forecast(today);
  if (!now) {
    v.error = "no history to forecast from";
    return v;
  }
  v.method = now->method;
  if (now->eta) v.eta_day = today + *now->eta;
  if (now->low) v.eta_low_day = today + *now->low;
  if (now->high) v.eta_high_day = today + *now->high;
  v.p_on_time = now->p_by_deadline;
  v.on_track = v.eta_day && *v.eta_day <= goal.deadline_day;
  if (goal.start_day <= today - 7) {
    std::optional<EtaForecast> before = forecast(today - 7);
    if (before && before->eta) v.eta_week_ago_day = today - 7 + *before->eta;
  }
  return v;
}

Result<DashboardView> Dashboard::Overview(const OverviewFilter& filter) {
  const int64_t now_ms = options_.clock->NowMillis();
  if (filter.from_day && filter.to_day && *filter.from_day > *filter.to_day)
    return InvalidArgument("from: " + DayString(*filter.from_day) + " is after to: " + DayString(*filter.to_day));
  {
    std::lock_guard lock(cache_mu_);
    for (const Cached& c : cached_)
      if (c.key == filter.key && now_ms - c.at_ms < options_.cache_ms) return c.view;
  }
  ASSIGN_OR_RETURN(DashboardView view, Compute(now_ms, filter));
  std::lock_guard lock(cache_mu_);
  std::erase_if(cached_, [&](const Cached& c) { return c.key == filter.key || now_ms - c.at_ms >= options_.cache_ms; });
  if (cached_.size() >= 8) cached_.erase(cached_.begin());
  cached_.push_back({filter.key, now_ms, view});
  return view;
}

Result<DashboardView> Dashboard::Compute(int64_t real_now_ms, const OverviewFilter& filter) {
  DashboardView view;
  // A range ending before today rewinds the car to the end of its last day: every window below
  // ends there. The lights fed by live state (value at risk, rescues, SLAs) stay as of now.
  const bool rewound = filter.to_day && *filter.to_day < DayOf(real_now_ms);
  const int64_t now_ms = rewound ? (*filter.to_day + 1) * kDayMs - 1 : real_now_ms;
  const int64_t today = DayOf(now_ms);
  const std::vector<uint64_t>* members = filter.members ? &*filter.members : nullptr;
  view.today = today;
  view.filtered = filter.from_day || filter.to_day || members;
  if (members) view.segment_customers = static_cast<int64_t>(members->size());
  ASSIGN_OR_RETURN(std::vector<Goal> goals, db_->ListGoals());
  ASSIGN_OR_RETURN(std::vector<Budget> budgets, db_->ListBudgets());
  ASSIGN_OR_RETURN(std::vector<Activity> activities, db_->ListActivities());

  // Series from the earliest day anything needs (forecast history, complaint baseline, goal starts).
  int64_t first_day = today - std::max<int64_t>(options_.history_days + 7, 35);
  std::vector<std::string> extra;
  for (const Goal& g : goals) {
    first_day = std::min(first_day, g.start_day);
    extra.push_back(g.metric);
  }
  if (filter.from_day) first_day = std::min(first_day, *filter.from_day);
  // Mirrors: the 26 weeks ending with this one unless the filter gives a range.
  const int64_t mirrors_from = filter.from_day ? *filter.from_day : WeekStart(today) - 25 * 7;
  first_day = std::min(first_day, mirrors_from);
  const std::string mirrors_metric = "event:" + std::string(kMirrorsEvent);
  const bool goal_counts_mirrors = std::find(extra.begin(), extra.end(), mirrors_metric) != extra.end();
  if (!goal_counts_mirrors) extra.push_back(mirrors_metric);
  DailySeries series;
  if (sources_.totals && !members) {
    // Without a segment the daily totals answer (docs/dashboard.md "Daily totals").
    uint64_t seq = 0;
    ASSIGN_OR_RETURN(series, sources_.totals->Series(sources_.snapshot, extra, first_day, today, &seq));
    view.as_of_seq = static_cast<int64_t>(seq);
  } else if (sources_.totals && sources_.totals->segments_enabled() && !filter.segment.empty()) {
    // A segment: its cells of the daily totals, checked against the members (docs/dashboard.md
    // "Segment cells").
    uint64_t seq = 0;
    ASSIGN_OR_RETURN(series, sources_.totals->SegmentSeries(sources_.snapshot, filter.segment, *members, extra,
                                                            first_day, today, &seq));
    view.as_of_seq = static_cast<int64_t>(seq);
  } else {
    std::shared_ptr<store::Snapshot> snapshot = sources_.snapshot();
    view.as_of_seq = static_cast<int64_t>(snapshot->seq());
    ASSIGN_OR_RETURN(series, ComputeSeries(*snapshot, sources_.canonical, extra, first_day, today, options_.series, members));
  }

  // The trip meter over the range (docs/dashboard.md "Filters").
  if (filter.from_day || filter.to_day) {
    TripMeter trip;
    trip.to_day = today;
    trip.from_day = filter.from_day ? *filter.from_day : std::max(first_day, series.first_data_day < 0 ? today : series.first_data_day);
    for (const auto& [metric, daily] : series.values)
      if (metric != mirrors_metric || goal_counts_mirrors) trip.totals.emplace_back(metric, Sum(daily, first_day, trip.from_day, today));
    view.trip = std::move(trip);
  }

  for (const Goal& g : goals) {
    auto it = series.values.find(g.metric);
    if (it == series.values.end()) {
      GoalView v;
      v.goal = g;
      v.error = "unknown metric";
      view.goals.push_back(std::move(v));
      continue;
    }
    view.goals.push_back(Evaluate(g, it->second, first_day, series.first_data_day, today, options_, &forecasts_));
  }

  // Fuel: budgets from their activities; burn = done spend dated in the last 30 days.
  for (const Budget& b : budgets) {
    BudgetView bv;
    bv.budget = b;
    double recent = 0;
    for (const Activity& a : activities) {
      if (a.budget_id != b.id) continue;
      if (a.status == "done") {
        bv.spent += a.cost;
        if (a.day > today - 30 && a.day <= today) recent += a.cost;
      } else if (a.status == "planned") {
        bv.planned += a.cost;
      }
    }
    bv.left = b.amount - bv.spent;
    bv.burn_per_day = recent / 30;
    if (bv.burn_per_day > 0) bv.runway_days = std::max(0.0, bv.left) / bv.burn_per_day;
    view.budgets.push_back(std::move(bv));
  }

  // Mirrors (DashboardView::mirrors).
  {
    Mirrors& m = view.mirrors;
    m.event = kMirrorsEvent;
    m.from_day = mirrors_from;
    m.to_day = today;
    const auto& daily = series.values[mirrors_metric];
    for (int64_t d = mirrors_from; d <= today;) {
      const int64_t week_end = std::min(today, WeekStart(d) + 6);  // that week's Sunday
      m.week_days.push_back(d);
      m.mentions.push_back(Sum(daily, first_day, d, week_end));
      m.total += m.mentions.back();
      d = week_end + 1;
    }
  }

  // Rev counter.
  const auto& touches = series.values["touches"];
  view.rev.touches_7d = Sum(touches, first_day, today - 6, today);
  view.rev.touches_prev_7d = Sum(touches, first_day, today - 13, today - 7);
  for (const Activity& a : activities)
    if (a.status == "done" && a.day > today - 7 && a.day <= today) ++view.rev.activities_7d;

  // Ride and hazard inputs.
  HazardInputs in;
  in.goals = &view.goals;
  const auto& complaints = series.values["complaints"];
  view.ride.complaints_7d = static_cast<int64_t>(Sum(complaints, first_day, today - 6, today));
  if (series.first_data_day >= 0) {
    // Baseline: the 4 weeks before the last 7 days, over the days that have data, per week.
    int64_t from = std::max(today - 34, series.first_data_day), to = today - 7;
    if (to - from + 1 >= 7) {
      view.ride.complaints_weekly_baseline = Sum(complaints, first_day, from, to) * 7 / static_cast<double>(to - from + 1);
      in.complaints_7d = view.ride.complaints_7d;
      in.complaints_weekly_baseline = view.ride.complaints_weekly_baseline;
    }
  }
  if (sources_.nps) {
    auto cur = sources_.nps(now_ms - 30 * kDayMs, now_ms, members);
    auto prev = sources_.nps(now_ms - 60 * kDayMs, now_ms - 30 * kDayMs, members);
    if (cur.ok() && prev.ok()) {
      if (cur->responses > 0) view.ride.nps_30d = cur->nps;
      if (prev->responses > 0) view.ride.nps_prev_30d = prev->nps;
      in.nps_30d = cur->nps;
      in.nps_prev_30d = prev->nps;
      in.nps_responses_30d = cur->responses;
      in.nps_responses_prev_30d = prev->responses;
    }
  }
  if (sources_.value_at_risk) {
    if (std::optional<double> v = ValueAtRisk(real_now_ms)) {
      in.value_at_risk_now = *v;
      auto before = db_->ReadingOnOrBefore("value_at_risk", DayOf(real_now_ms) - 7);
      if (before.ok() && *before) in.value_at_risk_week_ago = **before;
    }
  }
  if (sources_.rescues_overdue) {
    auto v = sources_.rescues_overdue(real_now_ms);
    if (v.ok()) in.rescues_overdue = *v;
  }
  if (sources_.slas_overdue) {
    auto v = sources_.slas_overdue(real_now_ms);
    if (v.ok()) in.slas_overdue = *v;
  }
  view.hazards = EvaluateHazards(in, options_.hazards);
  return view;
}

std::optional<double> Dashboard::ValueAtRisk(int64_t real_now_ms) {
  std::lock_guard lock(value_at_risk_mu_);
  if (value_at_risk_ && real_now_ms - value_at_risk_at_ms_ < options_.value_at_risk_max_age_ms &&
      DayOf(value_at_risk_at_ms_) == DayOf(real_now_ms))
    return value_at_risk_;
  auto v = sources_.value_at_risk();
  if (!v.ok()) return std::nullopt;
  value_at_risk_ = *v;
  value_at_risk_at_ms_ = real_now_ms;
  // The reading is today's, whatever the filter; best effort: a failed write only loses history.
  (void)db_->PutReading("value_at_risk", DayOf(real_now_ms), *v);
  return value_at_risk_;
}

}  // namespace cairn::dashboard
