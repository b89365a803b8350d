#include "journey/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "base/logging.h"
#include "base/thread_name.h"
#include "ingest/identity_resolver.h"
#include "store/segment_format.h"
#include "store/store.h"

namespace cairn::journey {

uint16_t ActivePaths(const JourneyMap& m, const CustomerState& s, int64_t now);

namespace {
constexpr const char* kMapFile = "map.yaml";
constexpr int kLifecycleView = static_cast<int>(View::kLifecycle);
}  // namespace

JourneyEngine::JourneyEngine(std::shared_ptr<const JourneyMap> map, EngineOptions options)
    : options_(std::move(options)), deriver_(std::make_shared<Deriver>(std::move(map))) {
  if (!options_.env) options_.env = io::Env::Posix();
  if (!options_.clock) options_.clock = Clock::Real();
  auto* m = options_.metrics ? options_.metrics : metrics::Registry::Default();
  applied_ = m->GetCounter("cairn_journey_interactions_applied_total", "Interactions folded into journey state live.");
  rederived_ = m->GetCounter("cairn_journey_rederived_total", "Customers re-derived (late interactions, merges).");
  signals_ = m->GetCounter("cairn_journey_signals_total", "Derailment signals emitted.");
  late_ = m->GetCounter("cairn_journey_late_interactions_total", "Interactions older than the customer's last applied one.");
  stale_ = m->GetCounter("cairn_journey_stale_timer_signals_total",
                         "Dwell timers overdue past the map's timers.signal_horizon: dropped without a signal.");
  stale_events_ = m->GetCounter("cairn_journey_stale_event_signals_total",
                                "Detections of interactions older than the map's timers.signal_horizon: no signal.");
}

Result<std::unique_ptr<JourneyEngine>> JourneyEngine::Open(std::shared_ptr<const JourneyMap> default_map, EngineOptions options) {
  std::unique_ptr<JourneyEngine> e(new JourneyEngine(std::move(default_map), std::move(options)));
  if (!e->options_.dir.empty()) {
    io::Env* env = e->options_.env;
    RETURN_IF_ERROR(env->CreateDirIfMissing(e->options_.dir).WithContext("journey dir"));
    std::string map_path = io::JoinPath(e->options_.dir, kMapFile);
    if (env->FileExists(map_path)) {
      ASSIGN_OR_RETURN(std::string yaml, io::ReadFileToString(env, map_path));
      auto m = JourneyMap::Parse(yaml);
      if (!m.ok()) return m.status().WithContext(map_path);
      e->deriver_ = std::make_shared<Deriver>(*m);
    }
    Status s = e->LoadState();
    if (!s.ok()) LOG_ERROR("journey: {} (ignored: states will be rebuilt)", s.ToString());
  }
  e->rates_ = ValueHistory::Priors(e->deriver_->map().value());  // until RecomputeRates
  return e;
}

JourneyEngine::~JourneyEngine() { (void)Close(); }

void JourneyEngine::AddListener(JourneyListener* l) {
  std::lock_guard lock(listener_mu_);
  listeners_.push_back(l);
}

void JourneyEngine::AddMapListener(std::function<void(const std::shared_ptr<const JourneyMap>&)> fn) {
  std::lock_guard lock(listener_mu_);
  map_listeners_.push_back(std::move(fn));
}

std::shared_ptr<const JourneyMap> JourneyEngine::map() const {
  std::lock_guard lock(mu_);
  return deriver_->map_ptr();
}

store::CustomerId JourneyEngine::Canonical(store::CustomerId id) const {
  return identity_ ? identity_->FindOrSelf(id) : id;
}

void JourneyEngine::CanonicalMany(std::span<const store::CustomerId> ids, store::CustomerId* roots) const {
  if (!identity_) {
    std::copy(ids.begin(), ids.end(), roots);
    return;
  }
  identity_->FindMany(ids, roots);
  for (size_t i = 0; i < ids.size(); ++i)
    if (!roots[i]) roots[i] = ids[i];  // as Canonical(): an id the resolver does not know is its own
}

// ---------------------------------------------------------------------------------------------
// Live path

void JourneyEngine::ArmTimersLocked(const Entry& e) {
  const JourneyMap& m = deriver_->map();
  for (const RescuePath& p : m.rescue_paths()) {
    if (p.trigger.stuck_in.empty()) continue;
    int v = static_cast<int>(p.trigger.stuck_view);
    int stage = e.s.stage[v];
    if (std::find(p.trigger.stuck_in.begin(), p.trigger.stuck_in.end(), stage) == p.trigger.stuck_in.end()) continue;
    int64_t dwell = m.view(p.trigger.stuck_view).stages[stage].dwell_ms;
    uint32_t entered = e.s.entered[v][stage];
    timers_.push({int64_t{entered} * 1000 + dwell, e.s.customer, entered, static_cast<uint8_t>(v), static_cast<uint8_t>(stage)});
  }
}

void JourneyEngine::RebuildTimersLocked() {
  std::vector<Timer> none;
  timers_ = decltype(timers_)(std::greater<Timer>(), std::move(none));
  for (const auto& [id, e] : states_) ArmTimersLocked(e);
}

void JourneyEngine::OnCommit(const store::Batch& batch, bool recovered) {
  uint64_t end = batch.first_seq + batch.interactions.size();
  std::vector<Signal> signals;
  std::vector<Touch> touches;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (recovered) {
      if (end <= applied_seq_ && !(batch.interactions.empty() && batch.first_seq >= applied_seq_)) return;  // in state.bin already
      if (batch.first_seq > applied_seq_) recovery_gap_ = true;  // WAL before it is gone: FinishRecovery rebuilds
    }
    const Deriver& d = *deriver_;
    // Merges: the survivor is re-derived from every member's interactions.
    for (const auto& op : batch.identity_ops) {
      if (op.kind != store::IdentityOp::Kind::kMerge) continue;
      store::CustomerId root = Canonical(op.customer);
      auto it = states_.find(op.from);
      if (it != states_.end() && op.from != root) {
        states_.erase(it);
        segments_.Erase(op.from);
      }
      auto& p = pending_[root];
      p.first = std::max(p.first, end);
      p.second = p.second ? std::min(p.second, batch.first_seq) : batch.first_seq;
      wake = true;
    }
    const bool merges = wake;
    // Each row's state, found once. Only survivors have states (a merge erases the merged-away
    // one), so a state under r.customer means it is canonical — unless this batch itself merges;
    // the other rows' canonical ids are asked of the resolver together, under one lock (asked one
    // by one, its lock's cache line bounced with the ingest threads' on every new customer).
    // The states are scattered over the heap and each row's first touch of its 216-byte state is
    // a cache miss: the lookups are independent, so they overlap in the CPU, and the found states
    // are prefetched for the loop below, which depends on each (the map's nodes never move).
    const size_t n = batch.interactions.size();
    std::vector<Entry*> found(n, nullptr);
    std::vector<store::CustomerId> unknown, roots;
    for (size_t i = 0; i < n; ++i) {
      const store::Interaction& r = batch.interactions[i];
      auto it = merges ? states_.end() : states_.find(r.customer);
      if (it == states_.end()) {
        unknown.push_back(r.customer);
        continue;
      }
      found[i] = &it->second;
      const char* p = reinterpret_cast<const char*>(&it->second.s);
      for (size_t off = 0; off < sizeof(CustomerState); off += 64) __builtin_prefetch(p + off);
    }
    roots.resize(unknown.size());
    CanonicalMany(unknown, roots.data());
    size_t next_root = 0;
    std::vector<Detection> det;
    const int64_t now = options_.clock->NowMillis();
    for (size_t i = 0; i < n; ++i) {
      const store::Interaction& r = batch.interactions[i];
      Entry* e = found[i];
      const store::CustomerId root = e ? r.customer : roots[next_root++];
      if (rebuilding_) touched_while_rebuilding_.insert(root);
      if (!pending_.empty()) {
        if (auto pit = pending_.find(root); pit != pending_.end()) {
          // Being re-derived: the re-derivation (from a snapshot that includes this row) covers it.
          pit->second.first = std::max(pit->second.first, end);
          auto& live = pending_live_seq_[root];
          live = std::max(live, r.seq);
          continue;
        }
      }
      if (!e) {
        auto [it, inserted] = states_.try_emplace(root);
        e = &it->second;
        if (inserted) {
          e->s = d.Initial(root, r.timestamp_ms);
          IndexLocked(root, e->s);
        }
      }
      if (IsLate(e->s, r.timestamp_ms, r.seq)) {
        late_->Inc();
        pending_[root] = {end, r.seq};
        pending_live_seq_[root] = r.seq;
        wake = true;
        continue;
      }
      uint8_t before[kViewCount];
      std::copy(std::begin(e->s.stage), std::end(e->s.stage), before);
      const uint8_t persona_before = e->s.persona;
      det.clear();
      const JourneyMap::EventInfo* info = d.Apply(&e->s, &e->h, r, recovered ? nullptr : &det);
      if (e->s.persona != persona_before || e->s.stage[kLifecycleView] != before[kLifecycleView]) IndexLocked(root, e->s);
      if (!std::equal(std::begin(before), std::end(before), std::begin(e->s.stage)) || e->s.interactions == 1) ArmTimersLocked(*e);
      for (const Detection& x : det)
        if (!StaleLocked(x, now)) signals.push_back(MakeSignalLocked(*e, x));
      // The event name is the batch's (alive until Emit returns below): no copy per row.
      if (!recovered && !listeners_.empty()) touches.push_back({root, r.event, r.timestamp_ms, r.revenue, info && info->order});
    }
    applied_seq_ = std::max(applied_seq_, end);
    ++generation_;
    applied_->Inc(batch.interactions.size());
  }
  if (wake) cv_.notify_all();
  if (!signals.empty() || !touches.empty()) Emit(std::move(signals), touches);
}

