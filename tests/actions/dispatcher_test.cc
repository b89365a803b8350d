// The dispatcher against a real HTTP receiver: failures, timeouts and recovery, exactly once per
// idempotency key, dead letters and replay, and the gates end to end (consent blocks, quiet hours
// defer, the frequency cap arbitrates on expected gain); https over real TLS with a certificate
// made at test time.

#include "actions/dispatcher.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "actions/webhook.h"
#include "test_certs.h"
#include "testutil/temp_dir.h"
#include "webhook_receiver.h"

namespace cairn::actions {
namespace {

constexpr char kSecret[] = "whsec_test";

class RecordingTouches : public TouchRecorder {
 public:
  Status RecordTouch(const ActionRecord& a, int64_t at_ms) override {
    std::lock_guard lock(mu);
    touched.push_back(a.id);
    return Status::Ok();
  }
  std::vector<int64_t> Touched() {
    std::lock_guard lock(mu);
    return touched;
  }
  std::mutex mu;
  std::vector<int64_t> touched;
};

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherOptions Options() {
    DispatcherOptions o;
    o.path = dir_.Sub("actions.db");
    o.endpoint = {receiver_.url(), kSecret, 300, ""};
    o.retry.max_attempts = 4;
    o.retry.initial_backoff_ms = 1000;
    o.retry.max_backoff_ms = 60000;
    o.quiet.enabled = false;
    o.consent_policy.require_grant = {};
    o.consent = &consent_;
    o.touches = &touches_;
    o.clock = &clock_;
    o.metrics = &registry_;
    o.start_thread = false;
    o.jitter_seed = 7;
    return o;
  }
  void Open(DispatcherOptions o) {
    dispatcher_.reset();
    auto d = Dispatcher::Open(std::move(o));
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    dispatcher_ = std::move(*d);
  }
  void SetUp() override { Open(Options()); }
  // An https receiver with a certificate made now for `san`, and the dispatcher reopened to send
  // to it by `host`, trusting `ca_file` ("" = the system store).
  std::unique_ptr<testutil::WebhookReceiver> OpenHttps(const std::string& san, const std::string& host,
                                                       bool trust_it) {
    auto cert = testutil::MakeSelfSignedCert(dir_.path(), "receiver", san);
    auto receiver = std::make_unique<testutil::WebhookReceiver>(
        testutil::WebhookReceiver::TlsFiles{cert.cert_file, cert.key_file});
    DispatcherOptions o = Options();
    o.endpoint = {receiver->url(host), kSecret, 5000, trust_it ? cert.cert_file : ""};
    Open(o);
    return receiver;
  }

  ActionRequest Request(store::CustomerId customer, std::string ref, double gain = 100) {
    ActionRequest r;
    r.customer = customer;
    r.customer_key = "userId:u" + std::to_string(customer);
    r.name = "rescue.going_cold";
    r.purpose = "marketing";
    r.channel = "email";
    r.expected_gain = gain;
    r.payload_json = R"({"template":"case-studies","reasons":["quiet 21d"]})";
    r.source_ref = std::move(ref);
    return r;
  }
  // Runs passes, moving the fake clock to each next attempt, until `id` leaves sending/pending.
  ActionRecord Drive(int64_t id, int max_passes = 20) {
    for (int i = 0; i < max_passes; ++i) {
      auto a = dispatcher_->Get(id);
      if (a->status != ActionStatus::kPending && a->status != ActionStatus::kSending) return *a;
      if (a->status == ActionStatus::kSending && a->next_attempt_ms > clock_.NowMillis()) clock_.Set(a->next_attempt_ms);
      if (a->status == ActionStatus::kPending && a->not_before_ms > clock_.NowMillis()) clock_.Set(a->not_before_ms);
      EXPECT_TRUE(dispatcher_->RunDue(clock_.NowMillis()).ok());
    }
    return *dispatcher_->Get(id);
  }

