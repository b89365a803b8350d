#include "app/hub.h"

#include "app/erase.h"
#include "app/consent_wiring.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <span>
#include <unordered_set>

#include "base/logging.h"
#include "base/thread_name.h"
#include "ingest/timestamp.h"

namespace cairn::app {

Hub::Hub(HubOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<Hub>> Hub::Open(HubOptions options) {
  if (options.data_dir.empty()) return InvalidArgument("data dir is required (--data DIR)");
  std::unique_ptr<Hub> hub(new Hub(std::move(options)));
  RETURN_IF_ERROR(hub->Init());
  return hub;
}

Status Hub::Init() {
  io::Env* env = io::Env::Posix();
  RETURN_IF_ERROR(env->CreateDirIfMissing(options_.data_dir).WithContext("data dir"));
  auto* metrics = options_.metrics ? options_.metrics : metrics::Registry::Default();

  // 1. Profiles and the identity state they have persisted.
  ASSIGN_OR_RETURN(profiles_, entity::ProfileStore::Open(io::JoinPath(options_.data_dir, "profiles.db")));
  identity_ = std::make_unique<ingest::IdentityResolver>(options_.identity, metrics);
  ASSIGN_OR_RETURN(auto ops, profiles_->LoadIdentityOps());
  for (const auto& op : ops) RETURN_IF_ERROR(identity_->Apply(op).WithContext("profiles.db identity"));
  profiles_applied_at_open_ = profiles_->applied_seq();
  pw_applied_seq_ = pw_enqueued_seq_ = pw_synced_seq_ = profiles_applied_at_open_;
  pw_thread_ = std::thread([this] {
    NameThisThread("profile-writer");
    ProfileWriterLoop();
  });

  // 1b. Cases and surveys: before the store, so WAL replay reaches the intake (idempotent by seq).
  {
    cases::CaseManagerOptions co;
    co.dir = options_.data_dir;
    co.metrics = metrics;
    co.timer_thread = true;
    co.canonical = [this](uint64_t id) { return identity_->Find(id); };
    co.members = [this](uint64_t root) { return identity_->Members(root); };
    co.resolve_customer = [this](const std::string& any) -> Result<uint64_t> {
      store::CustomerId id = Resolve(any);
      if (id == 0) return NotFound("'" + any + "' is not a known customer");
      return id;
    };
    ASSIGN_OR_RETURN(cases_, cases::CaseManager::Open(std::move(co)));
    intake_ = std::make_unique<cases::Intake>(cases_.get(), [this](uint64_t id) { return identity_->Find(id); }, metrics);
  }

  // 1c. Journey engine: before the store, so WAL replay reaches it (batches its state.bin already
  // holds are skipped; a gap is rebuilt from the store once it is open).
  if (options_.enable_journey) {
    std::string yaml(journey::JourneyMap::DefaultYaml());
    if (!options_.journey_map.empty()) {
      ASSIGN_OR_RETURN(yaml, io::ReadFileToString(env, options_.journey_map));
    }
    auto map = journey::JourneyMap::Parse(yaml);
    if (!map.ok()) return map.status().WithContext(options_.journey_map.empty() ? "built-in journey map" : options_.journey_map);
    journey::EngineOptions jo;
    jo.dir = io::JoinPath(options_.data_dir, "journey");
    jo.metrics = metrics;
    ASSIGN_OR_RETURN(journey_, journey::JourneyEngine::Open(*map, jo));
    journey_->SetIdentity(identity_.get());
    journey_->SetResolver([this](const std::string& id) { return Resolve(id); });
  } else {
    // Off: a state.bin left from an earlier run would go stale (it misses what is ingested now; the
    // engine rebuilds from the store when turned back on) and would keep erased customers' states
    // at rest: removed, securely (docs/erasure.md).
    const std::string state = io::JoinPath(io::JoinPath(options_.data_dir, "journey"), "state.bin");
    if (env->FileExists(state)) RETURN_IF_ERROR(env->SecureRemoveFile(state).WithContext("removing the disabled journey engine's state"));
  }

  // 1d. Consent ledger (primary data, DIR/consents.db): before the store, so WAL replay reaches it.
  ASSIGN_OR_RETURN(consent_, ConsentLedger::Open(options_.data_dir, identity_.get(), [this](const std::string& id) { return Resolve(id); }, metrics));

  // 1e. The dashboard's daily totals (derived, in memory): fed from OnCommit from the first batch,
  // built from the store by the dashboard (step 6), rebuilt after a compaction drops rows.
  // Its segment cells ask the journey (opened below) for each customer's persona and stage.
  dashboard_totals_ = std::make_shared<dashboard::DailyTotals>(
      dashboard::SeriesOptions{},
      [this](store::CustomerId id) { return identity_->FindOrSelf(id); },  // as JourneyEngine::Canonical
      [this](const std::vector<store::CustomerId>& ids) {
        return journey_ ? journey_->SegmentKeys(ids)
                        : std::vector<std::optional<std::pair<std::string, std::string>>>(ids.size());
      },
      [this](std::span<const store::CustomerId> ids, store::CustomerId* roots) {  // FindOrSelf of each
        identity_->FindMany(ids, roots);
        for (size_t i = 0; i < ids.size(); ++i)
          if (!roots[i]) roots[i] = ids[i];
      });

  // 2. The store, replaying its WAL through OnCommit.
  store::StoreListener listener;
  listener.on_commit = [this](const store::Batch& b, bool recovered) { OnCommit(b, recovered); };
  listener.on_rows_filtered = [totals = dashboard_totals_] { totals->Invalidate(); };  // retention
  listener.retain_from_seq = [this] {
    std::lock_guard lock(pw_mu_);
    uint64_t retain = pw_synced_seq_;  // only what profiles.db has fully fsync'd may leave the WAL
    if (journey_) retain = std::min(retain, journey_->persisted_seq());  // nor what state.bin lacks
    if (consent_) retain = std::min(retain, consent_->RetainFromSeq());  // nor unsynced consents
    return retain;
  };
  options_.store.metrics = metrics;
  ASSIGN_OR_RETURN(store_, store::Store::Open(env, io::JoinPath(options_.data_dir, "store"), options_.store, listener));
  if (journey_) {
    journey_->SetStore(store_.get());
    RETURN_IF_ERROR(journey_->FinishRecovery().WithContext("journey"));
    // What the journey state costs at start (bench/analytics/run.sh --serve reads this line; issue
    // 4 bounds the live state per customer, the history is kept apart).
    const journey::EngineStats st = journey_->Stats();
    if (st.customers > 0) {
      const double n = static_cast<double>(st.customers), mib = 1024.0 * 1024.0;
      LOG_INFO("journey: {} customers, live state {:.0f} bytes per customer ({:.1f} MiB), history {:.0f} bytes per "
               "customer ({:.1f} MiB), {} dwell timers",
               st.customers, static_cast<double>(st.state_bytes) / n, static_cast<double>(st.state_bytes) / mib,
               static_cast<double>(st.history_bytes) / n, static_cast<double>(st.history_bytes) / mib, st.timers);
    }
  }

  // 3. Keys.
  ASSIGN_OR_RETURN(keys_, entity::KeyStore::Open(io::JoinPath(options_.data_dir, "keys.db")));
  for (size_t i = 0; i < options_.write_keys.size(); ++i)
    RETURN_IF_ERROR(keys_->Import(entity::KeyRole::kWrite, "source-" + std::to_string(i + 1), options_.write_keys[i]));
  if (!options_.admin_key.empty()) RETURN_IF_ERROR(keys_->Import(entity::KeyRole::kAdmin, "admin", options_.admin_key));
  if (options_.create_keys_if_none) {
    if (keys_->Empty(entity::KeyRole::kWrite)) {
      ASSIGN_OR_RETURN(std::string k, keys_->Create(entity::KeyRole::kWrite, "default"));
      created_keys_.emplace_back("write", k);
    }
    if (keys_->Empty(entity::KeyRole::kAdmin)) {
      ASSIGN_OR_RETURN(std::string k, keys_->Create(entity::KeyRole::kAdmin, "admin"));
      created_keys_.emplace_back("admin", k);
    }
  }

  // 4. The pipeline, with de-duplication seeded from what is stored.
  auto lookup = [this](std::string_view key) -> std::optional<uint32_t> {
    if (key.empty()) return std::nullopt;
    auto info = keys_->Find(key);
    if (!info || info->role != entity::KeyRole::kWrite || info->revoked) return std::nullopt;
    return info->source;
  };
  pipeline_ = std::make_unique<ingest::IngestPipeline>(options_.pipeline, store_.get(), identity_.get(), lookup, metrics);
  size_t seeded = 0;
  if (options_.seed_dedup) {
    ASSIGN_OR_RETURN(seeded, pipeline_->SeedFromStore(*store_->GetSnapshot()));
  }
  if (seeded) LOG_INFO("hub: de-duplication seeded with {} stored message ids", seeded);

  // 5. Rescue decisions and actions, listening to the journey engine (live interactions only).
  if (options_.enable_rescue && journey_) {
    rescue::RescueDeps deps;
    deps.data_dir = options_.data_dir;
    deps.journey = journey_.get();
    deps.ingestor = pipeline_.get();
    deps.metrics = metrics;
    deps.describe = [this](store::CustomerId id) { return DescribeForAction(id); };
    deps.read = [this](store::CustomerId id) -> Result<std::vector<store::Interaction>> {
      return store_->GetSnapshot()->ReadCustomers(identity_->Members(identity_->Find(id)));
    };
    deps.consent = consent_.get();  // every action's consent gate reads the ledger
    ASSIGN_OR_RETURN(rescue_, rescue::RescueStack::Open(options_.rescue, std::move(deps)));
  }
  // 5b. Cases inside the journey: timeline events, CSAT requests, the open_case action.
  ASSIGN_OR_RETURN(cases_wiring_, CasesWiring::Start(this, options_.cases));

  // 6. The dashboard (DIR/dashboard.db), reading the store and the other modules' numbers.
  {
    dashboard::DashboardOptions dopt;
    dopt.path = io::JoinPath(options_.data_dir, "dashboard.db");
    dopt.build_totals_at_open = options_.build_dashboard_totals_at_open;
    dashboard::DashboardSources src;
    src.snapshot = [this] { return store_->GetSnapshot(); };
    src.canonical = [this](store::CustomerId id) { return identity_->FindOrSelf(id); };  // as the totals' (step 1e)
    src.totals = dashboard_totals_;
    src.nps = [this](int64_t from_ms, int64_t to_ms, const std::vector<uint64_t>* members) -> Result<dashboard::NpsReading> {
      feedback::ScoreQuery q;
      q.from_ms = from_ms;
      q.to_ms = to_ms;
      q.include_sorted = members;  // a segment's answers: its canonical customers' ids as recorded
      ASSIGN_OR_RETURN(auto report, cases_->Scores(q));
      return dashboard::NpsReading{report.total.nps.nps, report.total.nps.responses};
    };
    if (journey_)
      src.value_at_risk = [this]() -> Result<double> { return journey_->ValueAtStake(); };
    if (rescue_) {
      // Overdue: still open in the queue 48 h after the decision (at most 1000 counted).
      src.rescues_overdue = [this](int64_t now_ms) -> Result<int64_t> {
        rescue::ListQuery q;
        q.status = rescue::RescueStatus::kOpen;
        q.limit = 1000;
        ASSIGN_OR_RETURN(auto open, rescue_->engine()->List(q));
        int64_t n = 0;
        for (const auto& d : open) n += d.decided_at_ms < now_ms - 48 * 3600'000LL;
        return n;
      };
    }
    src.slas_overdue = [this](int64_t) -> Result<int64_t> {
      // Cases past an SLA and not yet resolved or closed (at most 1000 counted).
      cases::CaseFilter f;
      f.breached = true;
      f.limit = 1000;
      ASSIGN_OR_RETURN(auto list, cases_->ListCases(f));
      int64_t n = 0;
      for (const auto& c : list.cases) n += c.status != cases::CaseStatus::kResolved && c.status != cases::CaseStatus::kClosed;
      return n;
    };
    ASSIGN_OR_RETURN(dashboard_, dashboard::Dashboard::Open(std::move(dopt), std::move(src)));
  }
  ASSIGN_OR_RETURN(eraser_, Eraser::Open(this));  // resumes pending erasures before ingest (app/erase.h)
  return Status::Ok();
}

Hub::~Hub() { (void)Close(); }

void Hub::OnCommit(const store::Batch& batch, bool recovered) {
  // The journey engine sees every batch, recovered ones included (it skips what it already holds),
  // after this batch's identity ops are applied below: hence on every return path, last.
  struct JourneyFeed {
    journey::JourneyEngine* engine;
    const store::Batch& batch;
    bool recovered;
    ~JourneyFeed() {
      if (engine) engine->OnCommit(batch, recovered);
    }
  } journey_feed{journey_.get(), batch, recovered};
  dashboard_totals_->OnCommit(batch);  // every batch, replays too (it skips what it holds)
  if (consent_) consent_->OnCommit(batch);  // every batch, replays too (idempotent by seq)
  uint64_t end = batch.first_seq + batch.interactions.size();
  if (recovered) {
    // Batches the profile store already holds were applied to identity from profiles.db.
    if (end <= profiles_applied_at_open_ && !batch.interactions.empty()) return;
    if (batch.first_seq < profiles_applied_at_open_) return;
    for (const auto& op : batch.identity_ops) {
      Status s = identity_->Apply(op);
      if (!s.ok()) LOG_ERROR("hub: replaying identity op: {}", s.ToString());
    }
  }
  // Complaints and survey answers (cases.db commits before profiles.db sees the batch, so a batch
  // profiles already hold is never missing from cases).
  if (intake_) intake_->OnCommit(batch);
  // Profiles get only what changes a profile: the batch's identity ops and its identify and group
  // rows, with its seq range for the watermark. Counters are not counted here: GetProfile derives
  // them from the event store, so the writer does no per-event work (before, every row was copied
  // for it, 1M copies per million events, to be skipped there).
  auto update = std::make_shared<entity::ProfileUpdate>(entity::ProfileUpdateOf(batch, /*count=*/false));
  const size_t bytes = update->bytes();
  {
    // Bounded: when the profile writer falls behind, this (the WAL thread) waits, the WAL queue
    // fills, and ingest answers 429 — back-pressure instead of unbounded memory.
    std::unique_lock lock(pw_mu_);
    pw_cv_.wait(lock, [&] { return pw_queue_bytes_ < kMaxProfileQueueBytes || pw_stop_; });
    pw_queue_.push_back(std::move(update));
    pw_queue_bytes_ += bytes;
    pw_enqueued_seq_ = std::max(pw_enqueued_seq_, end);
  }
  pw_cv_.notify_all();
}

void Hub::ProfileWriterLoop() {
  auto last_sync = std::chrono::steady_clock::now();
  std::unique_lock lock(pw_mu_);
  while (true) {
    pw_cv_.wait(lock, [this] { return pw_stop_ || !pw_queue_.empty(); });
    if (pw_queue_.empty() && pw_stop_) return;
    // One transaction per second of batches (or half the queue bound) rather than per batch:
    // each commit rewrites every B-tree page it dirtied, and new identities land on random
    // leaves, so a longer window writes each page once for many rows (at 100 ms, page writes
    // and syncs were ~10% of the server's ingest CPU). Readers that need the latest state wake
    // the writer and wait for it (WaitProfilesCurrent): they never wait out the window.
    pw_cv_.wait_for(lock, std::chrono::milliseconds(1000),
                    [this] { return pw_stop_ || pw_read_waiting_ > 0 || pw_queue_bytes_ >= kMaxProfileQueueBytes / 2; });
    std::vector<std::shared_ptr<entity::ProfileUpdate>> updates(pw_queue_.begin(), pw_queue_.end());
    pw_queue_.clear();
    pw_queue_bytes_ = 0;
    pw_cv_.notify_all();  // OnCommit may be waiting for room
    lock.unlock();
    std::vector<const entity::ProfileUpdate*> ptrs;
    uint64_t end = 0;
    for (const auto& u : updates) {
      ptrs.push_back(u.get());
      end = std::max(end, u->end_seq);
    }
    Status s = profiles_->Apply(ptrs);
    if (!s.ok()) LOG_EVERY_N_SEC(kError, 10, "hub: profile writer: {}", s.ToString());
    // profiles.db commits with synchronous=NORMAL (fast, but a power cut may lose the last
    // commits); a full sync now and then is what lets the store drop WAL files below it.
    bool synced = false;
    auto now = std::chrono::steady_clock::now();
    if (s.ok() && now - last_sync > std::chrono::seconds(1)) {
      Status ss = profiles_->Sync();
      if (ss.ok()) {
        synced = true;
        last_sync = now;
      } else {
        LOG_EVERY_N_SEC(kError, 10, "hub: profile sync: {}", ss.ToString());
      }
    }
    lock.lock();
    if (s.ok()) pw_applied_seq_ = std::max(pw_applied_seq_, end);
    else pw_error_ = s;
    if (synced) pw_synced_seq_ = std::max(pw_synced_seq_, end);
    pw_cv_.notify_all();
  }
}

bool Hub::WaitProfilesCurrent(int64_t timeout_ms) {
  std::unique_lock lock(pw_mu_);
  uint64_t target = pw_enqueued_seq_;
  ++pw_read_waiting_;  // the writer skips its batching window while a reader waits
  pw_cv_.notify_all();
  bool ok = pw_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                            [&] { return pw_applied_seq_ >= target || pw_stop_; });
  --pw_read_waiting_;
  return ok;
}

bool Hub::IsAdminKey(std::string_view key) const {
  auto info = keys_->Find(key);
  return info && info->role == entity::KeyRole::kAdmin && !info->revoked;
}

bool Hub::IsWriteKey(std::string_view key) const {
  auto info = keys_->Find(key);
  return info && info->role == entity::KeyRole::kWrite && !info->revoked;
}

Status Hub::Ready() const {
  std::lock_guard lock(const_cast<std::mutex&>(pw_mu_));
  if (closed_ || pw_stop_) return Unavailable("shutting down");
  return Status::Ok();
}

store::CustomerId Hub::Resolve(const std::string& id) const {
  if (id.size() > 2 && id[1] == ':' && std::string_view("cuaep").find(id[0]) != std::string_view::npos)
    return identity_->Lookup(id);
  // A bare id: try userId, then anonymousId, email, phone.
  for (char kind : {'u', 'a', 'e', 'p'}) {
    std::string key = identity_->MakeKey(kind, id);
    if (key.empty()) continue;
    if (store::CustomerId c = identity_->Lookup(key)) return c;
  }
  return 0;
}

rescue::CustomerInfo Hub::DescribeForAction(store::CustomerId id) {
  // Called for every rescue decision and action: identities come from the in-memory resolver and
  // the time zone from one profiles.db read. Not GetProfile: that waits for the profile writer and
  // reads every interaction of the customer to count them, which cost more than the decision.
  rescue::CustomerInfo info;
  const store::CustomerId root = identity_->Find(id);
  if (!root) return info;
  static constexpr std::pair<char, std::string_view> kKinds[] = {{'u', "userId:"}, {'a', "anonymousId:"}, {'e', "email:"}, {'p', "phone:"}};
  for (const std::string& key : identity_->Keys(root)) {
    for (const auto& [k, name] : kKinds) {
      if (key.size() < 2 || key[0] != k) continue;
      std::string text = std::string(name) + key.substr(2);
      if (k == 'u') info.ids.insert(info.ids.begin(), std::move(text));
      else info.ids.push_back(std::move(text));
    }
  }
  WaitProfilesCurrent(200);  // a timezone trait sent just before the action counts (quiet hours)
  auto p = profiles_->GetProfile(root, identity_->Members(root));
  if (!p.ok()) return info;
  for (const auto& t : p->traits) {  // IANA zone from traits.timezone / time_zone ("Europe/Paris")
    if ((t.key == "timezone" || t.key == "time_zone") && t.value_json.size() > 2 && t.value_json.front() == '"') {
      info.time_zone = t.value_json.substr(1, t.value_json.size() - 2);
    }
  }
  return info;
}

Result<entity::Profile> Hub::GetProfile(const std::string& any_identity) {
  store::CustomerId root = Resolve(any_identity);
  if (!root) return NotFound("no customer with identity '" + any_identity + "'");
  WaitProfilesCurrent(500);  // read-your-writes for profiles, which are written asynchronously
  std::vector<store::CustomerId> members = identity_->Members(root);
  auto loaded = profiles_->GetProfile(root, members);
  entity::Profile p;
  if (loaded.ok()) {
    p = std::move(*loaded);
  } else if (loaded.status().code() == Code::kNotFound) {
    p.id = root;  // known to identity, nothing in profiles.db yet (e.g. no identify so far)
    for (store::CustomerId m : members)
      if (m != root) p.merged_from.push_back(m);
  } else {
    return loaded.status();
  }
  // Counters come from the event store: a customer's interactions are clustered, so this costs
  // O(their interactions) and keeps the ingest path free of per-event database writes.
  ASSIGN_OR_RETURN(auto rows, store_->GetSnapshot()->ReadCustomers(members));
  p.interaction_count = rows.size();
  if (!rows.empty()) {
    p.first_seen_ms = rows.front().timestamp_ms;  // rows are in time order
    p.last_seen_ms = rows.back().timestamp_ms;
  }
  if (p.identities.empty()) {
    static constexpr std::pair<char, const char*> kKinds[] = {{'u', "userId"}, {'a', "anonymousId"}, {'e', "email"}, {'p', "phone"}};
    for (const std::string& key : identity_->Keys(root))
      for (const auto& [k, name] : kKinds)
        if (key[0] == k) p.identities.push_back({name, key.substr(2)});
  }
  return p;
}

namespace {
// Cursor "<timestamp_ms>:<seq>": rows strictly older than it.
bool ParseCursor(std::string_view s, int64_t* ts, uint64_t* seq) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  auto r1 = std::from_chars(s.data(), s.data() + colon, *ts);
  auto r2 = std::from_chars(s.data() + colon + 1, s.data() + s.size(), *seq);
  return r1.ec == std::errc() && r1.ptr == s.data() + colon && r2.ec == std::errc() && r2.ptr == s.data() + s.size();
}
}  // namespace

