#include "cases/case_manager.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <unordered_set>

#include "base/logging.h"
#include "base/thread_name.h"
#include "cases/case_outbox.h"

namespace cairn::cases {

// Changes made inside one Mutate, written with the case in the same transaction.
struct CaseManager::Ctx {
  int64_t now = 0;
  std::vector<AuditEntry> audit;
  std::vector<EscalationRecord> escalations;
  int outbox = 0;  // outbox rows written in this transaction
  void Audit(std::string actor, std::string action, std::string field = "", std::string from = "", std::string to = "") {
    audit.push_back({now, std::move(actor), std::move(action), std::move(field), std::move(from), std::move(to)});
  }
};

// What a write does in memory once its transaction has committed (never before: a rolled-back
// write must leave no timer, no event and no count behind). Applied in the order written.
struct CaseManager::Effects {
  uint64_t opened = 0;
  std::vector<Case> timers;       // PushTimers
  std::vector<CaseEvent> events;  // listener_
  int outbox = 0;                 // outbox rows written
};

namespace {

constexpr uint32_t kApplicationId = 0x43434153;  // "CCAS": Cairn cases db
constexpr uint8_t kTimerFirstResponse = 1, kTimerResolution = 2, kTimerEscalation = 3;
constexpr int64_t kHour = 3600 * 1000;

// Schema steps (docs/format/cases.md, "cases.db").
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE cases (
  id INTEGER PRIMARY KEY,
  customer INTEGER NOT NULL,
  channel TEXT NOT NULL, category TEXT NOT NULL, description TEXT NOT NULL, root_cause TEXT NOT NULL,
  severity INTEGER NOT NULL, tier INTEGER NOT NULL, status INTEGER NOT NULL,
  assignee TEXT NOT NULL, origin TEXT NOT NULL,
  resolution_type INTEGER NOT NULL, resolution_amount REAL NOT NULL,
  pending_type INTEGER NOT NULL, pending_amount REAL NOT NULL, pending_by TEXT NOT NULL, approval_level INTEGER NOT NULL,
  secondary_of INTEGER NOT NULL,
  opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, first_response_at INTEGER NOT NULL,
  resolved_at INTEGER NOT NULL, closed_at INTEGER NOT NULL, reopen_count INTEGER NOT NULL,
  escalation_level INTEGER NOT NULL, version INTEGER NOT NULL,
  fr_target INTEGER NOT NULL, res_target INTEGER NOT NULL, sla_calendar TEXT NOT NULL,
  fr_due INTEGER NOT NULL, fr_breached INTEGER NOT NULL, res_due INTEGER NOT NULL, res_remaining INTEGER NOT NULL,
  res_breached INTEGER NOT NULL, breached INTEGER NOT NULL, breached_at INTEGER NOT NULL,
  esc_step INTEGER NOT NULL, next_esc_at INTEGER NOT NULL,
  message_id TEXT NOT NULL, source_seq INTEGER
);
CREATE UNIQUE INDEX cases_source_seq ON cases(source_seq) WHERE source_seq IS NOT NULL;
CREATE INDEX cases_status ON cases(status, id);
CREATE INDEX cases_assignee ON cases(assignee, status, id);
CREATE INDEX cases_assignee_id ON cases(assignee, id);
CREATE INDEX cases_customer ON cases(customer, opened_at);
CREATE INDEX cases_breached ON cases(breached, id);
CREATE INDEX cases_opened ON cases(opened_at);
CREATE INDEX cases_open_timers ON cases(id) WHERE status NOT IN (5, 6);
CREATE TABLE case_audit (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL, at_ms INTEGER NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, field TEXT NOT NULL, old_value TEXT NOT NULL, new_value TEXT NOT NULL);
CREATE INDEX case_audit_case ON case_audit(case_id, id);
CREATE TABLE case_comments (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL, at_ms INTEGER NOT NULL,
  author TEXT NOT NULL, body TEXT NOT NULL, public INTEGER NOT NULL);
CREATE INDEX case_comments_case ON case_comments(case_id, id);
CREATE TABLE case_escalations (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL, at_ms INTEGER NOT NULL,
  level INTEGER NOT NULL, action TEXT NOT NULL, reason TEXT NOT NULL, to_agent TEXT NOT NULL);
CREATE INDEX case_escalations_case ON case_escalations(case_id, id);
CREATE TABLE agents (id TEXT PRIMARY KEY, name TEXT NOT NULL, team TEXT NOT NULL, level INTEGER NOT NULL,
  skills TEXT NOT NULL, active INTEGER NOT NULL);
CREATE TABLE authority_limits (level INTEGER PRIMARY KEY, max_amount REAL NOT NULL);
INSERT INTO authority_limits VALUES (1, 50), (2, 200), (3, 1000), (4, 10000), (5, -1);
CREATE TABLE sla_policies (severity INTEGER NOT NULL, tier INTEGER NOT NULL, first_response_ms INTEGER NOT NULL,
  resolution_ms INTEGER NOT NULL, calendar TEXT NOT NULL, PRIMARY KEY (severity, tier));
CREATE TABLE calendars (name TEXT PRIMARY KEY, timezone TEXT NOT NULL, hours TEXT NOT NULL, holidays TEXT NOT NULL);
CREATE TABLE escalation_steps (idx INTEGER PRIMARY KEY, after_ms INTEGER NOT NULL, level INTEGER NOT NULL,
  reassign INTEGER NOT NULL);
INSERT INTO escalation_steps VALUES (0, 0, 2, 0), (1, 14400000, 3, 1), (2, 86400000, 4, 0);
)sql";

constexpr std::string_view kCaseCols =
    "id, customer, channel, category, description, root_cause, severity, tier, status, assignee, origin, "
    "resolution_type, resolution_amount, pending_type, pending_amount, pending_by, approval_level, secondary_of, "
    "opened_at, updated_at, first_response_at, resolved_at, closed_at, reopen_count, escalation_level, version, "
    "fr_target, res_target, sla_calendar, fr_due, fr_breached, res_due, res_remaining, res_breached, breached, "
    "breached_at, esc_step, next_esc_at, message_id, source_seq";

// Reads the kCaseCols columns of the current row.
Case ReadCase(const entity::Stmt& s) {
  Case c;
  int i = 0;
  c.id = s.U64(i++);
  c.customer = s.U64(i++);
  c.channel = s.Text(i++);
  c.category = s.Text(i++);
  c.description = s.Text(i++);
  c.root_cause = s.Text(i++);
  c.severity = static_cast<Severity>(s.Int64(i++));
  c.tier = static_cast<ValueTier>(s.Int64(i++));
  c.status = static_cast<CaseStatus>(s.Int64(i++));
  c.assignee = s.Text(i++);
  c.origin = s.Text(i++);
  int64_t rt = s.Int64(i++);
  // REAL columns come back through Text (SQLite converts); parse them.
  auto real = [&](int col) {
    std::string_view t = s.Text(col);
    double v = 0;
    std::from_chars(t.data(), t.data() + t.size(), v);
    return v;
  };
  double amount = real(i++);
  if (rt != 0) c.resolution = Resolution{static_cast<ResolutionType>(rt), amount};
  int64_t pt = s.Int64(i++);
  double pamount = real(i++);
  if (pt != 0) c.pending_resolution = Resolution{static_cast<ResolutionType>(pt), pamount};
  c.pending_by = s.Text(i++);
  if (int64_t al = s.Int64(i++); al != 0) c.approval_level = static_cast<AgentLevel>(al);
  c.secondary_of = s.U64(i++);
  c.opened_at_ms = s.Int64(i++);
  c.updated_at_ms = s.Int64(i++);
  c.first_response_at_ms = s.Int64(i++);
  c.resolved_at_ms = s.Int64(i++);
  c.closed_at_ms = s.Int64(i++);
  c.reopen_count = static_cast<int>(s.Int64(i++));
  if (int64_t el = s.Int64(i++); el != 0) c.escalation_level = static_cast<AgentLevel>(el);
  c.version = s.Int64(i++);
  c.sla.first_response_target_ms = s.Int64(i++);
  c.sla.resolution_target_ms = s.Int64(i++);
  c.sla.calendar = s.Text(i++);
  c.sla.first_response_due_ms = s.Int64(i++);
  c.sla.first_response_breached = s.Int64(i++) != 0;
  c.sla.resolution_due_ms = s.Int64(i++);
  c.sla.resolution_remaining_ms = s.Int64(i++);
  c.sla.resolution_breached = s.Int64(i++) != 0;
  ++i;  // breached: derived
  c.sla.breached_at_ms = s.Int64(i++);
  c.sla.escalation_step = static_cast<int>(s.Int64(i++));
  c.sla.next_escalation_ms = s.Int64(i++);
  c.message_id = s.Text(i++);
  c.source_seq = s.IsNull(i) ? 0 : s.U64(i);
  return c;
}

std::string AmountString(double v) { return fmt::format("{:.2f}", v); }

std::string JoinSkills(const std::vector<std::string>& skills) {
  std::string out;
  for (const auto& s : skills) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

std::vector<std::string> SplitList(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t p = s.find(sep);
    std::string_view part = s.substr(0, p);
    if (!part.empty()) out.emplace_back(part);
    if (p == std::string_view::npos) break;
    s = s.substr(p + 1);
  }
  return out;
}

// calendars.hours: seven ';'-separated weekday fields (Monday first), each a ','-separated list
// of HH:MM-HH:MM intervals (docs/format/cases.md).
std::string EncodeHours(const CalendarSpec& spec) {
  std::string out;
  for (int d = 0; d < 7; ++d) {
    if (d) out += ';';
    for (size_t i = 0; i < spec.hours[d].size(); ++i) {
      if (i) out += ',';
      out += FormatInterval(spec.hours[d][i]);
    }
  }
  return out;
}

Result<CalendarSpec> DecodeCalendar(std::string name, std::string tz, std::string_view hours, std::string_view holidays) {
  CalendarSpec spec;
  spec.name = std::move(name);
  spec.timezone = std::move(tz);
  int d = 0;
  size_t start = 0;
  while (d < 7) {
    size_t end = hours.find(';', start);
    std::string_view day = hours.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    for (const std::string& iv : SplitList(day, ',')) {
      ASSIGN_OR_RETURN(auto p, ParseInterval(iv, "calendars.hours"));
      spec.hours[d].push_back(p);
    }
    ++d;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  spec.holidays = SplitList(holidays, ',');
  return spec;
}

bool ValidAgentId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char ch : id)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '@' || ch == '-')) return false;
  return true;
}

