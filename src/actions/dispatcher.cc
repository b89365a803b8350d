#include "actions/dispatcher.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "actions/webhook.h"
#include "base/json_string.h"
#include "base/logging.h"
#include "base/thread_name.h"

namespace cairn::actions {

namespace {

constexpr uint32_t kApplicationId = 0x43414354;  // "CACT"

// Schema version 1 (docs/format/rescue-actions.md). Never edit a released step: add a new one.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE actions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key TEXT NOT NULL UNIQUE,
  customer INTEGER NOT NULL,
  customer_key TEXT NOT NULL,
  name TEXT NOT NULL,
  purpose TEXT NOT NULL,
  channel TEXT NOT NULL,
  critical TEXT NOT NULL,
  customer_value REAL NOT NULL,
  expected_gain REAL NOT NULL,
  time_zone TEXT NOT NULL,
  payload TEXT NOT NULL,
  source_ref TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending','sending','delivered','blocked','suppressed','dead_letter')),
  created_at_ms INTEGER NOT NULL,
  not_before_ms INTEGER NOT NULL,
  admitted_at_ms INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  delivered_at_ms INTEGER NOT NULL DEFAULT 0,
  endpoint TEXT NOT NULL
);
CREATE INDEX actions_by_status ON actions (status, next_attempt_ms);
CREATE INDEX actions_by_customer ON actions (customer, admitted_at_ms);
CREATE TABLE attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  action_id INTEGER NOT NULL REFERENCES actions (id),
  attempt INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  http_status INTEGER NOT NULL,
  error TEXT NOT NULL,
  duration_ms INTEGER NOT NULL
);
CREATE INDEX attempts_by_action ON attempts (action_id, id);
CREATE TABLE gate_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  action_id INTEGER NOT NULL REFERENCES actions (id),
  at_ms INTEGER NOT NULL,
  gate TEXT NOT NULL,
  verdict TEXT NOT NULL CHECK (verdict IN ('pass','block','defer','suppress')),
  detail TEXT NOT NULL
);
CREATE INDEX gate_log_by_action ON gate_log (action_id, id);
)sql";

// Schema version 2: staff notices (ActionRequest::audience). Version-1 rows are customer actions.
constexpr std::string_view kSchemaV2 = R"sql(
ALTER TABLE actions ADD COLUMN audience TEXT NOT NULL DEFAULT 'customer' CHECK (audience IN ('customer','staff'));
)sql";

constexpr std::string_view kColumns =
    "id, idempotency_key, customer, customer_key, name, purpose, channel, critical, customer_value, expected_gain, "
    "time_zone, payload, source_ref, status, created_at_ms, not_before_ms, next_attempt_ms, attempts, last_error, "
    "delivered_at_ms, endpoint, audience";

std::string Num(double v) { return fmt::format("{}", v); }
double ReadNum(const entity::Stmt& s, int col) {
  std::string_view t = s.Text(col);
  double v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

ActionRecord ReadRecord(const entity::Stmt& s) {
  ActionRecord a;
  a.id = s.Int64(0);
  a.request.idempotency_key = std::string(s.Text(1));
  a.request.customer = s.U64(2);
  a.request.customer_key = std::string(s.Text(3));
  a.request.name = std::string(s.Text(4));
  a.request.purpose = std::string(s.Text(5));
  a.request.channel = std::string(s.Text(6));
  a.request.critical = std::string(s.Text(7));
  a.request.customer_value = ReadNum(s, 8);
  a.request.expected_gain = ReadNum(s, 9);
  a.request.time_zone = std::string(s.Text(10));
  a.request.payload_json = std::string(s.Text(11));
  a.request.source_ref = std::string(s.Text(12));
  ParseActionStatus(s.Text(13), &a.status);
  a.created_at_ms = s.Int64(14);
  a.not_before_ms = s.Int64(15);
  a.next_attempt_ms = s.Int64(16);
  a.attempts = static_cast<int>(s.Int64(17));
  a.last_error = std::string(s.Text(18));
  a.delivered_at_ms = s.Int64(19);
  a.endpoint = std::string(s.Text(20));
  a.request.audience = s.Text(21) == "staff" ? Audience::kStaff : Audience::kCustomer;
  return a;
}

constexpr std::string_view kStaffGate =
    "a notice to staff, not a message to the customer: consent, channel constraints, quiet hours and the "
    "frequency cap do not apply";

bool Retryable(int http_status) {
  return http_status == 0 || http_status == 408 || http_status == 429 || http_status >= 500;
}

}  // namespace

