#pragma once
// RescueEngine: decides on derailment signals, keeps every decision (rescue.db), watches outcome
// windows and learns the chances of success from outcomes. Implements RescueService for the API.
//
// Contracts
// - Decide() is idempotent per episode: while a decision for (customer, path) is still waiting for
//   its outcome, a repeated signal returns that decision instead of making a new one.
// - Outcomes: ObserveInteraction() closes a waiting decision as succeeded when one of the path's
//   outcome events of the customer's own arrives inside [window_start, window_end];
//   ExpireWindows(now) closes those whose window has passed as failed. Acting restarts the window
//   at the act time (the rescued arm is measured from when the rescue went out). Every close adds
//   one success or failure to (path, persona, arm) — arm "rescue" if the action went out, "none"
//   otherwise — and later decisions use the updated posterior.
// - The budget (optional) caps the summed cost of rescues decided to go ahead per period
//   (periods are [k·period, (k+1)·period) of the signal's event time); dismissing frees its cost.
//
// Thread-safety: every public method is thread-safe (one mutex around the SQLite connection and
// the in-memory index of waiting decisions). ObserveInteraction is cheap when the customer has no
// waiting decision (one hash lookup), so it can run on the commit path.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "entity/sqlite_db.h"
#include "rescue/decision_math.h"
#include "rescue/rescue_service.h"

namespace cairn::rescue {

struct RescueOptions {
  std::string path;                      // the rescue.db file; required
  std::vector<PathConfig> paths;         // the map's rescue paths; may be replaced by SetPaths
  // Optional budget: the summed cost of rescues going ahead per period. 0 = no budget (default).
  double budget_per_period = 0;
  int64_t budget_period_ms = 30LL * 86400000;  // default 30 days
  // Identities of a customer, stored with each decision so the queue names them
  // ("userId:alice", "email:a@x.io"). Default: none (the queue shows "c:<id>" only).
  std::function<std::vector<std::string>(store::CustomerId)> describe_customer;
  // Why a path's action cannot reach a customer with these identities ("" = it can), e.g.
  // reachability.h's UnreachableReason for webhook actions. A decision for an unreachable customer
  // is `skipped` even when worth rescuing — not queued, nothing charged to the budget — and its
  // explanation says why (docs/rescue.md "No reachable channel"). Called under the engine's lock:
  // must be cheap and must not call back. Default: none (every customer is reachable).
  std::function<std::string(const PathConfig&, const std::vector<std::string>& ids)> unreachable;
  // Sends the path's action for an acted rescue; returns a reference (e.g. the action id).
  // Default: none — Act then only records that the team acted (the action is theirs to do).
  std::function<Result<std::string>(const Decision&, const PathConfig&)> dispatch;
  Clock* clock = nullptr;                // default: the real clock
  metrics::Registry* metrics = nullptr;  // default: the process registry
};

class RescueEngine final : public RescueService {
 public:
  static Result<std::unique_ptr<RescueEngine>> Open(RescueOptions options);
  ~RescueEngine() override;

  // Validates every path (InvalidArgument naming the field); on error the old paths stay.
  Status SetPaths(std::vector<PathConfig> paths);

  // InvalidArgument for an unknown path or a bad value at stake.
  Result<Decision> Decide(const DerailmentSignal& signal);
  // Decide() on each signal, in order, in one rescue.db transaction (one commit for a burst of
  // signals). A signal decided twice in the list answers with the first decision. If the commit
  // fails, every new decision in the list fails with its error (none is kept).
  std::vector<Result<Decision>> DecideAll(const std::vector<DerailmentSignal>& signals);

  // `ours` = an outbound touch we recorded (never counts as the customer's outcome).
  void ObserveInteraction(store::CustomerId canonical, std::string_view event, int64_t timestamp_ms, bool ours);
  // ObserveInteraction(c, event, timestamp_ms, false) of each, in order, under one lock.
  struct Observed {
    store::CustomerId canonical;
    std::string_view event;
    int64_t timestamp_ms;
  };
  void ObserveInteractions(std::span<const Observed> interactions);
  // A merge: decisions waiting on `from` now wait on `into` too.
  void OnMerge(store::CustomerId from, store::CustomerId into);
  // Closes waiting decisions whose window ended before `now_ms` as failed. Returns how many.
  Result<size_t> ExpireWindows(int64_t now_ms);

  // The learned outcome counts of one path × persona × arm.
  Result<ArmCounts> Counts(const std::string& path, const std::string& persona, bool rescued);

  // RescueService
  Result<std::vector<Decision>> List(const ListQuery& query) override;
  Result<Decision> Get(int64_t id) override;
  Result<Decision> Act(int64_t id, std::string_view note) override;
  Result<Decision> Dismiss(int64_t id, std::string_view note) override;
  Result<Decision> RecordOutcome(int64_t id, bool success, std::string_view note) override;
  Result<std::vector<Decision>> ListForCustomer(store::CustomerId customer) override;

  // Records what an acted rescue's action did (e.g. "case:17" for an internal open_case) after
  // its action_ref: "action:5 case:17". Idempotent (a ref already there is not added twice).
  // NotFound for an unknown decision.
  Status AppendActionRef(int64_t id, std::string_view ref);

  // Erasure (docs/erasure.md): deletes the decisions of `customers` (learned arm counts, which are
  // aggregates, stay), forgets their waiting windows, VACUUMs rescue.db and truncates its -wal.
  // Returns the number of decisions deleted.
  Result<size_t> EraseCustomers(const std::vector<store::CustomerId>& customers);

 private:
  explicit RescueEngine(RescueOptions options, std::unique_ptr<entity::SqliteDb> db);
  Status LoadWaiting();
  const PathConfig* FindPath(const std::string& name) const;
  Result<Decision> LoadLocked(int64_t id);
  // Decides one signal inside the caller's transaction; *inserted = its path when a new decision
  // was inserted (the caller adds it to waiting_ after the commit).
  Result<Decision> DecideLocked(const DerailmentSignal& signal, std::vector<std::string> ids,
                                const PathConfig** inserted);
  Status InsertLocked(Decision* d, const PathConfig& path, const ArmCounts& rescued, const ArmCounts& none,
                      const std::optional<BudgetState>& budget);
  Status UpdateLocked(const Decision& d);
  Result<ArmCounts> CountsLocked(const std::string& path, const std::string& persona, bool rescued);
  // Closes `d` (succeeded/failed), teaches the counts, drops it from the waiting index.
  Status CloseLocked(Decision* d, bool success, int64_t at_ms, std::string note);
  // Runs `sql` (bound by `bind`) and reads decisions, keeping those `keep` accepts (null = all),
  // at most `max`.
  Result<std::vector<Decision>> QueryLocked(std::string_view sql, const std::function<void(entity::Stmt&)>& bind,
                                            const std::function<bool(const Decision&)>& keep = nullptr,
                                            size_t max = SIZE_MAX);

  struct Waiting {
    int64_t id;
    std::string path;
    int64_t window_start_ms;
    int64_t window_end_ms;
    std::vector<std::string> outcome_events;  // empty = any
  };

  RescueOptions options_;
  std::mutex mu_;
  std::unique_ptr<entity::SqliteDb> db_;                                     // guarded by mu_
  std::unordered_map<store::CustomerId, std::vector<Waiting>> waiting_;     // guarded by mu_
  metrics::Counter* decisions_rescue_ = nullptr;
  metrics::Counter* decisions_skip_ = nullptr;
  metrics::Counter* outcomes_success_ = nullptr;
  metrics::Counter* outcomes_failure_ = nullptr;
};

}  // namespace cairn::rescue