Status CheckText(std::string_view field, std::string_view value, size_t max) {
  if (value.size() > max) return InvalidArgument(fmt::format("{}: longer than {} bytes", field, max));
  return Status::Ok();
}

std::string AllowedList(CaseStatus from) {
  std::string out;
  for (CaseStatus s : AllowedTransitions(from)) {
    if (!out.empty()) out += ", ";
    out += Name(s);
  }
  return out;
}

}  // namespace

CaseManager::CaseManager(CaseManagerOptions options)
    : options_(std::move(options)), clock_(options_.clock ? options_.clock : Clock::Real()) {}

Result<std::unique_ptr<CaseManager>> CaseManager::Open(CaseManagerOptions options) {
  if (options.dir.empty()) return InvalidArgument("cases: dir is required");
  std::unique_ptr<CaseManager> m(new CaseManager(std::move(options)));
  RETURN_IF_ERROR(m->Init());
  return m;
}

CaseManager::~CaseManager() { Close(); }

void CaseManager::Close() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  timer_cv_.notify_all();
  if (timer_thread_.joinable()) timer_thread_.join();
}

Status CaseManager::Init() {
  auto* metrics = options_.metrics ? options_.metrics : metrics::Registry::Default();
  opened_ = metrics->GetCounter("cairn_cases_opened_total", "Cases opened.");
  breaches_ = metrics->GetCounter("cairn_cases_sla_breaches_total", "SLA breaches (first response and resolution).");
  escalations_ = metrics->GetCounter("cairn_cases_escalations_total", "Escalation steps run.");
  secondary_ = metrics->GetCounter("cairn_cases_secondary_errors_total", "Cases flagged as secondary errors.");
  const std::string commits_help = "Committed write transactions per SQLite file (with synchronous=FULL, one fsync each).";
  entity::SqliteOptions so;
  so.full_sync = true;
  so.commits = metrics->GetCounter("cairn_sqlite_commits_total", commits_help, "db=\"cases\"");
  ASSIGN_OR_RETURN(db_, entity::SqliteDb::Open(options_.dir + "/cases.db", so));
  RETURN_IF_ERROR(db_->Migrate(kApplicationId, {kSchemaV1, kOutboxSchema}));
  ASSIGN_OR_RETURN(feedback_, feedback::FeedbackStore::Open(
                                  options_.dir + "/feedback.db",
                                  metrics->GetCounter("cairn_sqlite_commits_total", commits_help, "db=\"feedback\"")));
  {
    std::lock_guard lock(mu_);
    RETURN_IF_ERROR(LoadConfig());
    RETURN_IF_ERROR(LoadTimers());
  }
  if (options_.timer_thread) timer_thread_ = std::thread([this] {
    NameThisThread("case-timers");
    TimerLoop();
  });
  return Status::Ok();
}

Status CaseManager::LoadConfig() {
  agents_.clear();
  {
    ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT id, name, team, level, skills, active FROM agents"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      Agent a{std::string(q.Text(0)), std::string(q.Text(1)), std::string(q.Text(2)),
              static_cast<AgentLevel>(q.Int64(3)), SplitList(q.Text(4), ','), q.Int64(5) != 0};
      agents_[a.id] = a;
    }
  }
  {
    ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT level, CAST(max_amount AS TEXT) FROM authority_limits"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      int64_t level = q.Int64(0);
      std::string_view t = q.Text(1);
      double v = 0;
      std::from_chars(t.data(), t.data() + t.size(), v);
      if (level >= 1 && level <= 5) limits_[level] = v;
    }
  }
  calendars_.clear();
  {
    ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT name, timezone, hours, holidays FROM calendars"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ASSIGN_OR_RETURN(auto spec, DecodeCalendar(std::string(q.Text(0)), std::string(q.Text(1)), q.Text(2), q.Text(3)));
      auto cal = BusinessCalendar::Create(spec);
      if (!cal.ok()) return cal.status().WithContext(fmt::format("cases.db calendar '{}'", spec.name));
      calendars_[spec.name] = *cal;
    }
  }
  policies_.clear();
  {
    ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT severity, tier, first_response_ms, resolution_ms, calendar FROM sla_policies"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      SlaPolicy p{static_cast<Severity>(q.Int64(0)), static_cast<ValueTier>(q.Int64(1)), q.Int64(2), q.Int64(3),
                  std::string(q.Text(4))};
      policies_[{static_cast<int>(p.severity), static_cast<int>(p.tier)}] = p;
    }
  }
  chain_.clear();
  {
    ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT after_ms, level, reassign FROM escalation_steps ORDER BY idx"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      chain_.push_back({q.Int64(0), static_cast<AgentLevel>(q.Int64(1)), q.Int64(2) != 0});
    }
  }
  return Status::Ok();
}

Status CaseManager::LoadTimers() {
  // Only the columns PushTimers reads, of open cases only (partial index cases_open_timers).
  ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT id, status, first_response_at, fr_due, fr_breached, res_due, "
                                        "res_breached, next_esc_at FROM cases WHERE status NOT IN (5, 6)"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    Case c;
    c.id = q.U64(0);
    c.status = static_cast<CaseStatus>(q.Int64(1));
    c.first_response_at_ms = q.Int64(2);
    c.sla.first_response_due_ms = q.Int64(3);
    c.sla.first_response_breached = q.Int64(4) != 0;
    c.sla.resolution_due_ms = q.Int64(5);
    c.sla.resolution_breached = q.Int64(6) != 0;
    c.sla.next_escalation_ms = q.Int64(7);
    PushTimers(c);
  }
  return Status::Ok();
}

void CaseManager::TimerLoop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    int64_t now = clock_->NowMillis();
    int64_t wait_ms = 1000;
    if (!timers_.empty()) wait_ms = std::clamp<int64_t>(timers_.top().due + 1 - now, 0, 1000);
    if (wait_ms > 0) timer_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms));
    if (stop_) break;
    lock.unlock();
    auto fired = CheckBreaches(clock_->NowMillis());
    if (!fired.ok()) LOG_EVERY_N_SEC(kError, 10, "cases: timers: {}", fired.status().ToString());
    lock.lock();
  }
}

size_t CaseManager::pending_timers() const {
  std::lock_guard lock(mu_);
  return timers_.size();
}

Result<uint64_t> CaseManager::ResolveCustomer(const std::string& customer, uint64_t given) const {
  uint64_t id = given;
  if (id == 0) {
    if (customer.empty()) return InvalidArgument("customer: required");
    if (options_.resolve_customer) {
      auto r = options_.resolve_customer(customer);
      if (!r.ok()) return r.status().WithContext("customer");
      id = *r;
    } else {
      uint64_t v = 0;
      if (!customer.starts_with("c:") ||
          std::from_chars(customer.data() + 2, customer.data() + customer.size(), v).ptr != customer.data() + customer.size() ||
          v == 0)
        return InvalidArgument(fmt::format("customer: '{}' is not a customer id c:<n>", customer));
      id = v;
    }
  }
  return options_.canonical ? options_.canonical(id) : id;
}

std::shared_ptr<const BusinessCalendar> CaseManager::CalendarOf(const std::string& name) const {
  if (name.empty()) return BusinessCalendar::Always();
  auto it = calendars_.find(name);
  return it == calendars_.end() ? BusinessCalendar::Always() : it->second;
}

double CaseManager::LimitOf(AgentLevel level) const { return limits_[static_cast<int>(level)]; }

AgentLevel CaseManager::RequiredLevel(double amount) const {
  for (int l = 1; l <= 5; ++l)
    if (Can(static_cast<AgentLevel>(l), amount)) return static_cast<AgentLevel>(l);
  return AgentLevel::kExecutive;
}

// ---- persistence ----

