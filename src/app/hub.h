#pragma once
// Hub: one open data directory with everything wired together — the event store, the identity
// resolver, the profile store (SQLite), the key store and the ingest pipeline — and the
// CustomerDirectory the API reads customers through.
//
// Startup order (each step's state is derived from the WAL and the previous step):
//   1. profiles.db opens; its identity ops rebuild the IdentityResolver up to its applied_seq;
//   2. the store opens and replays its WAL; batches at or past applied_seq re-apply their identity
//      ops and go to the profile writer, so nothing acknowledged is missing from either;
//   3. de-duplication is seeded from the stored interactions;
//   4. keys are registered (given ones) or created (printed once by the caller).
//
// Thread-safety: all methods are thread-safe once Open returns.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/cases_wiring.h"
#include "cases/case_manager.h"
#include "cases/intake.h"
#include "dashboard/dashboard.h"
#include "entity/customer_directory.h"
#include "entity/key_store.h"
#include "entity/profile_store.h"
#include "ingest/identity_resolver.h"
#include "ingest/pipeline.h"
#include "journey/engine.h"
#include "rescue/rescue_stack.h"
#include "store/store.h"

namespace cairn::app {

class Eraser;  // app/erase.h
class ConsentLedger;  // app/consent_wiring.h

struct HubOptions {
  std::string data_dir;                   // required
  store::StoreOptions store;
  ingest::PipelineOptions pipeline;
  ingest::IdentityOptions identity = ingest::DefaultIdentityOptions();
  std::vector<std::string> write_keys;    // registered as write keys (source ids in order)
  std::string admin_key;                  // registered as the admin key if not empty
  bool create_keys_if_none = true;        // create a write and an admin key on first start
  metrics::Registry* metrics = nullptr;   // default: metrics::Registry::Default()
  // Journey map YAML file used until one is PUT (<data>/journey/map.yaml then wins). Default "":
  // the built-in map (config/journey-map.yaml).
  std::string journey_map;
  // Rescue decisions and actions (DIR/rescue.db, DIR/actions.db; docs/rescue.md, docs/actions.md).
  // Off by default so offline commands (import, rebuild) never send webhooks; `serve` turns it on.
  bool enable_rescue = false;
  // Run the journey engine (config `journey.enabled`, docs/journey.md "Turning it off"). Default
  // true. Off: no journey state is kept or derived, no rescues are decided (they need its
  // signals), the journey endpoints answer 503 — the spine (ingest, store, identity, analytics,
  // cases, value) alone.
  bool enable_journey = true;
  // Build the dashboard's daily totals (one scan of the store) on a background thread at open,
  // rather than at the first GET /v1/dashboard (docs/dashboard.md "Daily totals"). `serve` turns
  // it on; offline commands (import, erase, rebuild) never look at the dashboard. Default false.
  bool build_dashboard_totals_at_open = false;
  // Seed the pipeline's de-duplication table from the store at open (one scan of three columns
  // of every stored row: ~0.5 s per million rows). Only a hub that never ingests may turn it off
  // (`cairn query`); its pipeline would then accept a re-sent message twice.
  bool seed_dedup = true;
  rescue::RescueConfig rescue;
  // Cases inside the journey: CSAT requests, value tiers (config `cases:`; docs/cases.md).
  CasesWiringOptions cases;
};

class Hub final : public entity::CustomerDirectory {
 public:
  static Result<std::unique_ptr<Hub>> Open(HubOptions options);
  ~Hub() override;

  ingest::IngestPipeline* pipeline() { return pipeline_.get(); }
  store::Store* store() { return store_.get(); }
  entity::KeyStore* keys() { return keys_.get(); }
  // Live journey state per customer (DIR/journey/); fed from OnCommit.
  journey::JourneyEngine* journey() { return journey_.get(); }
  // Cases and surveys (DIR/cases.db, DIR/feedback.db); fed from OnCommit by cases::Intake.
  cases::CaseManager* cases() { return cases_.get(); }
  // Rescue queue and actions; null unless HubOptions::enable_rescue.
  rescue::RescueStack* rescue() { return rescue_.get(); }
  // Goals, budgets, activities and the dashboard overview (DIR/dashboard.db; docs/dashboard.md).
  dashboard::Dashboard* dashboard() { return dashboard_.get(); }
  // The overview's daily totals (derived from the store, in memory; docs/dashboard.md "Daily totals").
  dashboard::DailyTotals* dashboard_totals() { return dashboard_totals_.get(); }
  // Customer erasure and suppression (DIR/erasures.db; docs/erasure.md). Pending erasures are
  // resumed by Open before it returns.
  Eraser* eraser() { return eraser_.get(); }
  // The consent ledger (DIR/consents.db; docs/consent.md), fed from OnCommit; also the action
  // gates' ConsentChecker and the analytics exclusion.
  ConsentLedger* consents() { return consent_.get(); }
  // Canonical customer ids for readers (analytics): Find() maps a stored id to its survivor.
  const ingest::IdentityResolver* identity() const { return identity_.get(); }
  // The data directory (HubOptions::data_dir).
  const std::string& data_dir() const { return options_.data_dir; }
  // Keys created by this Open (empty unless it was a first start without given keys): shown once.
  const std::vector<std::pair<std::string, std::string>>& created_keys() const { return created_keys_; }