  std::vector<store::Interaction> consent_log_;
  RecordedConsent consent_{[this](store::CustomerId) -> Result<std::vector<store::Interaction>> { return consent_log_; }};
  RecordingTouches touches_;
  testutil::TempDir dir_;
  testutil::WebhookReceiver receiver_;
  FakeClock clock_;
  metrics::Registry registry_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherTest, FailsTimesOutRecoversAndDeliversExactlyOnce) {
  // 503, then an answer that arrives after the client's 300 ms deadline (the receiver did the
  // work), then 200.
  receiver_.Script({{503, 0}, {200, 700}, {200, 0}});
  auto a = dispatcher_->Submit(Request(1, "rescue:1"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const int64_t t0 = clock_.NowMillis();

  ASSERT_EQ(*dispatcher_->RunDue(t0), 1u);  // attempt 1: 503
  auto after1 = *dispatcher_->Get(a->id);
  EXPECT_EQ(after1.status, ActionStatus::kSending);
  EXPECT_EQ(after1.last_error, "HTTP 503");
  // Backoff: nothing is due before the next attempt time, which is within [initial/2, initial].
  EXPECT_GE(after1.next_attempt_ms - t0, 500);
  EXPECT_LE(after1.next_attempt_ms - t0, 1000);
  EXPECT_EQ(*dispatcher_->RunDue(after1.next_attempt_ms - 1), 0u);

  ActionRecord done = Drive(a->id);
  EXPECT_EQ(done.status, ActionStatus::kDelivered);
  EXPECT_EQ(done.attempts, 3);

  auto attempts = *dispatcher_->Attempts(a->id);
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].http_status, 503);
  EXPECT_EQ(attempts[1].http_status, 0);
  EXPECT_NE(attempts[1].error.find("timed out after 300 ms"), std::string::npos) << attempts[1].error;
  EXPECT_EQ(attempts[2].http_status, 200);
  EXPECT_EQ(attempts[2].error, "");
  // The second backoff is longer than the first (exponential): [1000, 2000] after 2 failures.
  EXPECT_GE(attempts[2].at_ms - attempts[1].at_ms, 1000);

  // Every request: same key, attempt numbers 1..3, valid signature over the exact body.
  auto seen = receiver_.seen();
  ASSERT_EQ(seen.size(), 3u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].idempotency_key, "rescue.going_cold:rescue:1");
    EXPECT_EQ(seen[i].attempt, std::to_string(i + 1));
    EXPECT_TRUE(VerifySignature(kSecret, seen[i].signature, seen[i].body, clock_.NowMillis() / 1000, 3600))
        << seen[i].signature;
    EXPECT_NE(seen[i].body.find(R"("data":{"template":"case-studies","reasons":["quiet 21d"]})"), std::string::npos)
        << seen[i].body;
  }
  // The receiver's side effect ran once for the key; the touch was recorded once.
  EXPECT_EQ(receiver_.processed(), (std::map<std::string, int>{{"rescue.going_cold:rescue:1", 1}}));
  EXPECT_EQ(touches_.Touched(), std::vector<int64_t>{a->id});

  // The same key again: the same action, never sent again.
  auto again = dispatcher_->Submit(Request(1, "rescue:1"));
  EXPECT_EQ(again->id, a->id);
  EXPECT_EQ(again->status, ActionStatus::kDelivered);
  clock_.Advance(3600000);
  EXPECT_EQ(*dispatcher_->RunDue(clock_.NowMillis()), 0u);
  EXPECT_EQ(receiver_.seen().size(), 3u);

  // The log survives a restart.
  Open(Options());
  EXPECT_EQ(dispatcher_->Attempts(a->id)->size(), 3u);
  EXPECT_EQ(dispatcher_->Get(a->id)->status, ActionStatus::kDelivered);
}