Signal JourneyEngine::MakeSignalLocked(const Entry& e, const Detection& d) const {
  const JourneyMap& m = deriver_->map();
  Signal s;
  s.customer = e.s.customer;
  s.path = m.rescue_paths()[d.path].name;
  s.reasons = d.reasons;
  s.stage = "funnel:" + m.view(View::kFunnel).stages[e.s.stage[2]].name;
  s.value_at_stake = JourneyValue(e.s).value;
  if (clv_) s.value_at_stake = std::max(s.value_at_stake, clv_(e.s.customer));
  s.persona = PersonaLocked(e.s);
  s.at_ms = d.at_ms;
  s.episode = std::to_string(e.s.customer) + ":" + s.path + ":" + std::to_string(d.at_ms);
  return s;
}

bool JourneyEngine::StaleLocked(const Detection& d, int64_t now_ms) const {
  // An interaction months old (a backfill, an import, a late batch from an offline device) still
  // moves the state — the customer did complain — but a rescue now for a complaint filed months
  // ago is absurd and costs money: past the map's horizon, as for overdue dwell timers, no signal.
  const int64_t horizon = deriver_->map().timers().signal_horizon_ms;
  if (horizon <= 0 || now_ms - d.at_ms <= horizon) return false;
  stale_events_->Inc();
  return true;
}

