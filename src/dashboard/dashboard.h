#pragma once
// Dashboard: DashboardService over DIR/dashboard.db and the event store (docs/dashboard.md).
// Overview() computes everything from one store snapshot: daily series (series.h), per-goal
// progress and ETA (forecast.h), speedometer, rev counter, fuel, ride and hazard lights
// (hazards.h). Sources owned by other modules (NPS, value at stake, rescues, SLAs) come in as
// optional callbacks; an unset one turns its light off with "no data source yet".
// Thread-safe.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "base/clock.h"
#include "dashboard/daily_totals.h"
#include "dashboard/dashboard_db.h"
#include "dashboard/dashboard_service.h"
#include "dashboard/forecast.h"
#include "dashboard/forecast_memo.h"
#include "dashboard/hazards.h"
#include "dashboard/series.h"

namespace cairn::dashboard {

struct NpsReading {
  double nps = 0;
  int64_t responses = 0;
};

struct DashboardSources {
  std::function<std::shared_ptr<store::Snapshot>()> snapshot;  // required
  Canonicalizer canonical;                                     // default: ids as stored
  // The daily totals fed from the store's commits (daily_totals.h), built with the same
  // SeriesOptions as DashboardOptions::series. Set: overviews without a segment read them instead
  // of scanning the store. Null: every overview scans.
  std::shared_ptr<DailyTotals> totals;
  // NPS of the answers in [from, to); `members` (sorted canonical ids) when a segment applies,
  // null = every answer.
  std::function<Result<NpsReading>(int64_t from_ms, int64_t to_ms, const std::vector<uint64_t>* members)> nps;
  // Value at stake now: a pass over every customer's journey state (JourneyEngine::ValueAtStake),
  // ~100 ms CPU at 1M customers, so the overview reads it at most every
  // DashboardOptions::value_at_risk_max_age_ms.
  std::function<Result<double>()> value_at_risk;
  std::function<Result<int64_t>(int64_t now_ms)> rescues_overdue;
  std::function<Result<int64_t>(int64_t now_ms)> slas_overdue;
};

struct DashboardOptions {
  std::string path;                  // DIR/dashboard.db (required; ":memory:" in tests)
  Clock* clock = nullptr;            // default Clock::Real()
  int history_days = 182;            // complete days the forecast is fitted on. Default 26 weeks.
  int64_t cache_ms = 5000;           // an Overview at most this old is reused. Default 5 s.
  // A value-at-stake reading (sources.value_at_risk) at most this old, and of the same UTC day, is
  // reused by the next overview of any filter: the light compares it with the reading of a week
  // ago (a 20% rise), which a minute does not move, while the pass costs most of an unfiltered
  // overview's CPU. 0: read it at every overview. Default 60 s.
  int64_t value_at_risk_max_age_ms = 60'000;
  ForecastOptions forecast;
  HazardOptions hazards;
  SeriesOptions series;
  // With sources.totals: Open starts their build on a background thread, so that the first
  // overview after start waits at most for the rest of that scan. Default true.
  bool build_totals_at_open = true;
};

class Dashboard final : public DashboardService {
 public:
  static Result<std::unique_ptr<Dashboard>> Open(DashboardOptions options, DashboardSources sources);
  ~Dashboard() override;  // Stop()

  // Stops the totals' build started by Open and waits for it. Idempotent. The hub calls it on
  // close so that no thread of ours outlives the store it scans (a process that exits on a
  // startup error would otherwise leave the build running while the store closes).
  void Stop();

  Result<std::vector<Goal>> ListGoals() override { return db_->ListGoals(); }
  Result<Goal> GetGoal(int64_t id) override { return db_->GetGoal(id); }
  Result<Goal> CreateGoal(const Goal& g) override { return Invalidating(db_->CreateGoal(g)); }
  Result<Goal> UpdateGoal(const Goal& g) override { return Invalidating(db_->UpdateGoal(g)); }
  Status DeleteGoal(int64_t id) override { return Invalidating(db_->DeleteGoal(id)); }
  Result<std::vector<Budget>> ListBudgets() override { return db_->ListBudgets(); }
  Result<Budget> CreateBudget(const Budget& b) override { return Invalidating(db_->CreateBudget(b)); }
  Result<Budget> UpdateBudget(const Budget& b) override { return Invalidating(db_->UpdateBudget(b)); }
  Status DeleteBudget(int64_t id) override { return Invalidating(db_->DeleteBudget(id)); }
  Result<std::vector<Activity>> ListActivities() override { return db_->ListActivities(); }
  Result<Activity> CreateActivity(const Activity& a) override { return Invalidating(db_->CreateActivity(a)); }
  Result<Activity> UpdateActivity(const Activity& a) override { return Invalidating(db_->UpdateActivity(a)); }
  Status DeleteActivity(int64_t id) override { return Invalidating(db_->DeleteActivity(id)); }
  int64_t Today() const override { return options_.clock->NowMillis() / 86'400'000; }
  Result<DashboardView> Overview(const OverviewFilter& filter = {}) override;

  // Progress and ETA of one goal from a daily series (index 0 = series_first_day), as of `today`;
  // the series' complete days end at today − 1. `memo` (optional) answers forecasts whose input
  // was forecast before (forecast_memo.h). Exposed for tests.
  static GoalView Evaluate(const Goal& goal, const std::vector<double>& daily, int64_t series_first_day,
                           int64_t first_data_day, int64_t today, const DashboardOptions& options,
                           ForecastMemo* memo = nullptr);

 private:
  Dashboard(DashboardOptions options, DashboardSources sources, std::unique_ptr<DashboardDb> db)
      : options_(std::move(options)), sources_(std::move(sources)), db_(std::move(db)) {}
  template <typename T>
  T Invalidating(T r) {
    std::lock_guard lock(cache_mu_);
    cached_.clear();
    return r;
  }
  Result<DashboardView> Compute(int64_t now_ms, const OverviewFilter& filter);
  // The value at stake (DashboardOptions::value_at_risk_max_age_ms); a fresh reading is also
  // today's in dashboard.db. nullopt when the source fails.
  std::optional<double> ValueAtRisk(int64_t real_now_ms);

  struct Cached {
    std::string key;
    int64_t at_ms = 0;
    DashboardView view;
  };

  DashboardOptions options_;
  DashboardSources sources_;
  std::unique_ptr<DashboardDb> db_;
  std::mutex cache_mu_;
  std::vector<Cached> cached_;  // guarded by cache_mu_; one per filter key, at most 8, newest last
  ForecastMemo forecasts_;      // the goals' forecasts by input: most overviews refit none
  // The last value-at-stake reading and when it was read; held while reading, so concurrent
  // overviews make one pass, not one each.
  std::mutex value_at_risk_mu_;
  std::optional<double> value_at_risk_;   // guarded by value_at_risk_mu_
  int64_t value_at_risk_at_ms_ = 0;       // guarded by value_at_risk_mu_
  std::thread totals_build_;   // DashboardOptions::build_totals_at_open
  std::atomic<bool> stopping_{false};  // stops that build: the destructor does not wait for a whole scan
};

}  // namespace cairn::dashboard