TEST_F(DispatcherTest, DeadLetteredAfterTheRetryBudgetThenReplayDelivers) {
  receiver_.Script({}, {500, 0});  // always failing
  auto a = dispatcher_->Submit(Request(2, "rescue:2"));
  ActionRecord dead = Drive(a->id);
  EXPECT_EQ(dead.status, ActionStatus::kDeadLetter);
  EXPECT_EQ(dead.attempts, 4);
  EXPECT_EQ(dead.last_error, "HTTP 500 (retry budget of 4 attempts spent)");
  EXPECT_EQ(receiver_.seen().size(), 4u);
  auto letters = dispatcher_->List(ActionStatus::kDeadLetter, 10);
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].id, a->id);
  // Nothing more happens on its own.
  clock_.Advance(86400000);
  EXPECT_EQ(*dispatcher_->RunDue(clock_.NowMillis()), 0u);

  // The receiver is fixed; replay.
  receiver_.Script({}, {200, 0});
  auto replayed = dispatcher_->Replay(a->id);
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_EQ(replayed->status, ActionStatus::kSending);
  EXPECT_EQ(Drive(a->id).status, ActionStatus::kDelivered);
  EXPECT_EQ(receiver_.seen().size(), 5u);
  EXPECT_EQ(receiver_.seen().back().idempotency_key, "rescue.going_cold:rescue:2");  // same key on replay
  EXPECT_EQ(dispatcher_->Replay(a->id).status().code(), Code::kFailedPrecondition);
  auto gates = *dispatcher_->Gates(a->id);
  EXPECT_EQ(gates.back().gate, "replay");
  EXPECT_EQ(dispatcher_->Attempts(a->id)->size(), 5u);
}

TEST_F(DispatcherTest, NonRetryableAnswerDeadLettersAtOnce) {
  receiver_.Script({{422, 0}});
  auto a = dispatcher_->Submit(Request(3, "rescue:3"));
  ActionRecord r = Drive(a->id);
  EXPECT_EQ(r.status, ActionStatus::kDeadLetter);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.last_error, "HTTP 422 (not retryable)");
}

TEST_F(DispatcherTest, ConsentDenialBlocksAndTheBlockIsLogged) {
  store::Interaction in;
  in.type = store::MessageType::kTrack;
  in.event = "Consent Updated";
  in.timestamp_ms = 1000;
  in.payload = R"({"type":"track","event":"Consent Updated","properties":{"purpose":"marketing","channel":"email","granted":false}})";
  consent_log_ = {in};
  auto a = dispatcher_->Submit(Request(4, "rescue:4"));
  ActionRecord r = Drive(a->id);
  EXPECT_EQ(r.status, ActionStatus::kBlocked);
  EXPECT_TRUE(receiver_.seen().empty());
  auto gates = *dispatcher_->Gates(a->id);
  ASSERT_EQ(gates.size(), 1u);
  EXPECT_EQ(gates[0].gate, "consent");
  EXPECT_EQ(gates[0].verdict, "block");
  EXPECT_EQ(gates[0].detail,
            "consent denied for marketing on email: Consent Updated at 1970-01-01T00:00:01Z (marketing, email: denied)");
  // A service message on another channel is not covered by that denial.
  auto service = Request(4, "case:9");
  service.purpose = "service";
  service.channel = "phone";
  EXPECT_EQ(Drive(dispatcher_->Submit(service)->id).status, ActionStatus::kDelivered);
}

TEST_F(DispatcherTest, MarketingWithoutRecordedConsentIsBlockedByDefaultPolicy) {
  DispatcherOptions o = Options();
  o.consent_policy = ConsentPolicy{};  // marketing needs a grant
  Open(o);
  auto a = dispatcher_->Submit(Request(5, "rescue:5"));
  EXPECT_EQ(Drive(a->id).status, ActionStatus::kBlocked);
  EXPECT_EQ(dispatcher_->Get(a->id)->last_error, "no recorded consent for marketing on email (this purpose needs a grant)");
}