const std::string& JourneyEngine::PersonaLocked(const CustomerState& s) const {
  if (!deriver_->map().personas_read_value()) return deriver_->PersonaName(s);
  std::optional<ValueFacts> facts = facts_ ? facts_(s.customer) : std::nullopt;
  return deriver_->PersonaName(s, facts ? &*facts : nullptr);
}

std::optional<std::string> JourneyEngine::RulePersona(store::CustomerId canonical, const ValueFacts* facts) const {
  std::lock_guard lock(mu_);
  auto it = states_.find(canonical);
  const CustomerState s = it != states_.end() ? it->second.s : deriver_->Initial(canonical, 0);
  const int p = deriver_->MatchPersona(s, facts);
  if (p == 0) return std::nullopt;
  return deriver_->map().personas()[p - 1].name;
}

void JourneyEngine::Emit(std::vector<Signal> signals, const std::vector<Touch>& touches) {
  std::lock_guard lock(listener_mu_);
  signals_->Inc(signals.size());
  for (JourneyListener* l : listeners_) {
    if (!touches.empty()) l->OnInteractions(touches);
    for (const Signal& s : signals) l->OnSignal(s);
  }
}

// ---------------------------------------------------------------------------------------------
// Re-derivation

Result<bool> JourneyEngine::FoldCustomer(const store::Snapshot& snap, const Deriver& d, store::CustomerId root,
                                         uint64_t from_seq, Entry* e, std::vector<Detection>* all) const {
  std::vector<store::CustomerId> members = identity_ ? identity_->Members(root) : std::vector<store::CustomerId>{};
  if (members.empty()) members.push_back(root);
  // Folded as the store streams the timeline (Snapshot::VisitCustomers): memory is a few blocks
  // per segment whatever the customer's size, not their whole history (docs/journey.md
  // "Re-derivation memory"). The fold needs neither message ids, sources nor receive times.
  namespace seg = store::segment;
  constexpr uint32_t kColumns = seg::kAllColumns & ~(seg::Bit(seg::Column::kMessageId) |
                                                  seg::Bit(seg::Column::kSource) |
                                                  seg::Bit(seg::Column::kReceivedAt));
  bool any = false;
  std::vector<Detection> det;
  e->h = History{};
  RETURN_IF_ERROR(snap.VisitCustomers(members, [&](const store::Interaction& r) {
    if (!any) {
      e->s = d.Initial(root, r.timestamp_ms);
      any = true;
    }
    det.clear();
    d.Apply(&e->s, &e->h, r, all && r.seq >= from_seq ? &det : nullptr);
    if (all) all->insert(all->end(), det.begin(), det.end());
    return true;
  }, kColumns));
  return any;
}

bool JourneyEngine::RederiveOne(store::CustomerId root, uint64_t need_seq, uint64_t from_seq) {
  if (!store_ || !identity_) return false;
  auto snap = store_->GetSnapshot();
  if (snap->seq() < need_seq) return false;  // the batch is durable but not yet visible: retry
  std::shared_ptr<const Deriver> d;
  {
    std::lock_guard lock(mu_);
    d = deriver_;
  }
  Entry fresh;
  std::vector<Detection> all;
  Result<bool> folded = FoldCustomer(*snap, *d, root, from_seq, &fresh, &all);
  if (!folded.ok()) {
    LOG_EVERY_N_SEC(kError, 10, "journey: re-deriving customer {}: {}", root, folded.status().ToString());
    return false;
  }
  const bool any = *folded;
  if (!any) fresh.s = d->Initial(root, 0);
  std::vector<Signal> signals;
  {
    std::lock_guard lock(mu_);
    if (d != deriver_) return false;  // the map changed meanwhile: a rebuild covers it
    auto pit = pending_.find(root);
    if (pit == pending_.end()) return true;
    auto lit = pending_live_seq_.find(root);
    if ((lit != pending_live_seq_.end() && lit->second >= snap->seq()) || pit->second.first > snap->seq()) return false;
    auto& slot = states_[root];
    // The timer-owned episode bits survive when the stage entry they belong to is unchanged.
    if (std::equal(&slot.s.entered[0][0], &slot.s.entered[0][0] + kViewCount * kMaxStages, &fresh.s.entered[0][0]))
      fresh.s.episode_fired = slot.s.episode_fired;
    slot = std::move(fresh);
    IndexLocked(root, slot.s);
    ++generation_;
    ArmTimersLocked(slot);
    const int64_t now = options_.clock->NowMillis();
    for (const Detection& x : all)
      if (!StaleLocked(x, now)) signals.push_back(MakeSignalLocked(slot, x));
    pending_.erase(pit);
    if (lit != pending_live_seq_.end()) pending_live_seq_.erase(lit);
  }
  rederived_->Inc();
  if (!signals.empty()) Emit(std::move(signals), {});
  return true;
}