Result<std::unique_ptr<Dispatcher>> Dispatcher::Open(DispatcherOptions options) {
  if (options.path.empty()) return InvalidArgument("actions: path of actions.db is required");
  std::shared_ptr<const TlsContext> tls;
  if (!options.endpoint.url.empty()) {
    auto url = ParseHttpUrl(options.endpoint.url);
    RETURN_IF_ERROR(url.status().WithContext("actions.webhook"));
    if (options.endpoint.secret.empty()) return InvalidArgument("actions.webhook.secret: required with a webhook url");
    if (url->tls) {
      // Loaded once: reading the system store per delivery would cost milliseconds each time.
      auto made = TlsContext::Create({options.endpoint.ca_file});
      RETURN_IF_ERROR(made.status().WithContext("actions.webhook"));
      tls = std::move(*made);
    } else if (!options.endpoint.ca_file.empty()) {
      return InvalidArgument("actions.webhook.ca_file: only applies to an https url");
    }
  }
  if (options.endpoint.timeout_ms <= 0) return InvalidArgument("actions.webhook.timeout: must be positive");
  const auto& r = options.retry;
  if (r.max_attempts < 1) return InvalidArgument("actions.retry.max_attempts: must be >= 1");
  if (r.initial_backoff_ms < 1 || r.max_backoff_ms < r.initial_backoff_ms) {
    return InvalidArgument("actions.retry: need 1 <= initial_backoff <= max_backoff");
  }
  if (!(r.multiplier >= 1)) return InvalidArgument("actions.retry.multiplier: must be >= 1");
  if (options.quiet.start_minute < 0 || options.quiet.start_minute >= 1440 || options.quiet.end_minute < 0 ||
      options.quiet.end_minute >= 1440) {
    return InvalidArgument("actions.quiet_hours: start and end must be times of day (00:00–23:59)");
  }
  RETURN_IF_ERROR(QuietUntil(options.quiet, "", 0).status().WithContext("actions.quiet_hours.default_time_zone"));
  if (options.cap.max_actions < 0 || options.cap.window_ms <= 0 || options.cap.arbitration_delay_ms < 0) {
    return InvalidArgument("actions.frequency_cap: max_actions >= 0, window > 0, arbitration_delay >= 0");
  }
  ASSIGN_OR_RETURN(auto db, entity::SqliteDb::Open(options.path, {}));
  RETURN_IF_ERROR(db->Migrate(kApplicationId, {kSchemaV1, kSchemaV2}));
  std::unique_ptr<Dispatcher> d(new Dispatcher(std::move(options), std::move(db)));
  d->tls_ = std::move(tls);
  if (d->options_.start_thread) d->thread_ = std::thread([p = d.get()] {
      NameThisThread("action-send");
      p->Loop();
    });
  return d;
}

Dispatcher::Dispatcher(DispatcherOptions options, std::unique_ptr<entity::SqliteDb> db)
    : options_(std::move(options)), db_(std::move(db)) {
  if (options_.clock == nullptr) options_.clock = Clock::Real();
  if (options_.metrics == nullptr) options_.metrics = metrics::Registry::Default();
  rng_.seed(options_.jitter_seed ? options_.jitter_seed : std::random_device{}());
  auto* m = options_.metrics;
  const std::string help = "Actions by outcome.";
  delivered_ = m->GetCounter("cairn_actions_total", help, "outcome=\"delivered\"");
  dead_lettered_ = m->GetCounter("cairn_actions_total", help, "outcome=\"dead_letter\"");
  blocked_ = m->GetCounter("cairn_actions_total", help, "outcome=\"blocked\"");
  suppressed_ = m->GetCounter("cairn_actions_total", help, "outcome=\"suppressed\"");
  deferred_ = m->GetCounter("cairn_actions_deferred_total", "Actions held back by quiet hours.");
  failed_attempts_ = m->GetCounter("cairn_webhook_failed_attempts_total", "Webhook attempts without a 2xx answer.");
}