TEST_F(DispatcherTest, QuietHoursInTheCustomersZoneDeferThenSend) {
  DispatcherOptions o = Options();
  o.quiet.enabled = true;  // 21:00–08:00
  Open(o);
  clock_.Set(1768509000000);  // 2026-01-15T20:30:00Z: 21:30 in Paris, 15:30 in New York
  auto paris = Request(6, "rescue:6");
  paris.time_zone = "Europe/Paris";
  auto ny = Request(7, "rescue:7");
  ny.time_zone = "America/New_York";
  auto p = dispatcher_->Submit(paris);
  auto n = dispatcher_->Submit(ny);
  ASSERT_TRUE(dispatcher_->RunDue(clock_.NowMillis()).ok());
  EXPECT_EQ(dispatcher_->Get(n->id)->status, ActionStatus::kDelivered);
  auto held = *dispatcher_->Get(p->id);
  EXPECT_EQ(held.status, ActionStatus::kPending);
  EXPECT_EQ(held.not_before_ms, 1768546800000);  // 2026-01-16T07:00:00Z = 08:00 in Paris
  EXPECT_EQ(dispatcher_->Gates(p->id)->front().verdict, "defer");
  clock_.Set(held.not_before_ms);
  ASSERT_TRUE(dispatcher_->RunDue(clock_.NowMillis()).ok());
  EXPECT_EQ(dispatcher_->Get(p->id)->status, ActionStatus::kDelivered);
}

TEST_F(DispatcherTest, FrequencyCapAdmitsTheHighestExpectedGainsNotTheFirst) {
  DispatcherOptions o = Options();
  o.cap.max_actions = 2;
  o.cap.window_ms = 7LL * 86400000;
  o.cap.arbitration_delay_ms = 60000;  // competing actions gather for a minute
  Open(o);
  auto low = dispatcher_->Submit(Request(8, "rescue:low", 10));   // first come
  clock_.Advance(1000);
  auto high = dispatcher_->Submit(Request(8, "rescue:high", 900));
  clock_.Advance(1000);
  auto mid = dispatcher_->Submit(Request(8, "rescue:mid", 300));
  auto other = dispatcher_->Submit(Request(9, "rescue:other", 1));  // another customer: own cap
  EXPECT_EQ(*dispatcher_->RunDue(clock_.NowMillis()), 0u);  // still gathering
  clock_.Advance(60000);
  EXPECT_EQ(*dispatcher_->RunDue(clock_.NowMillis()), 3u);
  EXPECT_EQ(dispatcher_->Get(high->id)->status, ActionStatus::kDelivered);
  EXPECT_EQ(dispatcher_->Get(mid->id)->status, ActionStatus::kDelivered);
  EXPECT_EQ(dispatcher_->Get(other->id)->status, ActionStatus::kDelivered);
  auto lost = *dispatcher_->Get(low->id);
  EXPECT_EQ(lost.status, ActionStatus::kSuppressed);
  EXPECT_EQ(lost.last_error, fmt::format("lost arbitration under the frequency cap (2 of 2 left): expected gain 10.00 < "
                                         "300.00 of action {}", mid->id));
  // The window is full for customer 8 until the admitted ones age out.
  auto late = dispatcher_->Submit(Request(8, "rescue:late", 5000));
  clock_.Advance(60000);
  ASSERT_TRUE(dispatcher_->RunDue(clock_.NowMillis()).ok());
  EXPECT_EQ(dispatcher_->Get(late->id)->status, ActionStatus::kSuppressed);
  clock_.Advance(7LL * 86400000);
  auto next_week = dispatcher_->Submit(Request(8, "rescue:next", 1));
  EXPECT_EQ(Drive(next_week->id).status, ActionStatus::kDelivered);
}

