#pragma once
// Dispatcher: takes actions, runs the gates, delivers signed webhooks with retries, keeps the
// delivery log and the dead letters (actions.db, docs/format/rescue-actions.md), and records each
// delivered action as an outbound interaction (TouchRecorder).
//
// Life of an action
//   Submit → pending ──gates at not_before──▶ sending ──2xx──▶ delivered (touch recorded)
//                    │ consent/channel: blocked      │ 5xx, 408, 429, timeout, refused: retry after
//                    │ quiet hours: not_before moved │   backoff (exponential, equal jitter) until
//                    │ cap: suppressed (lost         │   max_attempts → dead_letter
//                    │   arbitration)                │ other 4xx: dead_letter at once
//   Replay(dead_letter) → consent re-checked → sending with a fresh retry budget.
//
// A staff notice (ActionRequest::audience = kStaff, e.g. a case escalation) skips the customer's
// gates (consent, channel, quiet hours, cap: it contacts nobody outside the business), is
// admitted at its first pass, never takes a slot of the customer's frequency cap, and records no
// touch; its delivery, retries and dead letters are as above.
//
// Exactly once per idempotency key: Submit with a key already known returns that action and
// never sends again; every attempt of one action (retries, replays) carries the same
// Idempotency-Key header, so a receiver that saw a request whose answer we lost can recognise the
// retry. A delivered action is never sent again.
//
// Thread-safety: all public methods are thread-safe. RunDue runs one pass at a time (the
// background thread, or a test driving it with a FakeClock); HTTP requests run without the
// database lock, so the API can read the log while deliveries are in flight.

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "actions/action_service.h"
#include "actions/gates.h"
#include "actions/tls_context.h"
#include "base/backoff.h"
#include "base/clock.h"
#include "base/metrics.h"
#include "entity/sqlite_db.h"

namespace cairn::actions {

struct WebhookEndpoint {
  std::string url;          // http[s]://host:port/path; "" = none
  std::string secret;       // HMAC-SHA256 key for X-Cairn-Signature; required with a url
  int64_t timeout_ms = 5000;  // the whole request (TLS handshake included); default 5 s
  // https only: PEM file of the CAs that sign the receiver's certificate, trusted instead of the
  // system store (a private CA). Default "" = the system store. Certificates are always verified.
  std::string ca_file;
};


// Records a delivered action as an outbound interaction (through the ingest path, as Cairn's own
// trusted source). Called on the dispatcher thread after the action is marked delivered; a
// failure is logged and counted, never retried by re-sending the webhook.
class TouchRecorder {
 public:
  virtual ~TouchRecorder() = default;
  virtual Status RecordTouch(const ActionRecord& action, int64_t at_ms) = 0;
};

// An internal action: done by Cairn itself instead of a webhook (e.g. "open_case" opens a case
// in cases/). It passes the same gates as any action; its "delivery" calls the handler on the
// dispatcher thread (without the database lock), which returns a reference to what it did
// ("case:17"). The handler must be idempotent per action id: a crash between its effect and
// the delivered mark runs it again. An error is retried like a failed webhook attempt
// (InvalidArgument / NotFound / FailedPrecondition / PermissionDenied dead-letter at once). No
// touch is recorded for it: the handler records its own effect.
using InternalHandler = std::function<Result<std::string>(const ActionRecord&)>;

struct DispatcherOptions {
  std::string path;                    // the actions.db file; required
  WebhookEndpoint endpoint;            // where webhooks go
  RetryPolicy retry;
  ConsentPolicy consent_policy;
  std::vector<ChannelConstraint> constraints;
  QuietHours quiet;
  FrequencyCap cap;
  ConsentChecker* consent = nullptr;   // null: every answer is "unknown" (policy decides)
  TouchRecorder* touches = nullptr;    // null: touches are not recorded
  Clock* clock = nullptr;              // default: the real clock
  metrics::Registry* metrics = nullptr;  // default: the process registry
  bool start_thread = true;            // false: the caller drives RunDue (tests)
  uint64_t jitter_seed = 0;            // 0 = random
};

class Dispatcher final : public ActionService {
 public:
  static Result<std::unique_ptr<Dispatcher>> Open(DispatcherOptions options);
  ~Dispatcher() override;  // Close()