Dispatcher::~Dispatcher() { Close(); }

void Dispatcher::Close() {
  {
    std::lock_guard lock(wake_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Dispatcher::Loop() {
  while (true) {
    const int64_t now = options_.clock->NowMillis();
    auto ran = RunDue(now);
    if (!ran.ok()) LOG_EVERY_N_SEC(kWarn, 10, "actions: dispatch pass failed: {}", ran.status().ToString());
    int64_t next;
    {
      std::lock_guard lock(mu_);
      auto due = NextDueLocked();
      next = due.ok() ? *due : now + 1000;
    }
    std::unique_lock lock(wake_mu_);
    const int64_t wait_ms = std::clamp<int64_t>(next - options_.clock->NowMillis(), 0, 1000);
    wake_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return stop_ || kicked_; });
    if (stop_) return;
    kicked_ = false;
  }
}

Result<int64_t> Dispatcher::NextDueLocked() {
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT MIN(t) FROM (SELECT MIN(not_before_ms) AS t FROM actions WHERE status = 'pending' "
      "UNION ALL SELECT MIN(next_attempt_ms) FROM actions WHERE status = 'sending')"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row || stmt.IsNull(0)) return options_.clock->NowMillis() + 1000;
  return stmt.Int64(0);
}

Result<ActionRecord> Dispatcher::Submit(ActionRequest r) {
  if (r.name.empty()) return InvalidArgument("name: must not be empty");
  if (r.purpose.empty()) return InvalidArgument("purpose: must not be empty");
  if (r.channel.empty()) return InvalidArgument("channel: must not be empty");
  if (r.customer_key.empty()) return InvalidArgument("customer_key: must name an identity of the customer");
  if (!std::isfinite(r.expected_gain)) return InvalidArgument("expected_gain: must be finite");
  if (!std::isfinite(r.customer_value)) return InvalidArgument("customer_value: must be finite");
  if (r.idempotency_key.empty()) {
    if (r.source_ref.empty()) return InvalidArgument("idempotency_key: required when source_ref is empty");
    r.idempotency_key = fmt::format("{}:{}", r.name, r.source_ref);
  }
  if (r.payload_json.empty()) r.payload_json = "{}";
  {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(r.payload_json).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
      return InvalidArgument("payload: must be a JSON object");
    }
  }
  const bool internal = IsInternal(r.name);
  if (!internal && options_.endpoint.url.empty()) return FailedPrecondition("actions.webhook.url is not configured: nowhere to send actions");
  const int64_t now = options_.clock->NowMillis();
  Result<ActionRecord> out = Internal("unreachable");
  {
    std::lock_guard lock(mu_);
    {
      ASSIGN_OR_RETURN(auto find, db_->Prepare("SELECT id FROM actions WHERE idempotency_key = ?"));
      find.Bind(1, r.idempotency_key);
      ASSIGN_OR_RETURN(bool row, find.Step());
      if (row) {
        int64_t id = find.Int64(0);
        find.Reset();
        return LoadLocked(id);
      }
    }
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
        "INSERT INTO actions (idempotency_key, customer, customer_key, name, purpose, channel, critical, "
        "customer_value, expected_gain, time_zone, payload, source_ref, status, created_at_ms, not_before_ms, endpoint, "
        "audience) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'pending',?,?,?,?)"));
    stmt.Bind(1, r.idempotency_key).BindU64(2, r.customer).Bind(3, r.customer_key).Bind(4, r.name).Bind(5, r.purpose)
        .Bind(6, r.channel).Bind(7, r.critical).Bind(8, Num(r.customer_value)).Bind(9, Num(r.expected_gain))
        .Bind(10, r.time_zone).Bind(11, r.payload_json).Bind(12, r.source_ref).Bind(13, now)
        // A staff notice competes in no arbitration: it does not wait for rivals.
        .Bind(14, std::max(now + (r.audience == Audience::kStaff ? 0 : options_.cap.arbitration_delay_ms), r.not_before_ms))
        .Bind(15, internal ? "internal:" + r.name : options_.endpoint.url).Bind(16, AudienceName(r.audience));
    RETURN_IF_ERROR(stmt.Run());
    // Read the row id under the same lock as the INSERT: the dispatcher thread inserts too.
    out = LoadLocked(db_->last_insert_rowid());
  }
  {
    std::lock_guard lock(wake_mu_);
    kicked_ = true;
  }
  wake_.notify_all();
  return out;
}