// A staff notice (a case escalation) is not a message to the customer: sent at once inside the
// customer's quiet hours, with their consent denied and their cap full; it takes no slot of the
// cap (a customer action after it is still admitted) and records no touch.
TEST_F(DispatcherTest, StaffNoticesSkipTheCustomersGatesAndCapAndRecordNoTouch) {
  DispatcherOptions o = Options();
  o.quiet.enabled = true;  // 21:00–08:00 UTC
  o.quiet.exempt_purposes = {};
  o.cap.max_actions = 1;
  o.cap.arbitration_delay_ms = 60000;
  Open(o);
  clock_.Set(1768509000000);  // 2026-01-15T20:30:00Z: outside quiet hours in UTC
  store::Interaction in;
  in.type = store::MessageType::kTrack;
  in.event = "Consent Updated";
  in.payload = R"({"type":"track","event":"Consent Updated","properties":{"purpose":"service","granted":false}})";
  consent_log_ = {in};
  auto Staff = [&](std::string ref) {
    ActionRequest r = Request(11, std::move(ref));
    r.name = "case_escalation";
    r.purpose = "service";
    r.audience = Audience::kStaff;
    return r;
  };
  // Customer 11 denied service: a customer message for that purpose is blocked ...
  auto csat = Request(11, "case:1:v5");
  csat.name = "csat_request";
  csat.purpose = "service";
  auto blocked = dispatcher_->Submit(csat);
  // ... but the staff notice about their case is sent at the first pass (no arbitration delay).
  auto notice = dispatcher_->Submit(Staff("case:1:v2:escalate"));
  ASSERT_TRUE(notice.ok()) << notice.status().ToString();
  EXPECT_EQ(notice->request.audience, Audience::kStaff);
  EXPECT_EQ(notice->not_before_ms, clock_.NowMillis());
  ASSERT_TRUE(dispatcher_->RunDue(clock_.NowMillis()).ok());
  EXPECT_EQ(dispatcher_->Get(notice->id)->status, ActionStatus::kDelivered);
  auto gates = *dispatcher_->Gates(notice->id);
  ASSERT_EQ(gates.size(), 1u);
  EXPECT_EQ(gates[0].gate, "audience");
  EXPECT_EQ(gates[0].verdict, "pass");
  EXPECT_NE(gates[0].detail.find("not a message to the customer"), std::string::npos) << gates[0].detail;
  ASSERT_EQ(receiver_.seen().size(), 1u);
  EXPECT_NE(receiver_.seen()[0].body.find(R"("audience":"staff")"), std::string::npos) << receiver_.seen()[0].body;
  EXPECT_TRUE(touches_.Touched().empty());  // no Action Sent on the customer's timeline
  clock_.Advance(60000);
  ASSERT_TRUE(dispatcher_->RunDue(clock_.NowMillis()).ok());
  EXPECT_EQ(dispatcher_->Get(blocked->id)->status, ActionStatus::kBlocked);

  // Consent granted again: the cap (1) is still free after the notice — a customer action is admitted.
  in.payload = R"({"type":"track","event":"Consent Updated","properties":{"purpose":"service","granted":true}})";
  in.timestamp_ms = 1;
  consent_log_.push_back(in);
  csat.source_ref = "case:1:v7";
  auto sent = dispatcher_->Submit(csat);
  EXPECT_EQ(Drive(sent->id).status, ActionStatus::kDelivered);
  EXPECT_EQ(touches_.Touched(), std::vector<int64_t>{sent->id});
  // Now the cap is full and it is 21:01 UTC (quiet): a second notice still goes out at once.
  clock_.Set(1768510860000);  // 2026-01-15T21:01:00Z
  auto later = dispatcher_->Submit(Staff("case:1:v9:escalate"));
  ASSERT_TRUE(dispatcher_->RunDue(clock_.NowMillis()).ok());
  EXPECT_EQ(dispatcher_->Get(later->id)->status, ActionStatus::kDelivered);
  // ... while a customer action is held by quiet hours, then suppressed by the full cap.
  auto rival = dispatcher_->Submit(Request(11, "rescue:11", 1e6));
  EXPECT_EQ(Drive(rival->id).status, ActionStatus::kSuppressed);
  EXPECT_EQ(dispatcher_->Gates(rival->id)->front().gate, "quiet_hours");
  EXPECT_EQ(touches_.Touched().size(), 1u);

  // A dead-lettered notice replays without the consent check (the denial is back).
  consent_log_.resize(1);
  receiver_.Script({{422, 0}});
  auto dead = dispatcher_->Submit(Staff("case:2:v2:escalate"));
  EXPECT_EQ(Drive(dead->id).status, ActionStatus::kDeadLetter);
  receiver_.Script({}, {200, 0});
  auto replayed = dispatcher_->Replay(dead->id);
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_EQ(Drive(dead->id).status, ActionStatus::kDelivered);
  // The audience survives a reopen of actions.db.
  Open(Options());
  EXPECT_EQ(dispatcher_->Get(later->id)->request.audience, Audience::kStaff);
  EXPECT_EQ(dispatcher_->Get(sent->id)->request.audience, Audience::kCustomer);
}