Result<Case> CaseManager::LoadCase(uint64_t id) {
  ASSIGN_OR_RETURN(auto q, db_->Prepare(fmt::format("SELECT {} FROM cases WHERE id = ?", kCaseCols)));
  q.BindU64(1, id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFound(fmt::format("case {} not found", id));
  Case c = ReadCase(q);
  c.customer = Canonical(c.customer);  // merges since it opened (re-keyed when written back)
  return c;
}

Status CaseManager::WriteCase(Case* c, bool insert) {
  // One statement for insert and update: INSERT OR REPLACE keeps the id (rowid) when given.
  ASSIGN_OR_RETURN(auto s, db_->Prepare(fmt::format(
                               "INSERT OR REPLACE INTO cases ({}) VALUES "
                               "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                               kCaseCols)));
  int i = 1;
  if (insert) s.BindNull(i++);
  else s.BindU64(i++, c->id);
  s.BindU64(i++, c->customer);
  s.Bind(i++, c->channel);
  s.Bind(i++, c->category);
  s.Bind(i++, c->description);
  s.Bind(i++, c->root_cause);
  s.Bind(i++, static_cast<int64_t>(c->severity));
  s.Bind(i++, static_cast<int64_t>(c->tier));
  s.Bind(i++, static_cast<int64_t>(c->status));
  s.Bind(i++, c->assignee);
  s.Bind(i++, c->origin);
  s.Bind(i++, c->resolution ? static_cast<int64_t>(c->resolution->type) : 0);
  s.Bind(i++, AmountString(c->resolution ? c->resolution->amount : 0));
  s.Bind(i++, c->pending_resolution ? static_cast<int64_t>(c->pending_resolution->type) : 0);
  s.Bind(i++, AmountString(c->pending_resolution ? c->pending_resolution->amount : 0));
  s.Bind(i++, c->pending_by);
  s.Bind(i++, c->approval_level ? static_cast<int64_t>(*c->approval_level) : 0);
  s.BindU64(i++, c->secondary_of);
  s.Bind(i++, c->opened_at_ms);
  s.Bind(i++, c->updated_at_ms);
  s.Bind(i++, c->first_response_at_ms);
  s.Bind(i++, c->resolved_at_ms);
  s.Bind(i++, c->closed_at_ms);
  s.Bind(i++, static_cast<int64_t>(c->reopen_count));
  s.Bind(i++, c->escalation_level ? static_cast<int64_t>(*c->escalation_level) : 0);
  s.Bind(i++, c->version);
  s.Bind(i++, c->sla.first_response_target_ms);
  s.Bind(i++, c->sla.resolution_target_ms);
  s.Bind(i++, c->sla.calendar);
  s.Bind(i++, c->sla.first_response_due_ms);
  s.Bind(i++, static_cast<int64_t>(c->sla.first_response_breached));
  s.Bind(i++, c->sla.resolution_due_ms);
  s.Bind(i++, c->sla.resolution_remaining_ms);
  s.Bind(i++, static_cast<int64_t>(c->sla.resolution_breached));
  s.Bind(i++, static_cast<int64_t>(c->sla.first_response_breached || c->sla.resolution_breached));
  s.Bind(i++, c->sla.breached_at_ms);
  s.Bind(i++, static_cast<int64_t>(c->sla.escalation_step));
  s.Bind(i++, c->sla.next_escalation_ms);
  s.Bind(i++, c->message_id);
  if (c->source_seq != 0) s.BindU64(i++, c->source_seq);
  else s.BindNull(i++);
  RETURN_IF_ERROR(s.Run());
  if (insert) c->id = static_cast<uint64_t>(db_->last_insert_rowid());
  return Status::Ok();
}

Status CaseManager::WriteCtx(const Case& c, Ctx& ctx) {
  const uint64_t case_id = c.id;
  for (const AuditEntry& a : ctx.audit) {
    ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT INTO case_audit (case_id, at_ms, actor, action, field, old_value, "
                                          "new_value) VALUES (?,?,?,?,?,?,?)"));
    s.BindU64(1, case_id).Bind(2, a.at_ms).Bind(3, a.actor).Bind(4, a.action).Bind(5, a.field).Bind(6, a.from).Bind(7, a.to);
    RETURN_IF_ERROR(s.Run());
  }
  for (const EscalationRecord& e : ctx.escalations) {
    ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT INTO case_escalations (case_id, at_ms, level, action, reason, "
                                          "to_agent) VALUES (?,?,?,?,?,?)"));
    s.BindU64(1, case_id).Bind(2, e.at_ms).Bind(3, static_cast<int64_t>(e.level)).Bind(4, e.action);
    s.Bind(5, e.reason).Bind(6, e.to_agent);
    RETURN_IF_ERROR(s.Run());
    // The notice goes out through the outbox (the action case_escalation, app/cases_wiring.cc).
    OutboxItem item;
    item.event = CaseEvent{c, std::nullopt, "system", e.at_ms};
    item.escalation = e;
    RETURN_IF_ERROR(AppendOutbox(db_.get(), item));
    ++ctx.outbox;
  }
  return Status::Ok();
}

Status CaseManager::WriteEvent(const Case& c, std::optional<CaseStatus> from, const std::string& actor, int64_t at_ms,
                               Ctx& ctx) {
  OutboxItem item;
  item.event = CaseEvent{c, from, actor, at_ms};
  RETURN_IF_ERROR(AppendOutbox(db_.get(), item));
  ++ctx.outbox;
  return Status::Ok();
}

void CaseManager::SetOutboxListener(std::function<void()> listener) {
  std::lock_guard lock(mu_);
  outbox_listener_ = std::move(listener);
}

Result<std::vector<OutboxItem>> CaseManager::PendingOutbox(size_t limit) {
  std::lock_guard lock(mu_);
  return ReadOutbox(db_.get(), limit);
}

Status CaseManager::AckOutbox(const std::vector<uint64_t>& ids) {
  std::lock_guard lock(mu_);
  return DeleteOutbox(db_.get(), ids);
}

void CaseManager::PushTimers(const Case& c) {
  if (!IsOpen(c.status)) return;
  const SlaState& s = c.sla;
  if (s.first_response_due_ms != 0 && c.first_response_at_ms == 0 && !s.first_response_breached)
    timers_.push({s.first_response_due_ms, c.id, kTimerFirstResponse});
  if (s.resolution_due_ms != 0 && !s.resolution_breached) timers_.push({s.resolution_due_ms, c.id, kTimerResolution});
  if (s.next_escalation_ms != 0) timers_.push({s.next_escalation_ms, c.id, kTimerEscalation});
  timer_cv_.notify_all();
}

std::vector<uint64_t> CaseManager::MembersOf(uint64_t root) const {
  if (!options_.members) return {root};
  std::vector<uint64_t> m = options_.members(root);
  if (std::find(m.begin(), m.end(), root) == m.end()) m.push_back(root);
  return m;
}

void CaseManager::SetEventListener(std::function<void(const CaseEvent&)> listener) {
  std::lock_guard lock(mu_);
  listener_ = std::move(listener);
}

Status CaseManager::SetValueModel(std::function<std::optional<double>(uint64_t)> clv, TierThresholds thresholds) {
  if (!(thresholds.high >= 0) || !(thresholds.vip >= thresholds.high))
    return InvalidArgument("cases.value_tiers: need 0 <= high <= vip");
  std::lock_guard lock(mu_);
  clv_ = std::move(clv);
  thresholds_ = thresholds;
  return Status::Ok();
}

void CaseManager::SetCustomerDimensions(std::function<std::string(uint64_t)> persona_of,
                                        std::function<std::string(uint64_t)> phase_of) {
  std::lock_guard lock(mu_);
  persona_of_ = std::move(persona_of);
  phase_of_ = std::move(phase_of);
  ++dimension_source_;  // what was looked up through the old functions is not reused
}

Result<Case> CaseManager::Mutate(uint64_t id, int64_t expected_version, const std::function<Status(Case&, Ctx&)>& fn) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
  Effects fx;
  ASSIGN_OR_RETURN(Case c, MutateInTx(id, expected_version, fn, &fx));
  RETURN_IF_ERROR(tx.Commit());
  ApplyEffects(fx);
  return c;
}

Result<Case> CaseManager::MutateInTx(uint64_t id, int64_t expected_version, const std::function<Status(Case&, Ctx&)>& fn,
                                     Effects* fx) {
  Ctx ctx;
  ctx.now = clock_->NowMillis();
  ASSIGN_OR_RETURN(auto step, entity::Savepoint::Begin(db_.get()));
  ASSIGN_OR_RETURN(Case c, LoadCase(id));
  if (expected_version != 0 && expected_version != c.version)
    return FailedPrecondition(fmt::format("version: case {} is at version {}, not {} (re-read it and retry)", id,
                                          c.version, expected_version));
  const CaseStatus from = c.status;
  RETURN_IF_ERROR(fn(c, ctx));
  if (ctx.audit.empty() && ctx.escalations.empty()) return c;  // nothing changed
  ++c.version;
  c.updated_at_ms = ctx.now;
  RETURN_IF_ERROR(WriteCase(&c, false));
  std::string actor;
  if (c.status != from) {
    for (const auto& e : ctx.audit)
      if (e.action == "transition") actor = e.actor;
    RETURN_IF_ERROR(WriteEvent(c, from, actor, ctx.now, ctx));
  }
  RETURN_IF_ERROR(WriteCtx(c, ctx));
  RETURN_IF_ERROR(step.Release());
  fx->timers.push_back(c);
  if (c.status != from) fx->events.push_back(CaseEvent{c, from, actor, ctx.now});
  fx->outbox += ctx.outbox;
  return c;
}

void CaseManager::ApplyEffects(const Effects& fx) {
  opened_->Inc(fx.opened);
  for (const Case& c : fx.timers) PushTimers(c);
  if (listener_)
    for (const CaseEvent& e : fx.events) listener_(e);
  if (fx.outbox > 0 && outbox_listener_) outbox_listener_();
}

// ---- SLA ----

void CaseManager::StartSla(Case& c) {
  auto it = policies_.find({static_cast<int>(c.severity), static_cast<int>(c.tier)});
  SlaPolicy p;
  if (it != policies_.end()) {
    p = it->second;
  } else {
    // Defaults (24×7) until policies are configured: critical 1 h / 8 h, high 4 h / 24 h,
    // medium 8 h / 72 h, low 24 h / 120 h; a high tier gets ¾ of that, vip ½.
    static constexpr int64_t kFr[] = {0, 24, 8, 4, 1}, kRes[] = {0, 120, 72, 24, 8};
    const int sev = static_cast<int>(c.severity);
    const int64_t num = c.tier == ValueTier::kVip ? 2 : c.tier == ValueTier::kHigh ? 3 : 4;
    p.first_response_ms = kFr[sev] * kHour * num / 4;
    p.resolution_ms = kRes[sev] * kHour * num / 4;
  }
  auto cal = CalendarOf(p.calendar);
  c.sla = SlaState{};
  c.sla.first_response_target_ms = p.first_response_ms;
  c.sla.resolution_target_ms = p.resolution_ms;
  c.sla.calendar = p.calendar;
  if (p.first_response_ms > 0) c.sla.first_response_due_ms = cal->AddBusiness(c.opened_at_ms, p.first_response_ms);
  if (p.resolution_ms > 0) c.sla.resolution_due_ms = cal->AddBusiness(c.opened_at_ms, p.resolution_ms);
}

void CaseManager::Breach(Case& c, uint8_t kind, int64_t at_ms, Ctx& ctx) {
  const bool fr = kind == kTimerFirstResponse;
  bool& flag = fr ? c.sla.first_response_breached : c.sla.resolution_breached;
  if (flag) return;
  flag = true;
  breaches_->Inc();
  ctx.audit.push_back({at_ms, "system", "breach", fr ? "first_response" : "resolution",
                       fmt::format("{}", fr ? c.sla.first_response_due_ms : c.sla.resolution_due_ms), ""});
  if (c.sla.breached_at_ms == 0) {
    c.sla.breached_at_ms = at_ms;
    c.sla.escalation_step = 0;
    RunEscalations(c, std::max(ctx.now, at_ms), ctx);
  }
}

void CaseManager::RunEscalations(Case& c, int64_t now, Ctx& ctx) {
  c.sla.next_escalation_ms = 0;
  if (c.sla.breached_at_ms == 0 || !IsOpen(c.status)) return;
  const std::string reason = c.sla.first_response_breached && !c.sla.resolution_breached ? "first_response_breach"
                                                                                        : "resolution_breach";
  while (c.sla.escalation_step < static_cast<int>(chain_.size())) {
    const EscalationStep& step = chain_[c.sla.escalation_step];
    const int64_t due = c.sla.breached_at_ms + step.after_ms;
    if (due > now) {
      c.sla.next_escalation_ms = due;
      return;
    }
    std::string team;
    if (auto a = agents_.find(c.assignee); a != agents_.end()) team = a->second.team;
    const Agent* to = FindAgentForLevel(step.level, team);
    EscalationRecord rec{due, step.level, step.reassign ? "reassign" : "notify", reason, to ? to->id : ""};
    ctx.escalations.push_back(rec);
    ctx.audit.push_back({due, "system", "escalate", "level", c.escalation_level ? std::string(Name(*c.escalation_level)) : "",
                         std::string(Name(step.level))});
    if (!c.escalation_level || *c.escalation_level < step.level) c.escalation_level = step.level;
    if (step.reassign && to != nullptr && to->id != c.assignee) {
      ctx.audit.push_back({due, "system", "assign", "assignee", c.assignee, to->id});
      c.assignee = to->id;
    }
    escalations_->Inc();
    ++c.sla.escalation_step;
  }
}

const Agent* CaseManager::FindAgentForLevel(AgentLevel level, const std::string& team) {
  const Agent* best = nullptr;
  int64_t best_load = 0;
  bool best_team = false;
  for (const auto& [id, a] : agents_) {
    if (!a.active || a.level != level) continue;
    const bool same_team = !team.empty() && a.team == team;
    auto load = OpenLoad(id);
    const int64_t l = load.ok() ? *load : 0;
    if (best == nullptr || (same_team && !best_team) || (same_team == best_team && l < best_load)) {
      best = &a;
      best_load = l;
      best_team = same_team;
    }
  }
  return best;
}

void CaseManager::NoteFirstResponse(Case& c, int64_t now, Ctx& ctx) {
  if (c.first_response_at_ms != 0) return;
  c.first_response_at_ms = now;
  if (c.sla.first_response_due_ms != 0 && now > c.sla.first_response_due_ms)
    Breach(c, kTimerFirstResponse, c.sla.first_response_due_ms + 1, ctx);
}

Status CaseManager::ApplyTransition(Case& c, CaseStatus to, const std::string& actor, Ctx& ctx) {
  const auto allowed = AllowedTransitions(c.status);
  if (std::find(allowed.begin(), allowed.end(), to) == allowed.end())
    return FailedPrecondition(fmt::format("status: case {} cannot move from {} to {}; allowed: {}", c.id, Name(c.status),
                                          Name(to), AllowedList(c.status)));
  const CaseStatus from = c.status;
  const int64_t now = ctx.now;
  auto cal = CalendarOf(c.sla.calendar);
  // Resolution clock: pause on entering waiting_on_customer, resume on leaving it.
  if (to == CaseStatus::kWaitingOnCustomer && c.sla.resolution_due_ms != 0) {
    if (now > c.sla.resolution_due_ms) Breach(c, kTimerResolution, c.sla.resolution_due_ms + 1, ctx);
    c.sla.resolution_remaining_ms = cal->BusinessBetween(now, c.sla.resolution_due_ms);
    c.sla.resolution_due_ms = 0;
    ctx.Audit("system", "sla_pause", "resolution_remaining_ms", "", fmt::format("{}", c.sla.resolution_remaining_ms));
  }
  if (from == CaseStatus::kWaitingOnCustomer && to != CaseStatus::kResolved && c.sla.resolution_target_ms > 0 &&
      !c.sla.resolution_breached) {
    c.sla.resolution_due_ms = cal->AddBusiness(now, c.sla.resolution_remaining_ms);
    ctx.Audit("system", "sla_resume", "resolution_due_ms", "", fmt::format("{}", c.sla.resolution_due_ms));
    c.sla.resolution_remaining_ms = 0;
  }
  if (to == CaseStatus::kInProgress || to == CaseStatus::kWaitingOnCustomer || to == CaseStatus::kResolved)
    NoteFirstResponse(c, now, ctx);
  if (to == CaseStatus::kResolved) {
    if (c.sla.resolution_due_ms != 0 && now > c.sla.resolution_due_ms)
      Breach(c, kTimerResolution, c.sla.resolution_due_ms + 1, ctx);
    c.sla.resolution_due_ms = 0;
    c.sla.resolution_remaining_ms = 0;
    c.sla.next_escalation_ms = 0;
    c.resolved_at_ms = now;
  }
  if (to == CaseStatus::kClosed) c.closed_at_ms = now;
  if (to == CaseStatus::kReopened) {
    ++c.reopen_count;
    c.closed_at_ms = 0;
    if (c.resolution) ctx.Audit(actor, "update", "resolution", std::string(Name(c.resolution->type)), "");
    c.resolution.reset();
    if (c.sla.resolution_target_ms > 0) c.sla.resolution_due_ms = cal->AddBusiness(now, c.sla.resolution_target_ms);
  }
  c.status = to;
  ctx.Audit(actor, "transition", "status", std::string(Name(from)), std::string(Name(to)));
  if (c.sla.breached_at_ms != 0 && IsOpen(c.status)) RunEscalations(c, now, ctx);
  return Status::Ok();
}

// ---- assignment ----

Result<int64_t> CaseManager::OpenLoad(const std::string& agent_id) {
  ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT COUNT(*) FROM cases WHERE assignee = ? AND status NOT IN (5, 6)"));
  q.Bind(1, agent_id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.Int64(0) : 0;
}

std::string CaseManager::PickAssignee(const std::string& category) {
  if (options_.assignment == AssignmentStrategy::kNone) return "";
  std::vector<const Agent*> skilled, any;
  for (const auto& [id, a] : agents_) {
    if (!a.active || a.level != AgentLevel::kAgent) continue;
    any.push_back(&a);
    bool match = a.skills.empty();
    for (const auto& s : a.skills) match = match || s == "*" || s == category;
    if (match) skilled.push_back(&a);
  }
  const auto& pool = skilled.empty() ? any : skilled;
  if (pool.empty()) return "";
  if (options_.assignment == AssignmentStrategy::kRoundRobin) {
    std::string& last = round_robin_[category];
    const Agent* pick = pool.front();
    for (const Agent* a : pool) {
      if (a->id > last) {
        pick = a;
        break;
      }
    }
    last = pick->id;
    return pick->id;
  }
  const Agent* best = nullptr;
  int64_t best_load = 0;
  for (const Agent* a : pool) {
    auto load = OpenLoad(a->id);
    const int64_t l = load.ok() ? *load : 0;
    if (best == nullptr || l < best_load) {
      best = a;
      best_load = l;
    }
  }
  return best->id;
}

// ---- CaseService ----

Result<Case> CaseManager::OpenCase(const NewCase& request) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
  Effects fx;
  ASSIGN_OR_RETURN(Case c, OpenInTx(request, clock_->NowMillis(), &fx));
  RETURN_IF_ERROR(tx.Commit());
  ApplyEffects(fx);
  return c;
}

Result<Case> CaseManager::OpenInTx(const NewCase& r, int64_t now, Effects* fx) {
  RETURN_IF_ERROR(CheckText("category", r.category, 200));
  RETURN_IF_ERROR(CheckText("channel", r.channel, 100));
  RETURN_IF_ERROR(CheckText("description", r.description, 20000));
  ASSIGN_OR_RETURN(uint64_t customer, ResolveCustomer(r.customer, r.customer_id));
  ASSIGN_OR_RETURN(auto step, entity::Savepoint::Begin(db_.get()));
  if (r.source_seq != 0) {
    // Idempotent on replay: an interaction opens at most one case.
    ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT id FROM cases WHERE source_seq = ?"));
    q.BindU64(1, r.source_seq);
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) {
      uint64_t id = q.U64(0);
      q.Reset();
      return LoadCase(id);
    }
  }
  Ctx ctx;
  ctx.now = now;
  Case c;
  c.customer = customer;
  c.channel = r.channel;
  c.category = r.category.empty() ? "uncategorised" : r.category;
  c.description = r.description;
  c.severity = r.severity;
  c.tier = r.tier.value_or(ValueTier::kStandard);
  std::optional<double> clv;
  if (!r.tier && clv_) {
    clv = clv_(customer);
    if (clv) c.tier = *clv >= thresholds_.vip ? ValueTier::kVip : *clv >= thresholds_.high ? ValueTier::kHigh : ValueTier::kStandard;
  }
  c.origin = r.origin;
  c.opened_at_ms = c.updated_at_ms = r.at_ms != 0 ? r.at_ms : now;
  c.message_id = r.message_id;
  c.source_seq = r.source_seq;
  {
    // Secondary error: an earlier case of this customer opened within the window.
    // Any id of the customer now, so a case opened while they were anonymous counts.
    ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT id FROM cases WHERE customer IN (SELECT value FROM json_each(?1)) "
                                          "AND opened_at >= ?2 AND opened_at <= ?3 ORDER BY opened_at DESC, id DESC LIMIT 1"));
    q.Bind(1, fmt::format("[{}]", fmt::join(MembersOf(Canonical(customer)), ",")))
        .Bind(2, c.opened_at_ms - options_.secondary_window_ms)
        .Bind(3, c.opened_at_ms);
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) c.secondary_of = q.U64(0);
  }
  StartSla(c);
  c.assignee = PickAssignee(c.category);
  ctx.Audit(r.actor, "open", "status", "", "new");
  if (clv) ctx.Audit("system", "tier_from_clv", "tier", fmt::format("{:.2f}", *clv), std::string(Name(c.tier)));
  if (!c.assignee.empty()) ctx.Audit("system", "assign", "assignee", "", c.assignee);
  if (c.secondary_of != 0) {
    ctx.Audit("system", "secondary_error", "secondary_of", "", fmt::format("{}", c.secondary_of));
    secondary_->Inc();
  }
  if (c.severity == Severity::kCritical) {
    const Agent* to = FindAgentForLevel(options_.critical_notify_level, "");
    ctx.escalations.push_back({now, options_.critical_notify_level, "notify", "severity", to ? to->id : ""});
    ctx.Audit("system", "escalate", "level", "", std::string(Name(options_.critical_notify_level)));
    c.escalation_level = options_.critical_notify_level;
    escalations_->Inc();
  }
  RETURN_IF_ERROR(WriteCase(&c, true));
  RETURN_IF_ERROR(WriteEvent(c, std::nullopt, r.actor, c.opened_at_ms, ctx));  // before its escalation notice
  RETURN_IF_ERROR(WriteCtx(c, ctx));
  RETURN_IF_ERROR(step.Release());
  ++fx->opened;
  fx->timers.push_back(c);
  fx->events.push_back(CaseEvent{c, std::nullopt, r.actor, c.opened_at_ms});
  fx->outbox += ctx.outbox;
  return c;
}

