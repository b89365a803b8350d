#pragma once
// The gates every action passes (DOMAIN.md §5, §11), as small pure pieces the Dispatcher runs in
// this order: consent → channel constraint → quiet hours → frequency cap (with arbitration).
// A block is final and logged; a deferral (quiet hours) moves the action to a later time; the cap
// admits the highest expected gains and suppresses the rest.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "actions/action_service.h"
#include "base/result.h"
#include "store/interaction.h"

namespace cairn::actions {

// ---- consent -------------------------------------------------------------------------------

enum class ConsentVerdict : uint8_t { kGranted, kDenied, kUnknown };

struct ConsentAnswer {
  ConsentVerdict verdict = ConsentVerdict::kUnknown;
  std::string evidence;  // what decided it, e.g. "Consent Updated at 2026-01-02T10:00:00Z (marketing, email: denied)"
};

// The consent interface the trust issue will implement over its consent records. Thread-safe.
class ConsentChecker {
 public:
  virtual ~ConsentChecker() = default;
  virtual Result<ConsentAnswer> Check(store::CustomerId customer, std::string_view purpose, std::string_view channel) = 0;
};

// Consent read from the customer's own interactions, until the trust issue lands:
//   track "Consent Updated" {purpose, channel?, granted: bool | status: "granted"|"denied"}
//   identify traits.consent {"<purpose>": bool, "<purpose>.<channel>": bool}
// The latest statement (by event time, then arrival) that applies to (purpose, channel) wins; a
// statement without a channel applies to every channel.
class RecordedConsent final : public ConsentChecker {
 public:
  // `read` returns the customer's interactions (merges applied), in (timestamp, seq) order.
  using ReadFn = std::function<Result<std::vector<store::Interaction>>(store::CustomerId)>;
  explicit RecordedConsent(ReadFn read) : read_(std::move(read)) {}
  Result<ConsentAnswer> Check(store::CustomerId customer, std::string_view purpose, std::string_view channel) override;

  // The verdict from interactions already read (exposed for tests).
  static ConsentAnswer FromInteractions(const std::vector<store::Interaction>& interactions, std::string_view purpose,
                                        std::string_view channel);

 private:
  ReadFn read_;
};

struct ConsentPolicy {
  // Purposes that need a recorded grant (unknown blocks). Others are blocked only by a denial.
  // Default: marketing (DOMAIN.md §11: no marketing touch without consent).
  std::vector<std::string> require_grant = {"marketing"};
};

// pass (empty) or the block reason.
std::string ConsentBlockReason(const ConsentPolicy& policy, const ConsentAnswer& answer, std::string_view purpose,
                               std::string_view channel);

// ---- channel constraints for experience-critical interactions -------------------------------

struct ChannelTier {
  std::string name;                   // "gold"
  double min_value = 0;               // customers with value >= this are in the tier
  std::vector<std::string> channels;  // allowed channels; empty = any
};

struct ChannelConstraint {
  std::string name;                   // the critical interaction, e.g. "Payment Sent In Error"
  std::vector<ChannelTier> tiers;     // the highest tier whose min_value the customer reaches applies
};

// pass (empty) or the block reason naming the interaction, tier and allowed channels.
std::string ChannelBlockReason(const std::vector<ChannelConstraint>& constraints, const ActionRequest& request);

// ---- quiet hours ----------------------------------------------------------------------------

struct QuietHours {
  bool enabled = true;
  int start_minute = 21 * 60;         // local time of day quiet hours begin (default 21:00)
  int end_minute = 8 * 60;            // ... and end (default 08:00); start > end spans midnight
  std::string default_time_zone = "UTC";  // when the customer's is unknown
  // Purposes never held back (an answer the customer is waiting for). Default: service.
  std::vector<std::string> exempt_purposes = {"service"};
};

// 0 if `now_ms` is outside quiet hours in `time_zone` (IANA; "" = default), else the UTC ms when
// they end there (DST-aware: a local end time in a gap moves to the gap's end).
// InvalidArgument("time_zone: unknown time zone 'X'") for a name the tz database lacks.
Result<int64_t> QuietUntil(const QuietHours& quiet, std::string_view time_zone, int64_t now_ms);

// ---- frequency cap with value-based arbitration --------------------------------------------

struct FrequencyCap {
  int max_actions = 3;                       // per customer per window; 0 = no cap
  int64_t window_ms = 7LL * 86400000;        // default 7 days
  // How long a new action waits so that competing ones can arrive before arbitration. Default 0:
  // arbitration among whatever is pending at the same pass.
  int64_t arbitration_delay_ms = 0;
};

struct Candidate {
  int64_t id = 0;
  double expected_gain = 0;
  int64_t created_at_ms = 0;
};

struct Arbitration {
  std::vector<int64_t> admitted;                       // best first
  std::vector<std::pair<int64_t, std::string>> suppressed;  // with the reason
};

// `used`: actions of this customer already admitted within the cap window. The highest expected
// gain wins (ties: the earlier, then the lower id) — never first come.
Arbitration Arbitrate(const FrequencyCap& cap, int used, std::vector<Candidate> candidates);

}  // namespace cairn::actions
