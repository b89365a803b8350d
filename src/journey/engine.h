#pragma once
// JourneyEngine: every customer's live journey state, kept current from the store's commit stream.
//
// - Live: OnCommit (the store's commit thread, in seq order) folds each interaction into its
//   canonical customer's state at once, so a read right after the 2xx sees it.
// - Late interactions (before the customer's last applied one in (timestamp, seq) order) and
//   identity merges re-derive that customer from the store (Snapshot::VisitCustomers of every id
//   merged into it, streamed in bounded memory) on the worker thread; the state is a pure
//   function of the interactions.
// - Map change and Rebuild() re-derive everyone from one snapshot.
// - Dwell timers: a min-heap of (due, customer, view, stage entry) for stages some rescue path
//   watches; the worker pops due ones (O(log n)) and the going-cold detector fires on overstay.
//   Timers are not written separately: they are a function of the persisted states and are
//   rebuilt (heapified, O(n)) on open.
// - Persisted to <dir>/state.bin (docs/format/journey-state.md) periodically and on Close; on
//   open, batches the file already covers are skipped and a gap (WAL deleted past it) or a map
//   change triggers a rebuild.
//
// Thread-safety: all public methods are thread-safe. mu_ guards the states; listeners are called
// outside it, serialised by listener_mu_.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/result.h"
#include "io/env.h"
#include "journey/journey_service.h"
#include "journey/journey_value.h"
#include "journey/rebuild_scan.h"
#include "journey/segment_index.h"
#include "journey/signals.h"
#include "journey/state.h"
#include "store/interaction.h"

namespace cairn::store {
class Store;
}
namespace cairn::ingest {
class IdentityResolver;
}

namespace cairn::journey {

// See EngineOptions::persist_interval_ms.
inline constexpr int kPersistCostFactor = 20;

struct EngineOptions {
  // Directory for state.bin and map.yaml (created). Empty: nothing is persisted. Default empty.
  std::string dir;
  io::Env* env = nullptr;                // default io::Env::Posix()
  Clock* clock = nullptr;                // "now" for dwell timers and stuck; default Clock::Real()
  bool background = true;                // run the worker thread (tests may call Drain/Tick instead)
  int64_t tick_ms = 1000;                // worker: timer check period
  // Worker: state.bin rewrite period when something changed. The rewrite is whole (O(customers)),
  // so the worker also waits kPersistCostFactor × the last rewrite's duration: persistence costs
  // at most ~1/kPersistCostFactor of a core however many customers there are (a 10M import with
  // a fixed 10 s period spent a third of its CPU rewriting state.bin).
  int64_t persist_interval_ms = 10000;
  int64_t rates_interval_ms = 60000;     // worker: recompute stage conversion rates from history
  // Rebuild: customer ranges derived in parallel, one thread each (rebuild_scan.h). Default 2.
  int rebuild_threads = 2;
  metrics::Registry* metrics = nullptr;  // default metrics::Registry::Default()
};

struct EngineStats {
  uint64_t customers = 0;
  uint64_t applied_seq = 0;
  uint64_t persisted_seq = 0;
  uint64_t timers = 0;
  uint64_t pending_rederive = 0;
  uint64_t state_bytes = 0;    // compact live state (sizeof(CustomerState) × customers)
  uint64_t history_bytes = 0;  // transitions and emotion curves
};

class JourneyEngine final : public JourneyService {
 public:
  // Loads <dir>/map.yaml if present (a map PUT earlier), else `default_map`, and <dir>/state.bin
  // when it matches that map. A corrupt state.bin is reported in the log and ignored (rebuild).
  static Result<std::unique_ptr<JourneyEngine>> Open(std::shared_ptr<const JourneyMap> default_map, EngineOptions options);
  ~JourneyEngine() override;

  // Wiring. identity must be set before the first OnCommit; store before FinishRecovery.
  void SetIdentity(ingest::IdentityResolver* identity) { identity_ = identity; }
  void SetStore(store::Store* store) { store_ = store; }
  // Maps an API identity ("u:..", email, ...) to the canonical customer; 0 if unknown.
  void SetResolver(std::function<store::CustomerId(const std::string&)> resolve) { resolve_ = std::move(resolve); }
  // Predicted CLV hook (value module); value at stake = max(journey value, CLV). Optional; may be
  // set while the engine runs (every reader of clv_ holds mu_). `clv` is called with mu_ held, so
  // it must not call back into the engine.
  void SetClvModel(std::function<double(store::CustomerId)> clv) {
    std::lock_guard lock(mu_);
    clv_ = std::move(clv);
  }
  // Value facts hook (value module) for the persona rules that read them (docs/journey.md
  // "Personas"); nullopt for a customer without a value fit. Same contract as SetClvModel.
  void SetValueFacts(std::function<std::optional<ValueFacts>(store::CustomerId)> facts) {
    std::lock_guard lock(mu_);
    facts_ = std::move(facts);
  }
  // The name of the first persona rule that holds for `canonical` with these value facts (null:
  // none), or nullopt when no rule holds (the customer then has the default or a discovered
  // persona). A customer without a journey state is judged on a fresh state (every view at its first stage).
  // Does not call the value facts hook.
  std::optional<std::string> RulePersona(store::CustomerId canonical, const ValueFacts* facts) const;
  void AddListener(JourneyListener* l);