Result<CaseDetail> CaseManager::GetCase(uint64_t id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kDeferred));
  CaseDetail d;
  ASSIGN_OR_RETURN(d.c, LoadCase(id));
  {
    ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT at_ms, actor, action, field, old_value, new_value FROM case_audit "
                                          "WHERE case_id = ? ORDER BY id"));
    q.BindU64(1, id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      d.audit.push_back({q.Int64(0), std::string(q.Text(1)), std::string(q.Text(2)), std::string(q.Text(3)),
                         std::string(q.Text(4)), std::string(q.Text(5))});
    }
  }
  {
    ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT id, at_ms, author, body, public FROM case_comments WHERE case_id = ? "
                                          "ORDER BY id"));
    q.BindU64(1, id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      d.comments.push_back({q.U64(0), q.Int64(1), std::string(q.Text(2)), std::string(q.Text(3)), q.Int64(4) != 0});
    }
  }
  {
    ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT at_ms, level, action, reason, to_agent FROM case_escalations "
                                          "WHERE case_id = ? ORDER BY id"));
    q.BindU64(1, id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      d.escalations.push_back({q.Int64(0), static_cast<AgentLevel>(q.Int64(1)), std::string(q.Text(2)),
                               std::string(q.Text(3)), std::string(q.Text(4))});
    }
  }
  RETURN_IF_ERROR(tx.Commit());
  return d;
}

