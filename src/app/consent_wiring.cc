#include "app/consent_wiring.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "base/logging.h"
#include "ingest/timestamp.h"
#include "io/env.h"

namespace cairn::app {

namespace {

std::string Iso(int64_t ms) {
  char buf[32];
  return std::string(ingest::FormatIso8601Ms(ms, buf));
}

bool IsDenial(entity::ConsentState s) {
  return s == entity::ConsentState::kDenied || s == entity::ConsentState::kWithdrawn;
}

}  // namespace

Result<std::unique_ptr<ConsentLedger>> ConsentLedger::Open(const std::string& data_dir,
                                                           const ingest::IdentityResolver* identity,
                                                           std::function<store::CustomerId(const std::string&)> resolve,
                                                           metrics::Registry* metrics, Clock* clock) {
  std::unique_ptr<ConsentLedger> l(new ConsentLedger());
  if (metrics == nullptr) metrics = metrics::Registry::Default();
  entity::ConsentStoreOptions o;
  o.clock = clock;
  o.commits = metrics->GetCounter("cairn_sqlite_commits_total",
                                  "Committed write transactions per SQLite file (with synchronous=FULL, one fsync each).",
                                  "db=\"consents\"");
  ASSIGN_OR_RETURN(l->store_, entity::ConsentStore::Open(io::JoinPath(data_dir, "consents.db"), o));
  l->identity_ = identity;
  l->resolve_ = std::move(resolve);
  l->clock_ = clock ? clock : Clock::Real();
  l->last_sync_ns_ = l->clock_->MonotonicNanos();
  l->recorded_ = metrics->GetCounter("cairn_consent_batches_recorded_total",
                                     "Committed batches whose consent statements were recorded in consents.db.");
  l->failures_ = metrics->GetCounter("cairn_consent_write_failures_total",
                                     "Failed writes of consent statements to consents.db (retried with the next batch).");
  return l;
}

void ConsentLedger::OnCommit(const store::Batch& batch) {
  for (const auto& op : batch.identity_ops) {
    if (op.kind == store::IdentityOp::Kind::kMerge) merges_.fetch_add(1, std::memory_order_relaxed);
  }
  std::lock_guard lock(pending_mu_);
  // Earlier failures first, so statements reach the ledger in seq order.
  while (!pending_.empty()) {
    Status s = store_->ApplyBatch(pending_.front());
    if (!s.ok()) break;
    pending_.erase(pending_.begin());
  }
  const uint64_t before = store_->generation();
  Status s = pending_.empty() ? store_->ApplyBatch(batch) : Unavailable("earlier consent writes still pending");
  if (!s.ok()) {
    failures_->Inc();
    LOG_EVERY_N_SEC(kError, 10, "consent: recording the statements of batch at seq {} failed (will retry): {}",
                    batch.first_seq, s.ToString());
    // Keep only what the retry needs: the rows that make statements, at their place in the batch
    // (the others become empty rows, which make none).
    store::Batch keep;
    keep.first_seq = batch.first_seq;
    keep.interactions.resize(batch.interactions.size());
    bool any = false;
    for (size_t i = 0; i < batch.interactions.size(); ++i) {
      keep.interactions[i].seq = batch.first_seq + i;
      if (!entity::ConsentStore::FromInteraction(batch.interactions[i]).empty()) {
        keep.interactions[i] = batch.interactions[i];
        any = true;
      }
    }
    if (any) pending_.push_back(std::move(keep));
  } else if (store_->generation() != before) {
    recorded_->Inc();
  }
  const int64_t now = clock_->MonotonicNanos();
  if (store_->unsynced_from() != UINT64_MAX && now - last_sync_ns_ >= kSyncIntervalMs * 1'000'000) {
    Status synced = store_->Sync();
    if (synced.ok()) last_sync_ns_ = now;
    else LOG_EVERY_N_SEC(kError, 10, "consent: syncing consents.db failed (will retry): {}", synced.ToString());
  }
}

uint64_t ConsentLedger::RetainFromSeq() {
  std::lock_guard lock(pending_mu_);
  const uint64_t unsynced = store_->unsynced_from();
  return pending_.empty() ? unsynced : std::min(unsynced, pending_.front().first_seq);
}

Status ConsentLedger::Sync() {
  std::lock_guard lock(pending_mu_);
  RETURN_IF_ERROR(store_->Sync());
  last_sync_ns_ = clock_->MonotonicNanos();
  return Status::Ok();
}

store::CustomerId ConsentLedger::Root(store::CustomerId id) const {
  const store::CustomerId root = identity_->Find(id);
  return root != 0 ? root : id;  // an id the resolver does not know (yet, or any more) stands alone
}

std::vector<store::CustomerId> ConsentLedger::MembersOf(store::CustomerId root) const {
  std::vector<store::CustomerId> members = identity_->Members(root);
  if (std::find(members.begin(), members.end(), root) == members.end()) members.push_back(root);
  return members;
}

Result<entity::ConsentView> ConsentLedger::ViewOf(store::CustomerId root) {
  entity::ConsentView view;
  view.customer = root;
  ASSIGN_OR_RETURN(view.history, store_->History(MembersOf(root)));
  view.current = entity::ConsentStore::Current(view.history, store_->NowMillis());
  return view;
}

Result<entity::ConsentView> ConsentLedger::GetConsents(const std::string& any_identity) {
  store::CustomerId root = resolve_(any_identity);
  if (root == 0) return NotFound(fmt::format("'{}' is not a known customer", any_identity));
  return ViewOf(root);
}

Result<entity::ConsentView> ConsentLedger::PutConsents(const std::string& any_identity,
                                                       const std::vector<entity::ConsentInput>& inputs,
                                                       const entity::ConsentCaller& caller) {
  store::CustomerId root = resolve_(any_identity);
  if (root == 0) return NotFound(fmt::format("'{}' is not a known customer", any_identity));
  const int64_t now = store_->NowMillis();
  std::string proof = "api";
  if (!caller.request_id.empty()) proof += ":" + caller.request_id;
  if (!caller.key_name.empty()) proof += " key:" + caller.key_name;
  std::vector<entity::ConsentRecord> records;
  records.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& in = inputs[i];
    entity::ConsentRecord r;
    if (!in.expires_at.empty()) {
      int64_t ms = 0;
      auto [end, ec] = std::from_chars(in.expires_at.data(), in.expires_at.data() + in.expires_at.size(), ms);
      const bool number = ec == std::errc() && end == in.expires_at.data() + in.expires_at.size();
      if (!number && !ingest::ParseIso8601Ms(in.expires_at, &ms)) {
        return InvalidArgument(fmt::format("consents[{}].expires_at: '{}' is not an ISO-8601 time or epoch ms", i,
                                           in.expires_at));
      }
      r.expires_at_ms = ms;
    }
    r.purpose = in.purpose;
    r.channel = in.channel.empty() ? std::string(entity::kAllChannels) : in.channel;
    r.state = in.state;
    r.lawful_basis = in.lawful_basis.empty() ? "consent" : in.lawful_basis;
    r.note = in.note;
    r.at_ms = now;
    r.source = "api";
    r.proof = proof;
    records.push_back(std::move(r));
  }
  RETURN_IF_ERROR(store_->Record(root, std::move(records)));
  return ViewOf(root);
}

