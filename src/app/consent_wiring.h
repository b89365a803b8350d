#pragma once
// ConsentLedger: the consent ledger (entity::ConsentStore, DIR/consents.db) wired into the hub
// (docs/consent.md):
//   - OnCommit(batch) from Hub::OnCommit records the statements every durable batch makes
//     (identify traits, `Consent Updated`), idempotent by seq on WAL replay;
//   - entity::ConsentService for GET/PUT /v1/customers/{id}/consents (ids resolved to the
//     canonical customer, history read across every merged member);
//   - actions::ConsentChecker for the action gates (every action the Dispatcher sends);
//   - ExcludedFromAnalytics(canonical) for analytics and value models.
//
// Thread-safety: all methods are thread-safe.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "actions/gates.h"
#include "base/metrics.h"
#include "entity/consent_service.h"
#include "entity/consent_store.h"
#include "ingest/identity_resolver.h"
#include "store/interaction.h"

namespace YAML {
class Node;
}

namespace cairn::app {

// The purpose whose denial excludes a customer from analytics and value models.
inline constexpr std::string_view kAnalyticsPurpose = "analytics";

class ConsentLedger final : public entity::ConsentService, public actions::ConsentChecker {
 public:
  // `identity` and `resolve` (any identity → canonical id, 0 if unknown) outlive the ledger.
  static Result<std::unique_ptr<ConsentLedger>> Open(const std::string& data_dir,
                                                    const ingest::IdentityResolver* identity,
                                                    std::function<store::CustomerId(const std::string&)> resolve,
                                                    metrics::Registry* metrics, Clock* clock = nullptr);

  entity::ConsentStore* store() { return store_.get(); }

  // Records the batch's statements (on the WAL commit thread). A failed write is logged and
  // counted and retried with the next batch (the statements are kept in memory until then); it
  // never fails the commit. Statements are written without an fsync of their own; the file is
  // synced at most once a second (kSyncIntervalMs), so that a batch costs the event store's WAL
  // sync alone rather than one more per SQLite file.
  void OnCommit(const store::Batch& batch);
  // The lowest seq whose statements are not yet durable in consents.db (a failed write still
  // pending, or a write since the last sync), or UINT64_MAX: the event store's WAL keeps every
  // record from there on, so a power cut loses nothing a WAL replay cannot record again.
  uint64_t RetainFromSeq();
  // Syncs consents.db now (close, tests).
  Status Sync();
  static constexpr int64_t kSyncIntervalMs = 1000;

  // True when the customer's latest unexpired `analytics` statement (any channel) is a denial or
  // withdrawal. Cheap: a set lookup, recomputed after a consent write or an identity merge.
  bool ExcludedFromAnalytics(store::CustomerId canonical);
  // The same as a set of canonical ids, for scans that check many rows (take it once per scan).
  std::shared_ptr<const std::unordered_set<store::CustomerId>> AnalyticsExclusions();

  // entity::ConsentService
  Result<entity::ConsentView> GetConsents(const std::string& any_identity) override;
  Result<entity::ConsentView> PutConsents(const std::string& any_identity, const std::vector<entity::ConsentInput>& inputs,
                                          const entity::ConsentCaller& caller) override;
  // actions::ConsentChecker
  Result<actions::ConsentAnswer> Check(store::CustomerId customer, std::string_view purpose,
                                       std::string_view channel) override;

  // Erasure: every record of the canonical customer's members (ids from before the identity is
  // erased), scrubbed from the file.
  Status EraseCustomers(const std::vector<uint64_t>& ids) { return store_->EraseCustomers(ids); }

 private:
  ConsentLedger() = default;
  Result<entity::ConsentView> ViewOf(store::CustomerId root);
  std::vector<store::CustomerId> MembersOf(store::CustomerId root) const;
  store::CustomerId Root(store::CustomerId id) const;

  std::unique_ptr<entity::ConsentStore> store_;
  const ingest::IdentityResolver* identity_ = nullptr;
  std::function<store::CustomerId(const std::string&)> resolve_;
  metrics::Counter* recorded_ = nullptr;
  metrics::Counter* failures_ = nullptr;
  Clock* clock_ = nullptr;

  std::mutex pending_mu_;
  std::vector<store::Batch> pending_;  // guarded by pending_mu_: statements whose write failed
  int64_t last_sync_ns_ = 0;           // guarded by pending_mu_

  // Analytics exclusion cache.
  std::atomic<uint64_t> merges_{0};  // identity merges seen (they can move a denial to a new root)
  std::mutex excluded_mu_;
  std::shared_ptr<const std::unordered_set<store::CustomerId>> excluded_;  // guarded by excluded_mu_
  uint64_t excluded_generation_ = 0;                                       // guarded by excluded_mu_
  uint64_t excluded_merges_ = 0;                                           // guarded by excluded_mu_
  int64_t excluded_at_ms_ = 0;                                             // guarded by excluded_mu_
};

// ---- retention policy (docs/consent.md "Retention") -----------------------------------------

// Config `retention: {default_days: N, events: {"Page Viewed": 90, "Order Completed": 0}}`:
// interactions older than their retention (by event time) are dropped when compaction rewrites
// the segment holding them. An `events` entry overrides the default for one event name (a track's
// event; "Page Viewed" / "Screen Viewed" also name every page / screen call); 0 = keep forever.
// Default: no retention (everything kept).
struct RetentionPolicy {
  int64_t default_days = 0;
  std::map<std::string, int64_t, std::less<>> events;
  bool empty() const;
};

// Reads the `retention:` section. InvalidArgument naming the key ("config retention.events.X:
// expected a whole number of days >= 0").
Status ApplyRetentionSection(const YAML::Node& section, RetentionPolicy* out);

// True when `row` is past its retention at `now_ms`.
bool Expired(const RetentionPolicy& policy, const store::Interaction& row, int64_t now_ms);

// A store::StoreOptions::compaction_filter for `policy` (null when the policy keeps everything),
// reading the clock once per call; composed with `next` (a row either drops is dropped).
std::function<bool(const store::Interaction&)> RetentionFilter(RetentionPolicy policy, Clock* clock,
                                                               std::function<bool(const store::Interaction&)> next);

// The config line: sets `*filter` (StoreOptions::compaction_filter) from the section, keeping any
// filter already there.
Status ApplyRetentionConfig(const YAML::Node& section, std::function<bool(const store::Interaction&)>* filter);

}  // namespace cairn::app
