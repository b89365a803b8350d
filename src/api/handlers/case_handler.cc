#include "api/handlers/case_handler.h"

#include "api/dto/case_dto.h"
#include "api/responses.h"
#include "api/url.h"
#include "cases/case_service.h"

namespace cairn::api {
namespace {

template <typename T, typename Encode>
void Answer(const Result<T>& r, unsigned ok_status, Encode encode, std::string_view what, Responder& respond) {
  if (!r.ok()) return respond(ErrorFromStatus(r.status(), {}, what));
  respond(JsonResponse(ok_status, encode(*r)));
}


}  // namespace

bool CaseHandler::Admit(const ApiRequest& r, Responder& respond) const {
  if (services_->cases == nullptr) {
    respond(ServiceUnavailable("cases"));
    return false;
  }
  return true;
}

#define CASE_ID_OR_RESPOND(var, text)                        \
  auto var##_r = ParseCaseId(text);                          \
  if (!var##_r.ok()) return respond(ErrorFromStatus(var##_r.status())); \
  const uint64_t var = *var##_r

void CaseHandler::Open(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  auto req = ParseNewCase(r.body);
  if (!req.ok()) return respond(ErrorFromStatus(req.status()));
  Answer(services_->cases->OpenCase(*req), 201, CaseToJson, "POST /v1/cases", respond);
}

void CaseHandler::List(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  auto f = ParseCaseFilter(r.query);
  if (!f.ok()) return respond(ErrorFromStatus(f.status()));
  Answer(services_->cases->ListCases(*f), 200, CaseListToJson, "GET /v1/cases", respond);
}

void CaseHandler::Get(const ApiRequest& r, const std::string& id_text, Responder respond) {
  if (!Admit(r, respond)) return;
  CASE_ID_OR_RESPOND(id, id_text);
  Answer(services_->cases->GetCase(id), 200, CaseDetailToJson, "GET /v1/cases/{id}", respond);
}

void CaseHandler::Update(const ApiRequest& r, const std::string& id_text, Responder respond) {
  if (!Admit(r, respond)) return;
  CASE_ID_OR_RESPOND(id, id_text);
  auto u = ParseCaseUpdate(r.body);
  if (!u.ok()) return respond(ErrorFromStatus(u.status()));
  Answer(services_->cases->UpdateCase(id, *u), 200, CaseToJson, "PATCH /v1/cases/{id}", respond);
}

void CaseHandler::Transition(const ApiRequest& r, const std::string& id_text, Responder respond) {
  if (!Admit(r, respond)) return;
  CASE_ID_OR_RESPOND(id, id_text);
  auto t = ParseTransition(r.body);
  if (!t.ok()) return respond(ErrorFromStatus(t.status()));
  auto c = services_->cases->Transition(id, *t);
  if (!c.ok()) {
    // An invalid move names the allowed ones, from the case's current status.
    if (c.status().Is(Code::kFailedPrecondition) && c.status().message().starts_with("status:")) {
      auto now = services_->cases->GetCase(id);
      if (now.ok()) return respond(JsonResponse(409, TransitionConflictJson(c.status().message(), now->c.status)));
    }
    return respond(ErrorFromStatus(c.status(), {}, "POST /v1/cases/{id}/transition"));
  }
  const bool pending = c->status != t->to && c->pending_resolution.has_value();
  respond(JsonResponse(pending ? 202 : 200, CaseToJson(*c)));
}

void CaseHandler::Comment(const ApiRequest& r, const std::string& id_text, Responder respond) {
  if (!Admit(r, respond)) return;
  CASE_ID_OR_RESPOND(id, id_text);
  auto cm = ParseCaseComment(r.body);
  if (!cm.ok()) return respond(ErrorFromStatus(cm.status()));
  Answer(services_->cases->AddComment(id, *cm), 201, CommentToJson, "POST /v1/cases/{id}/comments", respond);
}

void CaseHandler::Assign(const ApiRequest& r, const std::string& id_text, Responder respond) {
  if (!Admit(r, respond)) return;
  CASE_ID_OR_RESPOND(id, id_text);
  auto a = ParseAssign(r.body);
  if (!a.ok()) return respond(ErrorFromStatus(a.status()));
  Answer(services_->cases->Assign(id, a->agent, a->actor, a->version), 200, CaseToJson, "POST /v1/cases/{id}/assign",
         respond);
}

void CaseHandler::Approve(const ApiRequest& r, const std::string& id_text, Responder respond) {
  if (!Admit(r, respond)) return;
  CASE_ID_OR_RESPOND(id, id_text);
  auto a = ParseApprove(r.body);
  if (!a.ok()) return respond(ErrorFromStatus(a.status()));
  Answer(services_->cases->Approve(id, *a), 200, CaseToJson, "POST /v1/cases/{id}/approve", respond);
}

void CaseHandler::ListAgents(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  Answer(services_->cases->ListAgents(), 200, AgentsToJson, "GET /v1/agents", respond);
}

void CaseHandler::PutAgent(const ApiRequest& r, const std::string& id, Responder respond) {
  if (!Admit(r, respond)) return;
  auto a = ParseAgent(r.body, id);
  if (!a.ok()) return respond(ErrorFromStatus(a.status()));
  Answer(services_->cases->PutAgent(*a), 200, AgentToJson, "PUT /v1/agents/{id}", respond);
}

void CaseHandler::ListLimits(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  Answer(services_->cases->AuthorityLimits(), 200, LimitsToJson, "GET /v1/authority-limits", respond);
}

void CaseHandler::PutLimit(const ApiRequest& r, const std::string& level_text, Responder respond) {
  if (!Admit(r, respond)) return;
  auto level = cases::ParseLevel(level_text);
  if (!level)
    return respond(JsonError(400, "level: must be agent, team_lead, manager, director or executive"));
  auto limit = ParseLimit(r.body);
  if (!limit.ok()) return respond(ErrorFromStatus(limit.status()));
  Status s = services_->cases->SetAuthorityLimit(*level, *limit);
  if (!s.ok()) return respond(ErrorFromStatus(s, {}, "PUT /v1/authority-limits/{level}"));
  Answer(services_->cases->AuthorityLimits(), 200, LimitsToJson, "PUT /v1/authority-limits/{level}", respond);
}

void CaseHandler::ListPolicies(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  Answer(services_->cases->ListPolicies(), 200, PoliciesToJson, "GET /v1/sla/policies", respond);
}

void CaseHandler::PutPolicy(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  auto p = ParsePolicy(r.body);
  if (!p.ok()) return respond(ErrorFromStatus(p.status()));
  Status s = services_->cases->PutPolicy(*p);
  if (!s.ok()) return respond(ErrorFromStatus(s, {}, "PUT /v1/sla/policies"));
  Answer(services_->cases->ListPolicies(), 200, PoliciesToJson, "PUT /v1/sla/policies", respond);
}

void CaseHandler::ListCalendars(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  Answer(services_->cases->ListCalendars(), 200, CalendarsToJson, "GET /v1/sla/calendars", respond);
}

void CaseHandler::PutCalendar(const ApiRequest& r, const std::string& name, Responder respond) {
  if (!Admit(r, respond)) return;
  auto c = ParseCalendar(r.body, name);
  if (!c.ok()) return respond(ErrorFromStatus(c.status()));
  Status s = services_->cases->PutCalendar(*c);
  if (!s.ok()) return respond(ErrorFromStatus(s, {}, "PUT /v1/sla/calendars/{name}"));
  Answer(services_->cases->ListCalendars(), 200, CalendarsToJson, "PUT /v1/sla/calendars/{name}", respond);
}

void CaseHandler::GetEscalation(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  Answer(services_->cases->EscalationChain(), 200, EscalationToJson, "GET /v1/sla/escalation", respond);
}

void CaseHandler::PutEscalation(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  auto steps = ParseEscalation(r.body);
  if (!steps.ok()) return respond(ErrorFromStatus(steps.status()));
  Status s = services_->cases->SetEscalationChain(*steps);
  if (!s.ok()) return respond(ErrorFromStatus(s, {}, "PUT /v1/sla/escalation"));
  Answer(services_->cases->EscalationChain(), 200, EscalationToJson, "PUT /v1/sla/escalation", respond);
}

void CaseHandler::Analysis(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  auto params = ParseQuery(r.query);
  if (!params.ok()) return respond(ErrorFromStatus(params.status()));
  int64_t from = INT64_MIN, to = INT64_MAX;
  for (const auto& [k, v] : *params) {
    if (k == "from" || k == "to") {
      auto t = ParseTimeParam(k, v);
      if (!t.ok()) return respond(ErrorFromStatus(t.status()));
      (k == "from" ? from : to) = *t;
    } else {
      return respond(JsonError(400, k + ": unknown parameter"));
    }
  }
  Answer(services_->cases->Analyze(from, to), 200, AnalysisToJson, "GET /v1/complaints/analysis", respond);
}

}  // namespace cairn::api