Result<CaseList> CaseManager::ListCases(const CaseFilter& f) {
  uint64_t customer = 0;
  std::vector<uint64_t> members;
  if (!f.customer.empty()) {
    ASSIGN_OR_RETURN(customer, ResolveCustomer(f.customer, 0));
    members = MembersOf(Canonical(customer));
  }
  const size_t limit = std::clamp<size_t>(f.limit, 1, 1000);
  std::string sql = fmt::format("SELECT {} FROM cases WHERE 1", kCaseCols);
  if (f.status) sql += " AND status = ?1";
  if (f.assignee) sql += " AND assignee = ?2";
  if (f.breached) sql += " AND breached = ?3";
  if (f.category) sql += " AND category = ?4";
  // Every id of the customer now: cases opened under an id that merged into it since are theirs.
  if (customer != 0) sql += " AND customer IN (SELECT value FROM json_each(?5))";
  if (f.before_id != 0) sql += " AND id < ?6";
  sql += " ORDER BY id DESC LIMIT ?7";
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto q, db_->Prepare(sql));
  if (f.status) q.Bind(1, static_cast<int64_t>(*f.status));
  if (f.assignee) q.Bind(2, *f.assignee);
  if (f.breached) q.Bind(3, static_cast<int64_t>(*f.breached ? 1 : 0));
  if (f.category) q.Bind(4, *f.category);
  if (customer != 0) q.Bind(5, fmt::format("[{}]", fmt::join(members, ",")));
  if (f.before_id != 0) q.BindU64(6, f.before_id);
  q.Bind(7, static_cast<int64_t>(limit + 1));
  CaseList out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.cases.push_back(ReadCase(q));
    out.cases.back().customer = Canonical(out.cases.back().customer);
  }
  if (out.cases.size() > limit) {
    out.cases.resize(limit);
    out.next_before = out.cases.back().id;
  }
  return out;
}

Result<Case> CaseManager::UpdateCase(uint64_t id, const CaseUpdate& u) {
  if (u.category) RETURN_IF_ERROR(CheckText("category", *u.category, 200));
  if (u.channel) RETURN_IF_ERROR(CheckText("channel", *u.channel, 100));
  if (u.description) RETURN_IF_ERROR(CheckText("description", *u.description, 20000));
  if (u.root_cause) RETURN_IF_ERROR(CheckText("rootCause", *u.root_cause, 200));
  return Mutate(id, u.expected_version, [&](Case& c, Ctx& ctx) {
    auto set = [&](const char* field, const std::optional<std::string>& v, std::string& dst) {
      if (!v || *v == dst) return;
      ctx.Audit(u.actor, "update", field, dst, *v);
      dst = *v;
    };
    set("category", u.category, c.category);
    set("channel", u.channel, c.channel);
    set("description", u.description, c.description);
    set("root_cause", u.root_cause, c.root_cause);
    // Severity and tier changes keep the SLA deadlines already running (documented in docs/cases.md).
    if (u.severity && *u.severity != c.severity) {
      ctx.Audit(u.actor, "update", "severity", std::string(Name(c.severity)), std::string(Name(*u.severity)));
      c.severity = *u.severity;
    }
    if (u.tier && *u.tier != c.tier) {
      ctx.Audit(u.actor, "update", "tier", std::string(Name(c.tier)), std::string(Name(*u.tier)));
      c.tier = *u.tier;
    }
    return Status::Ok();
  });
}

