// The bridge with the real rescue engine, the real dispatcher and a real HTTP receiver: a journey
// signal becomes a decision, acting sends the path's action; an order schedules the post-purchase
// prompt after the map's delay; the survey answer routes happy → review/referral ask and
// unhappy → support contact; our own touches never count as outcomes.

#include "rescue/journey_bridge.h"
#include "rescue/touch_recorder.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "actions/webhook_receiver.h"
#include "testutil/temp_dir.h"

namespace cairn::rescue {
namespace {

constexpr int64_t kDay = 86400000;

store::Interaction Survey(int64_t ts, int nps) {
  store::Interaction in;
  in.type = store::MessageType::kTrack;
  in.event = "Survey Responded";
  in.timestamp_ms = ts;
  in.payload = "{\"type\":\"track\",\"event\":\"Survey Responded\",\"properties\":{\"nps\":" + std::to_string(nps) + "}}";
  return in;
}

class BridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto map = journey::JourneyMap::Parse(journey::JourneyMap::DefaultYaml());
    ASSERT_TRUE(map.ok()) << map.status().ToString();
    map_ = *map;
    actions::DispatcherOptions d;
    d.path = dir_.Sub("actions.db");
    d.endpoint = {receiver_.url(), "k", 2000, ""};
    d.quiet.enabled = false;
    d.consent_policy.require_grant = {};
    d.clock = &clock_;
    d.metrics = &registry_;
    d.start_thread = false;
    auto disp = actions::Dispatcher::Open(std::move(d));
    ASSERT_TRUE(disp.ok()) << disp.status().ToString();
    dispatcher_ = std::move(*disp);

    BridgeOptions bo;
    bo.describe = [](store::CustomerId c) {
      return CustomerInfo{{"userId:u" + std::to_string(c), "email:u@x.io"}, "Europe/Paris", 0};
    };
    bo.read = [this](store::CustomerId) -> Result<std::vector<store::Interaction>> {
      std::lock_guard lock(mu_);
      return log_;
    };
    RescueOptions ro;
    ro.path = dir_.Sub("rescue.db");
    ro.clock = &clock_;
    ro.metrics = &registry_;
    ro.describe_customer = [](store::CustomerId c) { return std::vector<std::string>{"userId:u" + std::to_string(c)}; };
    ro.dispatch = [this](const Decision& d, const PathConfig& p) { return bridge_->Dispatch(d, p); };
    auto engine = RescueEngine::Open(std::move(ro));
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    bridge_ = std::make_unique<JourneyBridge>(engine_.get(), dispatcher_.get(), std::move(bo));
    ASSERT_TRUE(bridge_->SetMap(*map_).ok());
  }

  // Waits for the routing thread to queue `n` actions in total.
  std::vector<actions::ActionRecord> WaitForActions(size_t n) {
    for (int i = 0; i < 200; ++i) {
      auto list = dispatcher_->List(std::nullopt, 100);
      if (list->size() >= n) return *list;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return *dispatcher_->List(std::nullopt, 100);
  }

  // An angry-path decision for `customer`, decided on the bridge's thread and acted on (its
  // action queued): the decision's id.
  int64_t ActedAngryRescue(store::CustomerId customer) {
    journey::Signal s;
    s.customer = customer;
    s.path = "angry";
    s.reasons = {"interaction 'Complaint Filed'"};
    s.value_at_stake = 1000;
    s.at_ms = clock_.NowMillis();
    bridge_->OnSignal(s);
    bridge_->Flush();  // decisions are made on the bridge's thread
    auto open = engine_->List({RescueStatus::kOpen, 10});
    EXPECT_EQ(open->size(), 1u);
    if (open->empty()) return 0;
    auto acted = engine_->Act((*open)[0].id, "");
    EXPECT_TRUE(acted.ok()) << acted.status().ToString();
    acted_ = acted.ok() ? *acted : Decision{};
    return (*open)[0].id;
  }

  testutil::TempDir dir_;
  testutil::WebhookReceiver receiver_;
  FakeClock clock_;
  metrics::Registry registry_;
  std::shared_ptr<const journey::JourneyMap> map_;
  std::unique_ptr<actions::Dispatcher> dispatcher_;
  std::unique_ptr<RescueEngine> engine_;
  std::unique_ptr<JourneyBridge> bridge_;
  std::mutex mu_;
  std::vector<store::Interaction> log_;
  Decision acted_;  // what ActedAngryRescue's Act answered
};

TEST_F(BridgeTest, MapPathsReachTheEngine) {
  auto paths = PathsFromMap(*map_);
  ASSERT_FALSE(paths.empty());
  for (const auto& p : paths) EXPECT_TRUE(ValidatePath(p).ok()) << p.name;
  auto constraints = ConstraintsFromMap(*map_);
  EXPECT_FALSE(constraints.empty());
}

TEST_F(BridgeTest, SignalDecisionActAndDelivery) {
  const int64_t id = ActedAngryRescue(42);
  ASSERT_NE(id, 0);
  ASSERT_TRUE(dispatcher_->RunDue(clock_.NowMillis()).ok());
  auto actions = *dispatcher_->List(std::nullopt, 10);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].status, actions::ActionStatus::kDelivered);
  EXPECT_EQ(actions[0].request.name, "rescue.angry");
  EXPECT_EQ(actions[0].request.purpose, "service");
  EXPECT_EQ(actions[0].request.customer_key, "userId:u42");
  EXPECT_EQ(actions[0].request.time_zone, "Europe/Paris");
  EXPECT_EQ(acted_.action_ref, "action:" + std::to_string(actions[0].id));
  // Our own touch does not close the rescue; the customer's resolution does.
  bridge_->OnInteraction(42, kTouchEvent, clock_.NowMillis() + 1, 0, false);
  EXPECT_EQ(engine_->Get(id)->status, RescueStatus::kActed);
  bridge_->OnInteraction(42, "Support Ticket Resolved", clock_.NowMillis() + 2, 0, false);
  EXPECT_EQ(engine_->Get(id)->status, RescueStatus::kSucceeded);
}

