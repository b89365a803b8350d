#include "dashboard/dashboard_db.h"

#include <fmt/format.h>

#include <cmath>

namespace cairn::dashboard {
namespace {

constexpr uint32_t kApplicationId = 0x43445348;  // "CDSH"

// Schema version 1 (docs/format/dashboard.md). Never edit a released step: add a new one.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE goals (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, metric TEXT NOT NULL, target REAL NOT NULL,
  start_day INTEGER NOT NULL, deadline_day INTEGER NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE TABLE budgets (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, amount REAL NOT NULL,
  start_day INTEGER NOT NULL, end_day INTEGER NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE TABLE activities (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, channel TEXT NOT NULL, budget_id INTEGER,
  cost REAL NOT NULL, day INTEGER NOT NULL, status TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE INDEX activities_budget ON activities(budget_id);
CREATE TABLE readings (name TEXT NOT NULL, day INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY (name, day)) WITHOUT ROWID;
)sql";

double Real(const entity::Stmt& s, int col) {
  // Stored as REAL; Stmt exposes text for non-integers, so read through the text form.
  std::string_view t = s.Text(col);
  return std::strtod(std::string(t).c_str(), nullptr);
}

Status ValidateGoal(const Goal& g) {
  if (g.name.empty()) return InvalidArgument("name: must not be empty");
  RETURN_IF_ERROR(ValidateMetric(g.metric));
  if (!std::isfinite(g.target) || g.target <= 0) return InvalidArgument("target: must be a number > 0");
  if (g.deadline_day < g.start_day) return InvalidArgument("deadline: must not be before start");
  return Status::Ok();
}

Status ValidateBudget(const Budget& b) {
  if (b.name.empty()) return InvalidArgument("name: must not be empty");
  if (!std::isfinite(b.amount) || b.amount < 0) return InvalidArgument("amount: must be a number >= 0");
  if (b.end_day < b.start_day) return InvalidArgument("end: must not be before start");
  return Status::Ok();
}

Status ValidateActivity(const Activity& a) {
  if (a.name.empty()) return InvalidArgument("name: must not be empty");
  if (!std::isfinite(a.cost) || a.cost < 0) return InvalidArgument("cost: must be a number >= 0");
  if (a.status != "planned" && a.status != "done" && a.status != "cancelled")
    return InvalidArgument("status: must be planned, done or cancelled");
  return Status::Ok();
}

constexpr std::string_view kGoalCols = "id, name, metric, target, start_day, deadline_day, created_ms, updated_ms";
constexpr std::string_view kBudgetCols = "id, name, amount, start_day, end_day, created_ms, updated_ms";
constexpr std::string_view kActivityCols = "id, name, channel, budget_id, cost, day, status, created_ms, updated_ms";

Goal GoalRow(const entity::Stmt& s) {
  return Goal{s.Int64(0), std::string(s.Text(1)), std::string(s.Text(2)), Real(s, 3), s.Int64(4), s.Int64(5), s.Int64(6),
              s.Int64(7)};
}
Budget BudgetRow(const entity::Stmt& s) {
  return Budget{s.Int64(0), std::string(s.Text(1)), Real(s, 2), s.Int64(3), s.Int64(4), s.Int64(5), s.Int64(6)};
}
Activity ActivityRow(const entity::Stmt& s) {
  return Activity{s.Int64(0), std::string(s.Text(1)), std::string(s.Text(2)),
                  s.IsNull(3) ? 0 : s.Int64(3), Real(s, 4), s.Int64(5), std::string(s.Text(6)), s.Int64(7),
                  s.Int64(8)};
}

}  // namespace

Status ValidateMetric(std::string_view m) {
  if (m == "revenue" || m == "orders" || m == "new_customers" || m == "signups" || m == "interactions") return Status::Ok();
  if (m.starts_with("event:") && m.size() > 6) return Status::Ok();
  return InvalidArgument(fmt::format(
      "metric: unknown '{}' (expected revenue, orders, new_customers, signups, interactions or event:<Name>)", m));
}

Result<std::unique_ptr<DashboardDb>> DashboardDb::Open(const std::string& path, Clock* clock) {
  ASSIGN_OR_RETURN(auto db, entity::SqliteDb::Open(path, entity::SqliteOptions{}));
  RETURN_IF_ERROR(db->Migrate(kApplicationId, {kSchemaV1}));
  return std::unique_ptr<DashboardDb>(new DashboardDb(std::move(db), clock ? clock : Clock::Real()));
}

// ---- goals ----

Result<std::vector<Goal>> DashboardDb::ListGoals() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_->Prepare(fmt::format("SELECT {} FROM goals ORDER BY id", kGoalCols)));
  std::vector<Goal> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(GoalRow(st));
  }
  return out;
}