void Dispatcher::RegisterInternal(std::string name, InternalHandler handler) {
  std::lock_guard lock(internal_mu_);
  internal_[std::move(name)] = std::move(handler);
}

bool Dispatcher::IsInternal(std::string_view name) const {
  std::lock_guard lock(internal_mu_);
  return internal_.find(name) != internal_.end();
}

void Dispatcher::SetConstraints(std::vector<ChannelConstraint> constraints) {
  std::lock_guard lock(mu_);
  options_.constraints = std::move(constraints);
}

Result<ActionRecord> Dispatcher::LoadLocked(int64_t id) {
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(fmt::format("SELECT {} FROM actions WHERE id = ?", kColumns)));
  stmt.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return NotFound(fmt::format("action {} not found", id));
  return ReadRecord(stmt);
}

Status Dispatcher::LogGateLocked(int64_t id, int64_t at_ms, std::string_view gate, std::string_view verdict,
                                 std::string_view detail) {
  ASSIGN_OR_RETURN(auto stmt,
                   db_->Prepare("INSERT INTO gate_log (action_id, at_ms, gate, verdict, detail) VALUES (?,?,?,?,?)"));
  stmt.Bind(1, id).Bind(2, at_ms).Bind(3, gate).Bind(4, verdict).Bind(5, detail);
  return stmt.Run();
}

Status Dispatcher::SetStatusLocked(int64_t id, ActionStatus status, std::string_view error) {
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("UPDATE actions SET status = ?, last_error = ? WHERE id = ?"));
  stmt.Bind(1, ActionStatusName(status)).Bind(2, error).Bind(3, id);
  return stmt.Run();
}

Result<size_t> Dispatcher::RunDue(int64_t now_ms) {
  std::lock_guard run(run_mu_);
  RETURN_IF_ERROR(RunGates(now_ms));
  return RunDeliveries(now_ms);
}

