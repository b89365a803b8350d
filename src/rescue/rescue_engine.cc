#include "rescue/rescue_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>

#include "base/logging.h"

namespace cairn::rescue {

namespace {

constexpr uint32_t kApplicationId = 0x43525343;  // "CRSC"

// Schema version 1 (docs/format/rescue.md). Never edit a released step: add a new one.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE decisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  customer INTEGER NOT NULL,
  customer_ids TEXT NOT NULL,
  path TEXT NOT NULL,
  persona TEXT NOT NULL,
  reasons TEXT NOT NULL,
  value_at_stake REAL NOT NULL,
  prior_p_rescue REAL NOT NULL,
  prior_p_none REAL NOT NULL,
  prior_strength REAL NOT NULL,
  rescue_successes INTEGER NOT NULL,
  rescue_failures INTEGER NOT NULL,
  none_successes INTEGER NOT NULL,
  none_failures INTEGER NOT NULL,
  budget_limit REAL,
  budget_spent REAL,
  p_rescue REAL NOT NULL,
  p_none REAL NOT NULL,
  cost REAL NOT NULL,
  expected_gain REAL NOT NULL,
  rescue INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open','acted','dismissed','skipped','succeeded','failed')),
  rescued INTEGER NOT NULL,
  explanation TEXT NOT NULL,
  action TEXT NOT NULL,
  outcome_events TEXT NOT NULL,
  decided_at_ms INTEGER NOT NULL,
  window_start_ms INTEGER NOT NULL,
  window_end_ms INTEGER NOT NULL,
  closed_at_ms INTEGER NOT NULL DEFAULT 0,
  outcome_note TEXT NOT NULL DEFAULT '',
  action_ref TEXT NOT NULL DEFAULT ''
);
CREATE INDEX decisions_by_status_gain ON decisions (status, expected_gain DESC);
CREATE INDEX decisions_by_customer ON decisions (customer);
CREATE INDEX decisions_waiting ON decisions (closed_at_ms) WHERE closed_at_ms = 0;
CREATE INDEX decisions_by_time ON decisions (decided_at_ms) WHERE rescue = 1;
CREATE TABLE arm_counts (
  path TEXT NOT NULL,
  persona TEXT NOT NULL,
  arm TEXT NOT NULL CHECK (arm IN ('rescue','none')),
  successes INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  PRIMARY KEY (path, persona, arm)
) WITHOUT ROWID;
)sql";

constexpr char kSep = '\x1f';  // list separator in TEXT columns (ASCII unit separator)

std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += kSep;
    for (char c : items[i]) out += c == kSep ? ' ' : c;
  }
  return out;
}