bool JourneyEngine::Drain(int64_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    std::vector<std::tuple<store::CustomerId, uint64_t, uint64_t>> work;
    {
      std::unique_lock lock(mu_);
      if (pending_.empty() && !busy_) return true;
      for (const auto& [c, p] : pending_) work.emplace_back(c, p.first, p.second);
    }
    for (const auto& [c, need, from] : work) RederiveOne(c, need, from);
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// ---------------------------------------------------------------------------------------------
// Timers

size_t JourneyEngine::Tick(int64_t now_ms) {
  std::vector<Signal> signals;
  uint64_t stale = 0;
  {
    std::lock_guard lock(mu_);
    const JourneyMap& m = deriver_->map();
    std::vector<Timer> rearm;
    while (!timers_.empty() && timers_.top().due_ms <= now_ms) {
      Timer t = timers_.top();
      timers_.pop();
      auto it = states_.find(t.customer);
      if (it == states_.end()) continue;
      Entry& e = it->second;
      if (e.s.stage[t.view] != t.stage || e.s.entered[t.view][t.stage] != t.entered) continue;  // moved on
      const Stage& st = m.view(static_cast<View>(t.view)).stages[t.stage];
      // Going quiet: the overstay counts from the later of stage entry and last engagement.
      if (e.s.last_inbound_ms + st.dwell_ms > now_ms) {
        rearm.push_back({e.s.last_inbound_ms + st.dwell_ms, t.customer, t.entered, t.view, t.stage});
        continue;
      }
      // A backfill of months-old interactions (or weeks of downtime) leaves timers long overdue:
      // the overstay they report is history, not news, and a rescue now would be absurd ("no
      // inbound interaction for 6883h"). Past the map's horizon they are dropped, not fired.
      const int64_t became_due = std::max(int64_t{t.entered} * 1000, e.s.last_inbound_ms) + st.dwell_ms;
      const int64_t horizon = m.timers().signal_horizon_ms;
      if (horizon > 0 && now_ms - became_due > horizon) {
        ++stale;
        // Checked again one dwell from now: a customer who comes back live and then goes quiet
        // in this same stage still goes cold (became_due then counts from that interaction).
        rearm.push_back({now_ms + st.dwell_ms, t.customer, t.entered, t.view, t.stage});
        continue;
      }
      const auto& paths = m.rescue_paths();
      for (size_t p = 0; p < paths.size(); ++p) {
        const RescueTrigger& tr = paths[p].trigger;
        if (static_cast<int>(tr.stuck_view) != t.view) continue;
        if (std::find(tr.stuck_in.begin(), tr.stuck_in.end(), t.stage) == tr.stuck_in.end()) continue;
        if (e.s.episode_fired & (1u << p)) continue;
        e.s.episode_fired |= static_cast<uint16_t>(1u << p);
        ++generation_;
        std::string view(ViewName(static_cast<View>(t.view)));
        Detection d{static_cast<int>(p),
                    {"in " + view + " stage " + st.name + " for " + FormatDuration((now_ms - int64_t{t.entered} * 1000) / 86400000 * 86400000) +
                         " > expected dwell " + FormatDuration(st.dwell_ms),
                     "no inbound interaction for " + FormatDuration((now_ms - e.s.last_inbound_ms) / 3600000 * 3600000)},
                    t.due_ms};
        Signal s = MakeSignalLocked(e, d);
        s.episode = std::to_string(e.s.customer) + ":" + paths[p].name + ":" + std::to_string(int64_t{t.entered} * 1000);
        signals.push_back(std::move(s));
      }
    }
    for (const Timer& t : rearm) timers_.push(t);
  }
  if (stale > 0) {
    stale_->Inc(stale);
    LOG_EVERY_N_SEC(kInfo, 60, "journey: {} dwell timers overdue past the signal horizon dropped without a signal "
                    "(interactions older than timers.signal_horizon: a backfill?)", stale);
  }
  size_t n = signals.size();
  if (n) Emit(std::move(signals), {});
  return n;
}

// ---------------------------------------------------------------------------------------------
// Rebuild and map changes

Status JourneyEngine::Rebuild(const std::function<void(uint64_t, uint64_t)>& progress) {
  if (!store_) return FailedPrecondition("journey: no store attached");
  std::lock_guard rebuild_lock(rebuild_mu_);
  std::shared_ptr<const Deriver> d;
  {
    std::lock_guard lock(mu_);
    d = deriver_;
    rebuilding_ = true;
    touched_while_rebuilding_.clear();
  }
  auto snap = store_->GetSnapshot();
  // The column path (rebuild_scan.h): each customer's timeline folded straight from the sorted
  // segment blocks, on rebuild_threads customer ranges; customers with merged-in ids afterwards.
  RebuildScanOptions scan;
  scan.threads = options_.rebuild_threads;
  if (identity_) {
    scan.canonical = [this](std::span<const store::CustomerId> ids, store::CustomerId* roots) { CanonicalMany(ids, roots); };
  }
  scan.progress = progress;
  Result<RebuildScanResult> scanned = DeriveSnapshot(*snap, *d, scan);
  std::unordered_map<store::CustomerId, Entry> fresh;
  Status s = scanned.status();
  if (s.ok()) {
    size_t n = scanned->merged.size();
    for (const auto& shard : scanned->states) n += shard.size();
    fresh.reserve(n);
    for (auto& shard : scanned->states) {
      for (DerivedState& x : shard) fresh.emplace(x.s.customer, std::move(x));
      // Freed chunk by chunk, not just cleared (which keeps the capacity until `scanned` dies at
      // the end of the rebuild): the map's nodes then replace the chunks instead of piling on top
      // of them — at 1M customers the chunks are ~260 MB of the start's peak RSS.
      std::vector<DerivedState>().swap(shard);
    }
    for (store::CustomerId root : scanned->merged) {
      Entry e;
      Result<bool> folded = FoldCustomer(*snap, *d, root, 0, &e, nullptr);
      if (!folded.ok()) {
        s = folded.status();
        break;
      }
      if (*folded) fresh[root] = std::move(e);
      else fresh.erase(root);
    }
  }
  if (!s.ok()) {
    std::lock_guard lock(mu_);
    rebuilding_ = false;
    return s.WithContext("journey rebuild");
  }
  {
    std::lock_guard lock(mu_);
    rebuilding_ = false;
    for (auto& [id, e] : fresh) {
      auto old = states_.find(id);
      if (old != states_.end() &&
          std::equal(&old->second.s.entered[0][0], &old->second.s.entered[0][0] + kViewCount * kMaxStages, &e.s.entered[0][0]))
        e.s.episode_fired = old->second.s.episode_fired;
    }
    states_ = std::move(fresh);
    ReindexLocked();
    ++generation_;
    // Customers whose interactions arrived after the snapshot are re-derived again.
    for (store::CustomerId c : touched_while_rebuilding_) {
      auto& p = pending_[c];
      p.first = std::max(p.first, applied_seq_);
      p.second = p.second ? p.second : snap->seq();
    }
    for (auto it = pending_.begin(); it != pending_.end();)
      it = (it->second.first <= snap->seq() && !touched_while_rebuilding_.count(it->first)) ? pending_.erase(it) : std::next(it);
    touched_while_rebuilding_.clear();
    applied_seq_ = std::max(applied_seq_, snap->seq());
    recovery_gap_ = false;
    RebuildTimersLocked();
  }
  cv_.notify_all();
  RecomputeRates();
  return Status::Ok();
}

Status JourneyEngine::FinishRecovery() {
  bool need = false;
  {
    std::lock_guard lock(mu_);
    uint64_t next = store_ ? store_->next_seq() : 0;
    need = recovery_gap_ || applied_seq_ < next;
    if (!need) RebuildTimersLocked();
  }
  if (need) {
    LOG_INFO("journey: state.bin does not cover the store; re-deriving every customer");
    RETURN_IF_ERROR(Rebuild());
  }
  // Merges and late interactions met while replaying the WAL are re-derived now, from a store
  // that has everything recovered visible.
  if (!Drain(60000)) return Internal("journey: re-derivations after recovery did not finish");
  RecomputeRates();
  if (options_.background && !started_) {
    started_ = true;
    worker_ = std::thread([this] {
      NameThisThread("journey");
      WorkerLoop();
    });
  }
  return Status::Ok();
}

std::string JourneyEngine::MapYaml() const { return map()->yaml(); }

Result<MapUpdate> JourneyEngine::PutMap(const std::string& yaml, std::vector<MapErrorView>* errors) {
  std::vector<MapError> errs;
  auto parsed = JourneyMap::Parse(yaml, &errs);
  if (!parsed.ok()) {
    if (errors)
      for (auto& e : errs) errors->push_back({e.line, e.column, e.message});
    return parsed.status();
  }
  if (!options_.dir.empty())
    RETURN_IF_ERROR(io::WriteFileAtomic(options_.env, yaml, io::JoinPath(options_.dir, kMapFile)).WithContext("saving the journey map"));
  {
    std::lock_guard lock(mu_);
    deriver_ = std::make_shared<Deriver>(*parsed);
  }
  if (store_) RETURN_IF_ERROR(Rebuild());
  {
    std::lock_guard lock(listener_mu_);
    for (auto& fn : map_listeners_) fn(*parsed);
  }
  (void)Persist();
  MapUpdate u;
  u.fingerprint = (*parsed)->fingerprint();
  u.customers_rederived = Stats().customers;
  return u;
}

// ---------------------------------------------------------------------------------------------
// Value

void JourneyEngine::RecomputeRates() {
  // The business's own history (journey_value.h): stage-to-stage conversion, repeat rate by order
  // count and AOV, blended with the map's priors. O(customers), under the lock (once a minute).
  std::lock_guard lock(mu_);
  ValueHistory history;
  for (const auto& [id, e] : states_) history.Add(e.s);
  rates_ = history.Rates(deriver_->map().value());
}

JourneyValueResult JourneyEngine::JourneyValue(const CustomerState& s) const {
  // Called with mu_ held (facts_ is guarded by it).
  std::optional<ValueFacts> facts = s.orders > 0 && facts_ ? facts_(s.customer) : std::nullopt;
  return ComputeJourneyValue(s, rates_, facts ? &*facts : nullptr);
}

// ---------------------------------------------------------------------------------------------
// Worker

void JourneyEngine::WorkerLoop() {
  // The first tick persists whatever recovery replayed (Persist is a no-op when nothing changed):
  // until state.bin covers those WAL batches their files cannot be deleted (Hub's
  // retain_from_seq), and a server that keeps crashing before its first periodic persist would
  // otherwise pile WAL files up without bound.
  auto last_rates = std::chrono::steady_clock::now();
  auto last_persist = last_rates - std::chrono::milliseconds(options_.persist_interval_ms + 1);
  std::chrono::steady_clock::duration last_persist_cost{0};  // how long the last Persist() took
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(pending_.empty() ? options_.tick_ms : 1), [this] { return stop_ || !pending_.empty(); });
    if (stop_) break;
    if (!pending_.empty()) {
      std::vector<std::tuple<store::CustomerId, uint64_t, uint64_t>> work;
      for (const auto& [c, p] : pending_) work.emplace_back(c, p.first, p.second);
      busy_ = true;
      lock.unlock();
      for (const auto& [c, need, from] : work) RederiveOne(c, need, from);
      lock.lock();
      busy_ = false;
      continue;  // quickly back for retries of rows not yet visible
    }
    lock.unlock();
    Tick(options_.clock->NowMillis());
    auto now = std::chrono::steady_clock::now();
    if (now - last_rates > std::chrono::milliseconds(options_.rates_interval_ms)) {
      RecomputeRates();
      last_rates = now;
    }
    if (now - last_persist > std::max<std::chrono::steady_clock::duration>(
                                 std::chrono::milliseconds(options_.persist_interval_ms),
                                 kPersistCostFactor * last_persist_cost)) {
      Status s = Persist();
      if (!s.ok()) LOG_EVERY_N_SEC(kError, 60, "journey: persisting state: {}", s.ToString());
      last_persist = std::chrono::steady_clock::now();
      last_persist_cost = last_persist - now;
    }
    lock.lock();
  }
}

