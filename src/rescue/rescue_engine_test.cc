#include "rescue/rescue_engine.h"

#include <gtest/gtest.h>

#include "testutil/temp_dir.h"

namespace cairn::rescue {
namespace {

constexpr int64_t kDay = 86400000;

PathConfig GoingCold() {
  PathConfig p;
  p.name = "going_cold";
  p.action = "send case studies";
  p.cost = 50;
  p.prior_p_rescue = 0.3;
  p.prior_p_none = 0.1;
  p.prior_strength = 10;
  p.outcome_window_ms = 14 * kDay;
  p.outcome_events = {"*"};
  return p;
}

PathConfig Renewal() {
  PathConfig p;
  p.name = "renewal_doubt";
  p.action = "usage review";
  p.cost = 200;
  p.prior_p_rescue = 0.6;
  p.prior_p_none = 0.4;
  p.outcome_window_ms = 30 * kDay;
  p.outcome_events = {"Subscription Renewed"};
  return p;
}

class RescueEngineTest : public ::testing::Test {
 protected:
  RescueOptions Options() {
    RescueOptions o;
    o.path = dir_.Sub("rescue.db");
    o.paths = {GoingCold(), Renewal()};
    o.clock = &clock_;
    o.metrics = &registry_;
    o.describe_customer = [](store::CustomerId c) {
      return std::vector<std::string>{"userId:u" + std::to_string(c)};
    };
    return o;
  }
  void OpenEngine(RescueOptions o) {
    engine_.reset();
    auto e = RescueEngine::Open(std::move(o));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
  }
  void SetUp() override { OpenEngine(Options()); }

  DerailmentSignal Signal(store::CustomerId c, std::string path, double value, int64_t at) {
    DerailmentSignal s;
    s.customer = c;
    s.path = std::move(path);
    s.value_at_stake = value;
    s.reasons = {"quiet 21d in stage interest (expected 14d)"};
    s.at_ms = at;
    return s;
  }

  testutil::TempDir dir_;
  FakeClock clock_;
  metrics::Registry registry_;
  std::unique_ptr<RescueEngine> engine_;
};

TEST_F(RescueEngineTest, DecisionStoredWithInputsAndExplanation) {
  const int64_t t0 = clock_.NowMillis();
  auto d = engine_->Decide(Signal(7, "going_cold", 1000, t0));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->rescue);
  EXPECT_EQ(d->status, RescueStatus::kOpen);
  EXPECT_NEAR(d->expected_gain, 150, 1e-9);
  EXPECT_EQ(d->customer_ids, std::vector<std::string>{"userId:u7"});
  EXPECT_EQ(d->window_end_ms, t0 + 14 * kDay);

  // Survives a reopen, byte for byte in what the queue shows.
  OpenEngine(Options());
  auto again = engine_->Get(d->id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->explanation, d->explanation);
  EXPECT_EQ(again->reasons, d->reasons);
  EXPECT_DOUBLE_EQ(again->expected_gain, 150);
  EXPECT_EQ(again->status, RescueStatus::kOpen);
}

TEST_F(RescueEngineTest, RepeatedSignalInTheSameEpisodeReturnsTheSameDecision) {
  auto a = engine_->Decide(Signal(1, "going_cold", 1000, clock_.NowMillis()));
  auto b = engine_->Decide(Signal(1, "going_cold", 5000, clock_.NowMillis() + 1000));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->id, b->id);
  auto other_path = engine_->Decide(Signal(1, "renewal_doubt", 5000, clock_.NowMillis()));
  ASSERT_TRUE(other_path.ok());
  EXPECT_NE(other_path->id, a->id);
}

