#pragma once
// CasesWiring: cases/ inside the journey (issue 5 §5 and §7, issue 4 §7). Hub starts it after the
// rescue stack; it connects the case engine to the rest of the hub:
//
//   a case's status change → an interaction of the customer through the ingest path, as Cairn's
//       own trusted source kCasesSource: track "Case Opened" / "Case Updated" / "Case Resolved"
//       (properties caseId, status, from, origin, category, severity, channel, tier, and on
//       resolution `well` and `resolution`), messageId "cairn-case-<id>-v<version>" (a repeat is
//       a duplicate). The customer's timeline (GET /v1/customers/{id}/events) shows it, and the
//       journey map's emotion signals react to it (default map: case_resolved_well → recovery).
//   a case resolved → a CSAT request: an action "csat_request" through the dispatcher (gates:
//       consent for `csat_purpose` on the case's channel, quiet hours, frequency cap), payload
//       {caseId, customer, channel, resolution}. The answer, a `Survey Responded` with csat and
//       caseId, is linked to the case by the intake (audit "survey") and counted in
//       /v1/complaints/analysis as CSAT after resolution.
//   the internal action "open_case" (the angry rescue path's action in the default map) →
//       CaseService::OpenCase (origin "journey", severity high, once per action), and the case
//       is recorded on the rescue (action_ref "action:<n> case:<m>").
//
// Durable hand-on: the case engine writes every status event and escalation notice into its
// outbox (cases.db `case_outbox`) in the transaction of the change; this object's thread hands
// them on oldest first — a timeline event through the ingest path (waiting until it is durable),
// a CSAT request or escalation notice into the dispatcher (durable in actions.db) — and only then
// acks the row. At start it drains what a crash or shutdown left; a row handed on twice is a
// duplicate to its receiver (same messageId / idempotency key). Thread-safe.
//
//   an escalation step (notify or reassign, and a critical case's immediate notice) → the action
//       "case_escalation" through the dispatcher as a *staff* notice (actions::Audience::kStaff:
//       none of the customer's gates — consent, quiet hours, frequency cap — apply, it takes no
//       slot of their cap and is no touch on their timeline), labelled `escalation_purpose` on
//       `escalation_channel`, payload {caseId, customer, level, action, reason, agent,
//       escalatedAt, case{...}}; needs actions.webhook.url.
//
// CAIRN_TEST_CASE_EVENT_DELAY_MS (tests only) holds each outbox row back that long before it is
// handed on, so a crash test can kill the process between a case change and its event.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "cases/case_types.h"

namespace YAML {
class Node;
}
namespace cairn::value {
class ValueOracle;
}

namespace cairn::app {

class Hub;

// The source id of interactions Cairn records about cases (not a write key's; actions use
// 0xFFFFFFFE).
inline constexpr uint32_t kCasesSource = 0xFFFFFFFDu;

struct CasesWiringOptions {
  bool csat_request = true;             // send a CSAT request when a case is resolved; default on
  std::string csat_purpose = "service"; // its consent purpose; default service
  // Send each escalation step as the action case_escalation (needs actions.webhook.url); default on.
  bool escalation_actions = true;
  // The purpose and channel the notice is labelled with for the receiver (a staff notice passes
  // no consent gate); defaults service and email.
  std::string escalation_purpose = "service";
  std::string escalation_channel = "email";
  cases::TierThresholds value_tiers;    // predicted CLV → value tier (used by main's SetValueModel)
};

// Reads the config file's `cases:` section: {csat_request: bool, csat_purpose: str,
// escalation_actions: bool, escalation_purpose: str, escalation_channel: str,
// value_tiers: {high: n, vip: n}}. InvalidArgument naming the key.
Status ApplyCasesSection(const YAML::Node& node, CasesWiringOptions* out);

// The Segment track message recorded for a case event (exposed for tests). `customer_key` is
// "u:<userId>" or "a:<anonymousId>" (identity resolver keys).
Result<std::string> CaseEventMessage(const cases::CaseEvent& event, const std::string& customer_key);
// The `data` of a case_escalation action for an outbox escalation notice (exposed for tests).
std::string EscalationPayload(const cases::OutboxItem& item);

// Survey answers without their own persona / phase count under their customer's (docs/cases.md
// "Surveys"): the persona from `personas` (value engine, as of its last fit; may be null) and the
// journey phase from hub->journey() now. `personas` must outlive the hub's case engine use.
void SetSurveyDimensions(Hub* hub, const value::ValueOracle* personas);

class CasesWiring {
 public:
  // Hooks into hub->cases(), hub->pipeline() and (when present) hub->rescue(); starts draining
  // the outbox (rows left by an earlier run first).
  static Result<std::unique_ptr<CasesWiring>> Start(Hub* hub, CasesWiringOptions options);
  ~CasesWiring();  // Stop()

  // Detaches from the case engine and finishes the row being handed on; the rest stay in the
  // outbox for the next start. Idempotent.
  void Stop();
  // Waits (up to `timeout_ms`) until the outbox is empty; false on timeout (tests).
  bool Flush(int64_t timeout_ms = 30000);

 private:
  enum class Outcome { kDone, kRetry };  // kDone: ack the row; kRetry: keep it, try again later

  CasesWiring(Hub* hub, CasesWiringOptions options) : hub_(hub), options_(std::move(options)) {}
  void Loop();
  Outcome HandOn(const cases::OutboxItem& item);
  Outcome Record(const cases::CaseEvent& e);
  Outcome RequestCsat(const cases::CaseEvent& e, const std::string& customer_key);
  Outcome Escalate(const cases::OutboxItem& item);
  Result<std::string> OpenCaseAction(const std::string& payload_json, int64_t action_id, uint64_t customer,
                                     const std::string& channel, const std::string& source_ref);

  Hub* hub_;
  CasesWiringOptions options_;
  int64_t test_delay_ms_ = 0;  // CAIRN_TEST_CASE_EVENT_DELAY_MS
  std::mutex mu_;
  std::condition_variable cv_;
  bool kicked_ = false;  // guarded by mu_: the outbox has new rows
  bool stop_ = false;    // guarded by mu_
  std::thread thread_;
};

}  // namespace cairn::app