// An actions.db of schema version 1 (before staff notices) opens as version 2: its rows are
// customer actions and still count toward the cap.
TEST_F(DispatcherTest, SchemaVersion1FileMigratesAndItsRowsAreCustomerActions) {
  dispatcher_.reset();
  const std::string path = dir_.Sub("v1.db");
  {
    auto db = entity::SqliteDb::Open(path, {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA application_id = 1128350548").ok());  // 0x43414354
    // Version 1 as docs/format/rescue-actions.md specifies it (the columns this test needs).
    ASSERT_TRUE((*db)->Exec(R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES ('schema_version', 1);
CREATE TABLE actions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, idempotency_key TEXT NOT NULL UNIQUE, customer INTEGER NOT NULL,
  customer_key TEXT NOT NULL, name TEXT NOT NULL, purpose TEXT NOT NULL, channel TEXT NOT NULL,
  critical TEXT NOT NULL, customer_value REAL NOT NULL, expected_gain REAL NOT NULL, time_zone TEXT NOT NULL,
  payload TEXT NOT NULL, source_ref TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending','sending','delivered','blocked','suppressed','dead_letter')),
  created_at_ms INTEGER NOT NULL, not_before_ms INTEGER NOT NULL, admitted_at_ms INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '', delivered_at_ms INTEGER NOT NULL DEFAULT 0, endpoint TEXT NOT NULL);
CREATE TABLE attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, action_id INTEGER NOT NULL, attempt INTEGER NOT NULL,
  at_ms INTEGER NOT NULL, http_status INTEGER NOT NULL, error TEXT NOT NULL, duration_ms INTEGER NOT NULL);
CREATE TABLE gate_log (id INTEGER PRIMARY KEY AUTOINCREMENT, action_id INTEGER NOT NULL, at_ms INTEGER NOT NULL,
  gate TEXT NOT NULL, verdict TEXT NOT NULL, detail TEXT NOT NULL);
)sql").ok());
    // Delivered just now: it holds a slot of customer 12's cap.
    ASSERT_TRUE((*db)->Exec(fmt::format(
        "INSERT INTO actions (idempotency_key, customer, customer_key, name, purpose, channel, critical, "
        "customer_value, expected_gain, time_zone, payload, source_ref, status, created_at_ms, not_before_ms, "
        "admitted_at_ms, endpoint) VALUES ('old', 12, 'userId:u12', 'rescue.going_cold', 'service', 'email', '', 0, "
        "1, '', '{{}}', 'rescue:old', 'delivered', {0}, {0}, {0}, 'http://x/')", clock_.NowMillis())).ok());
  }
  DispatcherOptions o = Options();
  o.path = path;
  o.cap.max_actions = 1;
  Open(o);
  auto old = dispatcher_->Get(1);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->request.audience, Audience::kCustomer);
  auto next = dispatcher_->Submit(Request(12, "rescue:new"));
  EXPECT_EQ(Drive(next->id).status, ActionStatus::kSuppressed);  // the v1 row holds the one slot
}

