#pragma once
// DashboardDb: goals, budgets, activities and daily readings in DIR/dashboard.db
// (docs/format/dashboard.md). Validates what it stores (InvalidArgument naming the field).
// Thread-safe (one connection behind a mutex).

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "dashboard/dashboard_service.h"
#include "entity/sqlite_db.h"

namespace cairn::dashboard {

// Checks a metric name: InvalidArgument naming `metric` when unknown.
Status ValidateMetric(std::string_view metric);

class DashboardDb {
 public:
  // `path` = DIR/dashboard.db (":memory:" for tests). `clock` stamps created/updated times.
  static Result<std::unique_ptr<DashboardDb>> Open(const std::string& path, Clock* clock);

  Result<std::vector<Goal>> ListGoals();
  Result<Goal> GetGoal(int64_t id);
  Result<Goal> CreateGoal(Goal goal);
  Result<Goal> UpdateGoal(Goal goal);
  Status DeleteGoal(int64_t id);

  Result<std::vector<Budget>> ListBudgets();
  Result<Budget> CreateBudget(Budget budget);
  Result<Budget> UpdateBudget(Budget budget);
  Status DeleteBudget(int64_t id);

  Result<std::vector<Activity>> ListActivities();
  Result<Activity> CreateActivity(Activity activity);
  Result<Activity> UpdateActivity(Activity activity);
  Status DeleteActivity(int64_t id);

  // Readings: one value per (name, day), replaced on write.
  Status PutReading(std::string_view name, int64_t day, double value);
  // The latest reading of `name` on or before `day`.
  Result<std::optional<double>> ReadingOnOrBefore(std::string_view name, int64_t day);

 private:
  DashboardDb(std::unique_ptr<entity::SqliteDb> db, Clock* clock) : db_(std::move(db)), clock_(clock) {}
  Status CheckBudgetExists(int64_t id);  // requires mu_

  std::mutex mu_;
  std::unique_ptr<entity::SqliteDb> db_;  // guarded by mu_
  Clock* clock_;
};

}  // namespace cairn::dashboard