TEST_F(RescueEngineTest, DecideAllDecidesABurstAsDecideWouldOnePerEpisode) {
  const int64_t t = clock_.NowMillis();
  auto all = engine_->DecideAll({Signal(1, "going_cold", 1000, t), Signal(2, "nowhere", 1000, t),
                                 Signal(1, "going_cold", 9000, t + 1), Signal(3, "renewal_doubt", 3000, t)});
  ASSERT_EQ(all.size(), 4u);
  ASSERT_TRUE(all[0].ok()) << all[0].status().ToString();
  EXPECT_EQ(all[1].status().code(), Code::kInvalidArgument);  // unknown path: that signal alone fails
  ASSERT_TRUE(all[2].ok());
  EXPECT_EQ(all[2]->id, all[0]->id);  // same episode in the same burst: one decision
  ASSERT_TRUE(all[3].ok());
  EXPECT_NE(all[3]->id, all[0]->id);
  // Committed and in the waiting index: a later signal of the episode answers the same decision,
  // and a reopen finds both.
  auto later = engine_->Decide(Signal(1, "going_cold", 1000, t + 2));
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->id, all[0]->id);
  OpenEngine(Options());
  EXPECT_TRUE(engine_->Get(all[0]->id).ok());
  EXPECT_TRUE(engine_->Get(all[3]->id).ok());
  auto open = engine_->List({RescueStatus::kOpen, 100});
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->size(), 2u);
}

TEST_F(RescueEngineTest, QueueRankedByExpectedGain) {
  const int64_t t = clock_.NowMillis();
  ASSERT_TRUE(engine_->Decide(Signal(1, "going_cold", 1000, t)).ok());    // 150
  ASSERT_TRUE(engine_->Decide(Signal(2, "going_cold", 5000, t)).ok());    // 950
  ASSERT_TRUE(engine_->Decide(Signal(3, "going_cold", 100, t)).ok());     // −30: skipped
  ASSERT_TRUE(engine_->Decide(Signal(4, "renewal_doubt", 3000, t)).ok()); // 400
  auto open = engine_->List({RescueStatus::kOpen, 100});
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 3u);
  EXPECT_EQ((*open)[0].customer, 2u);
  EXPECT_EQ((*open)[1].customer, 4u);
  EXPECT_EQ((*open)[2].customer, 1u);
  auto skipped = engine_->List({RescueStatus::kSkipped, 100});
  ASSERT_TRUE(skipped.ok());
  ASSERT_EQ(skipped->size(), 1u);
  EXPECT_EQ((*skipped)[0].customer, 3u);
  EXPECT_NE((*skipped)[0].explanation.find("Not worth rescuing"), std::string::npos);
}

TEST_F(RescueEngineTest, UnknownPathAndBadValueNameTheField) {
  auto d = engine_->Decide(Signal(1, "nope", 10, 0));
  EXPECT_EQ(d.status().message(), "signal.path: unknown rescue path 'nope'");
  d = engine_->Decide(Signal(1, "going_cold", -1, 0));
  EXPECT_EQ(d.status().message(), "signal.value_at_stake: must be a finite number >= 0, got -1");
}