  bool IsAdminKey(std::string_view key) const;
  bool IsWriteKey(std::string_view key) const;
  Status Ready() const;

  // entity::CustomerDirectory
  Result<entity::Profile> GetProfile(const std::string& any_identity) override;
  Result<entity::TimelinePage> Timeline(const std::string& any_identity, size_t limit, const std::string& before) override;

  // What an action needs to address a customer: ids ("userId:…" first) and the time zone trait.
  // Cheap (in-memory identities plus one profiles.db read): it runs for every rescue decision.
  rescue::CustomerInfo DescribeForAction(store::CustomerId id);

  // The customer (survivor) any identity names: "u:…", "a:…", "e:…", "p:…", "c:<n>", or a bare
  // value tried as userId, anonymousId, email, phone in that order; 0 if none. Fast (in memory).
  store::CustomerId Resolve(const std::string& any_identity) const;

  // Waits until profiles reflect every interaction acknowledged so far (bounded by `timeout_ms`).
  bool WaitProfilesCurrent(int64_t timeout_ms);

  // Stops accepting, drains the WAL and the profile writer. Idempotent.
  Status Close();

 private:
  friend class Eraser;  // erasure reaches into every module (app/erase.cc)
  explicit Hub(HubOptions options);
  Status Init();
  void OnCommit(const store::Batch& batch, bool recovered);
  void ProfileWriterLoop();

  HubOptions options_;
  std::unique_ptr<entity::ProfileStore> profiles_;
  std::unique_ptr<entity::KeyStore> keys_;
  std::unique_ptr<ingest::IdentityResolver> identity_;
  std::unique_ptr<cases::CaseManager> cases_;  // opened before the store: WAL replay feeds it
  std::unique_ptr<cases::Intake> intake_;
  std::unique_ptr<ConsentLedger> consent_;  // opened before the store: WAL replay feeds it
  std::unique_ptr<journey::JourneyEngine> journey_;  // opened before the store: WAL replay feeds it
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ingest::IngestPipeline> pipeline_;
  std::unique_ptr<rescue::RescueStack> rescue_;  // after pipeline_: destroyed first (it ingests touches)
  std::shared_ptr<dashboard::DailyTotals> dashboard_totals_;  // fed by OnCommit; read by dashboard_
  std::unique_ptr<dashboard::Dashboard> dashboard_;  // reads everything above
  std::unique_ptr<Eraser> eraser_;  // last: erases from everything above
  std::unique_ptr<CasesWiring> cases_wiring_;  // feeds case events to pipeline_: destroyed first
  std::vector<std::pair<std::string, std::string>> created_keys_;  // (role, key)

  uint64_t profiles_applied_at_open_ = 0;

  std::mutex pw_mu_;
  std::condition_variable pw_cv_;
  static constexpr size_t kMaxProfileQueueBytes = 64u << 20;
  std::deque<std::shared_ptr<entity::ProfileUpdate>> pw_queue_;  // guarded by pw_mu_
  size_t pw_queue_bytes_ = 0;                                    // guarded by pw_mu_
  uint64_t pw_enqueued_seq_ = 0;                                 // guarded by pw_mu_: end seq of the last enqueued batch
  uint64_t pw_applied_seq_ = 0;                                  // guarded by pw_mu_
  uint64_t pw_synced_seq_ = 0;                                   // guarded by pw_mu_: applied and fsync'd
  bool pw_stop_ = false;                                         // guarded by pw_mu_
  int pw_read_waiting_ = 0;                                      // guarded by pw_mu_: readers in WaitProfilesCurrent
  Status pw_error_;                                              // guarded by pw_mu_
  std::thread pw_thread_;
  bool closed_ = false;
};

}  // namespace cairn::app
