#pragma once
// The rescue vocabulary (DOMAIN.md §5) and RescueService, the interface the HTTP layer reads the
// rescue queue through. Plain structs, no implementation: api/ includes this header only.
//
// A journey derails (journey/ detects it) → a DerailmentSignal → RescueEngine::Decide computes the
// expected gain of rescuing (decision_math.h), stores the Decision with its inputs and
// explanation (rescue.db, docs/format/rescue.md) and, when it is worth it, puts it in the queue.
// The team acts on it (the path's action goes out through actions/) or dismisses it; the outcome
// (observed from interactions within the path's outcome window, or recorded by hand) teaches the
// chances used by later decisions (Beta-Binomial per path × persona × arm).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/interaction.h"

namespace cairn::rescue {

// What journey/ hands over when a detector fires.
struct DerailmentSignal {
  store::CustomerId customer = 0;    // canonical id: IdentityResolver::Find(id) root
  std::string path;                  // rescue path name from the map ("going_cold", "competitor", ...)
  std::vector<std::string> reasons;  // human-readable, e.g. "in stage interest 21d > expected 14d"
  double value_at_stake = 0;         // business currency; must be finite and >= 0
  std::string persona;               // "" when no persona matched
  std::string value_tier;            // "" when the map defines no tiers
  int64_t at_ms = 0;                 // event time of the interaction or timer that fired
};

// One rescue path of the journey map (DOMAIN.md §5).
struct PathConfig {
  std::string name;                  // unique; the signal's `path`
  std::string action;                // what the rescue does, e.g. "send case studies"
  std::string channel = "email";     // channel the action uses (gates: consent, constraints)
  std::string purpose = "marketing"; // consent purpose of the action (marketing|service|...)
  double cost = 0;                   // cost of one rescue, business currency, >= 0
  double prior_p_rescue = 0.3;       // prior chance of success with the rescue, in [0, 1]
  double prior_p_none = 0.1;         // prior chance of success without it, in [0, 1]
  double prior_strength = 10;        // pseudo-observations the prior is worth (Beta α+β), > 0
  int64_t outcome_window_ms = 14LL * 86400000;  // success must be observed within this, > 0
  // Event names whose arrival counts as success (re-engaged / converted / renewed); "*" = any
  // interaction of the customer's own (not our outbound touches). Empty = "*".
  std::vector<std::string> outcome_events;
};

enum class RescueStatus : uint8_t {
  kOpen,        // worth rescuing, waiting in the queue for the team
  kActed,       // the action went out (or was handed to actions/); outcome window running
  kDismissed,   // the team chose not to act; outcome still observed (the "no rescue" arm)
  kSkipped,     // not worth it (gain <= 0) or over budget; outcome observed (the "none" arm)
  kSucceeded,   // outcome observed (or recorded) within the window
  kFailed,      // window passed without the outcome (or recorded as failed)
};
// Inline: the API layer names statuses without linking the implementation library.
inline std::string_view RescueStatusName(RescueStatus s) {
  switch (s) {
    case RescueStatus::kOpen: return "open";
    case RescueStatus::kActed: return "acted";
    case RescueStatus::kDismissed: return "dismissed";
    case RescueStatus::kSkipped: return "skipped";
    case RescueStatus::kSucceeded: return "succeeded";
    case RescueStatus::kFailed: return "failed";
  }
  return "unknown";
}

inline bool ParseRescueStatus(std::string_view name, RescueStatus* out) {
  for (RescueStatus s : {RescueStatus::kOpen, RescueStatus::kActed, RescueStatus::kDismissed, RescueStatus::kSkipped,
                         RescueStatus::kSucceeded, RescueStatus::kFailed}) {
    if (RescueStatusName(s) == name) {
      *out = s;
      return true;
    }
  }
  return false;
}

struct Decision {
  int64_t id = 0;
  store::CustomerId customer = 0;
  std::vector<std::string> customer_ids;  // identities at decision time ("userId:alice", ...)
  std::string path;
  std::string persona;
  std::vector<std::string> reasons;
  double value_at_stake = 0;
  double p_rescue = 0;        // chance of success with the rescue used for this decision
  double p_none = 0;          // ... without it
  double cost = 0;
  double expected_gain = 0;   // value_at_stake × (p_rescue − p_none) − cost
  bool rescue = false;        // the verdict: gain > 0 and within budget
  RescueStatus status = RescueStatus::kSkipped;
  // Which arm the outcome teaches: true once acted (rescued), false for skipped/dismissed.
  bool rescued = false;
  std::string explanation;    // one paragraph: the numbers and why
  std::string action;         // the path's action
  int64_t decided_at_ms = 0;  // signal time
  int64_t window_start_ms = 0;  // outcome window start (decision or act time)
  int64_t window_end_ms = 0;
  int64_t closed_at_ms = 0;   // 0 while the outcome is unknown
  std::string outcome_note;   // what closed it ("event Order Completed at ...", "manual: ...", "window passed")
  std::string action_ref;     // actions/ reference of the dispatched action, "" if none
};

struct ListQuery {
  std::optional<RescueStatus> status;  // none = every status
  size_t limit = 100;                  // [1, 1000]
  // Decided in [decided_from_ms, decided_to_ms). Default: any time.
  int64_t decided_from_ms = INT64_MIN, decided_to_ms = INT64_MAX;
  // Only decisions about these canonical customers (sorted ascending; the dashboard's segment
  // filter); null = everyone. Not owned: must outlive the call.
  const std::vector<uint64_t>* customers = nullptr;
};

class RescueService {
 public:
  virtual ~RescueService() = default;
  // Ranked by expected gain, highest first (ties: newest first). Thread-safe.
  virtual Result<std::vector<Decision>> List(const ListQuery& query) = 0;
  virtual Result<Decision> Get(int64_t id) = 0;
  // open → acted: dispatches the path's action. FailedPrecondition from any other status.
  virtual Result<Decision> Act(int64_t id, std::string_view note) = 0;
  // open → dismissed. FailedPrecondition from any other status.
  virtual Result<Decision> Dismiss(int64_t id, std::string_view note) = 0;
  // Records the outcome by hand: acted/dismissed/skipped/open → succeeded|failed, and teaches the
  // learned chances. FailedPrecondition if the outcome is already known.
  virtual Result<Decision> RecordOutcome(int64_t id, bool success, std::string_view note) = 0;
  // Decisions of one canonical customer, newest first.
  virtual Result<std::vector<Decision>> ListForCustomer(store::CustomerId customer) = 0;
};

}  // namespace cairn::rescue