std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  while (true) {
    size_t p = s.find(kSep);
    out.emplace_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

// Doubles are bound as their shortest round-trip text; the REAL column affinity stores them as
// IEEE doubles (sqlite_db.h has no double binding). Read back through the text form.
std::string Num(double v) { return fmt::format("{}", v); }
double ReadNum(const entity::Stmt& s, int col) {
  std::string_view t = s.Text(col);
  double v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

constexpr std::string_view kColumns =
    "id, customer, customer_ids, path, persona, reasons, value_at_stake, p_rescue, p_none, cost, expected_gain, "
    "rescue, status, rescued, explanation, action, decided_at_ms, window_start_ms, window_end_ms, closed_at_ms, "
    "outcome_note, action_ref, outcome_events";

Decision ReadDecision(const entity::Stmt& s, std::vector<std::string>* outcome_events = nullptr) {
  Decision d;
  d.id = s.Int64(0);
  d.customer = s.U64(1);
  d.customer_ids = SplitList(s.Text(2));
  d.path = std::string(s.Text(3));
  d.persona = std::string(s.Text(4));
  d.reasons = SplitList(s.Text(5));
  d.value_at_stake = ReadNum(s, 6);
  d.p_rescue = ReadNum(s, 7);
  d.p_none = ReadNum(s, 8);
  d.cost = ReadNum(s, 9);
  d.expected_gain = ReadNum(s, 10);
  d.rescue = s.Int64(11) != 0;
  ParseRescueStatus(s.Text(12), &d.status);
  d.rescued = s.Int64(13) != 0;
  d.explanation = std::string(s.Text(14));
  d.action = std::string(s.Text(15));
  d.decided_at_ms = s.Int64(16);
  d.window_start_ms = s.Int64(17);
  d.window_end_ms = s.Int64(18);
  d.closed_at_ms = s.Int64(19);
  d.outcome_note = std::string(s.Text(20));
  d.action_ref = std::string(s.Text(21));
  if (outcome_events) *outcome_events = SplitList(s.Text(22));
  return d;
}

bool Matches(const std::vector<std::string>& outcome_events, std::string_view event) {
  if (outcome_events.empty()) return true;
  for (const auto& e : outcome_events) {
    if (e == "*" || e == event) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<RescueEngine>> RescueEngine::Open(RescueOptions options) {
  if (options.path.empty()) return InvalidArgument("rescue: path of rescue.db is required");
  if (!std::isfinite(options.budget_per_period) || options.budget_per_period < 0) {
    return InvalidArgument("rescue.budget_per_period: must be a finite number >= 0");
  }
  if (options.budget_per_period > 0 && options.budget_period_ms <= 0) {
    return InvalidArgument("rescue.budget_period: must be positive");
  }
  for (const auto& p : options.paths) RETURN_IF_ERROR(ValidatePath(p));
  ASSIGN_OR_RETURN(auto db, entity::SqliteDb::Open(options.path, {}));
  RETURN_IF_ERROR(db->Migrate(kApplicationId, {kSchemaV1}));
  std::unique_ptr<RescueEngine> engine(new RescueEngine(std::move(options), std::move(db)));
  RETURN_IF_ERROR(engine->LoadWaiting());
  return engine;
}

RescueEngine::RescueEngine(RescueOptions options, std::unique_ptr<entity::SqliteDb> db)
    : options_(std::move(options)), db_(std::move(db)) {
  if (options_.clock == nullptr) options_.clock = Clock::Real();
  if (options_.metrics == nullptr) options_.metrics = metrics::Registry::Default();
  auto* m = options_.metrics;
  decisions_rescue_ = m->GetCounter("cairn_rescue_decisions_total", "Rescue decisions made.", "verdict=\"rescue\"");
  decisions_skip_ = m->GetCounter("cairn_rescue_decisions_total", "Rescue decisions made.", "verdict=\"skip\"");
  outcomes_success_ = m->GetCounter("cairn_rescue_outcomes_total", "Rescue outcomes observed.", "outcome=\"success\"");
  outcomes_failure_ = m->GetCounter("cairn_rescue_outcomes_total", "Rescue outcomes observed.", "outcome=\"failure\"");
}

RescueEngine::~RescueEngine() = default;

Status RescueEngine::LoadWaiting() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(fmt::format("SELECT {} FROM decisions WHERE closed_at_ms = 0", kColumns)));
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::vector<std::string> events;
    Decision d = ReadDecision(stmt, &events);
    waiting_[d.customer].push_back({d.id, d.path, d.window_start_ms, d.window_end_ms, std::move(events)});
  }
  return Status::Ok();
}

Status RescueEngine::SetPaths(std::vector<PathConfig> paths) {
  for (const auto& p : paths) RETURN_IF_ERROR(ValidatePath(p));
  for (size_t i = 0; i < paths.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (paths[i].name == paths[j].name) return InvalidArgument(fmt::format("paths[{}]: duplicate name", paths[i].name));
    }
  }
  std::lock_guard lock(mu_);
  options_.paths = std::move(paths);
  return Status::Ok();
}