TEST_F(RescueEngineTest, ActDismissAndStatusRules) {
  const int64_t t = clock_.NowMillis();
  auto a = engine_->Decide(Signal(1, "going_cold", 1000, t));
  auto b = engine_->Decide(Signal(2, "going_cold", 1000, t));
  ASSERT_TRUE(a.ok() && b.ok());
  clock_.Advance(kDay);
  auto acted = engine_->Act(a->id, "sent by Jo");
  ASSERT_TRUE(acted.ok()) << acted.status().ToString();
  EXPECT_EQ(acted->status, RescueStatus::kActed);
  EXPECT_EQ(acted->window_start_ms, t + kDay);  // the rescued arm is measured from the act
  EXPECT_EQ(engine_->Act(a->id, "").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(engine_->Dismiss(a->id, "").status().code(), Code::kFailedPrecondition);
  auto dismissed = engine_->Dismiss(b->id, "not our customer");
  ASSERT_TRUE(dismissed.ok());
  EXPECT_EQ(dismissed->status, RescueStatus::kDismissed);
  EXPECT_EQ(engine_->Get(999).status().code(), Code::kNotFound);
}

TEST_F(RescueEngineTest, ActDispatchesThePathsAction) {
  std::vector<std::string> sent;
  RescueOptions o = Options();
  o.dispatch = [&](const Decision& d, const PathConfig& p) -> Result<std::string> {
    if (d.customer == 13) return Unavailable("webhook endpoint not configured");
    sent.push_back(p.action);
    return std::string("action-1");
  };
  OpenEngine(o);
  auto a = engine_->Decide(Signal(1, "going_cold", 1000, clock_.NowMillis()));
  auto bad = engine_->Decide(Signal(13, "going_cold", 1000, clock_.NowMillis()));
  auto acted = engine_->Act(a->id, "");
  ASSERT_TRUE(acted.ok());
  EXPECT_EQ(acted->action_ref, "action-1");
  EXPECT_EQ(sent, std::vector<std::string>{"send case studies"});
  // A failed dispatch leaves the rescue open.
  EXPECT_EQ(engine_->Act(bad->id, "").status().code(), Code::kUnavailable);
  EXPECT_EQ(engine_->Get(bad->id)->status, RescueStatus::kOpen);
}

TEST_F(RescueEngineTest, OutcomesObservedFromInteractionsWithinTheWindow) {
  const int64_t t = clock_.NowMillis();
  auto r = engine_->Decide(Signal(5, "renewal_doubt", 3000, t));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(engine_->Act(r->id, "").ok());
  // Wrong event, our own touch, another customer: nothing closes.
  engine_->ObserveInteraction(5, "Feature Used", t + kDay, false);
  engine_->ObserveInteraction(5, "Subscription Renewed", t + kDay, /*ours=*/true);
  engine_->ObserveInteraction(6, "Subscription Renewed", t + kDay, false);
  EXPECT_EQ(engine_->Get(r->id)->status, RescueStatus::kActed);
  engine_->ObserveInteraction(5, "Subscription Renewed", t + 2 * kDay, false);
  auto closed = engine_->Get(r->id);
  EXPECT_EQ(closed->status, RescueStatus::kSucceeded);
  EXPECT_TRUE(closed->rescued);
  EXPECT_EQ(engine_->Counts("renewal_doubt", "", true)->successes, 1);
  // A new episode for the same customer and path is a new decision now.
  auto next = engine_->Decide(Signal(5, "renewal_doubt", 3000, t + 3 * kDay));
  EXPECT_NE(next->id, r->id);
}

TEST_F(RescueEngineTest, WindowExpiryIsAFailureOfTheRightArm) {
  const int64_t t = clock_.NowMillis();
  auto skipped = engine_->Decide(Signal(1, "going_cold", 10, t));  // not worth it: "none" arm
  auto acted = engine_->Decide(Signal(2, "going_cold", 1000, t));
  ASSERT_TRUE(engine_->Act(acted->id, "").ok());
  // An event after the window does not count.
  engine_->ObserveInteraction(1, "Page Viewed", t + 15 * kDay, false);
  auto n = engine_->ExpireWindows(t + 13 * kDay);
  EXPECT_EQ(*n, 0u);
  n = engine_->ExpireWindows(t + 20 * kDay);
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(engine_->Get(skipped->id)->status, RescueStatus::kFailed);
  EXPECT_EQ(engine_->Counts("going_cold", "", false)->failures, 1);
  EXPECT_EQ(engine_->Counts("going_cold", "", true)->failures, 1);
}

// Learning: after rescues of one persona keep failing, the same signal is no longer worth it for
// that persona, while another persona still gets the prior.
TEST_F(RescueEngineTest, LearnsFromOutcomesPerPersona) {
  int64_t t = clock_.NowMillis();
  for (int i = 0; i < 10; ++i) {
    auto s = Signal(100 + i, "going_cold", 400, t);
    s.persona = "bargain_hunter";
    auto d = engine_->Decide(s);
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(d->rescue) << i << ": " << d->explanation;  // 400 × (p_r − p_n) − 50 > 0 at first
    ASSERT_TRUE(engine_->Act(d->id, "").ok());
    ASSERT_TRUE(engine_->RecordOutcome(d->id, i == 0, "reply").ok());
    // Once learned low enough the verdict flips; stop feeding.
    auto probe = ComputeDecision(GoingCold(), 400, *engine_->Counts("going_cold", "bargain_hunter", true),
                                 *engine_->Counts("going_cold", "bargain_hunter", false), std::nullopt);
    if (!probe.rescue) break;
  }
  auto s = Signal(500, "going_cold", 400, t);
  s.persona = "bargain_hunter";
  auto learned = engine_->Decide(s);
  ASSERT_TRUE(learned.ok());
  EXPECT_FALSE(learned->rescue) << learned->explanation;
  EXPECT_LT(learned->p_rescue, 0.3);
  EXPECT_NE(learned->explanation.find("learned from"), std::string::npos);
  s.customer = 501;
  s.persona = "enterprise";
  auto prior = engine_->Decide(s);
  EXPECT_TRUE(prior->rescue);
  EXPECT_DOUBLE_EQ(prior->p_rescue, 0.3);
}

TEST_F(RescueEngineTest, ManualOutcomeOnlyOnce) {
  auto d = engine_->Decide(Signal(1, "going_cold", 1000, clock_.NowMillis()));
  auto r = engine_->RecordOutcome(d->id, true, "called back");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, RescueStatus::kSucceeded);
  EXPECT_FALSE(r->rescued);  // never acted: teaches the "none" arm
  EXPECT_EQ(r->outcome_note, "manual: called back");
  EXPECT_EQ(engine_->RecordOutcome(d->id, false, "").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(engine_->Counts("going_cold", "", false)->successes, 1);
}

TEST_F(RescueEngineTest, BudgetPerPeriod) {
  RescueOptions o = Options();
  o.budget_per_period = 120;  // two going_cold rescues (50 each) fit, the third does not
  o.budget_period_ms = 30 * kDay;
  OpenEngine(o);
  const int64_t t = 40 * 30 * kDay;  // the start of a period
  auto a = engine_->Decide(Signal(1, "going_cold", 1000, t));
  auto b = engine_->Decide(Signal(2, "going_cold", 1000, t + 1));
  auto c = engine_->Decide(Signal(3, "going_cold", 1000, t + 2));
  EXPECT_TRUE(a->rescue);
  EXPECT_TRUE(b->rescue);
  EXPECT_FALSE(c->rescue);
  EXPECT_NE(c->explanation.find("over budget"), std::string::npos) << c->explanation;
  // Dismissing one frees its cost; the next period starts afresh.
  ASSERT_TRUE(engine_->Dismiss(a->id, "").ok());
  EXPECT_TRUE(engine_->Decide(Signal(4, "going_cold", 1000, t + 3))->rescue);
  EXPECT_TRUE(engine_->Decide(Signal(5, "going_cold", 1000, t + 30 * kDay))->rescue);
}

TEST_F(RescueEngineTest, MergeMovesWaitingDecisions) {
  auto d = engine_->Decide(Signal(8, "going_cold", 1000, clock_.NowMillis()));
  engine_->OnMerge(8, 3);
  engine_->ObserveInteraction(3, "Page Viewed", clock_.NowMillis() + 1, false);
  EXPECT_EQ(engine_->Get(d->id)->status, RescueStatus::kSucceeded);
  EXPECT_EQ(engine_->ListForCustomer(3)->size(), 1u);
}

TEST_F(RescueEngineTest, BadPathsRejectedAndOldOnesKept) {
  PathConfig bad = GoingCold();
  bad.prior_p_none = -0.1;
  EXPECT_EQ(engine_->SetPaths({bad}).message(), "paths[going_cold].prior_p_none: must be in [0, 1], got -0.1");
  EXPECT_TRUE(engine_->Decide(Signal(1, "renewal_doubt", 10, 0)).ok());
  EXPECT_EQ(engine_->SetPaths({GoingCold(), GoingCold()}).message(), "paths[going_cold]: duplicate name");
}

}  // namespace
}  // namespace cairn::rescue