Result<Case> CaseManager::Transition(uint64_t id, const TransitionRequest& r) {
  if (r.resolution && (r.resolution->amount < 0 || !std::isfinite(r.resolution->amount)))
    return InvalidArgument("resolution.amount: must be a non-negative number");
  return Mutate(id, r.expected_version, [&](Case& c, Ctx& ctx) -> Status {
    if (r.to == CaseStatus::kResolved) {
      if (!r.resolution) return InvalidArgument("resolution: required to resolve a case (type and amount)");
      // Check the move first, so an invalid transition is reported as such.
      const auto allowed = AllowedTransitions(c.status);
      if (std::find(allowed.begin(), allowed.end(), CaseStatus::kResolved) == allowed.end())
        return ApplyTransition(c, r.to, r.actor, ctx);
      const Agent* agent = nullptr;
      if (auto a = agents_.find(r.actor); a != agents_.end()) agent = &a->second;
      else if (auto b = agents_.find(c.assignee); b != agents_.end()) agent = &b->second;
      const AgentLevel level = agent ? agent->level : AgentLevel::kAgent;
      if (!Can(level, r.resolution->amount)) {
        c.pending_resolution = r.resolution;
        c.pending_by = agent ? agent->id : r.actor;
        c.approval_level = RequiredLevel(r.resolution->amount);
        ctx.Audit(r.actor, "resolution_proposed", "resolution", "",
                  fmt::format("{} {} (needs {})", Name(r.resolution->type), AmountString(r.resolution->amount),
                              Name(*c.approval_level)));
        return Status::Ok();
      }
      c.resolution = r.resolution;
      c.pending_resolution.reset();
      c.approval_level.reset();
      c.pending_by.clear();
      ctx.Audit(r.actor, "update", "resolution", "",
                fmt::format("{} {}", Name(r.resolution->type), AmountString(r.resolution->amount)));
    }
    if (!r.note.empty()) ctx.Audit(r.actor, "note", "", "", r.note);
    return ApplyTransition(c, r.to, r.actor, ctx);
  });
}

Result<Case> CaseManager::Assign(uint64_t id, const std::string& agent_id, const std::string& actor,
                                 int64_t expected_version) {
  return Mutate(id, expected_version, [&](Case& c, Ctx& ctx) -> Status {
    if (!agent_id.empty()) {
      auto a = agents_.find(agent_id);
      if (a == agents_.end()) return NotFound(fmt::format("agent: '{}' is not an agent", agent_id));
      if (!a->second.active) return FailedPrecondition(fmt::format("agent: '{}' is not active", agent_id));
    }
    if (agent_id == c.assignee) return Status::Ok();
    ctx.Audit(actor, "assign", "assignee", c.assignee, agent_id);
    c.assignee = agent_id;
    return Status::Ok();
  });
}

Result<CaseComment> CaseManager::AddComment(uint64_t id, const CaseComment& comment) {
  if (comment.body.empty()) return InvalidArgument("body: required");
  RETURN_IF_ERROR(CheckText("body", comment.body, 20000));
  CaseComment out = comment;
  auto r = Mutate(id, 0, [&](Case& c, Ctx& ctx) -> Status {
    ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT INTO case_comments (case_id, at_ms, author, body, public) VALUES (?,?,?,?,?)"));
    s.BindU64(1, c.id).Bind(2, ctx.now).Bind(3, comment.author).Bind(4, comment.body).Bind(5, comment.is_public ? 1 : 0);
    RETURN_IF_ERROR(s.Run());
    out.id = static_cast<uint64_t>(db_->last_insert_rowid());
    out.at_ms = ctx.now;
    ctx.Audit(comment.author, "comment", "", "", fmt::format("{}", out.id));
    if (comment.is_public && agents_.contains(comment.author)) NoteFirstResponse(c, ctx.now, ctx);
    return Status::Ok();
  });
  if (!r.ok()) return r.status();
  return out;
}

Result<Case> CaseManager::Approve(uint64_t id, const std::string& approver) {
  return Mutate(id, 0, [&](Case& c, Ctx& ctx) -> Status {
    auto a = agents_.find(approver);
    if (a == agents_.end()) return NotFound(fmt::format("approver: '{}' is not an agent", approver));
    if (!c.pending_resolution) return FailedPrecondition(fmt::format("case {} has no resolution awaiting approval", id));
    const double amount = c.pending_resolution->amount;
    if (!Can(a->second.level, amount))
      return PermissionDenied(fmt::format("approver: {} ({}, limit {}) cannot approve {}; needs {} or above", approver,
                                          Name(a->second.level), AmountString(LimitOf(a->second.level)),
                                          AmountString(amount), Name(RequiredLevel(amount))));
    c.resolution = c.pending_resolution;
    c.pending_resolution.reset();
    c.approval_level.reset();
    ctx.Audit(approver, "approve", "resolution", c.pending_by,
              fmt::format("{} {}", Name(c.resolution->type), AmountString(amount)));
    c.pending_by.clear();
    return ApplyTransition(c, CaseStatus::kResolved, approver, ctx);
  });
}

Result<Agent> CaseManager::PutAgent(const Agent& agent) {
  if (!ValidAgentId(agent.id)) return InvalidArgument("id: 1..64 characters of [A-Za-z0-9._@-]");
  RETURN_IF_ERROR(CheckText("name", agent.name, 200));
  RETURN_IF_ERROR(CheckText("team", agent.team, 200));
  for (const auto& s : agent.skills)
    if (s.empty() || s.find(',') != std::string::npos) return InvalidArgument("skills: each skill is a non-empty name without ','");
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT OR REPLACE INTO agents (id, name, team, level, skills, active) VALUES (?,?,?,?,?,?)"));
  s.Bind(1, agent.id).Bind(2, agent.name).Bind(3, agent.team).Bind(4, static_cast<int64_t>(agent.level));
  s.Bind(5, JoinSkills(agent.skills)).Bind(6, agent.active ? 1 : 0);
  RETURN_IF_ERROR(s.Run());
  agents_[agent.id] = agent;
  return agent;
}

Result<std::vector<Agent>> CaseManager::ListAgents() {
  std::lock_guard lock(mu_);
  std::vector<Agent> out;
  for (const auto& [id, a] : agents_) out.push_back(a);
  return out;
}

Status CaseManager::SetAuthorityLimit(AgentLevel level, double limit) {
  if (!std::isfinite(limit)) return InvalidArgument("limit: must be a number");
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT OR REPLACE INTO authority_limits (level, max_amount) VALUES (?, ?)"));
  s.Bind(1, static_cast<int64_t>(level)).Bind(2, AmountString(limit));
  RETURN_IF_ERROR(s.Run());
  limits_[static_cast<int>(level)] = limit;
  return Status::Ok();
}

Result<std::vector<std::pair<AgentLevel, double>>> CaseManager::AuthorityLimits() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<AgentLevel, double>> out;
  for (int l = 1; l <= 5; ++l) out.emplace_back(static_cast<AgentLevel>(l), limits_[l]);
  return out;
}

Status CaseManager::PutPolicy(const SlaPolicy& p) {
  if (p.first_response_ms < 0) return InvalidArgument("firstResponseMinutes: must not be negative");
  if (p.resolution_ms < 0) return InvalidArgument("resolutionMinutes: must not be negative");
  std::lock_guard lock(mu_);
  if (!p.calendar.empty() && !calendars_.contains(p.calendar))
    return InvalidArgument(fmt::format("calendar: '{}' is not a calendar (PUT it first)", p.calendar));
  ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT OR REPLACE INTO sla_policies (severity, tier, first_response_ms, "
                                        "resolution_ms, calendar) VALUES (?,?,?,?,?)"));
  s.Bind(1, static_cast<int64_t>(p.severity)).Bind(2, static_cast<int64_t>(p.tier)).Bind(3, p.first_response_ms);
  s.Bind(4, p.resolution_ms).Bind(5, p.calendar);
  RETURN_IF_ERROR(s.Run());
  policies_[{static_cast<int>(p.severity), static_cast<int>(p.tier)}] = p;
  return Status::Ok();
}

Result<std::vector<SlaPolicy>> CaseManager::ListPolicies() {
  std::lock_guard lock(mu_);
  std::vector<SlaPolicy> out;
  for (const auto& [k, p] : policies_) out.push_back(p);
  return out;
}

Status CaseManager::PutCalendar(const CalendarSpec& spec) {
  if (!ValidAgentId(spec.name)) return InvalidArgument("name: 1..64 characters of [A-Za-z0-9._@-]");
  ASSIGN_OR_RETURN(auto cal, BusinessCalendar::Create(spec));
  std::string holidays;
  for (const auto& h : spec.holidays) holidays += (holidays.empty() ? "" : ",") + h;
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT OR REPLACE INTO calendars (name, timezone, hours, holidays) VALUES (?,?,?,?)"));
  s.Bind(1, spec.name).Bind(2, spec.timezone).Bind(3, EncodeHours(cal->spec())).Bind(4, holidays);
  RETURN_IF_ERROR(s.Run());
  calendars_[spec.name] = cal;
  return Status::Ok();
}

Result<std::vector<CalendarSpec>> CaseManager::ListCalendars() {
  std::lock_guard lock(mu_);
  std::vector<CalendarSpec> out;
  for (const auto& [name, c] : calendars_) out.push_back(c->spec());
  return out;
}