Status JourneyEngine::Close() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return Status::Ok();
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  return Persist();
}

// ---------------------------------------------------------------------------------------------
// Reads

bool JourneyEngine::GetState(store::CustomerId canonical, CustomerState* s, History* h) const {
  std::lock_guard lock(mu_);
  auto it = states_.find(canonical);
  if (it == states_.end()) return false;
  *s = it->second.s;
  if (h) *h = it->second.h;
  return true;
}

std::vector<std::pair<CustomerState, History>> JourneyEngine::AllStates() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<CustomerState, History>> out;
  out.reserve(states_.size());
  for (const auto& [id, e] : states_) out.emplace_back(e.s, e.h);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first.customer < b.first.customer; });
  return out;
}

EngineStats JourneyEngine::Stats() const {
  std::lock_guard lock(mu_);
  EngineStats st;
  st.customers = states_.size();
  st.applied_seq = applied_seq_;
  st.persisted_seq = persisted_seq_;
  st.timers = timers_.size();
  st.pending_rederive = pending_.size();
  st.state_bytes = states_.size() * sizeof(CustomerState);
  for (const auto& [id, e] : states_) st.history_bytes += e.h.bytes();
  return st;
}

// The paths derailing now: those whose detector fired with no outcome since (in the state), and
// those whose stage the customer has overstayed while quiet (judged at `now`, like the timers).
uint16_t ActivePaths(const JourneyMap& m, const CustomerState& s, int64_t now) {
  uint16_t active = s.active_paths;
  const auto& paths = m.rescue_paths();
  for (size_t p = 0; p < paths.size(); ++p) {
    const RescueTrigger& t = paths[p].trigger;
    if (t.stuck_in.empty()) continue;
    int v = static_cast<int>(t.stuck_view);
    int stage = s.stage[v];
    if (std::find(t.stuck_in.begin(), t.stuck_in.end(), stage) == t.stuck_in.end()) continue;
    int64_t dwell = m.view(t.stuck_view).stages[stage].dwell_ms;
    if (now - s.since_ms(t.stuck_view) > dwell && now - s.last_inbound_ms > dwell) active |= static_cast<uint16_t>(1u << p);
  }
  return active;
}