const PathConfig* RescueEngine::FindPath(const std::string& name) const {
  for (const auto& p : options_.paths) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

Result<ArmCounts> RescueEngine::Counts(const std::string& path, const std::string& persona, bool rescued) {
  std::lock_guard lock(mu_);
  return CountsLocked(path, persona, rescued);
}

Result<ArmCounts> RescueEngine::CountsLocked(const std::string& path, const std::string& persona, bool rescued) {
  ASSIGN_OR_RETURN(auto stmt,
                   db_->Prepare("SELECT successes, failures FROM arm_counts WHERE path = ? AND persona = ? AND arm = ?"));
  stmt.Bind(1, path).Bind(2, persona).Bind(3, rescued ? "rescue" : "none");
  ArmCounts c;
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (row) {
    c.successes = stmt.Int64(0);
    c.failures = stmt.Int64(1);
  }
  return c;
}

Result<Decision> RescueEngine::Decide(const DerailmentSignal& signal) {
  std::vector<Result<Decision>> all = DecideAll({signal});
  return std::move(all.front());
}

std::vector<Result<Decision>> RescueEngine::DecideAll(const std::vector<DerailmentSignal>& signals) {
  std::vector<Result<Decision>> out;
  out.reserve(signals.size());
  std::vector<std::vector<std::string>> ids(signals.size());
  for (size_t i = 0; i < signals.size(); ++i) {
    if (options_.describe_customer) ids[i] = options_.describe_customer(signals[i].customer);
  }
  std::lock_guard lock(mu_);
  // One transaction for the whole burst: a commit rewrites every page the inserts dirtied, so
  // committing per decision cost more than deciding (a backfill of cold journeys decides
  // thousands at once).
  auto tx = entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate);
  if (!tx.ok()) {
    for (size_t i = 0; i < signals.size(); ++i) out.emplace_back(tx.status());
    return out;
  }
  // New decisions join the waiting index only once they are committed.
  std::vector<std::pair<size_t, Waiting>> waiting;
  for (size_t i = 0; i < signals.size(); ++i) {
    // The same episode twice in one burst: the decision just made answers (as waiting_ would).
    auto same = std::find_if(waiting.begin(), waiting.end(), [&](const auto& w) {
      return out[w.first]->customer == signals[i].customer && w.second.path == signals[i].path;
    });
    if (same != waiting.end()) {
      out.push_back(*out[same->first]);
      continue;
    }
    const PathConfig* path = nullptr;
    out.push_back(DecideLocked(signals[i], std::move(ids[i]), &path));
    if (out.back().ok() && path != nullptr) {
      const Decision& d = *out.back();
      waiting.push_back({i, Waiting{d.id, d.path, d.window_start_ms, d.window_end_ms, path->outcome_events}});
    }
  }
  if (Status s = tx->Commit(); !s.ok()) {
    for (auto& r : out)
      if (r.ok()) r = s;
    return out;
  }
  for (auto& [i, w] : waiting) {
    waiting_[out[i]->customer].push_back(std::move(w));
    (out[i]->rescue ? decisions_rescue_ : decisions_skip_)->Inc();
  }
  return out;
}