Result<actions::ConsentAnswer> ConsentLedger::Check(store::CustomerId customer, std::string_view purpose,
                                                    std::string_view channel) {
  const store::CustomerId root = Root(customer);
  ASSIGN_OR_RETURN(auto history, store_->History(MembersOf(root)));
  auto v = entity::ConsentStore::Decide(history, purpose, channel, store_->NowMillis());
  actions::ConsentAnswer answer;
  if (v.state) {
    answer.verdict = IsDenial(*v.state) ? actions::ConsentVerdict::kDenied : actions::ConsentVerdict::kGranted;
  }
  if (v.record) {
    const auto& r = *v.record;
    answer.evidence = fmt::format("consent ledger: {} on {} {} at {} via {} ({}){}", r.purpose, r.channel,
                                  entity::ConsentStateName(r.state), Iso(r.at_ms), r.source, r.proof,
                                  v.expired ? fmt::format(", expired at {}", Iso(*r.expires_at_ms)) : std::string());
  } else {
    answer.evidence = fmt::format("consent ledger: no statement for {} on {}", purpose, channel);
  }
  return answer;
}

bool ConsentLedger::ExcludedFromAnalytics(store::CustomerId canonical) {
  auto set = AnalyticsExclusions();
  return !set->empty() && set->count(canonical) != 0;
}