CustomerJourney JourneyEngine::ToJourney(const Entry& e, int64_t now) const {
  const JourneyMap& m = deriver_->map();
  CustomerJourney j;
  j.customer = e.s.customer;
  ViewState* views[kViewCount] = {&j.phase, &j.lifecycle, &j.funnel};
  for (int v = 0; v < kViewCount; ++v) {
    const ViewDef& vd = m.view(static_cast<View>(v));
    ViewState& vs = *views[v];
    vs.view = std::string(ViewName(static_cast<View>(v)));
    const Stage& st = vd.stages[e.s.stage[v]];
    vs.stage = st.name;
    vs.since_ms = e.s.since_ms(static_cast<View>(v));
    vs.dwell_ms = st.dwell_ms;
    vs.stuck = st.dwell_ms > 0 && now - vs.since_ms > st.dwell_ms;
    for (size_t i = 0; i < vd.stages.size(); ++i) vs.stages.push_back({vd.stages[i].name, int64_t{e.s.entered[v][i]} * 1000});
  }
  j.emotion_score = std::round(static_cast<double>(e.s.emotion) * 10) / 10;
  j.emotion_label = std::string(EmotionName(m.emotion().Label(e.s.emotion)));
  j.currency = m.value().currency;
  j.realised_value = e.s.revenue;
  const JourneyValueResult jv = JourneyValue(e.s);
  j.journey_value = jv.value;
  j.journey_value_basis = std::string(ValueBasisName(jv.basis));
  j.predicted_clv = clv_ ? clv_(e.s.customer) : 0;
  j.value_at_stake = std::max(j.journey_value, j.predicted_clv);
  // Money is shown to the cent.
  for (double* v : {&j.journey_value, &j.predicted_clv, &j.value_at_stake}) *v = std::round(*v * 100) / 100;
  j.persona = PersonaLocked(e.s);
  j.interactions = e.s.interactions;
  j.orders = e.s.orders;
  j.first_ms = e.s.first_ms;
  j.last_ms = e.s.last_ms;
  uint16_t active = ActivePaths(m, e.s, now);
  for (size_t p = 0; p < m.rescue_paths().size(); ++p)
    if (active & (1u << p)) j.derailing.push_back(m.rescue_paths()[p].name);
  for (const Transition& t : e.h.transitions) {
    const ViewDef& vd = m.view(static_cast<View>(t.view));
    j.history.push_back({t.at_ms, std::string(ViewName(static_cast<View>(t.view))), vd.stages[t.from].name, vd.stages[t.to].name});
  }
  for (const EmotionPoint& p : e.h.emotion) {
    std::string cause = p.cause >= 0 && static_cast<size_t>(p.cause) < m.emotion().signals.size() ? m.emotion().signals[p.cause].name
                        : p.cause == EmotionPoint::kCauseEngagement                            ? "engagement"
                        : p.cause == EmotionPoint::kCauseRecovery                              ? "recovery"
                        : p.cause == EmotionPoint::kCauseUsageDrop                             ? "usage_drop"
                                                                                               : "?";
    j.emotion_curve.push_back({p.at_ms, std::round(static_cast<double>(p.score) * 10) / 10, std::string(EmotionName(m.emotion().Label(p.score))), cause});
  }
  return j;
}