Result<Goal> DashboardDb::GetGoal(int64_t id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_->Prepare(fmt::format("SELECT {} FROM goals WHERE id = ?", kGoalCols)));
  st.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return NotFound(fmt::format("goal {} not found", id));
  return GoalRow(st);
}

Result<Goal> DashboardDb::CreateGoal(Goal g) {
  RETURN_IF_ERROR(ValidateGoal(g));
  std::lock_guard lock(mu_);
  g.created_ms = g.updated_ms = clock_->NowMillis();
  ASSIGN_OR_RETURN(auto st, db_->Prepare("INSERT INTO goals (name, metric, target, start_day, deadline_day, created_ms, "
                                         "updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  st.Bind(1, g.name).Bind(2, g.metric).Bind(3, fmt::format("{}", g.target)).Bind(4, g.start_day).Bind(5, g.deadline_day);
  st.Bind(6, g.created_ms).Bind(7, g.updated_ms);
  RETURN_IF_ERROR(st.Run());
  g.id = db_->last_insert_rowid();
  return g;
}

Result<Goal> DashboardDb::UpdateGoal(Goal g) {
  RETURN_IF_ERROR(ValidateGoal(g));
  ASSIGN_OR_RETURN(Goal old, GetGoal(g.id));
  std::lock_guard lock(mu_);
  g.created_ms = old.created_ms;
  g.updated_ms = clock_->NowMillis();
  ASSIGN_OR_RETURN(auto st, db_->Prepare("UPDATE goals SET name = ?, metric = ?, target = ?, start_day = ?, "
                                         "deadline_day = ?, updated_ms = ? WHERE id = ?"));
  st.Bind(1, g.name).Bind(2, g.metric).Bind(3, fmt::format("{}", g.target)).Bind(4, g.start_day).Bind(5, g.deadline_day);
  st.Bind(6, g.updated_ms).Bind(7, g.id);
  RETURN_IF_ERROR(st.Run());
  return g;
}

Status DashboardDb::DeleteGoal(int64_t id) {
  RETURN_IF_ERROR(GetGoal(id).status());
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_->Prepare("DELETE FROM goals WHERE id = ?"));
  st.Bind(1, id);
  return st.Run();
}

// ---- budgets ----

Result<std::vector<Budget>> DashboardDb::ListBudgets() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_->Prepare(fmt::format("SELECT {} FROM budgets ORDER BY id", kBudgetCols)));
  std::vector<Budget> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(BudgetRow(st));
  }
  return out;
}

Status DashboardDb::CheckBudgetExists(int64_t id) {
  ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT 1 FROM budgets WHERE id = ?"));
  st.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return NotFound(fmt::format("budget {} not found", id));
  return Status::Ok();
}

Result<Budget> DashboardDb::CreateBudget(Budget b) {
  RETURN_IF_ERROR(ValidateBudget(b));
  std::lock_guard lock(mu_);
  b.created_ms = b.updated_ms = clock_->NowMillis();
  ASSIGN_OR_RETURN(auto st, db_->Prepare("INSERT INTO budgets (name, amount, start_day, end_day, created_ms, updated_ms) "
                                         "VALUES (?, ?, ?, ?, ?, ?)"));
  st.Bind(1, b.name).Bind(2, fmt::format("{}", b.amount)).Bind(3, b.start_day).Bind(4, b.end_day);
  st.Bind(5, b.created_ms).Bind(6, b.updated_ms);
  RETURN_IF_ERROR(st.Run());
  b.id = db_->last_insert_rowid();
  return b;
}

Result<Budget> DashboardDb::UpdateBudget(Budget b) {
  RETURN_IF_ERROR(ValidateBudget(b));
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(CheckBudgetExists(b.id));
  b.updated_ms = clock_->NowMillis();
  ASSIGN_OR_RETURN(auto st, db_->Prepare("UPDATE budgets SET name = ?, amount = ?, start_day = ?, end_day = ?, "
                                         "updated_ms = ? WHERE id = ?"));
  st.Bind(1, b.name).Bind(2, fmt::format("{}", b.amount)).Bind(3, b.start_day).Bind(4, b.end_day);
  st.Bind(5, b.updated_ms).Bind(6, b.id);
  RETURN_IF_ERROR(st.Run());
  ASSIGN_OR_RETURN(auto q, db_->Prepare(fmt::format("SELECT {} FROM budgets WHERE id = ?", kBudgetCols)));
  q.Bind(1, b.id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (row) b = BudgetRow(q);
  return b;
}

Status DashboardDb::DeleteBudget(int64_t id) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(CheckBudgetExists(id));
  {
    ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT COUNT(*) FROM activities WHERE budget_id = ?"));
    st.Bind(1, id);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (row && st.Int64(0) > 0)
      return FailedPrecondition(fmt::format("budget {} is used by {} activities; delete or move them first", id,
                                            st.Int64(0)));
  }
  ASSIGN_OR_RETURN(auto st, db_->Prepare("DELETE FROM budgets WHERE id = ?"));
  st.Bind(1, id);
  return st.Run();
}