// Gates run outside the database lock where they may read other stores (consent reads the
// customer's interactions); only this pass moves actions out of `pending`, so the list read at
// the start stays valid.
Status Dispatcher::RunGates(int64_t now_ms) {
  std::vector<ActionRecord> due;
  std::vector<ChannelConstraint> constraints;
  {
    std::lock_guard lock(mu_);
    constraints = options_.constraints;
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(fmt::format(
        "SELECT {} FROM actions WHERE status = 'pending' AND not_before_ms <= ? ORDER BY customer, id", kColumns)));
    stmt.Bind(1, now_ms);
    while (true) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      due.push_back(ReadRecord(stmt));
    }
  }
  if (due.empty()) return Status::Ok();

  struct Verdict {
    int64_t id;
    std::string gate, verdict, detail;
    ActionStatus status;  // kPending with defer_until for a deferral
    int64_t defer_until = 0;
  };
  std::map<store::CustomerId, std::vector<Candidate>> candidates;
  std::vector<Verdict> verdicts;
  std::vector<int64_t> staff;  // notices to staff: admitted without the customer's gates
  for (const auto& a : due) {
    const auto& r = a.request;
    if (r.audience == Audience::kStaff) {
      staff.push_back(a.id);
      continue;
    }
    ConsentAnswer answer;
    if (options_.consent != nullptr) {
      auto checked = options_.consent->Check(r.customer, r.purpose, r.channel);
      if (!checked.ok()) {
        // Consent unknown because its source failed: hold the action back and try again later.
        LOG_EVERY_N_SEC(kWarn, 10, "actions: consent check failed: {}", checked.status().ToString());
        verdicts.push_back({a.id, "consent", "defer", "consent check failed: " + checked.status().ToString(),
                            ActionStatus::kPending, now_ms + 60000});
        continue;
      }
      answer = *checked;
    }
    if (std::string why = ConsentBlockReason(options_.consent_policy, answer, r.purpose, r.channel); !why.empty()) {
      verdicts.push_back({a.id, "consent", "block", why, ActionStatus::kBlocked});
      continue;
    }
    if (std::string why = ChannelBlockReason(constraints, r); !why.empty()) {
      verdicts.push_back({a.id, "channel", "block", why, ActionStatus::kBlocked});
      continue;
    }
    const bool exempt = std::find(options_.quiet.exempt_purposes.begin(), options_.quiet.exempt_purposes.end(),
                                  r.purpose) != options_.quiet.exempt_purposes.end();
    if (!exempt) {
      auto until = QuietUntil(options_.quiet, r.time_zone, now_ms);
      if (!until.ok()) {
        verdicts.push_back({a.id, "quiet_hours", "block", std::string(until.status().message()), ActionStatus::kBlocked});
        continue;
      }
      if (*until > 0) {
        verdicts.push_back({a.id, "quiet_hours", "defer",
                            fmt::format("quiet hours in {} until {} ms", r.time_zone.empty() ? options_.quiet.default_time_zone : r.time_zone, *until),
                            ActionStatus::kPending, *until});
        continue;
      }
    }
    candidates[r.customer].push_back({a.id, r.expected_gain, a.created_at_ms});
  }

  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
  for (const auto& v : verdicts) {
    RETURN_IF_ERROR(LogGateLocked(v.id, now_ms, v.gate, v.verdict, v.detail));
    if (v.status == ActionStatus::kBlocked) {
      RETURN_IF_ERROR(SetStatusLocked(v.id, ActionStatus::kBlocked, v.detail));
      blocked_->Inc();
    } else {
      ASSIGN_OR_RETURN(auto stmt, db_->Prepare("UPDATE actions SET not_before_ms = ? WHERE id = ?"));
      stmt.Bind(1, v.defer_until).Bind(2, v.id);
      RETURN_IF_ERROR(stmt.Run());
      deferred_->Inc();
    }
  }
  for (int64_t id : staff) {
    RETURN_IF_ERROR(LogGateLocked(id, now_ms, "audience", "pass", kStaffGate));
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
        "UPDATE actions SET status = 'sending', admitted_at_ms = ?, next_attempt_ms = ?, attempts = 0 WHERE id = ?"));
    stmt.Bind(1, now_ms).Bind(2, now_ms).Bind(3, id);
    RETURN_IF_ERROR(stmt.Run());
  }
  for (auto& [customer, list] : candidates) {
    int used = 0;
    if (options_.cap.max_actions > 0) {
      ASSIGN_OR_RETURN(auto count, db_->Prepare(
          "SELECT COUNT(*) FROM actions WHERE customer = ? AND admitted_at_ms > ? AND "
          "status IN ('sending','delivered','dead_letter') AND audience = 'customer'"));
      count.BindU64(1, customer).Bind(2, now_ms - options_.cap.window_ms);
      ASSIGN_OR_RETURN(bool row, count.Step());
      used = row ? static_cast<int>(count.Int64(0)) : 0;
    }
    Arbitration result = Arbitrate(options_.cap, used, std::move(list));
    for (int64_t id : result.admitted) {
      RETURN_IF_ERROR(LogGateLocked(id, now_ms, "consent", "pass", "consent ok"));
      RETURN_IF_ERROR(LogGateLocked(
          id, now_ms, "frequency_cap", "pass",
          options_.cap.max_actions > 0 ? fmt::format("{} of {} used in the window", used++, options_.cap.max_actions)
                                       : std::string("no cap")));
      ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
          "UPDATE actions SET status = 'sending', admitted_at_ms = ?, next_attempt_ms = ?, attempts = 0 WHERE id = ?"));
      stmt.Bind(1, now_ms).Bind(2, now_ms).Bind(3, id);
      RETURN_IF_ERROR(stmt.Run());
    }
    for (const auto& [id, why] : result.suppressed) {
      RETURN_IF_ERROR(LogGateLocked(id, now_ms, "frequency_cap", "suppress", why));
      RETURN_IF_ERROR(SetStatusLocked(id, ActionStatus::kSuppressed, why));
      suppressed_->Inc();
    }
  }
  return tx.Commit();
}

