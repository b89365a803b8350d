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
// Status events arrive under the case engine's lock (possibly on the WAL thread through the
// intake); they are queued here and ingested on this object's own thread, so ingest never waits
// on itself. Events still queued at Stop are dropped (logged); a case opened during a shutdown
// may therefore miss its timeline entry. Thread-safe.

#include <condition_variable>
#include <deque>
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
  cases::TierThresholds value_tiers;    // predicted CLV → value tier (used by main's SetValueModel)
};

// Reads the config file's `cases:` section: {csat_request: bool, csat_purpose: str,
// value_tiers: {high: n, vip: n}}. InvalidArgument naming the key.
Status ApplyCasesSection(const YAML::Node& node, CasesWiringOptions* out);

// The Segment track message recorded for a case event (exposed for tests). `customer_key` is
// "u:<userId>" or "a:<anonymousId>" (identity resolver keys).
Result<std::string> CaseEventMessage(const cases::CaseEvent& event, const std::string& customer_key);

// Survey answers without their own persona / phase count under their customer's (docs/cases.md
// "Surveys"): the persona from `personas` (value engine, as of its last fit; may be null) and the
// journey phase from hub->journey() now. `personas` must outlive the hub's case engine use.
void SetSurveyDimensions(Hub* hub, const value::ValueOracle* personas);

class CasesWiring {
 public:
  // Hooks into hub->cases(), hub->pipeline() and (when present) hub->rescue().
  static Result<std::unique_ptr<CasesWiring>> Start(Hub* hub, CasesWiringOptions options);
  ~CasesWiring();  // Stop()

  // Detaches from the case engine, finishes the event being recorded and drops the rest.
  // Idempotent.
  void Stop();
  // Waits until every event queued so far is handed to ingest (tests).
  void Flush();

 private:
  CasesWiring(Hub* hub, CasesWiringOptions options) : hub_(hub), options_(std::move(options)) {}
  void Loop();
  void Record(const cases::CaseEvent& e);
  void RequestCsat(const cases::CaseEvent& e, const std::string& customer_key);
  Result<std::string> OpenCaseAction(const std::string& payload_json, int64_t action_id, uint64_t customer,
                                     const std::string& channel, const std::string& source_ref);

  Hub* hub_;
  CasesWiringOptions options_;
  std::mutex mu_;
  std::condition_variable cv_, idle_;
  std::deque<cases::CaseEvent> queue_;  // guarded by mu_
  bool busy_ = false;                   // guarded by mu_
  bool stop_ = false;                   // guarded by mu_
  std::thread thread_;
};

}  // namespace cairn::app