// ---- activities ----

Result<std::vector<Activity>> DashboardDb::ListActivities() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_->Prepare(fmt::format("SELECT {} FROM activities ORDER BY day, id", kActivityCols)));
  std::vector<Activity> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(ActivityRow(st));
  }
  return out;
}

Result<Activity> DashboardDb::CreateActivity(Activity a) {
  RETURN_IF_ERROR(ValidateActivity(a));
  std::lock_guard lock(mu_);
  if (a.budget_id != 0) {
    Status s = CheckBudgetExists(a.budget_id);
    if (!s.ok()) return InvalidArgument(fmt::format("budget_id: no budget {}", a.budget_id));
  }
  a.created_ms = a.updated_ms = clock_->NowMillis();
  ASSIGN_OR_RETURN(auto st, db_->Prepare("INSERT INTO activities (name, channel, budget_id, cost, day, status, "
                                         "created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  st.Bind(1, a.name).Bind(2, a.channel);
  if (a.budget_id) st.Bind(3, a.budget_id); else st.BindNull(3);
  st.Bind(4, fmt::format("{}", a.cost)).Bind(5, a.day).Bind(6, a.status).Bind(7, a.created_ms).Bind(8, a.updated_ms);
  RETURN_IF_ERROR(st.Run());
  a.id = db_->last_insert_rowid();
  return a;
}

Result<Activity> DashboardDb::UpdateActivity(Activity a) {
  RETURN_IF_ERROR(ValidateActivity(a));
  std::lock_guard lock(mu_);
  if (a.budget_id != 0) {
    Status s = CheckBudgetExists(a.budget_id);
    if (!s.ok()) return InvalidArgument(fmt::format("budget_id: no budget {}", a.budget_id));
  }
  {
    ASSIGN_OR_RETURN(auto q, db_->Prepare(fmt::format("SELECT {} FROM activities WHERE id = ?", kActivityCols)));
    q.Bind(1, a.id);
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound(fmt::format("activity {} not found", a.id));
    a.created_ms = q.Int64(7);
  }
  a.updated_ms = clock_->NowMillis();
  ASSIGN_OR_RETURN(auto st, db_->Prepare("UPDATE activities SET name = ?, channel = ?, budget_id = ?, cost = ?, day = ?, "
                                         "status = ?, updated_ms = ? WHERE id = ?"));
  st.Bind(1, a.name).Bind(2, a.channel);
  if (a.budget_id) st.Bind(3, a.budget_id); else st.BindNull(3);
  st.Bind(4, fmt::format("{}", a.cost)).Bind(5, a.day).Bind(6, a.status).Bind(7, a.updated_ms).Bind(8, a.id);
  RETURN_IF_ERROR(st.Run());
  return a;
}

Status DashboardDb::DeleteActivity(int64_t id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_->Prepare("DELETE FROM activities WHERE id = ?"));
  st.Bind(1, id);
  RETURN_IF_ERROR(st.Run());
  ASSIGN_OR_RETURN(int64_t changed, db_->QueryInt("SELECT changes()"));
  if (changed == 0) return NotFound(fmt::format("activity {} not found", id));
  return Status::Ok();
}

// ---- readings ----

Status DashboardDb::PutReading(std::string_view name, int64_t day, double value) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_->Prepare("INSERT OR REPLACE INTO readings (name, day, value) VALUES (?, ?, ?)"));
  st.Bind(1, name).Bind(2, day).Bind(3, fmt::format("{}", value));
  return st.Run();
}

Result<std::optional<double>> DashboardDb::ReadingOnOrBefore(std::string_view name, int64_t day) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT value FROM readings WHERE name = ? AND day <= ? ORDER BY day DESC LIMIT 1"));
  st.Bind(1, name).Bind(2, day);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<double>();
  return std::optional<double>(Real(st, 0));
}

}  // namespace cairn::dashboard