TEST_F(BridgeTest, ABatchOfInteractionsActsAsEachInTurn) {
  // The journey engine hands a batch at once: our touch in it does not close the rescue, the
  // customer's resolution after it does; an order in it is prompted and a later answer in the
  // same batch is routed.
  const int64_t id = ActedAngryRescue(42);
  ASSERT_NE(id, 0);
  const int64_t t = clock_.NowMillis();
  {
    std::lock_guard lock(mu_);
    log_ = {Survey(t + 5, 10)};
  }
  const journey::Touch batch[] = {
      {42, kTouchEvent, t + 1, 0, false},
      {7, "Order Completed", t + 2, 120, true},
      {42, "Support Ticket Resolved", t + 3, 0, false},
      {7, "Survey Responded", t + 5, 0, false},
  };
  bridge_->OnInteractions(batch);
  EXPECT_EQ(engine_->Get(id)->status, RescueStatus::kSucceeded);
  bridge_->Flush();
  // The angry path's action, the prompt for 7, then (its answer routed) the happy path's ask.
  auto actions = WaitForActions(3);
  ASSERT_EQ(actions.size(), 3u);
  EXPECT_EQ(actions[0].request.name, "post_purchase." + map_->post_purchase().happy_action);
  EXPECT_EQ(actions[1].request.name, "post_purchase.prompt");
}

TEST_F(BridgeTest, PostPurchasePromptAfterDelayThenHappyAndUnhappyRouting) {
  const int64_t t = clock_.NowMillis();
  bridge_->OnInteraction(7, "Order Completed", t, 120, /*is_order=*/true);
  bridge_->OnInteraction(8, "Order Completed", t, 80, /*is_order=*/true);
  bridge_->Flush();
  auto prompts = *dispatcher_->List(std::nullopt, 10);
  ASSERT_EQ(prompts.size(), 2u);
  EXPECT_EQ(prompts[0].request.name, "post_purchase.prompt");
  EXPECT_EQ(prompts[0].not_before_ms, t + map_->post_purchase().delay_ms);
  EXPECT_NE(prompts[1].request.payload_json.find(R"("revenue":120)"), std::string::npos) << prompts[1].request.payload_json;
  // Nothing goes out before the delay.
  ASSERT_TRUE(dispatcher_->RunDue(t + kDay).ok());
  EXPECT_TRUE(receiver_.seen().empty());
  clock_.Set(t + map_->post_purchase().delay_ms);
  ASSERT_TRUE(dispatcher_->RunDue(clock_.NowMillis()).ok());
  EXPECT_EQ(receiver_.seen().size(), 2u);

  // Customer 7 is happy (NPS 10), customer 8 unhappy (NPS 3).
  const int64_t answered = clock_.NowMillis() + 3600000;
  {
    std::lock_guard lock(mu_);
    log_ = {Survey(answered, 10)};
  }
  bridge_->OnInteraction(7, "Survey Responded", answered, 0, false);
  auto after_happy = WaitForActions(3);
  ASSERT_EQ(after_happy.size(), 3u);
  EXPECT_EQ(after_happy[0].request.name, "post_purchase." + map_->post_purchase().happy_action);
  EXPECT_EQ(after_happy[0].request.purpose, "marketing");
  {
    std::lock_guard lock(mu_);
    log_ = {Survey(answered, 3)};
  }
  bridge_->OnInteraction(8, "Survey Responded", answered, 0, false);
  auto after_unhappy = WaitForActions(4);
  ASSERT_EQ(after_unhappy.size(), 4u);
  EXPECT_EQ(after_unhappy[0].request.name, "post_purchase." + map_->post_purchase().unhappy_action);
  EXPECT_EQ(after_unhappy[0].request.purpose, "service");
  // A second answer is not routed again (the prompt was answered).
  bridge_->OnInteraction(8, "Survey Responded", answered + 1, 0, false);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(dispatcher_->List(std::nullopt, 100)->size(), 4u);
}

