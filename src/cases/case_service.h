#pragma once
// CaseService: the case engine's interface — for the HTTP layer, the journey engine's angry
// path (OpenCase with origin "journey") and the interaction stream. Implemented by CaseManager.
//
// Error contract (the HTTP layer maps codes): InvalidArgument names the field; NotFound for an
// unknown case/agent; FailedPrecondition for an invalid transition (the message names the
// allowed targets, see AllowedTransitions) or a stale expected_version; PermissionDenied when an
// approver lacks the authority. Implementations are thread-safe; every change to a case is one
// SQLite transaction that bumps its version and appends to its audit trail.

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "cases/case_types.h"

namespace cairn::cases {

class CaseService {
 public:
  virtual ~CaseService() = default;

  virtual Result<Case> OpenCase(const NewCase& request) = 0;
  virtual Result<CaseDetail> GetCase(uint64_t id) = 0;
  virtual Result<CaseList> ListCases(const CaseFilter& filter) = 0;
  // Field edits (category, severity, tier, description, root cause, channel).
  virtual Result<Case> UpdateCase(uint64_t id, const CaseUpdate& update) = 0;
  // Moves the case along the status machine. To resolve, a resolution is required; if its amount
  // is above the authority of the actor (or, when the actor is not an agent, of the assignee)
  // the case stays where it is with a pending resolution and `approval_level` set (the caller
  // sees pending_resolution in the result) until Approve.
  virtual Result<Case> Transition(uint64_t id, const TransitionRequest& request) = 0;
  virtual Result<Case> Assign(uint64_t id, const std::string& agent_id, const std::string& actor,
                              int64_t expected_version) = 0;
  // A public comment by an agent counts as the first response.
  virtual Result<CaseComment> AddComment(uint64_t id, const CaseComment& comment) = 0;
  // Approves the pending resolution and resolves the case. PermissionDenied if the approver's
  // level has a lower authority limit than the amount; FailedPrecondition if nothing is pending.
  virtual Result<Case> Approve(uint64_t id, const std::string& approver) = 0;

  virtual Result<Agent> PutAgent(const Agent& agent) = 0;
  virtual Result<std::vector<Agent>> ListAgents() = 0;
  // Authority limit per level (money); a negative limit = unlimited.
  virtual Status SetAuthorityLimit(AgentLevel level, double limit) = 0;
  virtual Result<std::vector<std::pair<AgentLevel, double>>> AuthorityLimits() = 0;

  virtual Status PutPolicy(const SlaPolicy& policy) = 0;
  virtual Result<std::vector<SlaPolicy>> ListPolicies() = 0;
  virtual Status PutCalendar(const CalendarSpec& spec) = 0;
  virtual Result<std::vector<CalendarSpec>> ListCalendars() = 0;
  virtual Status SetEscalationChain(const std::vector<EscalationStep>& steps) = 0;
  virtual Result<std::vector<EscalationStep>> EscalationChain() = 0;

  // Runs every SLA timer due at `now_ms` (breaches, escalation steps). Returns how many changed a case (stale timers are dropped silently).
  virtual Result<size_t> CheckBreaches(int64_t now_ms) = 0;

  // Complaint analysis over cases opened in [from_ms, to_ms).
  virtual Result<ComplaintAnalysis> Analyze(int64_t from_ms, int64_t to_ms) = 0;
};

}  // namespace cairn::cases
