#pragma once
// Case records and their vocabulary (DOMAIN.md §7, issue 5). Header-only so the HTTP layer can
// name and parse values without linking the case engine. Enum values are stored in cases.db
// (docs/format/cases.md): never renumber.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cases/business_calendar.h"

namespace cairn::cases {

enum class CaseStatus : uint8_t {
  kNew = 1,
  kTriaged = 2,
  kInProgress = 3,
  kWaitingOnCustomer = 4,
  kResolved = 5,
  kClosed = 6,
  kReopened = 7,
};
enum class Severity : uint8_t { kLow = 1, kMedium = 2, kHigh = 3, kCritical = 4 };
// The customer's value tier (from the value module when present, else given). Standard by default.
enum class ValueTier : uint8_t { kStandard = 1, kHigh = 2, kVip = 3 };
enum class ResolutionType : uint8_t { kRefund = 1, kReplacement = 2, kFix = 3, kExplanation = 4, kGoodwill = 5 };
enum class AgentLevel : uint8_t { kAgent = 1, kTeamLead = 2, kManager = 3, kDirector = 4, kExecutive = 5 };

namespace detail {
template <typename E, size_t N>
std::optional<E> ParseName(std::string_view s, const std::array<std::string_view, N>& names, int first) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == s) return static_cast<E>(static_cast<int>(i) + first);
  return std::nullopt;
}
inline constexpr std::array<std::string_view, 7> kStatusNames = {
    "new", "triaged", "in_progress", "waiting_on_customer", "resolved", "closed", "reopened"};
inline constexpr std::array<std::string_view, 4> kSeverityNames = {"low", "medium", "high", "critical"};
inline constexpr std::array<std::string_view, 3> kTierNames = {"standard", "high", "vip"};
inline constexpr std::array<std::string_view, 5> kResolutionNames = {"refund", "replacement", "fix", "explanation",
                                                                     "goodwill"};
inline constexpr std::array<std::string_view, 5> kLevelNames = {"agent", "team_lead", "manager", "director",
                                                                "executive"};
}  // namespace detail

inline std::string_view Name(CaseStatus v) { return detail::kStatusNames[static_cast<int>(v) - 1]; }
inline std::string_view Name(Severity v) { return detail::kSeverityNames[static_cast<int>(v) - 1]; }
inline std::string_view Name(ValueTier v) { return detail::kTierNames[static_cast<int>(v) - 1]; }
inline std::string_view Name(ResolutionType v) { return detail::kResolutionNames[static_cast<int>(v) - 1]; }
inline std::string_view Name(AgentLevel v) { return detail::kLevelNames[static_cast<int>(v) - 1]; }
inline std::optional<CaseStatus> ParseStatus(std::string_view s) { return detail::ParseName<CaseStatus>(s, detail::kStatusNames, 1); }
inline std::optional<Severity> ParseSeverity(std::string_view s) { return detail::ParseName<Severity>(s, detail::kSeverityNames, 1); }
inline std::optional<ValueTier> ParseTier(std::string_view s) { return detail::ParseName<ValueTier>(s, detail::kTierNames, 1); }
inline std::optional<ResolutionType> ParseResolutionType(std::string_view s) { return detail::ParseName<ResolutionType>(s, detail::kResolutionNames, 1); }
inline std::optional<AgentLevel> ParseLevel(std::string_view s) { return detail::ParseName<AgentLevel>(s, detail::kLevelNames, 1); }

// The status machine:
//   new → triaged | in_progress;  triaged → in_progress;
//   in_progress → waiting_on_customer | resolved;  waiting_on_customer → in_progress | resolved;
//   resolved → closed | reopened;  closed → reopened;  reopened → triaged | in_progress.
inline std::vector<CaseStatus> AllowedTransitions(CaseStatus from) {
  using S = CaseStatus;
  switch (from) {
    case S::kNew: return {S::kTriaged, S::kInProgress};
    case S::kTriaged: return {S::kInProgress};
    case S::kInProgress: return {S::kWaitingOnCustomer, S::kResolved};
    case S::kWaitingOnCustomer: return {S::kInProgress, S::kResolved};
    case S::kResolved: return {S::kClosed, S::kReopened};
    case S::kClosed: return {S::kReopened};
    case S::kReopened: return {S::kTriaged, S::kInProgress};
  }
  return {};
}
inline bool IsOpen(CaseStatus s) { return s != CaseStatus::kResolved && s != CaseStatus::kClosed; }