Status CaseManager::SetEscalationChain(const std::vector<EscalationStep>& steps) {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].after_ms < 0) return InvalidArgument(fmt::format("steps[{}].afterMinutes: must not be negative", i));
    if (i > 0 && steps[i].after_ms < steps[i - 1].after_ms)
      return InvalidArgument(fmt::format("steps[{}].afterMinutes: steps must be in time order", i));
  }
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
  RETURN_IF_ERROR(db_->Exec("DELETE FROM escalation_steps"));
  for (size_t i = 0; i < steps.size(); ++i) {
    ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT INTO escalation_steps (idx, after_ms, level, reassign) VALUES (?,?,?,?)"));
    s.Bind(1, static_cast<int64_t>(i)).Bind(2, steps[i].after_ms).Bind(3, static_cast<int64_t>(steps[i].level));
    s.Bind(4, steps[i].reassign ? 1 : 0);
    RETURN_IF_ERROR(s.Run());
  }
  RETURN_IF_ERROR(tx.Commit());
  chain_ = steps;
  return Status::Ok();
}

Result<std::vector<EscalationStep>> CaseManager::EscalationChain() {
  std::lock_guard lock(mu_);
  return chain_;
}

Result<size_t> CaseManager::CheckBreaches(int64_t now_ms) {
  // Due instants are on time: a timer fires only once `now` is past its due time. Everything due
  // (up to kMaxPerRound) is applied in one transaction: one fsync per round, not per case.
  constexpr size_t kMaxPerRound = 10000;
  std::lock_guard lock(mu_);
  if (timers_.empty() || timers_.top().due >= now_ms) return size_t{0};
  std::vector<Timer> popped;
  std::map<uint64_t, Case> touched;  // cases changed this round
  size_t fired = 0;
  int outbox = 0;  // outbox rows written this round
  Status s = [&]() -> Status {
    ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
    while (!timers_.empty() && timers_.top().due < now_ms && popped.size() < kMaxPerRound) {
      const Timer t = timers_.top();
      timers_.pop();
      popped.push_back(t);
      auto it = touched.find(t.case_id);
      Case c;
      if (it != touched.end()) {
        c = it->second;
      } else {
        auto loaded = LoadCase(t.case_id);
        if (!loaded.ok()) {
          if (loaded.status().Is(Code::kNotFound)) continue;
          return loaded.status();
        }
        c = std::move(loaded).value();
      }
      if (!IsOpen(c.status)) continue;
      Ctx ctx;
      ctx.now = now_ms;
      switch (t.kind) {
        case kTimerFirstResponse:
          if (c.first_response_at_ms == 0 && c.sla.first_response_due_ms == t.due)
            Breach(c, kTimerFirstResponse, t.due + 1, ctx);
          break;
        case kTimerResolution:
          if (c.sla.resolution_due_ms == t.due) Breach(c, kTimerResolution, t.due + 1, ctx);
          break;
        case kTimerEscalation:
          if (c.sla.next_escalation_ms == t.due) RunEscalations(c, now_ms, ctx);
          break;
      }
      if (ctx.audit.empty() && ctx.escalations.empty()) continue;  // stale entry
      ++c.version;
      c.updated_at_ms = now_ms;
      RETURN_IF_ERROR(WriteCase(&c, false));
      RETURN_IF_ERROR(WriteCtx(c, ctx));
      outbox += ctx.outbox;
      touched[c.id] = c;
      ++fired;
    }
    return tx.Commit();
  }();
  if (!s.ok()) {
    for (const Timer& t : popped) timers_.push(t);  // rolled back: try again next round
    return s;
  }
  for (const auto& [id, c] : touched) PushTimers(c);
  if (outbox > 0 && outbox_listener_) outbox_listener_();
  return fired;
}

Result<ComplaintAnalysis> CaseManager::Analyze(int64_t from_ms, int64_t to_ms) {
  ComplaintAnalysis a;
  std::map<std::string, int64_t> categories, causes;
  std::map<std::string, SlaAttainment> agents, teams;
  std::vector<double> hours;
  std::unordered_set<uint64_t> complained, well, poor;
  std::vector<uint64_t> resolved_ids;
  {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT id, customer, category, root_cause, status, assignee, opened_at, "
                                          "first_response_at, resolved_at, fr_due, fr_breached, res_target, "
                                          "res_breached, secondary_of, reopen_count FROM cases "
                                          "WHERE opened_at >= ? AND opened_at < ?"));
    q.Bind(1, from_ms).Bind(2, to_ms);
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      const uint64_t id = q.U64(0), customer = q.U64(1);
      const auto status = static_cast<CaseStatus>(q.Int64(4));
      const std::string assignee(q.Text(5));
      const int64_t opened = q.Int64(6), first = q.Int64(7), resolved = q.Int64(8), fr_due = q.Int64(9);
      const bool fr_breached = q.Int64(10) != 0, res_breached = q.Int64(12) != 0;
      const int64_t res_target = q.Int64(11);
      ++a.cases;
      IsOpen(status) ? ++a.open : ++a.resolved;
      ++categories[std::string(q.Text(2))];
      if (!q.Text(3).empty()) ++causes[std::string(q.Text(3))];
      if (q.U64(13) != 0) ++a.secondary;
      if (resolved != 0 && !IsOpen(status)) {
        hours.push_back(static_cast<double>(resolved - opened) / kHour);
        resolved_ids.push_back(id);
      }
      const uint64_t canon = options_.canonical ? options_.canonical(customer) : customer;
      complained.insert(canon);
      if (!IsOpen(status) && !res_breached && q.Int64(14) == 0) well.insert(canon);
      if (res_breached || fr_breached || q.Int64(14) > 0) poor.insert(canon);
      SlaAttainment s;
      if (fr_due != 0 && (first != 0 || fr_breached)) {
        s.first_response_total = 1;
        s.first_response_met = fr_breached ? 0 : 1;
      }
      if (res_target != 0 && (!IsOpen(status) || res_breached)) {
        s.resolution_total = 1;
        s.resolution_met = res_breached ? 0 : 1;
      }
      std::string team;
      if (auto it = agents_.find(assignee); it != agents_.end()) team = it->second.team;
      for (SlaAttainment* t : {&agents[assignee], &teams[team]}) {
        ++t->cases;
        t->first_response_met += s.first_response_met;
        t->first_response_total += s.first_response_total;
        t->resolution_met += s.resolution_met;
        t->resolution_total += s.resolution_total;
      }
    }
  }
  auto pareto = [&](const std::map<std::string, int64_t>& m) {
    std::vector<ParetoRow> rows;
    int64_t total = 0;
    for (const auto& [k, n] : m) {
      rows.push_back({k, n});
      total += n;
    }
    std::stable_sort(rows.begin(), rows.end(), [](const ParetoRow& x, const ParetoRow& y) { return x.count > y.count; });
    double cum = 0;
    for (auto& r : rows) {
      r.share = total ? 100.0 * r.count / total : 0;
      cum += r.share;
      r.cumulative = cum;
    }
    return rows;
  };
  a.categories = pareto(categories);
  a.root_causes = pareto(causes);
  if (!hours.empty()) {
    double sum = 0;
    for (double h : hours) sum += h;
    a.mean_resolution_hours = sum / hours.size();
    std::sort(hours.begin(), hours.end());
    const size_t n = hours.size();
    a.median_resolution_hours = n % 2 ? hours[n / 2] : (hours[n / 2 - 1] + hours[n / 2]) / 2;
  }
  a.secondary_rate = a.cases ? 100.0 * a.secondary / a.cases : 0;
  int64_t met = 0, total = 0;
  auto finish = [&](std::map<std::string, SlaAttainment>& m, std::vector<SlaAttainment>* out, bool count) {
    for (auto& [k, s] : m) {
      s.key = k;
      const int64_t t = s.first_response_total + s.resolution_total;
      s.attainment = t ? 100.0 * (s.first_response_met + s.resolution_met) / t : 0;
      if (count) {
        met += s.first_response_met + s.resolution_met;
        total += t;
      }
      out->push_back(s);
    }
  };
  finish(agents, &a.by_agent, true);
  finish(teams, &a.by_team, false);
  a.sla_attainment = total ? 100.0 * met / total : 0;
  ASSIGN_OR_RETURN(auto csat, feedback_->CsatByCase());
  feedback::CsatStats cs;
  for (uint64_t id : resolved_ids)
    if (auto it = csat.find(id); it != csat.end()) cs.Add(it->second);
  cs.Finish();
  a.csat_responses = cs.responses;
  a.csat_after_resolution = cs.csat;
  // Recovery: NPS (all time) of well-resolved complainants vs those who never complained.
  for (uint64_t c : poor) well.erase(c);
  // Answers carry the customer id of when they were recorded: widen each set to every id of its
  // customer now, so merges since do not move anyone between the groups.
  auto widen = [&](std::unordered_set<uint64_t>& set) {
    std::vector<uint64_t> roots(set.begin(), set.end());
    for (uint64_t root : roots)
      for (uint64_t m : MembersOf(root)) set.insert(m);
  };
  widen(well);
  widen(poor);
  widen(complained);
  feedback::ScoreQuery nq;
  nq.include_customers = &well;
  auto w = feedback_->Scores(nq);
  nq.include_customers = &poor;
  auto p = feedback_->Scores(nq);
  nq.include_customers = nullptr;
  nq.exclude_customers = &complained;
  auto never = feedback_->Scores(nq);
  a.recovery = {w.total.nps.nps, never.total.nps.nps, p.total.nps.nps,
                w.total.nps.responses, never.total.nps.responses, p.total.nps.responses};
  return a;
}