Result<Decision> RescueEngine::DecideLocked(const DerailmentSignal& signal, std::vector<std::string> ids,
                                            const PathConfig** inserted) {
  if (!std::isfinite(signal.value_at_stake) || signal.value_at_stake < 0) {
    return InvalidArgument(fmt::format("signal.value_at_stake: must be a finite number >= 0, got {}", signal.value_at_stake));
  }
  const PathConfig* path = FindPath(signal.path);
  if (path == nullptr) return InvalidArgument(fmt::format("signal.path: unknown rescue path '{}'", signal.path));

  // One decision per episode: a waiting decision for this customer and path answers again.
  if (auto it = waiting_.find(signal.customer); it != waiting_.end()) {
    for (const auto& w : it->second) {
      if (w.path == signal.path) return LoadLocked(w.id);
    }
  }

  ASSIGN_OR_RETURN(ArmCounts rescued, CountsLocked(path->name, signal.persona, true));
  ASSIGN_OR_RETURN(ArmCounts none, CountsLocked(path->name, signal.persona, false));
  std::optional<BudgetState> budget;
  if (options_.budget_per_period > 0) {
    const int64_t period = options_.budget_period_ms;
    int64_t start = signal.at_ms >= 0 ? signal.at_ms / period * period : -((-signal.at_ms + period - 1) / period) * period;
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT COALESCE(SUM(cost), 0) FROM decisions WHERE rescue = 1 AND "
                                             "status != 'dismissed' AND decided_at_ms >= ? AND decided_at_ms < ?"));
    stmt.Bind(1, start).Bind(2, start + period);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    budget = BudgetState{options_.budget_per_period, row ? ReadNum(stmt, 0) : 0};
  }
  // An action that could never reach the customer (an anonymous visitor by email) is not queued:
  // the team could only watch it be blocked, and its cost would hold budget that reachable
  // customers need (so the budget is left out of its arithmetic). The chances are still computed
  // and shown, and the outcome still teaches arm "none" (nothing was sent).
  std::string unreachable = options_.unreachable ? options_.unreachable(*path, ids) : std::string();
  DecisionMath math =
      ComputeDecision(*path, signal.value_at_stake, rescued, none, unreachable.empty() ? budget : std::nullopt);
  if (!unreachable.empty()) {
    unreachable[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(unreachable[0])));
    math.explanation += " " + unreachable + (math.rescue ? ". Skipped: the action could never be sent." : ".");
    math.rescue = false;
  }

  Decision d;
  d.customer = signal.customer;
  d.customer_ids = std::move(ids);
  d.path = path->name;
  d.persona = signal.persona;
  d.reasons = signal.reasons;
  d.value_at_stake = signal.value_at_stake;
  d.p_rescue = math.p_rescue;
  d.p_none = math.p_none;
  d.cost = path->cost;
  d.expected_gain = math.expected_gain;
  d.rescue = math.rescue;
  d.status = math.rescue ? RescueStatus::kOpen : RescueStatus::kSkipped;
  d.rescued = false;
  d.explanation = std::move(math.explanation);
  d.action = path->action;
  d.decided_at_ms = signal.at_ms;
  d.window_start_ms = signal.at_ms;
  d.window_end_ms = signal.at_ms + path->outcome_window_ms;
  // The counts at decision time are inputs too: stored with the row.
  RETURN_IF_ERROR(InsertLocked(&d, *path, rescued, none, budget));
  *inserted = path;
  return d;
}

Status RescueEngine::InsertLocked(Decision* d, const PathConfig& path, const ArmCounts& rescued, const ArmCounts& none,
                                  const std::optional<BudgetState>& budget) {
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "INSERT INTO decisions (customer, customer_ids, path, persona, reasons, value_at_stake, prior_p_rescue, "
      "prior_p_none, prior_strength, rescue_successes, rescue_failures, none_successes, none_failures, budget_limit, "
      "budget_spent, p_rescue, p_none, cost, expected_gain, rescue, status, rescued, explanation, action, "
      "outcome_events, decided_at_ms, window_start_ms, window_end_ms) VALUES "
      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  stmt.BindU64(1, d->customer).Bind(2, JoinList(d->customer_ids)).Bind(3, d->path).Bind(4, d->persona)
      .Bind(5, JoinList(d->reasons)).Bind(6, Num(d->value_at_stake)).Bind(7, Num(path.prior_p_rescue))
      .Bind(8, Num(path.prior_p_none)).Bind(9, Num(path.prior_strength)).Bind(10, rescued.successes)
      .Bind(11, rescued.failures).Bind(12, none.successes).Bind(13, none.failures);
  if (budget) {
    stmt.Bind(14, Num(budget->limit)).Bind(15, Num(budget->spent));
  } else {
    stmt.BindNull(14).BindNull(15);
  }
  stmt.Bind(16, Num(d->p_rescue)).Bind(17, Num(d->p_none)).Bind(18, Num(d->cost)).Bind(19, Num(d->expected_gain))
      .Bind(20, int64_t{d->rescue}).Bind(21, RescueStatusName(d->status)).Bind(22, int64_t{d->rescued})
      .Bind(23, d->explanation).Bind(24, d->action).Bind(25, JoinList(path.outcome_events))
      .Bind(26, d->decided_at_ms).Bind(27, d->window_start_ms).Bind(28, d->window_end_ms);
  RETURN_IF_ERROR(stmt.Run());
  d->id = db_->last_insert_rowid();
  return Status::Ok();
}

