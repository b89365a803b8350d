#include "api/handlers/dashboard_handler.h"

#include <fmt/format.h>

#include "api/dto/dashboard_dto.h"
#include "api/dto/page_filter.h"
#include "api/responses.h"
#include "dashboard/dashboard_service.h"

namespace cairn::api {
namespace {

template <typename T, typename Encode>
void Answer(const Result<T>& r, unsigned ok_status, Encode encode, std::string_view what, Responder& respond) {
  if (!r.ok()) return respond(ErrorFromStatus(r.status(), {}, what));
  respond(JsonResponse(ok_status, encode(*r)));
}

void Deleted(const Status& s, int64_t id, std::string_view what, Responder& respond) {
  if (!s.ok()) return respond(ErrorFromStatus(s, {}, what));
  respond(JsonResponse(200, fmt::format(R"({{"deleted":{}}})", id)));
}

#define DASH_ID_OR_RESPOND(var, kind, text)                          \
  int64_t var = 0;                                                   \
  {                                                                  \
    auto parsed_ = ParseDashboardId(kind, text);                     \
    if (!parsed_.ok()) return respond(ErrorFromStatus(parsed_.status())); \
    var = *parsed_;                                                  \
  }

}  // namespace

bool DashboardHandler::Admit(const ApiRequest& r, Responder& respond) const {
  if (services_->dashboard == nullptr) {
    respond(ServiceUnavailable("the dashboard"));
    return false;
  }
  return true;
}

// ---- goals ----

void DashboardHandler::ListGoals(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  Answer(services_->dashboard->ListGoals(), 200, GoalsToJson, "GET /v1/goals", respond);
}

void DashboardHandler::CreateGoal(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  auto g = ParseGoal(r.body, {}, true, services_->dashboard->Today());
  if (!g.ok()) return respond(ErrorFromStatus(g.status()));
  Answer(services_->dashboard->CreateGoal(*g), 201, GoalToJson, "POST /v1/goals", respond);
}

void DashboardHandler::GetGoal(const ApiRequest& r, const std::string& id_text, Responder respond) {
  if (!Admit(r, respond)) return;
  DASH_ID_OR_RESPOND(id, "goal", id_text);
  Answer(services_->dashboard->GetGoal(id), 200, GoalToJson, "GET /v1/goals/{id}", respond);
}

void DashboardHandler::UpdateGoal(const ApiRequest& r, const std::string& id_text, Responder respond) {
  if (!Admit(r, respond)) return;
  DASH_ID_OR_RESPOND(id, "goal", id_text);
  auto old = services_->dashboard->GetGoal(id);
  if (!old.ok()) return respond(ErrorFromStatus(old.status(), {}, "PUT /v1/goals/{id}"));
  auto g = ParseGoal(r.body, *old, false, services_->dashboard->Today());
  if (!g.ok()) return respond(ErrorFromStatus(g.status()));
  g->id = id;
  Answer(services_->dashboard->UpdateGoal(*g), 200, GoalToJson, "PUT /v1/goals/{id}", respond);
}

void DashboardHandler::DeleteGoal(const ApiRequest& r, const std::string& id_text, Responder respond) {
  if (!Admit(r, respond)) return;
  DASH_ID_OR_RESPOND(id, "goal", id_text);
  Deleted(services_->dashboard->DeleteGoal(id), id, "DELETE /v1/goals/{id}", respond);
}

// ---- budgets ----

void DashboardHandler::ListBudgets(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  Answer(services_->dashboard->ListBudgets(), 200, BudgetsToJson, "GET /v1/budgets", respond);
}

void DashboardHandler::CreateBudget(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  auto b = ParseBudget(r.body, {}, true, services_->dashboard->Today());
  if (!b.ok()) return respond(ErrorFromStatus(b.status()));
  Answer(services_->dashboard->CreateBudget(*b), 201, BudgetToJson, "POST /v1/budgets", respond);
}

void DashboardHandler::UpdateBudget(const ApiRequest& r, const std::string& id_text, Responder respond) {
  if (!Admit(r, respond)) return;
  DASH_ID_OR_RESPOND(id, "budget", id_text);
  auto all = services_->dashboard->ListBudgets();
  if (!all.ok()) return respond(ErrorFromStatus(all.status(), {}, "PUT /v1/budgets/{id}"));
  const dashboard::Budget* old = nullptr;
  for (const auto& b : *all)
    if (b.id == id) old = &b;
  if (!old) return respond(JsonError(404, fmt::format("budget {} not found", id)));
  auto b = ParseBudget(r.body, *old, false, services_->dashboard->Today());
  if (!b.ok()) return respond(ErrorFromStatus(b.status()));
  Answer(services_->dashboard->UpdateBudget(*b), 200, BudgetToJson, "PUT /v1/budgets/{id}", respond);
}

void DashboardHandler::DeleteBudget(const ApiRequest& r, const std::string& id_text, Responder respond) {
  if (!Admit(r, respond)) return;
  DASH_ID_OR_RESPOND(id, "budget", id_text);
  Deleted(services_->dashboard->DeleteBudget(id), id, "DELETE /v1/budgets/{id}", respond);
}

// ---- activities ----

void DashboardHandler::ListActivities(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  Answer(services_->dashboard->ListActivities(), 200, ActivitiesToJson, "GET /v1/activities", respond);
}

void DashboardHandler::CreateActivity(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  auto a = ParseActivity(r.body, {}, true, services_->dashboard->Today());
  if (!a.ok()) return respond(ErrorFromStatus(a.status()));
  Answer(services_->dashboard->CreateActivity(*a), 201, ActivityToJson, "POST /v1/activities", respond);
}

void DashboardHandler::UpdateActivity(const ApiRequest& r, const std::string& id_text, Responder respond) {
  if (!Admit(r, respond)) return;
  DASH_ID_OR_RESPOND(id, "activity", id_text);
  auto all = services_->dashboard->ListActivities();
  if (!all.ok()) return respond(ErrorFromStatus(all.status(), {}, "PUT /v1/activities/{id}"));
  const dashboard::Activity* old = nullptr;
  for (const auto& a : *all)
    if (a.id == id) old = &a;
  if (!old) return respond(JsonError(404, fmt::format("activity {} not found", id)));
  auto a = ParseActivity(r.body, *old, false, services_->dashboard->Today());
  if (!a.ok()) return respond(ErrorFromStatus(a.status()));
  Answer(services_->dashboard->UpdateActivity(*a), 200, ActivityToJson, "PUT /v1/activities/{id}", respond);
}

void DashboardHandler::DeleteActivity(const ApiRequest& r, const std::string& id_text, Responder respond) {
  if (!Admit(r, respond)) return;
  DASH_ID_OR_RESPOND(id, "activity", id_text);
  Deleted(services_->dashboard->DeleteActivity(id), id, "DELETE /v1/activities/{id}", respond);
}

// ---- overview ----

void DashboardHandler::Overview(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  auto page = DecodePageFilter(r.query);
  if (!page.ok()) return respond(ErrorFromStatus(page.status()));
  auto members = SegmentMembers(*services_, page->segment);
  if (!members.ok()) return respond(ErrorFromStatus(members.status(), {}, "GET /v1/dashboard"));
  dashboard::OverviewFilter filter;
  filter.from_day = page->from_day;
  filter.to_day = page->to_day;
  filter.members = std::move(*members);
  filter.segment = {page->segment.persona, page->segment.lifecycle, page->segment.channel};
  filter.key = page->Key() == PageFilter{}.Key() ? std::string() : page->Key();
  Answer(services_->dashboard->Overview(filter), 200, DashboardToJson, "GET /v1/dashboard", respond);
}

}  // namespace cairn::api