struct Resolution {
  ResolutionType type = ResolutionType::kFix;
  double amount = 0;  // money given (refund, goodwill, replacement value); 0 for fix/explanation
};

// SLA state on a case. 0 in a time field = not set.
struct SlaState {
  int64_t first_response_target_ms = 0;  // business ms
  int64_t resolution_target_ms = 0;      // business ms
  std::string calendar;                  // "" = 24×7
  int64_t first_response_due_ms = 0;
  bool first_response_breached = false;
  int64_t resolution_due_ms = 0;         // 0 while paused (waiting on the customer) or resolved
  int64_t resolution_remaining_ms = 0;   // business ms left, kept while paused
  bool resolution_breached = false;
  int64_t breached_at_ms = 0;            // first breach
  int escalation_step = 0;               // next step of the escalation chain to run
  int64_t next_escalation_ms = 0;        // when it runs (0 = none)
};

struct Case {
  uint64_t id = 0;
  uint64_t customer = 0;  // canonical customer id
  std::string channel, category, description, root_cause;
  Severity severity = Severity::kMedium;
  ValueTier tier = ValueTier::kStandard;
  CaseStatus status = CaseStatus::kNew;
  std::string assignee;  // agent id, "" = unassigned
  std::string origin;    // "api", "interaction", "survey", "journey"
  std::optional<Resolution> resolution;
  std::optional<Resolution> pending_resolution;  // above the proposer's authority: awaits approval
  std::string pending_by;                        // who proposed it
  std::optional<AgentLevel> approval_level;      // the lowest level allowed to approve it
  uint64_t secondary_of = 0;  // the earlier case of this customer within 30 days (secondary error)
  int64_t opened_at_ms = 0, updated_at_ms = 0, first_response_at_ms = 0, resolved_at_ms = 0, closed_at_ms = 0;
  int reopen_count = 0;
  std::optional<AgentLevel> escalation_level;  // highest level escalated to
  int64_t version = 1;                         // +1 on every change (optimistic concurrency)
  SlaState sla;
  std::string message_id;   // the interaction that opened it, if any
  uint64_t source_seq = 0;  // its store seq (idempotence key), 0 if not from the stream
};

struct AuditEntry {
  int64_t at_ms = 0;
  std::string actor;   // agent id, "system", "customer", or an API caller's name
  std::string action;  // "open", "transition", "assign", "update", "comment", "resolution_proposed",
                       // "approve", "breach", "escalate"
  std::string field, from, to;
};

struct CaseComment {
  uint64_t id = 0;
  int64_t at_ms = 0;
  std::string author;
  std::string body;
  bool is_public = true;  // a public comment by an agent is a response to the customer
};

struct EscalationRecord {
  int64_t at_ms = 0;
  AgentLevel level = AgentLevel::kTeamLead;
  std::string action;  // "notify" or "reassign"
  std::string reason;  // "first_response_breach", "resolution_breach", "severity"
  std::string to_agent;  // the agent notified / assigned ("" if no agent holds that level)
};

struct CaseDetail {
  Case c;
  std::vector<AuditEntry> audit;
  std::vector<CaseComment> comments;
  std::vector<EscalationRecord> escalations;
};

struct Agent {
  std::string id;  // required: [A-Za-z0-9._@-]{1,64}
  std::string name, team;
  AgentLevel level = AgentLevel::kAgent;
  std::vector<std::string> skills;  // categories handled; empty or "*" = any
  bool active = true;
};

struct SlaPolicy {
  Severity severity = Severity::kMedium;
  ValueTier tier = ValueTier::kStandard;
  int64_t first_response_ms = 0;  // business time
  int64_t resolution_ms = 0;      // business time
  std::string calendar;           // "" = 24×7
};

// One step of the escalation chain: `after_ms` (wall time) after the first breach, notify (or
// reassign the case to) an agent of `level`.
struct EscalationStep {
  int64_t after_ms = 0;
  AgentLevel level = AgentLevel::kTeamLead;
  bool reassign = false;
};