TEST_F(DispatcherTest, ChannelConstraintBlocksEmailForHighValueCriticalInteraction) {
  DispatcherOptions o = Options();
  o.constraints = {{"Payment Sent In Error", {{"standard", 0, {}}, {"gold", 10000, {"phone"}}}}};
  Open(o);
  auto r = Request(10, "critical:1");
  r.purpose = "service";
  r.critical = "Payment Sent In Error";
  r.customer_value = 20000;
  auto a = dispatcher_->Submit(r);
  EXPECT_EQ(Drive(a->id).status, ActionStatus::kBlocked);
  EXPECT_EQ(dispatcher_->Gates(a->id)->front().gate, "channel");
  r.source_ref = "critical:2";
  r.channel = "phone";
  EXPECT_EQ(Drive(dispatcher_->Submit(r)->id).status, ActionStatus::kDelivered);
}

TEST_F(DispatcherTest, BadRequestsNameTheField) {
  auto r = Request(1, "x");
  r.payload_json = "[1]";
  EXPECT_EQ(dispatcher_->Submit(r).status().message(), "payload: must be a JSON object");
  r = Request(1, "");
  EXPECT_EQ(dispatcher_->Submit(r).status().message(), "idempotency_key: required when source_ref is empty");
  r = Request(1, "x");
  r.customer_key = "";
  EXPECT_EQ(dispatcher_->Submit(r).status().message(), "customer_key: must name an identity of the customer");
  DispatcherOptions o = Options();
  o.endpoint.secret = "";
  EXPECT_EQ(Dispatcher::Open(o).status().message(), "actions.webhook.secret: required with a webhook url");
}