std::string Dispatcher::BuildBody(const ActionRecord& a) const {
  const auto& r = a.request;
  std::string body = fmt::format("{{\"id\":{},\"idempotencyKey\":", a.id);
  AppendJsonString(&body, r.idempotency_key);
  body += ",\"type\":";
  AppendJsonString(&body, r.name);
  body += fmt::format(",\"customer\":{{\"id\":\"c:{}\",\"key\":", r.customer);
  AppendJsonString(&body, r.customer_key);
  body += "},\"purpose\":";
  AppendJsonString(&body, r.purpose);
  body += ",\"channel\":";
  AppendJsonString(&body, r.channel);
  body += ",\"audience\":";
  AppendJsonString(&body, AudienceName(r.audience));
  body += ",\"source\":";
  AppendJsonString(&body, r.source_ref);
  body += fmt::format(",\"expectedGain\":{},\"createdAt\":{},\"data\":{}}}", r.expected_gain, a.created_at_ms,
                      r.payload_json);
  return body;
}

Result<size_t> Dispatcher::RunDeliveries(int64_t now_ms) {
  std::vector<ActionRecord> due;
  {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(fmt::format(
        "SELECT {} FROM actions WHERE status = 'sending' AND next_attempt_ms <= ? ORDER BY next_attempt_ms, id LIMIT 64",
        kColumns)));
    stmt.Bind(1, now_ms);
    while (true) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      due.push_back(ReadRecord(stmt));
    }
  }
  auto url = ParseHttpUrl(options_.endpoint.url);
  for (auto& a : due) {
    const int attempt = a.attempts + 1;
    const std::string body = BuildBody(a);
    const int64_t sent_at = options_.clock->NowMillis();
    std::vector<std::pair<std::string, std::string>> headers = {
        {"X-Cairn-Signature", SignatureHeader(options_.endpoint.secret, sent_at / 1000, body)},
        {"Idempotency-Key", a.request.idempotency_key},
        {"X-Cairn-Action-Id", std::to_string(a.id)},
        {"X-Cairn-Attempt", std::to_string(attempt)},
    };
    const auto started = std::chrono::steady_clock::now();
    InternalHandler handler;
    {
      std::lock_guard lock(internal_mu_);
      if (auto it = internal_.find(a.request.name); it != internal_.end()) handler = it->second;
    }
    HttpAnswer answer;
    if (handler) {
      // Internal: the handler's error maps onto the webhook retry rules (input errors are final).
      auto done = handler(a);
      if (done.ok()) {
        answer = {200, "", {}};
        LOG_DEBUG("actions: internal action {} ({}) done: {}", a.id, a.request.name, *done);
      } else {
        const Code code = done.status().code();
        const bool final = code == Code::kInvalidArgument || code == Code::kNotFound ||
                           code == Code::kFailedPrecondition || code == Code::kPermissionDenied;
        answer = {final ? 400 : 0, done.status().ToString(), {}};
      }
    } else {
      answer = url.ok() ? PostJson(*url, headers, body, options_.endpoint.timeout_ms, tls_.get())
                        : HttpAnswer{0, std::string(url.status().message()), {}};
    }
    const int64_t took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    const bool ok = answer.status >= 200 && answer.status < 300;
    std::string error = ok ? "" : !answer.error.empty() ? answer.error : fmt::format("HTTP {}", answer.status);

    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
    ASSIGN_OR_RETURN(auto log, db_->Prepare(
        "INSERT INTO attempts (action_id, attempt, at_ms, http_status, error, duration_ms) VALUES (?,?,?,?,?,?)"));
    log.Bind(1, a.id).Bind(2, attempt).Bind(3, sent_at).Bind(4, answer.status).Bind(5, error).Bind(6, took);
    RETURN_IF_ERROR(log.Run());
    a.attempts = attempt;
    if (ok) {
      a.status = ActionStatus::kDelivered;
      a.delivered_at_ms = options_.clock->NowMillis();
      a.last_error.clear();
    } else if (!Retryable(answer.status) || attempt >= options_.retry.max_attempts) {
      a.status = ActionStatus::kDeadLetter;
      a.last_error = Retryable(answer.status) ? fmt::format("{} (retry budget of {} attempts spent)", error, attempt)
                                              : fmt::format("{} (not retryable)", error);
    } else {
      a.next_attempt_ms = options_.clock->NowMillis() + BackoffDelay(options_.retry, attempt, rng_);
      a.last_error = error;
    }
    ASSIGN_OR_RETURN(auto upd, db_->Prepare(
        "UPDATE actions SET status = ?, attempts = ?, next_attempt_ms = ?, last_error = ?, delivered_at_ms = ? WHERE id = ?"));
    upd.Bind(1, ActionStatusName(a.status)).Bind(2, a.attempts).Bind(3, a.next_attempt_ms).Bind(4, a.last_error)
        .Bind(5, a.delivered_at_ms).Bind(6, a.id);
    RETURN_IF_ERROR(upd.Run());
    RETURN_IF_ERROR(tx.Commit());
    if (ok) {
      delivered_->Inc();
      // A staff notice reached the business, not the customer: no touch on their timeline.
      if (options_.touches != nullptr && !handler && a.request.audience == Audience::kCustomer) {
        Status s = options_.touches->RecordTouch(a, a.delivered_at_ms);
        if (!s.ok()) LOG_EVERY_N_SEC(kWarn, 10, "actions: recording the touch of action {} failed: {}", a.id, s.ToString());
      }
    } else {
      failed_attempts_->Inc();
      if (a.status == ActionStatus::kDeadLetter) dead_lettered_->Inc();
    }
  }
  return due.size();
}

