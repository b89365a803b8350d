#pragma once
// CaseHandler: complaints as cases (role checked by the router, docs/access.md). Shapes: dto/case_dto.h, docs/cases.md.
//   POST  /v1/cases                      open a case                          → 201 case
//   GET   /v1/cases?status=&assignee=&breached=&category=&customer=&limit=&before=
//   GET   /v1/cases/{id}                 case + comments + audit + escalations
//   PATCH /v1/cases/{id}                 field edits (optional "version")
//   POST  /v1/cases/{id}/transition      {"to","actor","resolution","note","version"}
//                                        → 200 case; 202 case when the resolution awaits
//                                        approval; 409 {"error","status","allowed"} when invalid
//   POST  /v1/cases/{id}/comments        → 201 comment
//   POST  /v1/cases/{id}/assign          {"agent","actor","version"}
//   POST  /v1/cases/{id}/approve         {"approver"}
//   GET   /v1/agents, PUT /v1/agents/{id}
//   GET   /v1/authority-limits, PUT /v1/authority-limits/{level} {"limit": n | null}
//   GET|PUT /v1/sla/policies, GET /v1/sla/calendars, PUT /v1/sla/calendars/{name},
//   GET|PUT /v1/sla/escalation
//   GET   /v1/complaints/analysis?from=&to=
// Without Services::cases every route answers 503. Calls are synchronous on the I/O thread
// (SQLite point reads and single-row transactions). Thread-safe.

#include <string>

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class CaseHandler {
 public:
  explicit CaseHandler(const Services* services) : services_(services) {}

  void Open(const ApiRequest& r, Responder respond);
  void List(const ApiRequest& r, Responder respond);
  void Get(const ApiRequest& r, const std::string& id, Responder respond);
  void Update(const ApiRequest& r, const std::string& id, Responder respond);
  void Transition(const ApiRequest& r, const std::string& id, Responder respond);
  void Comment(const ApiRequest& r, const std::string& id, Responder respond);
  void Assign(const ApiRequest& r, const std::string& id, Responder respond);
  void Approve(const ApiRequest& r, const std::string& id, Responder respond);
  void ListAgents(const ApiRequest& r, Responder respond);
  void PutAgent(const ApiRequest& r, const std::string& id, Responder respond);
  void ListLimits(const ApiRequest& r, Responder respond);
  void PutLimit(const ApiRequest& r, const std::string& level, Responder respond);
  void ListPolicies(const ApiRequest& r, Responder respond);
  void PutPolicy(const ApiRequest& r, Responder respond);
  void ListCalendars(const ApiRequest& r, Responder respond);
  void PutCalendar(const ApiRequest& r, const std::string& name, Responder respond);
  void GetEscalation(const ApiRequest& r, Responder respond);
  void PutEscalation(const ApiRequest& r, Responder respond);
  void Analysis(const ApiRequest& r, Responder respond);

 private:
  // Auth and availability; false when it already answered.
  bool Admit(const ApiRequest& r, Responder& respond) const;
  const Services* services_;
};

}  // namespace cairn::api