Result<CustomerJourney> JourneyEngine::GetJourney(const std::string& any_identity) {
  store::CustomerId root = resolve_ ? resolve_(any_identity) : 0;
  if (!root) return NotFound("no customer with identity '" + any_identity + "'");
  // Read-your-writes for a pending re-derivation (merge, late interaction) of this customer.
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(mu_);
      if (!pending_.count(root)) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  int64_t now = options_.clock->NowMillis();
  std::lock_guard lock(mu_);
  auto it = states_.find(root);
  if (it == states_.end()) return NotFound("customer '" + any_identity + "' has no interactions yet");
  return ToJourney(it->second, now);
}

double JourneyEngine::ValueAtStake() const {
  const int64_t now = options_.clock->NowMillis();
  std::lock_guard lock(mu_);
  const JourneyMap& m = deriver_->map();
  std::vector<double> at(m.rescue_paths().size());  // per path, summed as Overview() sums them
  for (const auto& [id, e] : states_) {
    const uint16_t active = ActivePaths(m, e.s, now);
    if (!active) continue;
    double v = JourneyValue(e.s).value;
    if (clv_) v = std::max(v, clv_(e.s.customer));
    const double cents = std::round(v * 100) / 100;
    for (size_t p = 0; p < at.size(); ++p)
      if (active & (1u << p)) at[p] += cents;
  }
  double total = 0;
  for (double v : at) total += v;
  return total;
}

void JourneyEngine::IndexLocked(store::CustomerId canonical, const CustomerState& s) {
  segments_.Set(canonical, {s.persona, s.stage[kLifecycleView]});
}

void JourneyEngine::ReindexLocked() {
  std::vector<std::pair<store::CustomerId, SegmentIndex::Key>> all;
  all.reserve(states_.size());
  for (const auto& [id, e] : states_) all.push_back({id, {e.s.persona, e.s.stage[kLifecycleView]}});
  segments_.Reset(std::move(all));
}

std::vector<store::CustomerId> JourneyEngine::Members(const OverviewFilter& filter) const {
  std::lock_guard lock(mu_);
  const JourneyMap& m = deriver_->map();
  // The index holds CustomerState::persona, the rules judged without value facts: with rules
  // that read them, the persona is judged now, for every state (KeptLocked).
  if (!filter.persona.empty() && m.personas_read_value()) return MembersByEvaluationLocked(filter);
  // The keys whose names are the filter's, as PersonaName and KeptLocked name them.
  SegmentIndex::Match match;
  for (size_t p = 0; p < match.persona.size(); ++p) {
    const std::string& name = p == 0 || p > m.personas().size() ? m.default_persona() : m.personas()[p - 1].name;
    match.persona[p] = filter.persona.empty() || name == filter.persona;
  }
  const ViewDef& lifecycle = m.view(View::kLifecycle);
  for (size_t i = 0; i < match.lifecycle.size(); ++i)
    match.lifecycle[i] = filter.lifecycle.empty() || (i < lifecycle.stages.size() && lifecycle.stages[i].name == filter.lifecycle);
  return segments_.Members(match);
}

std::vector<store::CustomerId> JourneyEngine::MembersByEvaluation(const OverviewFilter& filter) const {
  std::lock_guard lock(mu_);
  return MembersByEvaluationLocked(filter);
}