  // The store's commit hook (after identity ops of the batch are applied).
  void OnCommit(const store::Batch& batch, bool recovered);
  // After the store has opened: rebuilds if recovery left a gap, then starts the worker.
  Status FinishRecovery();

  // Re-derives everyone from a snapshot. progress(done, total) is called now and then.
  Status Rebuild(const std::function<void(uint64_t, uint64_t)>& progress = {});
  // Processes queued re-derivations now (tests; the worker does it otherwise). False on timeout.
  bool Drain(int64_t timeout_ms = 5000);
  // Fires every dwell timer due at or before now_ms; returns how many fired.
  size_t Tick(int64_t now_ms);
  Status Persist();
  Status Close();
  // Erasure (docs/erasure.md): drops the states (and history, timers, pending re-derivations) of
  // `ids` — canonical or merged-away ids alike — and rewrites state.bin without them. Unavailable
  // if re-derivations kept the file from being written within `timeout_ms` (call again).
  Status EraseCustomers(const std::vector<store::CustomerId>& ids, int64_t timeout_ms = 10'000);

  std::shared_ptr<const JourneyMap> map() const;
  void AddMapListener(std::function<void(const std::shared_ptr<const JourneyMap>&)> fn);
  // Copies of one canonical customer's state (false if none).
  bool GetState(store::CustomerId canonical, CustomerState* s, History* h = nullptr) const;
  // Every state, keyed by customer, in customer order (determinism checks, tools).
  std::vector<std::pair<CustomerState, History>> AllStates() const;
  EngineStats Stats() const;
  // Every seq below this is in state.bin (cheap; for the store's WAL retention).
  uint64_t persisted_seq() const {
    std::lock_guard lock(mu_);
    return persisted_seq_;
  }
  // Recomputes the value rates (journey_value.h) from every customer's state; the worker does it
  // every EngineOptions::rates_interval_ms, and after recovery, rebuilds and map changes.
  void RecomputeRates();

  // JourneyService
  std::string MapYaml() const override;
  Result<MapUpdate> PutMap(const std::string& yaml, std::vector<MapErrorView>* errors) override;
  Result<CustomerJourney> GetJourney(const std::string& any_identity) override;
  using JourneyService::Overview;  // Overview(): every customer
  Result<JourneyOverview> Overview(const OverviewFilter& filter) override;
  SegmentNames Segments() const override;
  // The value at stake of every derailing journey now: the sum over the map's rescue paths of
  // Overview().at_stake[p].value_at_stake (the same additions in the same order, so equal to the
  // last bit), without the rest of the overview — the dashboard's value-at-risk light asks for it
  // on every overview. O(customers) under the engine's lock; no allocation per customer.
  double ValueAtStake() const;
  // The canonical customers `filter` keeps, ascending (the segment filter of analytics queries
  // and of the dashboard, app/query_cmd.cc). From the segment index (segment_index.h): one pass
  // over ~10 B a customer under the engine's lock; a persona filter of a map whose personas read
  // value facts (which change with the value fit, unseen by the index) evaluates every state.
  std::vector<store::CustomerId> Members(const OverviewFilter& filter) const;
  // The same customers by evaluating every state (what Members answered before the index; the
  // tests hold the two equal). O(customers) under the engine's lock.
  std::vector<store::CustomerId> MembersByEvaluation(const OverviewFilter& filter) const;
  // Per canonical customer, the persona and lifecycle stage Members() judges them by; nullopt for
  // a customer without a journey state (kept by no persona or lifecycle filter). One lock for the
  // list (the dashboard's segment cells, dashboard/daily_totals.h).
  std::vector<std::optional<std::pair<std::string, std::string>>> SegmentKeys(
      const std::vector<store::CustomerId>& canonical) const;

  // Exposed for the format tests: encode/decode the whole state file.
  static std::string EncodeStateFile(uint32_t fingerprint, uint64_t applied_seq,
                                     const std::vector<std::pair<const CustomerState*, const History*>>& states);
  struct Loaded {
    uint32_t fingerprint = 0;
    uint64_t applied_seq = 0;
    std::vector<std::pair<CustomerState, History>> states;
  };
  static Result<Loaded> DecodeStateFile(std::string_view data);

 private:
  using Entry = DerivedState;
  struct Timer {
    int64_t due_ms;
    store::CustomerId customer;
    uint32_t entered;  // the stage entry it belongs to (stale when the state moved on)
    uint8_t view, stage;
    bool operator>(const Timer& o) const { return due_ms > o.due_ms; }
  };

  JourneyEngine(std::shared_ptr<const JourneyMap> map, EngineOptions options);
  store::CustomerId Canonical(store::CustomerId id) const;
  // Canonical() of each of `ids` into roots[i], under one lock of the resolver.
  void CanonicalMany(std::span<const store::CustomerId> ids, store::CustomerId* roots) const;
  void ArmTimersLocked(const Entry& e);
  void RebuildTimersLocked();
  Signal MakeSignalLocked(const Entry& e, const Detection& d) const;
  // Whether a detection of an interaction (timestamp d.at_ms) is older than the map's
  // timers.signal_horizon at now_ms: then it raises no signal (counted). mu_ held.
  bool StaleLocked(const Detection& d, int64_t now_ms) const;
  // Hands the listeners a batch's signals and live interactions (`touches` point into the
  // committed batch, which outlives the call).
  void Emit(std::vector<Signal> signals, const std::vector<Touch>& touches);
  void WorkerLoop();
  bool RederiveOne(store::CustomerId root, uint64_t need_seq, uint64_t from_seq);
  // Folds every interaction of `root` and the ids merged into it, streamed from `snap` in
  // (timestamp, seq) order, into *e (from scratch). Detections of rows with seq ≥ from_seq go to
  // *det when it is non-null. False when the customer has no interactions in the snapshot.
  Result<bool> FoldCustomer(const store::Snapshot& snap, const Deriver& d, store::CustomerId root, uint64_t from_seq,
                            Entry* e, std::vector<Detection>* det) const;
  // The customer's journey value under the current rates. mu_ held.
  JourneyValueResult JourneyValue(const CustomerState& s) const;
  Status LoadState();
  CustomerJourney ToJourney(const Entry& e, int64_t now) const;

  EngineOptions options_;
  ingest::IdentityResolver* identity_ = nullptr;
  store::Store* store_ = nullptr;
  std::function<store::CustomerId(const std::string&)> resolve_;
  std::function<double(store::CustomerId)> clv_;
  std::function<std::optional<ValueFacts>(store::CustomerId)> facts_;  // guarded by mu_
  const std::string& PersonaLocked(const CustomerState& s) const;
  // Whether `filter` keeps this customer (persona and lifecycle stage now). mu_ held.
  bool KeptLocked(const OverviewFilter& filter, const CustomerState& s) const;
  std::vector<store::CustomerId> MembersByEvaluationLocked(const OverviewFilter& filter) const;
  // The segment index: this state's key now (mu_ held), and every state's anew.
  void IndexLocked(store::CustomerId canonical, const CustomerState& s);
  void ReindexLocked();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const Deriver> deriver_;                       // guarded by mu_
  std::unordered_map<store::CustomerId, Entry> states_;          // guarded by mu_
  // Every state's (persona, lifecycle stage), changed wherever states_ changes.
  SegmentIndex segments_;                                        // guarded by mu_
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;  // guarded by mu_
  // Customers to re-derive → (seq the snapshot must reach, first seq whose detections are new).
  std::unordered_map<store::CustomerId, std::pair<uint64_t, uint64_t>> pending_;  // guarded by mu_
  std::unordered_map<store::CustomerId, uint64_t> pending_live_seq_;              // guarded by mu_: newest seq seen while pending
  uint64_t applied_seq_ = 0;     // guarded by mu_: every seq below is in the states
  uint64_t persisted_seq_ = 0;   // guarded by mu_
  uint64_t generation_ = 0;      // guarded by mu_: bumped on every change to the states
  uint64_t persisted_generation_ = 0;  // guarded by mu_
  bool recovery_gap_ = false;    // guarded by mu_
  bool rebuilding_ = false;      // guarded by mu_
  std::unordered_set<store::CustomerId> touched_while_rebuilding_;  // guarded by mu_
  ValueRates rates_;                                               // guarded by mu_
  bool stop_ = false;            // guarded by mu_
  bool busy_ = false;            // guarded by mu_: the worker is re-deriving
  bool started_ = false;
  std::thread worker_;

  std::mutex listener_mu_;  // serialises listener calls
  std::vector<JourneyListener*> listeners_;
  std::vector<std::function<void(const std::shared_ptr<const JourneyMap>&)>> map_listeners_;
  std::mutex rebuild_mu_;   // one rebuild / map change at a time

  metrics::Counter* applied_ = nullptr;
  metrics::Counter* rederived_ = nullptr;
  metrics::Counter* signals_ = nullptr;
  metrics::Counter* late_ = nullptr;
  metrics::Counter* stale_ = nullptr;
  metrics::Counter* stale_events_ = nullptr;
};

}  // namespace cairn::journey