Result<std::vector<ActionRecord>> Dispatcher::List(std::optional<ActionStatus> status, size_t limit) {
  if (limit < 1 || limit > 1000) return InvalidArgument("limit: must be in [1, 1000]");
  std::lock_guard lock(mu_);
  std::vector<ActionRecord> out;
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(fmt::format(
      "SELECT {} FROM actions WHERE (?1 = '' OR status = ?1) ORDER BY id DESC LIMIT ?2", kColumns)));
  // A non-null empty string: a null data pointer would bind SQL NULL, which never equals .
  stmt.Bind(1, status ? ActionStatusName(*status) : std::string_view("")).Bind(2, static_cast<int64_t>(limit));
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(ReadRecord(stmt));
  }
  return out;
}

Result<std::vector<ActionRecord>> Dispatcher::ListForCustomers(const std::vector<uint64_t>& customers) {
  std::lock_guard lock(mu_);
  std::vector<ActionRecord> out;
  for (uint64_t c : customers) {
    // actions_by_customer serves this.
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(fmt::format("SELECT {} FROM actions WHERE customer = ?1", kColumns)));
    stmt.BindU64(1, c);
    while (true) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      out.push_back(ReadRecord(stmt));
    }
  }
  std::sort(out.begin(), out.end(), [](const ActionRecord& a, const ActionRecord& b) { return a.id < b.id; });
  return out;
}

Result<ActionRecord> Dispatcher::Get(int64_t id) {
  std::lock_guard lock(mu_);
  return LoadLocked(id);
}

