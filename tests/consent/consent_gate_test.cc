// Every action path checks the consent ledger (DOMAIN.md §11, docs/consent.md): the Dispatcher's
// consent gate reads app::ConsentLedger over a real consents.db, for each kind of action Cairn
// sends (rescue, post-purchase prompt, review ask) and for a replayed dead letter — blocked when
// denied (and, for marketing, when unknown), allowed when granted, every block in the gate log.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "actions/dispatcher.h"
#include "app/consent_wiring.h"
#include "ingest/identity_resolver.h"
#include "testutil/temp_dir.h"
#include "actions/webhook_receiver.h"

namespace cairn::app {
namespace {

using actions::ActionRequest;
using actions::ActionStatus;

class ConsentGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.Set(1'800'000'000'000);
    auto l = ConsentLedger::Open(dir_.path(), &identity_, [](const std::string& s) -> store::CustomerId {
      return s.starts_with("c:") ? std::stoull(s.substr(2)) : 0;
    }, &registry_, &clock_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(*l);
    actions::DispatcherOptions o;
    o.path = dir_.Sub("actions.db");
    o.endpoint = {receiver_.url(), "whsec_test", 2000, ""};
    o.retry.max_attempts = 1;  // a failed delivery dead-letters at once (for the replay path)
    o.quiet.enabled = false;
    o.consent = ledger_.get();  // what Hub wires through RescueDeps::consent
    o.clock = &clock_;
    o.metrics = &registry_;
    o.start_thread = false;
    auto d = actions::Dispatcher::Open(std::move(o));
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    dispatcher_ = std::move(*d);
  }

  // A statement as the ingest path would record it: a `Consent Updated` track in a batch.
  void Consent(store::CustomerId c, std::string purpose, std::string channel, bool granted) {
    store::Interaction in;
    in.customer = c;
    in.seq = ++seq_;
    in.timestamp_ms = clock_.NowMillis() - 1000;
    in.type = store::MessageType::kTrack;
    in.event = "Consent Updated";
    in.message_id = "consent-" + std::to_string(seq_);
    in.payload = fmt::format(R"({{"type":"track","event":"Consent Updated","properties":{{"purpose":"{}",)"
                             R"("channel":"{}","granted":{}}}}})",
                             purpose, channel, granted ? "true" : "false");
    store::Batch b;
    b.first_seq = in.seq;
    b.interactions.push_back(std::move(in));
    ledger_->OnCommit(b);
  }

  ActionRequest Request(store::CustomerId c, std::string name, std::string purpose, std::string ref) {
    ActionRequest r;
    r.customer = c;
    r.customer_key = "userId:u" + std::to_string(c);
    r.name = std::move(name);
    r.purpose = std::move(purpose);
    r.channel = "email";
    r.expected_gain = 10;
    r.payload_json = "{}";
    r.source_ref = std::move(ref);
    return r;
  }

  // Submits, runs the gates and the delivery, returns the action and its consent gate entry.
  std::pair<actions::ActionRecord, actions::GateEntry> Run(ActionRequest r) {
    auto a = dispatcher_->Submit(std::move(r));
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_TRUE(dispatcher_->RunDue(clock_.NowMillis()).ok());
    auto after = dispatcher_->Get(a->id);
    auto gates = dispatcher_->Gates(a->id);
    actions::GateEntry consent;
    for (const auto& g : *gates) {
      if (g.gate == "consent") consent = g;
    }
    return {*after, consent};
  }