TEST_F(BridgeTest, AngryPathOpensACaseThroughTheInternalActionAndTheRescueRecordsIt) {
  // The default map's angry path acts with `open_case`: once that kind is internal (the cases
  // wiring registers it), acting goes through the gates to the handler, not to the webhook.
  std::vector<actions::ActionRecord> handled;
  dispatcher_->RegisterInternal("open_case", [&](const actions::ActionRecord& a) -> Result<std::string> {
    handled.push_back(a);
    const int64_t rescue = std::stoll(a.request.source_ref.substr(7));  // "rescue:<id>"
    RETURN_IF_ERROR(engine_->AppendActionRef(rescue, "case:9"));
    return std::string("case:9");
  });
  journey::Signal s;
  s.customer = 42;
  s.path = "angry";
  s.reasons = {"interaction 'Complaint Filed'"};
  s.value_at_stake = 1000;
  s.at_ms = clock_.NowMillis();
  bridge_->OnSignal(s);
  bridge_->Flush();
  auto open = engine_->List({RescueStatus::kOpen, 10});
  ASSERT_EQ(open->size(), 1u);
  auto acted = engine_->Act((*open)[0].id, "");
  ASSERT_TRUE(acted.ok()) << acted.status().ToString();
  ASSERT_TRUE(dispatcher_->RunDue(clock_.NowMillis()).ok());
  ASSERT_EQ(handled.size(), 1u);
  EXPECT_EQ(handled[0].request.name, "open_case");
  EXPECT_EQ(handled[0].request.purpose, "service");
  EXPECT_EQ(handled[0].endpoint, "internal:open_case");
  EXPECT_NE(handled[0].request.payload_json.find(R"("path":"angry")"), std::string::npos) << handled[0].request.payload_json;
  EXPECT_TRUE(receiver_.seen().empty());  // no webhook
  EXPECT_EQ(engine_->Get(acted->id)->action_ref, "action:" + std::to_string(handled[0].id) + " case:9");
  // Recording the same reference again changes nothing.
  ASSERT_TRUE(engine_->AppendActionRef(acted->id, "case:9").ok());
  EXPECT_EQ(engine_->Get(acted->id)->action_ref, "action:" + std::to_string(handled[0].id) + " case:9");
  EXPECT_FALSE(engine_->AppendActionRef(acted->id, "two words").ok());
}

TEST(TouchMessageTest, SegmentTrackFromTheAction) {
  actions::ActionRecord a;
  a.id = 12;
  a.request.customer_key = "userId:ann";
  a.request.name = "rescue.angry";
  a.request.channel = "phone";
  a.request.purpose = "service";
  a.request.source_ref = "rescue:3";
  auto m = IngestTouchRecorder::TouchMessage(a, 1767225600000);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m,
            R"({"type":"track","event":"Action Sent","userId":"ann","messageId":"cairn-action-12","timestamp":"2026-01-01T00:00:00.000Z",)"
            R"("properties":{"action":"rescue.angry","actionId":12,"channel":"phone","purpose":"service","direction":"outbound","source":"rescue:3"},)"
            R"("context":{"channel":"phone"}})");
  a.request.customer_key = "email:a@x.io";
  EXPECT_EQ(IngestTouchRecorder::TouchMessage(a, 0).status().message(),
            "customer_key: need userId:… or anonymousId:…, got 'email:a@x.io'");
}

}  // namespace
}  // namespace cairn::rescue