std::shared_ptr<const std::unordered_set<store::CustomerId>> ConsentLedger::AnalyticsExclusions() {
  {
    std::lock_guard lock(excluded_mu_);
    const uint64_t gen = store_->generation(), merges = merges_.load(std::memory_order_relaxed);
    const int64_t now = store_->NowMillis();
    // Recomputed after a write or a merge, and every minute (statements expire).
    if (excluded_ == nullptr || gen != excluded_generation_ || merges != excluded_merges_ ||
        now - excluded_at_ms_ >= 60'000) {
      // The latest unexpired analytics statement per canonical customer decides.
      auto records = store_->RecordsForPurpose(kAnalyticsPurpose);
      if (!records.ok()) {
        LOG_EVERY_N_SEC(kError, 10, "consent: reading analytics consents failed: {}", records.status().ToString());
        // The last known set (none yet: nobody excluded).
        return excluded_ ? excluded_ : std::make_shared<const std::unordered_set<store::CustomerId>>();
      }
      std::unordered_map<store::CustomerId, const entity::ConsentRecord*> latest;
      for (const auto& r : *records) {  // oldest first: later ones overwrite
        if (r.expires_at_ms && *r.expires_at_ms <= now) continue;
        latest[Root(r.customer)] = &r;
      }
      auto next = std::make_shared<std::unordered_set<store::CustomerId>>();
      for (const auto& [root, r] : latest) {
        if (IsDenial(r->state)) next->insert(root);
      }
      excluded_ = std::move(next);
      excluded_generation_ = gen;
      excluded_merges_ = merges;
      excluded_at_ms_ = now;
    }
    return excluded_;
  }
}

bool RetentionPolicy::empty() const {
  if (default_days > 0) return false;
  for (const auto& [name, days] : events) {
    if (days > 0) return false;
  }
  return true;
}

namespace {

Status ReadDays(const YAML::Node& v, const std::string& key, int64_t* out) {
  auto bad = [&] {
    return InvalidArgument(fmt::format("config retention.{} (line {}): expected a whole number of days >= 0", key,
                                       v.Mark().line + 1));
  };
  if (!v.IsScalar()) return bad();
  try {
    *out = v.as<int64_t>();
  } catch (const YAML::Exception&) {
    return bad();
  }
  if (*out < 0 || *out > 1'000'000) return bad();
  return Status::Ok();
}

}  // namespace

Status ApplyRetentionSection(const YAML::Node& section, RetentionPolicy* out) {
  if (!section.IsMap()) return InvalidArgument("config retention: expected a mapping {default_days, events}");
  for (const auto& kv : section) {
    const std::string key = kv.first.as<std::string>();
    if (key == "default_days") {
      RETURN_IF_ERROR(ReadDays(kv.second, key, &out->default_days));
    } else if (key == "events") {
      if (!kv.second.IsMap()) return InvalidArgument("config retention.events: expected a mapping of event name to days");
      for (const auto& e : kv.second) {
        const std::string name = e.first.as<std::string>();
        if (name.empty()) return InvalidArgument("config retention.events: empty event name");
        int64_t days = 0;
        RETURN_IF_ERROR(ReadDays(e.second, "events." + name, &days));
        out->events[name] = days;
      }
    } else {
      return InvalidArgument(fmt::format("config retention: unknown key '{}' (default_days, events)", key));
    }
  }
  return Status::Ok();
}

bool Expired(const RetentionPolicy& policy, const store::Interaction& row, int64_t now_ms) {
  int64_t days = policy.default_days;
  std::string_view name = row.event;
  if (row.type == store::MessageType::kPage) name = "Page Viewed";
  else if (row.type == store::MessageType::kScreen) name = "Screen Viewed";
  auto it = policy.events.find(name);
  if (it == policy.events.end() && row.type != store::MessageType::kTrack && !row.event.empty()) {
    it = policy.events.find(row.event);  // a page/screen may also be named by its own name
  }
  if (it != policy.events.end()) days = it->second;
  if (days <= 0) return false;
  return row.timestamp_ms < now_ms - days * 86'400'000LL;
}

std::function<bool(const store::Interaction&)> RetentionFilter(RetentionPolicy policy, Clock* clock,
                                                               std::function<bool(const store::Interaction&)> next) {
  if (policy.empty()) return next;
  if (clock == nullptr) clock = Clock::Real();
  auto shared = std::make_shared<const RetentionPolicy>(std::move(policy));
  return [shared, clock, next = std::move(next)](const store::Interaction& row) {
    if (Expired(*shared, row, clock->NowMillis())) return true;
    return next ? next(row) : false;
  };
}

Status ApplyRetentionConfig(const YAML::Node& section, std::function<bool(const store::Interaction&)>* filter) {
  RetentionPolicy policy;
  RETURN_IF_ERROR(ApplyRetentionSection(section, &policy));
  *filter = RetentionFilter(std::move(policy), nullptr, std::move(*filter));
  return Status::Ok();
}

}  // namespace cairn::app