  testutil::TempDir dir_;
  testutil::WebhookReceiver receiver_;
  FakeClock clock_;
  metrics::Registry registry_;
  ingest::IdentityResolver identity_{ingest::DefaultIdentityOptions()};
  std::unique_ptr<ConsentLedger> ledger_;
  std::unique_ptr<actions::Dispatcher> dispatcher_;
  uint64_t seq_ = 0;
};

TEST_F(ConsentGateTest, EveryActionPathIsBlockedWhenDeniedAndAllowedWhenGranted) {
  struct Path {
    std::string name, purpose;
  };
  // The actions Cairn sends (rescue/journey_bridge.cc): a rescue, the post-purchase prompt
  // (service), the review ask after a happy answer (marketing), the support contact (service).
  const std::vector<Path> paths = {{"rescue.going_cold", "marketing"},
                                   {"post_purchase.prompt", "service"},
                                   {"post_purchase.review_ask", "marketing"},
                                   {"post_purchase.support_contact", "service"}};
  int n = 0;
  for (const auto& p : paths) {
    SCOPED_TRACE(p.name);
    const store::CustomerId denied = 100 + n, granted = 200 + n;
    ++n;
    Consent(denied, p.purpose, "email", false);
    Consent(granted, p.purpose, "*", true);
    auto [blocked, gate] = Run(Request(denied, p.name, p.purpose, "deny:" + p.name));
    EXPECT_EQ(blocked.status, ActionStatus::kBlocked);
    EXPECT_EQ(gate.verdict, "block");
    EXPECT_NE(gate.detail.find("consent denied"), std::string::npos) << gate.detail;
    EXPECT_NE(gate.detail.find("consent ledger: " + p.purpose + " on email denied"), std::string::npos) << gate.detail;
    auto [sent, pass] = Run(Request(granted, p.name, p.purpose, "grant:" + p.name));
    EXPECT_EQ(sent.status, ActionStatus::kDelivered) << sent.last_error;
    EXPECT_EQ(pass.verdict, "pass");
  }
  // Marketing needs a recorded grant: unknown blocks too, and says why.
  auto [unknown, gate] = Run(Request(999, "rescue.going_cold", "marketing", "unknown"));
  EXPECT_EQ(unknown.status, ActionStatus::kBlocked);
  EXPECT_NE(gate.detail.find("no recorded consent"), std::string::npos) << gate.detail;
}

TEST_F(ConsentGateTest, AWithdrawalBeforeReplayBlocksTheDeadLetter) {
  Consent(7, "marketing", "*", true);
  receiver_.Script({{500, 0}});  // the one attempt fails: dead letter
  auto [dead, pass] = Run(Request(7, "rescue.going_cold", "marketing", "r1"));
  ASSERT_EQ(dead.status, ActionStatus::kDeadLetter);
  EXPECT_EQ(pass.verdict, "pass");
  Consent(7, "marketing", "email", false);
  auto replayed = dispatcher_->Replay(dead.id);
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_EQ(replayed->status, ActionStatus::kBlocked);
  auto gates = *dispatcher_->Gates(dead.id);
  ASSERT_FALSE(gates.empty());
  EXPECT_EQ(gates.back().verdict, "block");
  EXPECT_NE(gates.back().detail.find("denied"), std::string::npos);
}

TEST_F(ConsentGateTest, AMergedCustomersStatementsFollowThemToTheSurvivor) {
  // Customer 31 granted; it is merged into 30: an action for 30 passes.
  store::IdentityOp link1{store::IdentityOp::Kind::kLink, 30, 0, "u:a"};
  store::IdentityOp link2{store::IdentityOp::Kind::kLink, 31, 0, "u:b"};
  store::IdentityOp merge{store::IdentityOp::Kind::kMerge, 30, 31, ""};
  ASSERT_TRUE(identity_.Apply(link1).ok());
  ASSERT_TRUE(identity_.Apply(link2).ok());
  Consent(31, "marketing", "email", true);
  auto [before, g1] = Run(Request(30, "rescue.going_cold", "marketing", "m1"));
  EXPECT_EQ(before.status, ActionStatus::kBlocked);
  ASSERT_TRUE(identity_.Apply(merge).ok());
  auto [after, g2] = Run(Request(30, "rescue.going_cold", "marketing", "m2"));
  EXPECT_EQ(after.status, ActionStatus::kDelivered) << g2.detail;
}

TEST_F(ConsentGateTest, AnalyticsDenialExcludesTheCustomerUntilGrantedAgain) {
  EXPECT_FALSE(ledger_->ExcludedFromAnalytics(5));
  Consent(5, "analytics", "*", false);
  EXPECT_TRUE(ledger_->ExcludedFromAnalytics(5));
  EXPECT_FALSE(ledger_->ExcludedFromAnalytics(6));
  clock_.Advance(1000);
  Consent(5, "analytics", "*", true);
  EXPECT_FALSE(ledger_->ExcludedFromAnalytics(5));
}

// Statements from the stream are written without an fsync of their own: until consents.db is
// synced (at most a second later, or at close) the event store's WAL must keep their batches, so
// RetainFromSeq holds at the first unsynced batch; a batch without statements holds nothing.
TEST_F(ConsentGateTest, UnsyncedStatementsHoldTheWalUntilTheSecondlySync) {
  EXPECT_EQ(ledger_->RetainFromSeq(), UINT64_MAX);
  Consent(5, "marketing", "email", true);
  const uint64_t first = seq_;
  EXPECT_EQ(ledger_->RetainFromSeq(), first);
  clock_.Advance(400);
  Consent(6, "marketing", "email", false);
  EXPECT_EQ(ledger_->RetainFromSeq(), first) << "the earliest unsynced batch holds the WAL";
  store::Batch plain;  // no statements: writes nothing, holds nothing
  plain.first_seq = ++seq_;
  plain.interactions.resize(1);
  plain.interactions[0].seq = seq_;
  plain.interactions[0].type = store::MessageType::kTrack;
  plain.interactions[0].event = "Page Viewed";
  clock_.Advance(700);  // past the sync interval: this commit syncs what came before
  ledger_->OnCommit(plain);
  EXPECT_EQ(ledger_->RetainFromSeq(), UINT64_MAX);
  Consent(7, "analytics", "*", false);
  EXPECT_EQ(ledger_->RetainFromSeq(), seq_);
  ASSERT_TRUE(ledger_->Sync().ok());
  EXPECT_EQ(ledger_->RetainFromSeq(), UINT64_MAX);
}

}  // namespace
}  // namespace cairn::app