Status RescueEngine::UpdateLocked(const Decision& d) {
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "UPDATE decisions SET status = ?, rescued = ?, window_start_ms = ?, window_end_ms = ?, closed_at_ms = ?, "
      "outcome_note = ?, action_ref = ? WHERE id = ?"));
  stmt.Bind(1, RescueStatusName(d.status)).Bind(2, int64_t{d.rescued}).Bind(3, d.window_start_ms)
      .Bind(4, d.window_end_ms).Bind(5, d.closed_at_ms).Bind(6, d.outcome_note).Bind(7, d.action_ref).Bind(8, d.id);
  return stmt.Run();
}

Result<Decision> RescueEngine::LoadLocked(int64_t id) {
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(fmt::format("SELECT {} FROM decisions WHERE id = ?", kColumns)));
  stmt.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return NotFound(fmt::format("rescue {} not found", id));
  return ReadDecision(stmt);
}

Status RescueEngine::CloseLocked(Decision* d, bool success, int64_t at_ms, std::string note) {
  const bool rescued = d->status == RescueStatus::kActed;
  d->rescued = rescued;
  d->status = success ? RescueStatus::kSucceeded : RescueStatus::kFailed;
  d->closed_at_ms = std::max<int64_t>(at_ms, 1);
  d->outcome_note = std::move(note);
  ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
  RETURN_IF_ERROR(UpdateLocked(*d));
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "INSERT INTO arm_counts (path, persona, arm, successes, failures) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (path, persona, arm) DO UPDATE SET successes = successes + excluded.successes, "
      "failures = failures + excluded.failures"));
  stmt.Bind(1, d->path).Bind(2, d->persona).Bind(3, rescued ? "rescue" : "none").Bind(4, int64_t{success})
      .Bind(5, int64_t{!success});
  RETURN_IF_ERROR(stmt.Run());
  RETURN_IF_ERROR(tx.Commit());
  if (auto it = waiting_.find(d->customer); it != waiting_.end()) {
    std::erase_if(it->second, [&](const Waiting& w) { return w.id == d->id; });
    if (it->second.empty()) waiting_.erase(it);
  }
  (success ? outcomes_success_ : outcomes_failure_)->Inc();
  return Status::Ok();
}

void RescueEngine::ObserveInteraction(store::CustomerId canonical, std::string_view event, int64_t timestamp_ms,
                                      bool ours) {
  if (ours) return;
  const Observed one{canonical, event, timestamp_ms};
  ObserveInteractions({&one, 1});
}

void RescueEngine::ObserveInteractions(std::span<const Observed> interactions) {
  std::lock_guard lock(mu_);
  if (waiting_.empty()) return;
  for (const Observed& o : interactions) {
    auto it = waiting_.find(o.canonical);
    if (it == waiting_.end()) continue;
    std::vector<int64_t> hits;
    for (const auto& w : it->second) {
      if (o.timestamp_ms >= w.window_start_ms && o.timestamp_ms <= w.window_end_ms && Matches(w.outcome_events, o.event)) {
        hits.push_back(w.id);
      }
    }
    for (int64_t id : hits) {
      auto d = LoadLocked(id);
      Status s = d.status();
      if (d.ok()) {
        s = CloseLocked(&*d, true, o.timestamp_ms, fmt::format("event '{}' at {} ms", o.event, o.timestamp_ms));
      }
      if (!s.ok()) LOG_EVERY_N_SEC(kWarn, 10, "rescue: recording an outcome failed: {}", s.ToString());
    }
  }
}