std::vector<store::CustomerId> JourneyEngine::MembersByEvaluationLocked(const OverviewFilter& filter) const {
  std::vector<store::CustomerId> out;
  for (const auto& [id, e] : states_)
    if (KeptLocked(filter, e.s)) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::optional<std::pair<std::string, std::string>>> JourneyEngine::SegmentKeys(
    const std::vector<store::CustomerId>& canonical) const {
  std::vector<std::optional<std::pair<std::string, std::string>>> out(canonical.size());
  std::lock_guard lock(mu_);
  const ViewDef& vd = deriver_->map().view(View::kLifecycle);
  for (size_t i = 0; i < canonical.size(); ++i) {
    auto it = states_.find(canonical[i]);
    if (it == states_.end()) continue;
    const CustomerState& s = it->second.s;
    const uint8_t stage = s.stage[static_cast<int>(View::kLifecycle)];
    // A stage outside the map matches no lifecycle filter (KeptLocked): an empty name matches none.
    out[i].emplace(PersonaLocked(s), stage < vd.stages.size() ? vd.stages[stage].name : std::string());
  }
  return out;
}

bool JourneyEngine::KeptLocked(const OverviewFilter& filter, const CustomerState& s) const {
  if (!filter.lifecycle.empty()) {
    const ViewDef& vd = deriver_->map().view(View::kLifecycle);
    if (s.stage[static_cast<int>(View::kLifecycle)] >= vd.stages.size() ||
        vd.stages[s.stage[static_cast<int>(View::kLifecycle)]].name != filter.lifecycle)
      return false;
  }
  return filter.persona.empty() || PersonaLocked(s) == filter.persona;
}

SegmentNames JourneyEngine::Segments() const {
  std::shared_ptr<const JourneyMap> m = map();
  SegmentNames out;
  for (const auto& p : m->personas()) out.personas.push_back(p.name);
  out.personas.push_back(m->default_persona());
  for (const Stage& s : m->view(View::kLifecycle).stages) out.lifecycle.push_back(s.name);
  return out;
}

Result<JourneyOverview> JourneyEngine::Overview(const OverviewFilter& filter) {
  int64_t now = options_.clock->NowMillis();
  std::lock_guard lock(mu_);
  const JourneyMap& m = deriver_->map();
  JourneyOverview o;
  o.currency = m.value().currency;
  // Persona counts in the map's order (rules, then the default).
  std::vector<std::string> persona_names;
  for (const auto& p : m.personas()) persona_names.push_back(p.name);
  persona_names.push_back(m.default_persona());
  std::vector<uint64_t> persona_n(persona_names.size());
  std::map<std::tuple<int, int, int>, uint64_t> flows;
  std::vector<double> phase_sum(m.view(View::kPhase).stages.size());
  std::vector<uint64_t> phase_n(phase_sum.size());
  std::vector<uint64_t> labels(kEmotionCount);
  size_t np = m.rescue_paths().size();
  std::vector<PathAtStake> at(np);
  for (size_t p = 0; p < np; ++p) at[p].path = m.rescue_paths()[p].name;
  for (int v = 0; v < kViewCount; ++v) {
    ViewOverview vo;
    vo.view = std::string(ViewName(static_cast<View>(v)));
    for (const Stage& s : m.view(static_cast<View>(v)).stages) vo.stages.push_back({s.name});
    o.views.push_back(std::move(vo));
  }
  for (const auto& [id, e] : states_) {
    if (!filter.empty() && !KeptLocked(filter, e.s)) continue;
    o.customers++;
    {
      const std::string& p = PersonaLocked(e.s);
      auto it = std::find(persona_names.begin(), persona_names.end(), p);
      if (it == persona_names.end()) {
        persona_names.push_back(p);
        persona_n.push_back(0);
        it = persona_names.end() - 1;
      }
      persona_n[it - persona_names.begin()]++;
    }
    for (int v = 0; v < kViewCount; ++v) {
      const ViewDef& vd = m.view(static_cast<View>(v));
      auto& stages = o.views[v].stages;
      int cur = e.s.stage[v];
      stages[cur].customers++;
      const Stage& st = vd.stages[cur];
      bool stuck = st.dwell_ms > 0 && now - e.s.since_ms(static_cast<View>(v)) > st.dwell_ms;
      if (stuck) stages[cur].stuck++;
      int furthest = -1;
      for (size_t s = 0; s < vd.stages.size(); ++s)
        if (e.s.entered[v][s] && !vd.stages[s].any_time) furthest = static_cast<int>(s);
      for (size_t s = 0; s < vd.stages.size(); ++s) {
        if (!e.s.entered[v][s]) continue;
        stages[s].entered++;
        // Dropped off here: the furthest stage reached, and either stuck in it or gone from it
        // (to an any_time stage such as lost).
        if (static_cast<int>(s) == furthest && (cur != furthest || stuck) && !vd.stages[s].any_time) stages[s].drop_off++;
      }
    }
    for (const Transition& t : e.h.transitions) flows[{t.view, t.from, t.to}]++;
    phase_sum[e.s.stage[0]] += e.s.emotion;
    phase_n[e.s.stage[0]]++;
    labels[static_cast<int>(m.emotion().Label(e.s.emotion))]++;
    if (uint16_t active = ActivePaths(m, e.s, now)) {
      double v = JourneyValue(e.s).value;
      if (clv_) v = std::max(v, clv_(e.s.customer));
      for (size_t p = 0; p < np; ++p)
        if (active & (1u << p)) {
          at[p].customers++;
          at[p].value_at_stake += std::round(v * 100) / 100;
        }
    }
  }
  for (const auto& [k, n] : flows) {
    auto [v, from, to] = k;
    const ViewDef& vd = m.view(static_cast<View>(v));
    o.views[v].transitions.push_back({vd.stages[from].name, vd.stages[to].name, n});
  }
  for (size_t s = 0; s < phase_sum.size(); ++s) {
    double avg = phase_n[s] ? phase_sum[s] / phase_n[s] : 0;
    o.emotion_by_phase.push_back({m.view(View::kPhase).stages[s].name, std::round(avg * 10) / 10,
                                  std::string(EmotionName(m.emotion().Label(avg))), phase_n[s]});
  }
  for (int l = 0; l < kEmotionCount; ++l) o.emotion_labels.emplace_back(std::string(EmotionName(static_cast<Emotion>(l))), labels[l]);
  o.at_stake = std::move(at);
  for (size_t p = 0; p < persona_names.size(); ++p) o.personas.emplace_back(persona_names[p], persona_n[p]);
  return o;
}

}  // namespace cairn::journey