Result<entity::TimelinePage> Hub::Timeline(const std::string& any_identity, size_t limit, const std::string& before) {
  if (limit < 1 || limit > 1000) return InvalidArgument("limit must be between 1 and 1000");
  int64_t before_ts = INT64_MAX;
  uint64_t before_seq = UINT64_MAX;
  if (!before.empty() && !ParseCursor(before, &before_ts, &before_seq)) {
    int64_t ms = 0;
    auto r = std::from_chars(before.data(), before.data() + before.size(), ms);
    if (r.ec == std::errc() && r.ptr == before.data() + before.size()) {
      before_ts = ms;
      before_seq = 0;
    } else {
      if (!ingest::ParseIso8601Ms(before, &before_ts))
        return InvalidArgument("before: not a cursor, ISO-8601 time or ms since epoch: '" + before + "'");
      before_seq = 0;
    }
  }
  store::CustomerId root = Resolve(any_identity);
  if (!root) return NotFound("no customer with identity '" + any_identity + "'");
  ASSIGN_OR_RETURN(auto rows, store_->GetSnapshot()->ReadCustomers(identity_->Members(root)));
  entity::TimelinePage page;
  // rows are ascending by (timestamp, seq); walk from the newest.
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
    if (it->timestamp_ms > before_ts || (it->timestamp_ms == before_ts && it->seq >= before_seq)) continue;
    if (page.interactions.size() == limit) {
      const auto& last = page.interactions.back();
      page.next_before = std::to_string(last.timestamp_ms) + ":" + std::to_string(last.seq);
      break;
    }
    page.interactions.push_back(std::move(*it));
  }
  return page;
}

Status Hub::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  Status s;
  if (eraser_) eraser_->Stop();  // an erasure under way finishes at the next open
  if (cases_wiring_) cases_wiring_->Stop();  // before the pipeline stops taking its events
  if (rescue_) rescue_->Stop();  // no more webhooks; decisions from the drain below still record
  if (dashboard_) dashboard_->Stop();  // its totals' build scans the store: stop it before the store closes
  if (store_) s = store_->Close();  // drains the WAL: every acknowledged batch reaches OnCommit
  if (consent_) {
    Status cs = consent_->Sync();  // the last second's statements (the WAL kept them meanwhile)
    if (s.ok()) s = cs;
  }
  if (journey_) {
    Status js = journey_->Close();  // persists state.bin
    if (s.ok()) s = js;
  }
  {
    std::lock_guard lock(pw_mu_);
    pw_stop_ = true;
  }
  pw_cv_.notify_all();
  if (pw_thread_.joinable()) pw_thread_.join();
  if (cases_) cases_->Close();  // after the store: the drained WAL has passed through the intake
  return s;
}

}  // namespace cairn::app