void RescueEngine::OnMerge(store::CustomerId from, store::CustomerId into) {
  if (from == into) return;
  std::lock_guard lock(mu_);
  auto it = waiting_.find(from);
  if (it == waiting_.end()) return;
  auto moved = std::move(it->second);
  waiting_.erase(it);
  auto& dst = waiting_[into];
  dst.insert(dst.end(), moved.begin(), moved.end());
  // Decisions keep the customer id they were made for; the waiting index follows the merge so
  // the merged customer's interactions close them. The row's customer is updated to match.
  for (const auto& w : moved) {
    auto stmt = db_->Prepare("UPDATE decisions SET customer = ? WHERE id = ?");
    if (!stmt.ok()) break;
    stmt->BindU64(1, into).Bind(2, w.id);
    Status s = stmt->Run();
    if (!s.ok()) LOG_EVERY_N_SEC(kWarn, 10, "rescue: merge update failed: {}", s.ToString());
  }
}

Result<size_t> RescueEngine::ExpireWindows(int64_t now_ms) {
  std::lock_guard lock(mu_);
  std::vector<int64_t> expired;
  for (const auto& [customer, list] : waiting_) {
    for (const auto& w : list) {
      if (w.window_end_ms < now_ms) expired.push_back(w.id);
    }
  }
  std::sort(expired.begin(), expired.end());
  for (int64_t id : expired) {
    ASSIGN_OR_RETURN(Decision d, LoadLocked(id));
    RETURN_IF_ERROR(CloseLocked(&d, false, now_ms, "outcome window passed without the outcome"));
  }
  return expired.size();
}

Result<std::vector<Decision>> RescueEngine::QueryLocked(std::string_view sql,
                                                        const std::function<void(entity::Stmt&)>& bind,
                                                        const std::function<bool(const Decision&)>& keep, size_t max) {
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(sql));
  bind(stmt);
  std::vector<Decision> out;
  while (out.size() < max) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    Decision d = ReadDecision(stmt);
    if (!keep || keep(d)) out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<Decision>> RescueEngine::List(const ListQuery& query) {
  if (query.limit < 1 || query.limit > 1000) return InvalidArgument("limit: must be in [1, 1000]");
  std::lock_guard lock(mu_);
  // The decided-at range in SQL; the customer set (a segment) while stepping, so the limit counts
  // only kept rows.
  const std::string sql = fmt::format(
      "SELECT {} FROM decisions WHERE decided_at_ms >= ? AND decided_at_ms < ?{} ORDER BY expected_gain DESC, id DESC{}",
      kColumns, query.status ? " AND status = ?" : "", query.customers ? "" : " LIMIT ?");
  const std::vector<uint64_t>* members = query.customers;
  return QueryLocked(
      sql,
      [&](entity::Stmt& s) {
        s.Bind(1, query.decided_from_ms).Bind(2, query.decided_to_ms);
        int next = 3;
        if (query.status) s.Bind(next++, RescueStatusName(*query.status));
        if (!members) s.Bind(next, int64_t(query.limit));
      },
      members ? std::function<bool(const Decision&)>([members](const Decision& d) {
        return std::binary_search(members->begin(), members->end(), static_cast<uint64_t>(d.customer));
      })
              : nullptr,
      query.limit);
}

Result<std::vector<Decision>> RescueEngine::ListForCustomer(store::CustomerId customer) {
  std::lock_guard lock(mu_);
  return QueryLocked(fmt::format("SELECT {} FROM decisions WHERE customer = ? ORDER BY decided_at_ms DESC, id DESC LIMIT 1000",
                                 kColumns),
                     [&](entity::Stmt& s) { s.BindU64(1, customer); });
}

Result<Decision> RescueEngine::Get(int64_t id) {
  std::lock_guard lock(mu_);
  return LoadLocked(id);
}