struct NewCase {
  std::string customer;      // any identity the directory knows, or "c:<n>"; or set customer_id
  uint64_t customer_id = 0;
  std::string channel, category, description;
  Severity severity = Severity::kMedium;
  std::optional<ValueTier> tier;
  std::string origin = "api";
  std::string actor = "api";
  std::string message_id;
  uint64_t source_seq = 0;
  int64_t at_ms = 0;  // 0 = now
};

struct CaseUpdate {
  std::optional<std::string> category, description, root_cause, channel;
  std::optional<Severity> severity;
  std::optional<ValueTier> tier;
  std::string actor = "api";
  int64_t expected_version = 0;  // 0 = no check
};

struct TransitionRequest {
  CaseStatus to = CaseStatus::kTriaged;
  std::string actor = "api";           // an agent id when an agent acts
  std::optional<Resolution> resolution;  // required to resolve
  std::string note;
  int64_t expected_version = 0;  // 0 = no check
};

// A change of a case's status, reported to the case event listener (CaseManager::SetEventListener)
// after it is durable: the case as it now is, where it came from (nullopt when it just opened) and
// who moved it. Resolving reports `resolved_well`: within its resolution SLA and never reopened.
struct CaseEvent {
  Case c;
  std::optional<CaseStatus> from;  // nullopt: the case was opened
  std::string actor;
  int64_t at_ms = 0;
  bool resolved_well() const { return c.status == CaseStatus::kResolved && !c.sla.resolution_breached && c.reopen_count == 0; }
};

// One row of the case outbox (cases.db `case_outbox`, docs/format/cases.md): a message about a
// case that Cairn still has to hand on, written in the same transaction as the change. A status
// event (escalation empty) goes to the customer's timeline (and, on resolution, a CSAT request);
// an escalation notice goes out as the action `case_escalation`. `event.c` holds the case as of
// `event.c.version` — only id, customer, status, version, origin, category, severity, tier,
// channel, assignee, reopen_count, the breach flags, resolution, resolved_at and
// escalation_level are filled in.
struct OutboxItem {
  uint64_t id = 0;  // emission order
  CaseEvent event;
  std::optional<EscalationRecord> escalation;
};

// Value tier from the customer's predicted CLV (value module): >= vip → vip, >= high → high, else
// standard. A case opened with an explicit tier keeps it.
struct TierThresholds {
  double high = 1000;  // default 1000 (currency of the business)
  double vip = 5000;   // default 5000; must be >= high
};

struct CaseFilter {
  std::optional<CaseStatus> status;
  std::optional<std::string> assignee;
  std::optional<bool> breached;
  std::optional<std::string> category;
  std::string customer;  // any identity; "" = all
  size_t limit = 50;
  uint64_t before_id = 0;  // keyset cursor: cases with id < before_id (0 = from the newest)
};

struct CaseList {
  std::vector<Case> cases;
  uint64_t next_before = 0;  // 0 = no more
};

struct ParetoRow {
  std::string key;
  int64_t count = 0;
  double share = 0;       // % of the total
  double cumulative = 0;  // cumulative %
};

struct SlaAttainment {
  std::string key;  // agent id or team
  int64_t cases = 0;
  int64_t first_response_met = 0, first_response_total = 0;
  int64_t resolution_met = 0, resolution_total = 0;
  double attainment = 0;  // % of SLA targets met (both kinds together)
};

struct RecoveryMeasure {
  // NPS of customers whose complaint was resolved well (resolved within SLA, never reopened)
  // vs customers who never complained, and those whose complaint went badly.
  double well_resolved_nps = 0, never_complained_nps = 0, poorly_resolved_nps = 0;
  int64_t well_resolved_responses = 0, never_complained_responses = 0, poorly_resolved_responses = 0;
};

struct ComplaintAnalysis {
  int64_t cases = 0, open = 0, resolved = 0;
  std::vector<ParetoRow> categories, root_causes;
  double mean_resolution_hours = 0, median_resolution_hours = 0;
  int64_t secondary = 0;
  double secondary_rate = 0;  // % of cases that are secondary errors
  double sla_attainment = 0;
  std::vector<SlaAttainment> by_agent, by_team;
  int64_t csat_responses = 0;
  double csat_after_resolution = 0;  // % satisfied among CSAT answers about cases
  RecoveryMeasure recovery;
};

}  // namespace cairn::cases
