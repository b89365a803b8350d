#pragma once
// DashboardHandler: goals, budgets, activities and the dashboard overview (role checked by the router, docs/access.md).
// docs/dashboard.md "API".
//   GET    /v1/goals                → {"goals":[goal…]}
//   POST   /v1/goals                body {"name","metric","target","deadline"[,"start"]} → 201 goal
//   GET    /v1/goals/{id}           → goal
//   PUT    /v1/goals/{id}           body: any of the fields → 200 goal (others kept)
//   DELETE /v1/goals/{id}           → 204
//   /v1/budgets, /v1/budgets/{id}, /v1/activities, /v1/activities/{id}: the same verbs (no GET by id)
//   GET    /v1/dashboard            → {"today","goals":[…eta, eta_low, eta_high, on_track…],"fuel",
//                                      "rev","ride","hazards":[{"light","on","why","link"}]}
// 400 names the field; 404 unknown id; 503 when the hub runs without the dashboard. Stateless.

#include <string>

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class DashboardHandler {
 public:
  explicit DashboardHandler(const Services* services) : services_(services) {}
  void ListGoals(const ApiRequest& r, Responder respond);
  void CreateGoal(const ApiRequest& r, Responder respond);
  void GetGoal(const ApiRequest& r, const std::string& id, Responder respond);
  void UpdateGoal(const ApiRequest& r, const std::string& id, Responder respond);
  void DeleteGoal(const ApiRequest& r, const std::string& id, Responder respond);
  void ListBudgets(const ApiRequest& r, Responder respond);
  void CreateBudget(const ApiRequest& r, Responder respond);
  void UpdateBudget(const ApiRequest& r, const std::string& id, Responder respond);
  void DeleteBudget(const ApiRequest& r, const std::string& id, Responder respond);
  void ListActivities(const ApiRequest& r, Responder respond);
  void CreateActivity(const ApiRequest& r, Responder respond);
  void UpdateActivity(const ApiRequest& r, const std::string& id, Responder respond);
  void DeleteActivity(const ApiRequest& r, const std::string& id, Responder respond);
  void Overview(const ApiRequest& r, Responder respond);

 private:
  bool Admit(const ApiRequest& r, Responder& respond) const;
  const Services* services_;
};

}  // namespace cairn::api
