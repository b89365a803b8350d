#pragma once
// The action vocabulary and ActionService, the interface the HTTP layer reads the delivery log
// and dead letters through. Plain structs, no implementation: api/ includes this header only.
//
// An action is one outbound thing Cairn does to a customer (today: a signed webhook the business
// turns into an email, a call task, a case). Every action passes the gates (gates.h) — consent,
// channel constraints for experience-critical interactions, quiet hours in the customer's time
// zone, and the frequency cap with value-based arbitration — before it is delivered; every gate
// verdict is logged with the action (actions.db, docs/format/rescue-actions.md).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/interaction.h"

namespace cairn::actions {

enum class ActionStatus : uint8_t {
  kPending,     // waiting for the gates (arbitration delay, quiet hours)
  kSending,     // admitted by the gates; delivering, or waiting for its next retry
  kDelivered,   // the endpoint answered 2xx (exactly once per idempotency key)
  kBlocked,     // a gate refused it (consent denied, channel not allowed): logged, never sent
  kSuppressed,  // lost the arbitration under the frequency cap
  kDeadLetter,  // retries exhausted or permanently refused: waits for a replay
};
// Inline: the API layer names statuses without linking the implementation library.
inline std::string_view ActionStatusName(ActionStatus s) {
  switch (s) {
    case ActionStatus::kPending: return "pending";
    case ActionStatus::kSending: return "sending";
    case ActionStatus::kDelivered: return "delivered";
    case ActionStatus::kBlocked: return "blocked";
    case ActionStatus::kSuppressed: return "suppressed";
    case ActionStatus::kDeadLetter: return "dead_letter";
  }
  return "unknown";
}

inline bool ParseActionStatus(std::string_view name, ActionStatus* out) {
  for (ActionStatus s : {ActionStatus::kPending, ActionStatus::kSending, ActionStatus::kDelivered,
                         ActionStatus::kBlocked, ActionStatus::kSuppressed, ActionStatus::kDeadLetter}) {
    if (ActionStatusName(s) == name) {
      *out = s;
      return true;
    }
  }
  return false;
}

// Who an action reaches. A customer action is a message to the customer: every gate applies and
// it counts toward their frequency cap, and once delivered it is the customer's `Action Sent`
// touch. A staff action is a notice to the business's own people *about* the customer (a case
// escalation): it contacts nobody outside the business, so consent, channel constraints, quiet
// hours and the cap do not apply, it never uses a slot of the customer's cap, and it is not a
// touch on their timeline.
enum class Audience : uint8_t { kCustomer, kStaff };
inline std::string_view AudienceName(Audience a) { return a == Audience::kStaff ? "staff" : "customer"; }

struct ActionRequest {
  store::CustomerId customer = 0;  // canonical id
  std::string customer_key;        // an identity for the recorded touch: "userId:alice", "anonymousId:x"
  std::string name;                // what it is: "rescue.going_cold", "post_purchase.prompt", ...
  std::string purpose = "marketing";  // consent purpose
  std::string channel = "email";      // DOMAIN.md §1 channel the business will use
  std::string critical;            // experience-critical interaction name from the map, "" if none
  double customer_value = 0;       // selects the value tier of channel constraints
  double expected_gain = 0;        // arbitration under the cap: highest wins
  std::string time_zone;           // IANA name ("Europe/Paris"); "" = the configured default
  std::string payload_json = "{}"; // a JSON object, sent as the webhook's "data"
  std::string idempotency_key;     // "" = derived from source_ref (which must then be set)
  std::string source_ref;          // what asked for it, e.g. "rescue:42"
  int64_t not_before_ms = 0;       // gates run no earlier than this (a delayed prompt); 0 = now
  Audience audience = Audience::kCustomer;  // a message to the customer, or a notice to staff
};

struct ActionRecord {
  int64_t id = 0;
  ActionRequest request;
  ActionStatus status = ActionStatus::kPending;
  int64_t created_at_ms = 0;
  int64_t not_before_ms = 0;       // pending: gates run at or after this
  int64_t next_attempt_ms = 0;     // sending: next delivery attempt
  int attempts = 0;                // delivery attempts since admission or the last replay
  std::string last_error;
  int64_t delivered_at_ms = 0;
  std::string endpoint;            // URL delivered to (or to be)
};

struct GateEntry {
  int64_t at_ms = 0;
  std::string gate;     // consent | channel | quiet_hours | frequency_cap | replay
  std::string verdict;  // pass | block | defer | suppress
  std::string detail;
};

struct DeliveryAttempt {
  int attempt = 0;
  int64_t at_ms = 0;
  int http_status = 0;  // 0 when no answer (connect error, timeout)
  std::string error;    // "" on 2xx
  int64_t duration_ms = 0;
};

class ActionService {
 public:
  virtual ~ActionService() = default;
  // Newest first. limit in [1, 1000]. Thread-safe.
  virtual Result<std::vector<ActionRecord>> List(std::optional<ActionStatus> status, size_t limit) = 0;
  virtual Result<ActionRecord> Get(int64_t id) = 0;
  virtual Result<std::vector<GateEntry>> Gates(int64_t id) = 0;
  virtual Result<std::vector<DeliveryAttempt>> Attempts(int64_t id) = 0;
  // dead_letter → sending with a fresh retry budget (consent is checked again first; a denial
  // blocks it). FailedPrecondition from any other status.
  virtual Result<ActionRecord> Replay(int64_t id) = 0;
};

}  // namespace cairn::actions