Result<std::vector<GateEntry>> Dispatcher::Gates(int64_t id) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(LoadLocked(id).status());
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT at_ms, gate, verdict, detail FROM gate_log WHERE action_id = ? ORDER BY id"));
  stmt.Bind(1, id);
  std::vector<GateEntry> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({stmt.Int64(0), std::string(stmt.Text(1)), std::string(stmt.Text(2)), std::string(stmt.Text(3))});
  }
  return out;
}

Result<std::vector<DeliveryAttempt>> Dispatcher::Attempts(int64_t id) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(LoadLocked(id).status());
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
      "SELECT attempt, at_ms, http_status, error, duration_ms FROM attempts WHERE action_id = ? ORDER BY id"));
  stmt.Bind(1, id);
  std::vector<DeliveryAttempt> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({static_cast<int>(stmt.Int64(0)), stmt.Int64(1), static_cast<int>(stmt.Int64(2)),
                   std::string(stmt.Text(3)), stmt.Int64(4)});
  }
  return out;
}

Result<ActionRecord> Dispatcher::Replay(int64_t id) {
  ActionRecord a;
  {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(a, LoadLocked(id));
  }
  if (a.status != ActionStatus::kDeadLetter) {
    return FailedPrecondition(fmt::format("action {} is {}, only a dead letter can be replayed", id, ActionStatusName(a.status)));
  }
  ConsentAnswer answer;
  const bool staff = a.request.audience == Audience::kStaff;  // contacts no customer: no consent check
  if (options_.consent != nullptr && !staff) {
    ASSIGN_OR_RETURN(answer, options_.consent->Check(a.request.customer, a.request.purpose, a.request.channel));
  }
  const int64_t now = options_.clock->NowMillis();
  std::string why =
      staff ? std::string() : ConsentBlockReason(options_.consent_policy, answer, a.request.purpose, a.request.channel);
  {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
    ASSIGN_OR_RETURN(auto current, LoadLocked(id));
    if (current.status != ActionStatus::kDeadLetter) {
      return FailedPrecondition(fmt::format("action {} is {}, only a dead letter can be replayed", id, ActionStatusName(current.status)));
    }
    if (!why.empty()) {
      RETURN_IF_ERROR(LogGateLocked(id, now, "consent", "block", why));
      RETURN_IF_ERROR(SetStatusLocked(id, ActionStatus::kBlocked, why));
      blocked_->Inc();
    } else {
      RETURN_IF_ERROR(LogGateLocked(id, now, "replay", "pass", "replayed from the dead letters with a fresh retry budget"));
      ASSIGN_OR_RETURN(auto stmt, db_->Prepare(
          "UPDATE actions SET status = 'sending', attempts = 0, next_attempt_ms = ?, last_error = '' WHERE id = ?"));
      stmt.Bind(1, now).Bind(2, id);
      RETURN_IF_ERROR(stmt.Run());
    }
    RETURN_IF_ERROR(tx.Commit());
    ASSIGN_OR_RETURN(a, LoadLocked(id));
  }
  {
    std::lock_guard lock(wake_mu_);
    kicked_ = true;
  }
  wake_.notify_all();
  return a;
}

Result<size_t> Dispatcher::EraseCustomers(const std::vector<uint64_t>& customers) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(db_->SecureDelete());
  size_t n = 0;
  {
    ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
    static constexpr std::string_view kDeletes[] = {
        "DELETE FROM attempts WHERE action_id IN (SELECT id FROM actions WHERE customer = ?1)",
        "DELETE FROM gate_log WHERE action_id IN (SELECT id FROM actions WHERE customer = ?1)",
        "DELETE FROM actions WHERE customer = ?1",
    };
    for (uint64_t c : customers) {
      for (std::string_view sql : kDeletes) {
        ASSIGN_OR_RETURN(auto st, db_->Prepare(sql));
        RETURN_IF_ERROR(st.BindU64(1, c).Run());
      }
      ASSIGN_OR_RETURN(int64_t changed, db_->QueryInt("SELECT changes()"));
      n += static_cast<size_t>(changed);
    }
    RETURN_IF_ERROR(tx.Commit());
  }
  RETURN_IF_ERROR(db_->Scrub());
  return n;
}

}  // namespace cairn::actions
