// Rescue and actions against the real `cairn serve`: an order then a complaint make the journey
// engine fire the angry path; the rescue is decided on value and queued; acting on it sends a
// signed webhook to a real receiver (which fails once, then recovers); the delivery log shows
// both attempts; the touch comes back as an "Action Sent" interaction on the customer's
// timeline; a manual outcome closes the rescue. Bad input answers 400 naming the field.

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "actions/webhook.h"
#include "api/cairn_server.h"
#include "testutil/temp_dir.h"
#include "webhook_receiver.h"

namespace cairn {
namespace {

using testutil::CairnServer;

boost::json::object GetObject(testutil::HttpClient& c, const std::string& target) {
  auto r = c.Get(target, testutil::AdminAuth());
  EXPECT_TRUE(r.ok());
  if (!r.ok()) return {};
  EXPECT_EQ(r->status, 200) << target << ": " << r->body;
  auto v = testutil::ParseJson(r->body);
  return v.is_object() ? v.as_object() : boost::json::object{};
}

TEST(RescueBlackbox, SignalToDecisionToSignedWebhookAndBack) {
  testutil::TempDir dir;
  testutil::WebhookReceiver receiver;
  receiver.Script({{503, 0}}, {200, 0});  // fails once, then recovers
  const std::string config = dir.Sub("cairn.yaml");
  {
    std::ofstream f(config);
    f << "rescue:\n  auto_act: false\n"
      << "actions:\n  webhook: {url: \"" << receiver.url() << "\", secret: s3cret, timeout: 2s}\n"
      << "  retry: {max_attempts: 3, initial_backoff: 50ms, max_backoff: 100ms}\n";
  }
  CairnServer server(dir.Sub("data"), dir.Sub("log"), {"--config", config});
  ASSERT_TRUE(server.Start());
  auto client = server.Client();

  // A cheaper angry-path rescue (cost 1 instead of 25) through PUT /v1/journey-map: the new map's
  // rescue paths reach the rescue engine.
  auto map = client->Get("/v1/journey-map", testutil::AdminAuth());
  ASSERT_TRUE(map.ok());
  ASSERT_EQ(map->status, 200);
  std::string yaml = map->body;
  size_t at = yaml.find("cost: 25");
  ASSERT_NE(at, std::string::npos);
  yaml.replace(at, 8, "cost: 1");
  // The default angry path opens a case (an internal action, tests/api/cases_test.cc); this test
  // follows a webhook, so give the path a webhook action.
  at = yaml.find("action: open_case");
  ASSERT_NE(at, std::string::npos);
  yaml.replace(at, 17, "action: assign_dedicated_agent");
  auto put = client->Request("PUT", "/v1/journey-map", testutil::AdminAuth(), yaml);
  ASSERT_TRUE(put.ok());
  ASSERT_EQ(put->status, 200) << put->body;

  const std::string order = testutil::TrackJson("ann", "Order Completed", "m1", R"("properties":{"revenue":5000})");
  const std::string complaint =
      testutil::TrackJson("ann", "Complaint Filed", "m2", R"("properties":{"category":"billing","severity":"high"})");
  auto ingest = client->Post("/v1/batch", testutil::BatchJson({order, complaint}), testutil::WriteAuth());
  ASSERT_TRUE(ingest.ok());
  ASSERT_EQ(ingest->status, 200) << ingest->body;

  // The decision appears in the queue (the engine decides as the batch commits).
  boost::json::object decision;
  for (int i = 0; i < 100 && decision.empty(); ++i) {
    auto list = GetObject(*client, "/v1/rescues");
    for (const auto& d : list["rescues"].as_array()) {
      if (d.as_object().at("path").as_string() == "angry") decision = d.as_object();
    }
    if (decision.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(decision.empty()) << "no angry-path decision";
  EXPECT_EQ(decision["customer"].as_object()["ids"].as_array().at(0).as_string(), "userId:ann");
  EXPECT_NE(std::string(decision["explanation"].as_string()).find("Expected gain"), std::string::npos);
  ASSERT_EQ(decision["status"].as_string(), "open") << boost::json::serialize(decision);
  const int64_t id = decision["id"].as_int64();
  const std::string base = "/v1/rescues/" + std::to_string(id);

  // Bad input names the field.
  auto bad = client->Post(base + "/outcome", R"({"success":"yes"})", testutil::AdminAuth());
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("success: must be true or false"), std::string::npos) << bad->body;
  auto bad_status = client->Get("/v1/rescues?status=nope", testutil::AdminAuth());
  EXPECT_EQ(bad_status->status, 400);
  EXPECT_EQ(client->Get("/v1/rescues", {{"Authorization", std::string("Bearer ") + testutil::kWriteKey}})->status, 403);

  // Act: the path's action goes out as a signed webhook.
  auto acted = client->Post(base + "/act", R"({"note":"Jo takes it"})", testutil::AdminAuth());
  ASSERT_EQ(acted->status, 200) << acted->body;
  auto acted_json = testutil::ParseJson(acted->body).as_object();
  EXPECT_EQ(acted_json["status"].as_string(), "acted");
  std::string ref(acted_json["actionRef"].as_string());
  ASSERT_TRUE(ref.starts_with("action:")) << ref;
  const std::string action_path = "/v1/actions/" + ref.substr(7);
  boost::json::object action;
  for (int i = 0; i < 100; ++i) {
    action = GetObject(*client, action_path);
    if (action["status"] == "delivered") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(action["status"].as_string(), "delivered") << boost::json::serialize(action);
  EXPECT_EQ(action["deliveries"].as_array().size(), 2u);
  EXPECT_EQ(action["deliveries"].as_array()[0].as_object()["httpStatus"].as_int64(), 503);
  auto seen = receiver.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].idempotency_key, seen[1].idempotency_key);
  EXPECT_TRUE(actions::VerifySignature("s3cret", seen[1].signature, seen[1].body, 0, 0));
  EXPECT_NE(seen[1].body.find(R"("type":"rescue.angry")"), std::string::npos) << seen[1].body;
  EXPECT_EQ(receiver.processed().size(), 1u);

  // The touch is an interaction of the customer's, through the ingest path.
  bool touched = false;
  for (int i = 0; i < 100 && !touched; ++i) {
    for (const auto& in : testutil::Timeline(*client, "ann")) {
      if (in.at("event").as_string() == "Action Sent") touched = true;
    }
    if (!touched) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(touched);

  // A manual outcome closes it; a second one is refused.
  auto outcome = client->Post(base + "/outcome", R"({"success":true,"note":"refund agreed"})", testutil::AdminAuth());
  ASSERT_EQ(outcome->status, 200) << outcome->body;
  EXPECT_EQ(testutil::ParseJson(outcome->body).as_object()["status"].as_string(), "succeeded");
  EXPECT_EQ(client->Post(base + "/outcome", R"({"success":false})", testutil::AdminAuth())->status, 409);
  auto succeeded = GetObject(*client, "/v1/rescues?status=succeeded");
  EXPECT_EQ(succeeded["rescues"].as_array().size(), 1u);

  // Decisions and the delivery log survive a restart.
  ASSERT_TRUE(server.Stop());
  ASSERT_TRUE(server.Start());
  client = server.Client();
  EXPECT_EQ(GetObject(*client, base)["status"].as_string(), "succeeded");
  EXPECT_EQ(GetObject(*client, action_path)["deliveries"].as_array().size(), 2u);
  ASSERT_TRUE(server.Stop());
}

}  // namespace
}  // namespace cairn
