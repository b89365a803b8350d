#pragma once
// Consent records (DOMAIN.md §11; docs/consent.md) and the interface the HTTP layer reads and
// writes them through. Plain structs and one abstract class: api/ includes this header only.
//
// A record is one statement about one (purpose, channel): granted, denied or withdrawn, with its
// source, time, lawful basis, optional expiry and proof. The ledger keeps every record (history);
// the current state of a (purpose, channel) is its latest record (by statement time, then
// recording order), and "unknown" once that record has expired.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/interaction.h"

namespace cairn::entity {

// The channel name that stands for every channel.
inline constexpr std::string_view kAllChannels = "*";

enum class ConsentState : uint8_t { kGranted = 1, kDenied = 2, kWithdrawn = 3 };
// "granted" | "denied" | "withdrawn" (inline: api/ links no entity library).
inline std::string_view ConsentStateName(ConsentState s) {
  switch (s) {
    case ConsentState::kGranted: return "granted";
    case ConsentState::kDenied: return "denied";
    case ConsentState::kWithdrawn: return "withdrawn";
  }
  return "unknown";
}
// Accepts granted/denied/withdrawn and the common spellings true/false, yes/no, opt_in/opt_out.
inline bool ParseConsentState(std::string_view s, ConsentState* out) {
  if (s == "granted" || s == "true" || s == "yes" || s == "opt_in") *out = ConsentState::kGranted;
  else if (s == "denied" || s == "false" || s == "no" || s == "opt_out") *out = ConsentState::kDenied;
  else if (s == "withdrawn") *out = ConsentState::kWithdrawn;
  else return false;
  return true;
}

struct ConsentRecord {
  int64_t id = 0;                 // ledger order (assigned on insert)
  store::CustomerId customer = 0; // the customer id the statement was recorded under
  std::string purpose;            // "marketing", "analytics", "personalisation", or a custom name
  std::string channel = "*";      // "email", "sms", ... or "*" (every channel)
  ConsentState state = ConsentState::kGranted;
  std::string lawful_basis = "consent";  // consent | contract | legitimate_interest | legal_obligation | ...
  std::string source;             // "api" | "identify" | "event" (a `Consent Updated` track)
  int64_t at_ms = 0;              // when the statement was made (event time, or the API call's time)
  int64_t recorded_at_ms = 0;     // when the ledger recorded it
  std::optional<int64_t> expires_at_ms;  // none: does not expire
  uint64_t seq = 0;               // the interaction's seq (0 for API records)
  std::string proof;              // "message:<messageId>" / "seq:<n>" / "api:<request id> key:<key name>"
  std::string note;               // free text (API source note, properties.source of an event)
};

// The current state of one (purpose, channel).
struct ConsentCurrent {
  std::string purpose;
  std::string channel;
  bool expired = false;           // the latest record has expired: the state is unknown
  ConsentRecord record;           // the latest record
};

struct ConsentView {
  store::CustomerId customer = 0;          // canonical id
  std::vector<ConsentCurrent> current;     // sorted by (purpose, channel)
  std::vector<ConsentRecord> history;      // every record, oldest first
};

// One statement to record through the API.
struct ConsentInput {
  std::string purpose;
  std::string channel = "*";
  ConsentState state = ConsentState::kGranted;
  std::string lawful_basis = "consent";
  std::string expires_at;  // ISO-8601 or epoch ms as text; "" = never expires
  std::string note;
};

// Who made an API change (the proof of an API record).
struct ConsentCaller {
  std::string request_id;  // the API call's audit / request id ("" if none)
  std::string key_name;    // the key's name ("" if unknown)
};

// Thread-safe.
class ConsentService {
 public:
  virtual ~ConsentService() = default;
  // NotFound when no customer has that identity (userId, anonymousId, email, phone or "c:<n>").
  virtual Result<ConsentView> GetConsents(const std::string& any_identity) = 0;
  // Records every input (all or none) and returns the new view. InvalidArgument naming the field
  // (e.g. "consents[1].purpose: required") for a bad input; NotFound for an unknown customer.
  virtual Result<ConsentView> PutConsents(const std::string& any_identity, const std::vector<ConsentInput>& inputs,
                                          const ConsentCaller& caller) = 0;
};

}  // namespace cairn::entity
