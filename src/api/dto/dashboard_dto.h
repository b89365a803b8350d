#pragma once
// JSON ⇄ dashboard structs (docs/dashboard.md "API"). Dates are "YYYY-MM-DD" (UTC days).
//   goal:     {"id","name","metric","target","start","deadline","created_ms","updated_ms"}
//   budget:   {"id","name","amount","start","end",...}
//   activity: {"id","name","channel","budget_id","cost","date","status",...}
// Parse*(body, base, create): fields present in the body replace base's; with create = true the
// fields without a default are required. InvalidArgument names the field.

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "dashboard/dashboard_service.h"

namespace cairn::api {

Result<dashboard::Goal> ParseGoal(std::string_view body, dashboard::Goal base, bool create, int64_t today);
Result<dashboard::Budget> ParseBudget(std::string_view body, dashboard::Budget base, bool create, int64_t today);
Result<dashboard::Activity> ParseActivity(std::string_view body, dashboard::Activity base, bool create, int64_t today);
Result<int64_t> ParseDashboardId(std::string_view what, std::string_view text);

std::string GoalToJson(const dashboard::Goal& g);
std::string GoalsToJson(const std::vector<dashboard::Goal>& goals);
std::string BudgetToJson(const dashboard::Budget& b);
std::string BudgetsToJson(const std::vector<dashboard::Budget>& budgets);
std::string ActivityToJson(const dashboard::Activity& a);
std::string ActivitiesToJson(const std::vector<dashboard::Activity>& activities);
std::string DashboardToJson(const dashboard::DashboardView& view);

}  // namespace cairn::api