// The background thread on the real clock: a failure then success, with millisecond backoffs.
TEST_F(DispatcherTest, BackgroundThreadRetriesOnTheRealClock) {
  DispatcherOptions o = Options();
  o.clock = nullptr;
  o.start_thread = true;
  o.retry.initial_backoff_ms = 20;
  o.retry.max_backoff_ms = 50;
  Open(o);
  receiver_.Script({{502, 0}, {200, 0}});
  auto a = dispatcher_->Submit(Request(11, "rescue:11"));
  ASSERT_TRUE(a.ok());
  for (int i = 0; i < 200 && dispatcher_->Get(a->id)->status != ActionStatus::kDelivered; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(dispatcher_->Get(a->id)->status, ActionStatus::kDelivered);
  EXPECT_EQ(receiver_.seen().size(), 2u);
}

// https: a receiver whose self-signed certificate (made now) is trusted through ca_file gets the
// action over real TLS, with the SNI name and a valid signature.
TEST_F(DispatcherTest, HttpsDeliversToAReceiverSignedByTheConfiguredCa) {
  auto receiver = OpenHttps("DNS:localhost,IP:127.0.0.1", "localhost", true);
  auto& tls_receiver = *receiver;
  auto a = dispatcher_->Submit(Request(21, "rescue:21"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ActionRecord done = Drive(a->id);
  EXPECT_EQ(done.status, ActionStatus::kDelivered) << done.last_error;
  EXPECT_EQ(done.attempts, 1);
  auto seen = tls_receiver.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].sni, "localhost");
  EXPECT_EQ(seen[0].idempotency_key, "rescue.going_cold:rescue:21");
  EXPECT_TRUE(VerifySignature(kSecret, seen[0].signature, seen[0].body, clock_.NowMillis() / 1000, 3600));
  EXPECT_NE(seen[0].body.find(R"("reasons":["quiet 21d"])"), std::string::npos) << seen[0].body;
  EXPECT_EQ(touches_.Touched(), std::vector<int64_t>{a->id});

  // By IP address: checked against the certificate's IP entry; no SNI (RFC 6066 has none for IPs).
  DispatcherOptions o = Options();
  o.endpoint = {tls_receiver.url("127.0.0.1"), kSecret, 5000, dir_.Sub("receiver.crt")};
  Open(o);
  auto b = dispatcher_->Submit(Request(22, "rescue:22"));
  EXPECT_EQ(Drive(b->id).status, ActionStatus::kDelivered);
  ASSERT_EQ(tls_receiver.seen().size(), 2u);
  EXPECT_EQ(tls_receiver.seen()[1].sni, "");
}

// Without the CA (the system store does not know a self-signed certificate) the handshake is
// refused, last_error says why, and the action is retried per policy, then dead-lettered; the
// receiver never sees a request.
TEST_F(DispatcherTest, HttpsRefusesAnUntrustedCertificateAndRetriesPerPolicy) {
  auto receiver = OpenHttps("DNS:localhost,IP:127.0.0.1", "localhost", false);
  auto& tls_receiver = *receiver;
  auto a = dispatcher_->Submit(Request(23, "rescue:23"));
  ASSERT_TRUE(a.ok());
  const int64_t t0 = clock_.NowMillis();
  ASSERT_EQ(*dispatcher_->RunDue(t0), 1u);
  auto after1 = *dispatcher_->Get(a->id);
  EXPECT_EQ(after1.status, ActionStatus::kSending);
  EXPECT_EQ(after1.last_error,
            "tls handshake failed: certificate of localhost rejected: self-signed certificate (trusting the system CA "
            "store)");
  EXPECT_GE(after1.next_attempt_ms - t0, 500);  // backoff as for any failed attempt
  EXPECT_LE(after1.next_attempt_ms - t0, 1000);

  ActionRecord done = Drive(a->id);
  EXPECT_EQ(done.status, ActionStatus::kDeadLetter);
  EXPECT_EQ(done.attempts, 4);
  EXPECT_NE(done.last_error.find("self-signed certificate"), std::string::npos) << done.last_error;
  EXPECT_NE(done.last_error.find("(retry budget of 4 attempts spent)"), std::string::npos) << done.last_error;
  auto attempts = dispatcher_->Attempts(a->id);
  ASSERT_TRUE(attempts.ok());
  for (const auto& attempt : *attempts) EXPECT_EQ(attempt.http_status, 0);
  EXPECT_TRUE(tls_receiver.seen().empty());
  // The receiver counts a failed handshake on its own thread, possibly after the dispatcher has
  // already seen the failure: wait for the count to settle (at most 5 s) before comparing.
  for (int i = 0; i < 500 && tls_receiver.failed_handshakes() < 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(tls_receiver.failed_handshakes(), 4);
  EXPECT_TRUE(touches_.Touched().empty());
}

// A trusted certificate for another name is refused too (the host is checked, not just the CA).
TEST_F(DispatcherTest, HttpsRefusesACertificateForAnotherHost) {
  auto receiver = OpenHttps("DNS:other.example", "localhost", true);
  auto a = dispatcher_->Submit(Request(24, "rescue:24"));
  ASSERT_EQ(*dispatcher_->RunDue(clock_.NowMillis()), 1u);
  EXPECT_EQ(dispatcher_->Get(a->id)->last_error,
            fmt::format("tls handshake failed: certificate of localhost rejected: hostname mismatch (trusting CA file "
                        "'{}')",
                        dir_.Sub("receiver.crt")));
  EXPECT_TRUE(receiver->seen().empty());
}

TEST_F(DispatcherTest, HttpsBadCaFileIsRefusedAtOpenNamingIt) {
  DispatcherOptions o = Options();
  o.endpoint = {"https://127.0.0.1:1/hooks", kSecret, 5000, dir_.Sub("missing.pem")};
  auto d = Dispatcher::Open(o);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(d.status().message().starts_with(
      fmt::format("actions.webhook: ca_file: cannot read '{}'", dir_.Sub("missing.pem"))))
      << d.status().message();
  {
    FILE* f = std::fopen(dir_.Sub("junk.pem").c_str(), "w");
    std::fputs("not a certificate\n", f);
    std::fclose(f);
  }
  o.endpoint.ca_file = dir_.Sub("junk.pem");
  d = Dispatcher::Open(o);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(d.status().message().starts_with(
      fmt::format("actions.webhook: ca_file: '{}' holds no PEM certificate", dir_.Sub("junk.pem"))))
      << d.status().message();
  o.endpoint.url = receiver_.url();  // http
  EXPECT_EQ(Dispatcher::Open(o).status().message(), "actions.webhook.ca_file: only applies to an https url");
}

}  // namespace
}  // namespace cairn::actions
