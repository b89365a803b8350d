#pragma once
// Case DTOs: JSON ⇄ cases:: structs for /v1/cases, /v1/agents, /v1/authority-limits, /v1/sla/*
// and /v1/complaints/analysis. Shapes are documented in docs/cases.md. Times are ISO-8601 UTC
// with milliseconds (null when not set); customers are "c:<n>". Every parse error is an
// InvalidArgument naming the field; unknown fields are rejected.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cases/case_types.h"

namespace cairn::api {

// Shared with feedback_dto: "1767225600000", "2026-01-01", "2026-01-01T10:00:00Z" (optionally
// with .mmm) → ms since epoch; InvalidArgument naming `field`.
Result<int64_t> ParseTimeParam(std::string_view field, std::string_view text);

Result<cases::NewCase> ParseNewCase(std::string_view body);
Result<cases::CaseUpdate> ParseCaseUpdate(std::string_view body);
Result<cases::TransitionRequest> ParseTransition(std::string_view body);
Result<cases::CaseComment> ParseCaseComment(std::string_view body);
struct AssignRequest {
  std::string agent;  // "" = unassign
  std::string actor = "api";
  int64_t version = 0;
};
Result<AssignRequest> ParseAssign(std::string_view body);
Result<std::string> ParseApprove(std::string_view body);  // the approver's agent id
Result<cases::Agent> ParseAgent(std::string_view body, const std::string& id);
Result<double> ParseLimit(std::string_view body);
Result<cases::SlaPolicy> ParsePolicy(std::string_view body);
Result<cases::CalendarSpec> ParseCalendar(std::string_view body, const std::string& name);
Result<std::vector<cases::EscalationStep>> ParseEscalation(std::string_view body);
// ?status=&assignee=&breached=&category=&customer=&limit=&before=
Result<cases::CaseFilter> ParseCaseFilter(std::string_view query);
Result<uint64_t> ParseCaseId(std::string_view text);

std::string CaseToJson(const cases::Case& c);
std::string CaseDetailToJson(const cases::CaseDetail& d);
std::string CaseListToJson(const cases::CaseList& list);
std::string CommentToJson(const cases::CaseComment& c);
std::string AgentToJson(const cases::Agent& a);
std::string AgentsToJson(const std::vector<cases::Agent>& agents);
std::string LimitsToJson(const std::vector<std::pair<cases::AgentLevel, double>>& limits);
std::string PoliciesToJson(const std::vector<cases::SlaPolicy>& policies);
std::string CalendarsToJson(const std::vector<cases::CalendarSpec>& calendars);
std::string EscalationToJson(const std::vector<cases::EscalationStep>& steps);
std::string AnalysisToJson(const cases::ComplaintAnalysis& a);
// 409 body for an invalid transition: {"error": message, "status": current, "allowed": [...]}.
std::string TransitionConflictJson(std::string_view message, cases::CaseStatus current);

}  // namespace cairn::api