Result<Decision> RescueEngine::Act(int64_t id, std::string_view note) {
  std::unique_lock lock(mu_);
  ASSIGN_OR_RETURN(Decision d, LoadLocked(id));
  if (d.status != RescueStatus::kOpen) {
    return FailedPrecondition(fmt::format("rescue {} is {}, only an open rescue can be acted on", id, RescueStatusName(d.status)));
  }
  const PathConfig* path = FindPath(d.path);
  if (options_.dispatch) {
    if (path == nullptr) return FailedPrecondition(fmt::format("rescue {}: path '{}' is no longer in the map", id, d.path));
    PathConfig copy = *path;
    // The dispatch may block on gates' data sources; it must not call back into this engine.
    ASSIGN_OR_RETURN(d.action_ref, options_.dispatch(d, copy));
  }
  const int64_t now = options_.clock->NowMillis();
  const int64_t window = path ? path->outcome_window_ms : d.window_end_ms - d.window_start_ms;
  d.status = RescueStatus::kActed;
  d.rescued = true;
  d.window_start_ms = now;
  d.window_end_ms = now + window;
  if (!note.empty()) d.outcome_note = fmt::format("acted: {}", note);
  RETURN_IF_ERROR(UpdateLocked(d));
  for (auto& w : waiting_[d.customer]) {
    if (w.id == id) {
      w.window_start_ms = d.window_start_ms;
      w.window_end_ms = d.window_end_ms;
    }
  }
  return d;
}

Status RescueEngine::AppendActionRef(int64_t id, std::string_view ref) {
  if (ref.empty() || ref.find(' ') != std::string_view::npos) return InvalidArgument("ref: one word, e.g. case:17");
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Decision d, LoadLocked(id));
  std::string_view have = d.action_ref;
  size_t pos = 0;
  while (pos <= have.size()) {
    size_t end = have.find(' ', pos);
    if (end == std::string_view::npos) end = have.size();
    if (have.substr(pos, end - pos) == ref) return Status::Ok();
    pos = end + 1;
  }
  d.action_ref = d.action_ref.empty() ? std::string(ref) : d.action_ref + " " + std::string(ref);
  return UpdateLocked(d);
}

Result<Decision> RescueEngine::Dismiss(int64_t id, std::string_view note) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Decision d, LoadLocked(id));
  if (d.status != RescueStatus::kOpen) {
    return FailedPrecondition(fmt::format("rescue {} is {}, only an open rescue can be dismissed", id, RescueStatusName(d.status)));
  }
  d.status = RescueStatus::kDismissed;
  if (!note.empty()) d.outcome_note = fmt::format("dismissed: {}", note);
  RETURN_IF_ERROR(UpdateLocked(d));
  return d;
}

Result<Decision> RescueEngine::RecordOutcome(int64_t id, bool success, std::string_view note) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Decision d, LoadLocked(id));
  if (d.closed_at_ms != 0) {
    return FailedPrecondition(fmt::format("rescue {} already has its outcome ({})", id, RescueStatusName(d.status)));
  }
  RETURN_IF_ERROR(CloseLocked(&d, success, options_.clock->NowMillis(),
                              note.empty() ? std::string("manual") : fmt::format("manual: {}", note)));
  return d;
}

Result<size_t> RescueEngine::EraseCustomers(const std::vector<store::CustomerId>& customers) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(db_->SecureDelete());
  size_t n = 0;
  {
    ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
    for (store::CustomerId c : customers) {
      ASSIGN_OR_RETURN(auto st, db_->Prepare("DELETE FROM decisions WHERE customer = ?1"));
      RETURN_IF_ERROR(st.BindU64(1, c).Run());
      ASSIGN_OR_RETURN(int64_t changed, db_->QueryInt("SELECT changes()"));
      n += static_cast<size_t>(changed);
      waiting_.erase(c);
    }
    RETURN_IF_ERROR(tx.Commit());
  }
  RETURN_IF_ERROR(db_->Scrub());
  return n;
}

}  // namespace cairn::rescue