// ---- FeedbackService ----

Result<feedback::RecordedSurvey> CaseManager::RecordSurvey(const feedback::SurveyInput& input) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
  ASSIGN_OR_RETURN(auto answers, feedback_->BeginWrite());
  Effects fx;
  ASSIGN_OR_RETURN(auto out, RecordSurveyInTx(input, answers, &fx));
  // feedback.db first: an answer whose case did not commit is completed by a replay (both keyed by
  // the interaction's seq), never a case without its answer.
  RETURN_IF_ERROR(answers.Commit());
  RETURN_IF_ERROR(tx.Commit());
  ApplyEffects(fx);
  return out;
}

Result<feedback::RecordedSurvey> CaseManager::RecordSurveyInTx(const feedback::SurveyInput& input,
                                                               feedback::FeedbackStore::Writer& answers, Effects* fx) {
  feedback::SurveyResponse r = input.response;
  RETURN_IF_ERROR(feedback::ValidateScore(r.kind, r.score));
  RETURN_IF_ERROR(CheckText("comment", r.comment, 20000));
  if (!input.customer.empty() || r.customer != 0) {
    ASSIGN_OR_RETURN(r.customer, ResolveCustomer(input.customer, r.customer));
  }
  if (r.at_ms == 0) r.at_ms = clock_->NowMillis();
  // The category a detractor's own case gets: the answer's, never one derived below.
  const std::string given_category = r.case_category;
  if (r.case_category.empty()) {
    // The answer's case category (docs/cases.md "Surveys"): the case it is about, else the
    // customer's latest case opened at or before the answer (any of their ids), else none.
    // Cases opened earlier in the same transaction count (one connection sees its own writes).
    if (r.case_id != 0) {
      auto c = LoadCase(r.case_id);
      if (c.ok()) r.case_category = c->category;
    } else if (r.customer != 0) {
      ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT category FROM cases WHERE customer IN (SELECT value FROM json_each(?1)) "
                                            "AND opened_at <= ?2 ORDER BY opened_at DESC, id DESC LIMIT 1"));
      q.Bind(1, fmt::format("[{}]", fmt::join(MembersOf(Canonical(r.customer)), ","))).Bind(2, r.at_ms);
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) r.case_category = q.Text(0);
    }
  }
  // A detractor (NPS 0–6, CSAT 1–2, CES 1–3) who wrote a comment gets a case (below). Its fields
  // are checked before the answer is recorded, so a refused case never leaves the answer behind.
  const bool opens_case = r.customer != 0 && !r.comment.empty() && feedback::BandOf(r.kind, r.score) == feedback::Band::kLow;
  if (opens_case) {
    RETURN_IF_ERROR(CheckText("channel", r.channel, 100));
    RETURN_IF_ERROR(CheckText("category", given_category, 200));
  }
  feedback::RecordedSurvey out;
  ASSIGN_OR_RETURN(out.id, answers.Record(r));
  if (r.case_id != 0) {
    // The answer joins the case's audit trail (once: a replayed answer has the same id).
    const std::string field = fmt::format("response:{}", out.id);
    auto linked = MutateInTx(r.case_id, 0, [&](Case& c, Ctx& ctx) -> Status {
      ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT 1 FROM case_audit WHERE case_id = ? AND action = 'survey' AND field = ?"));
      q.BindU64(1, c.id).Bind(2, field);
      ASSIGN_OR_RETURN(bool seen, q.Step());
      if (!seen) ctx.Audit("customer", "survey", field, "", fmt::format("{} {}", feedback::SurveyKindName(r.kind), r.score));
      return Status::Ok();
    }, fx);
    if (!linked.ok() && !linked.status().Is(Code::kNotFound)) return linked.status();
  }
  if (opens_case) {
    NewCase nc;
    nc.customer_id = r.customer;
    nc.channel = r.channel;
    nc.category = !given_category.empty() ? given_category
                  : r.case_id != 0 && !r.case_category.empty() ? r.case_category
                                                                : "survey_detractor";
    nc.description = r.comment;
    nc.severity = r.kind == feedback::SurveyKind::kNps && r.score <= 3 ? Severity::kHigh : Severity::kMedium;
    nc.origin = "survey";
    nc.actor = "system";
    nc.message_id = r.message_id;
    // Its own idempotence key: the survey's seq with the top bit set, so a replayed answer opens
    // the same case once (a Complaint Filed interaction uses its plain seq).
    nc.source_seq = r.source_seq != 0 ? (r.source_seq | (1ULL << 62)) : 0;
    nc.at_ms = r.source_seq != 0 ? r.at_ms : 0;
    ASSIGN_OR_RETURN(Case c, OpenInTx(nc, clock_->NowMillis(), fx));
    out.case_id = c.id;
  }
  return out;
}

std::vector<Status> CaseManager::ApplyStream(const std::vector<StreamWrite>& writes) {
  std::vector<Status> results(writes.size());
  if (writes.empty()) return results;
  Status together = [&]() -> Status {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
    ASSIGN_OR_RETURN(auto answers, feedback_->BeginWrite());
    Effects fx;
    for (size_t i = 0; i < writes.size(); ++i) {
      if (const auto* nc = std::get_if<NewCase>(&writes[i])) {
        results[i] = OpenInTx(*nc, clock_->NowMillis(), &fx).status();
      } else {
        results[i] = RecordSurveyInTx(std::get<feedback::SurveyInput>(writes[i]), answers, &fx).status();
      }
      // Some errors (disk full, I/O) make SQLite roll the whole transaction back by itself; what
      // followed would then run outside it, one statement at a time. Stop and go one by one.
      if (!results[i].ok() && (!db_->in_transaction() || !answers.in_transaction()))
        return results[i].WithContext("the stream's transaction was rolled back");
    }
    // feedback.db first: an answer whose case did not commit is completed by a replay (both keyed
    // by the interaction's seq), never a case without its answer.
    RETURN_IF_ERROR(answers.Commit());
    RETURN_IF_ERROR(tx.Commit());
    ApplyEffects(fx);
    return Status::Ok();
  }();
  if (together.ok()) return results;
  // Nothing of it is in cases.db (maybe in feedback.db, if only the second commit failed): each
  // write again in its own transactions, as idempotent as ever (stream writes carry their seq).
  LOG_EVERY_N_SEC(kWarn, 10, "cases: one transaction for {} stream writes failed, writing them one by one: {}",
                  writes.size(), together.ToString());
  for (size_t i = 0; i < writes.size(); ++i) {
    if (const auto* nc = std::get_if<NewCase>(&writes[i])) results[i] = OpenCase(*nc).status();
    else results[i] = RecordSurvey(std::get<feedback::SurveyInput>(writes[i])).status();
  }
  return results;
}

Result<feedback::ScoreReport> CaseManager::Scores(const feedback::ScoreQuery& query) {
  feedback::ScoreQuery q = query;
  {
    std::lock_guard lock(mu_);
    if (!q.persona_of && !q.phase_of) {
      q.persona_of = persona_of_;
      q.phase_of = phase_of_;
      q.dimension_max_age_ms = options_.survey_dimension_max_age_ms;
      q.now_ms = clock_->NowMillis();
      q.dimension_source = dimension_source_;
    }
  }
  return feedback_->Scores(q);
}

Result<feedback::CommentThemes> CaseManager::Themes(feedback::SurveyKind kind, int64_t from_ms, int64_t to_ms, size_t top) {
  return feedback_->Themes(kind, from_ms, to_ms, top);
}

Result<size_t> CaseManager::EraseCustomers(const std::vector<uint64_t>& customers) {
  size_t n = 0;
  {
    std::lock_guard lock(mu_);
    RETURN_IF_ERROR(db_->SecureDelete());
    ASSIGN_OR_RETURN(entity::Transaction txn, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
    std::vector<int64_t> case_ids;
    for (uint64_t c : customers) {
      ASSIGN_OR_RETURN(entity::Stmt q, db_->Prepare("SELECT id FROM cases WHERE customer = ?1"));
      q.BindU64(1, c);
      while (true) {
        ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        case_ids.push_back(q.Int64(0));
      }
    }
    static constexpr std::string_view kScrub[] = {
        "UPDATE cases SET customer = 0, description = '', root_cause = '', message_id = '' WHERE id = ?1",
        "DELETE FROM case_comments WHERE case_id = ?1",
        "UPDATE case_audit SET old_value = '', new_value = '' WHERE case_id = ?1",
        "UPDATE case_escalations SET reason = '' WHERE case_id = ?1",
        "DELETE FROM case_outbox WHERE case_id = ?1",  // nothing more is sent about an erased customer
    };
    for (int64_t id : case_ids)
      for (std::string_view sql : kScrub) {
        ASSIGN_OR_RETURN(entity::Stmt st, db_->Prepare(sql));
        RETURN_IF_ERROR(st.Bind(1, id).Run());
      }
    RETURN_IF_ERROR(txn.Commit());
    RETURN_IF_ERROR(db_->Scrub());
    n = case_ids.size();
  }
  RETURN_IF_ERROR(feedback_->EraseCustomers(customers));
  return n;
}

}  // namespace cairn::cases