  // Queues an action (status pending). InvalidArgument naming the field for a bad request;
  // FailedPrecondition when no webhook endpoint is configured. Returns the existing action when
  // the idempotency key is already known.
  Result<ActionRecord> Submit(ActionRequest request);

  // One pass: gates for pending actions due at `now_ms`, then delivery attempts due. Returns the
  // number of delivery attempts made.
  Result<size_t> RunDue(int64_t now_ms);

  void SetConstraints(std::vector<ChannelConstraint> constraints);

  // Actions named `name` are internal (see InternalHandler). Register before submitting them;
  // thread-safe. Replaces an earlier handler of that name.
  void RegisterInternal(std::string name, InternalHandler handler);
  bool IsInternal(std::string_view name) const;
  // True when an action named `name` can go anywhere: it is internal, or a webhook url is set.
  bool CanSend(std::string_view name) const { return IsInternal(name) || !options_.endpoint.url.empty(); }

  // Stops the background thread (an in-flight request finishes first). Idempotent.
  void Close();

  // Erasure (docs/erasure.md): deletes the actions of `customers` — webhook payloads, dead letters,
  // attempts and gate-log lines — then VACUUMs actions.db and truncates its -wal. An action being
  // sent right now may still reach its receiver. Returns the number of actions deleted.
  Result<size_t> EraseCustomers(const std::vector<uint64_t>& customers);

  // Export (docs/export.md): every action of `customers` (a customer's merged ids), by id
  // ascending. Thread-safe. Few per customer (the frequency cap bounds them).
  Result<std::vector<ActionRecord>> ListForCustomers(const std::vector<uint64_t>& customers);

  // ActionService
  Result<std::vector<ActionRecord>> List(std::optional<ActionStatus> status, size_t limit) override;
  Result<ActionRecord> Get(int64_t id) override;
  Result<std::vector<GateEntry>> Gates(int64_t id) override;
  Result<std::vector<DeliveryAttempt>> Attempts(int64_t id) override;
  Result<ActionRecord> Replay(int64_t id) override;

 private:
  Dispatcher(DispatcherOptions options, std::unique_ptr<entity::SqliteDb> db);
  void Loop();
  Status RunGates(int64_t now_ms);
  Result<size_t> RunDeliveries(int64_t now_ms);
  Result<ActionRecord> LoadLocked(int64_t id);
  Status LogGateLocked(int64_t id, int64_t at_ms, std::string_view gate, std::string_view verdict, std::string_view detail);
  Status SetStatusLocked(int64_t id, ActionStatus status, std::string_view error);
  std::string BuildBody(const ActionRecord& a) const;
  Result<int64_t> NextDueLocked();

  DispatcherOptions options_;
  std::shared_ptr<const TlsContext> tls_;  // set for an https endpoint; immutable
  std::mutex mu_;  // guards db_, options_.constraints
  std::unique_ptr<entity::SqliteDb> db_;
  mutable std::mutex internal_mu_;  // guards internal_
  std::map<std::string, InternalHandler, std::less<>> internal_;
  std::mutex run_mu_;  // one RunDue pass at a time; guards rng_
  std::mt19937_64 rng_;
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stop_ = false;    // guarded by wake_mu_
  bool kicked_ = false;  // guarded by wake_mu_
  std::thread thread_;
  metrics::Counter* delivered_ = nullptr;
  metrics::Counter* failed_attempts_ = nullptr;
  metrics::Counter* dead_lettered_ = nullptr;
  metrics::Counter* blocked_ = nullptr;
  metrics::Counter* suppressed_ = nullptr;
  metrics::Counter* deferred_ = nullptr;
};

}  // namespace cairn::actions
