// The consent ledger and the export against the real binary (docs/consent.md, docs/export.md):
// statements from identify traits, `Consent Updated` events and PUT, read back with history,
// across an identity merge and a restart; 400 naming the field, 404; and the export bundle over
// HTTP (chunked) and from `cairn export` (the same bundle, parsed as JSON).

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <thread>
#include <tuple>

#include "api/cairn_server.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

HttpHeaders Admin(std::string request_id = "") {
  HttpHeaders h = AdminAuth();
  h.emplace_back("Content-Type", "application/json");
  if (!request_id.empty()) h.emplace_back("X-Request-Id", request_id);
  return h;
}

void Ingest(HttpClient& c, const std::vector<std::string>& messages) {
  auto r = c.Post("/v1/batch", BatchJson(messages), WriteAuth());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200u) << r->body;
}

boost::json::object Consents(HttpClient& c, const std::string& id) {
  auto r = c.Get("/v1/customers/" + id + "/consents", AdminAuth());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return {};
  EXPECT_EQ(r->status, 200u) << r->body;
  auto v = ParseJson(r->body);
  return v.is_object() ? v.as_object() : boost::json::object{};
}

// "purpose/channel" → state, from `current`.
std::map<std::string, std::string> Current(const boost::json::object& view) {
  std::map<std::string, std::string> out;
  if (!view.contains("current")) return out;
  for (const auto& c : view.at("current").as_array()) {
    const auto& o = c.as_object();
    out[std::string(o.at("purpose").as_string()) + "/" + std::string(o.at("channel").as_string())] =
        std::string(o.at("state").as_string());
  }
  return out;
}

class ConsentBlackbox : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<CairnServer>(tmp_.Sub("data"), tmp_.Sub("serve"));
    ASSERT_TRUE(server_->Start());
    client_ = server_->Client();
  }
  // `cairn export --out` on the (stopped) data dir: the bundle parsed, or null with a failure.
  boost::json::value ExportWithCli(const std::string& customer) {
    const std::string out = tmp_.Sub(customer + ".json");
    auto child = ChildProcess::Start({CAIRN_BINARY, "export", "--data", tmp_.Sub("data"), "--customer", customer, "--out",
                                      out, "--no-value"},
                                     tmp_.Sub("export-" + customer));
    EXPECT_TRUE(child.ok()) << child.status().ToString();
    if (!child.ok()) return nullptr;
    auto exit = (*child)->Wait(kStopTimeout);
    EXPECT_TRUE(exit.ok() && exit->ExitedWith(0)) << (*child)->ReadStderr();
    std::ifstream in(out);
    return ParseJson(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  }

  TempDir tmp_;
  std::unique_ptr<CairnServer> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ConsentBlackbox, StatementsFromTraitsEventsAndPutWithHistoryAcrossMergeAndRestart) {
  Ingest(*client_,
         {R"({"type":"identify","userId":"ann","messageId":"i1","timestamp":"2026-01-01T10:00:00Z",)"
          R"("traits":{"email":"ann@example.com","consent":{"marketing":{"email":true,"sms":false}}}})",
          TrackJson("ann", "Consent Updated", "c1",
                    R"("timestamp":"2026-01-02T10:00:00Z","properties":{"channel":"web","purpose":"marketing",)"
                    R"("consent_channel":"email","granted":false,"lawful_basis":"consent","source":"unsubscribe_link"})"),
          // An anonymous visitor who later turns out to be ann (merged by the identify below).
          R"({"type":"track","anonymousId":"anon-7","event":"Consent Updated","messageId":"c2",)"
          R"("timestamp":"2026-01-03T10:00:00Z","properties":{"purpose":"analytics","state":"denied"}})",
          R"({"type":"identify","userId":"ann","anonymousId":"anon-7","messageId":"i2","timestamp":"2026-01-04T10:00:00Z"})"});
  auto view = Consents(*client_, "ann");
  auto cur = Current(view);
  EXPECT_EQ(cur["marketing/email"], "denied");  // the later event wins over the trait
  EXPECT_EQ(cur["marketing/sms"], "denied");
  EXPECT_EQ(cur["analytics/*"], "denied");      // recorded under the anonymous id, read after the merge
  ASSERT_TRUE(view.contains("history"));
  EXPECT_EQ(view.at("history").as_array().size(), 4u);
  const auto& ev = view.at("history").as_array()[2].as_object();
  EXPECT_EQ(ev.at("source").as_string(), "event");
  EXPECT_EQ(ev.at("proof").as_string(), "message:c1");
  EXPECT_EQ(ev.at("note").as_string(), "unsubscribe_link");

  // PUT: the proof is the call.
  auto r = client_->Request("PUT", "/v1/customers/ann@example.com/consents", Admin("req-42"),
                            R"({"consents":[{"purpose":"marketing","channel":"email","state":"granted",)"
                            R"("lawful_basis":"consent","expires_at":"2099-01-01T00:00:00Z","note":"double opt-in"}]})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200u) << r->body;
  auto put = ParseJson(r->body).as_object();
  EXPECT_EQ(Current(put)["marketing/email"], "granted");
  const auto& last = put.at("history").as_array().back().as_object();
  EXPECT_EQ(last.at("source").as_string(), "api");
  EXPECT_EQ(last.at("proof").as_string(), "api:req-42");
  EXPECT_EQ(last.at("expires_at").as_string(), "2099-01-01T00:00:00.000Z");

  // Bad input names the field; nothing is recorded.
  r = client_->Request("PUT", "/v1/customers/ann/consents", Admin(),
                       R"({"consents":[{"purpose":"marketing","state":"granted"},{"purpose":"x","state":"maybe"}]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400u);
  EXPECT_NE(r->body.find("consents[1].state"), std::string::npos) << r->body;
  r = client_->Request("PUT", "/v1/customers/ann/consents", Admin(),
                       R"([{"purpose":"marketing","state":"granted","expires_at":"soon"}])");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400u);
  EXPECT_NE(r->body.find("consents[0].expires_at"), std::string::npos) << r->body;
  r = client_->Request("PUT", "/v1/customers/nobody/consents", Admin(), R"([{"purpose":"m","state":"granted"}])");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404u) << r->body;
  r = client_->Get("/v1/customers/ann/consents");  // no key
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401u);

  // Restart: the ledger is primary data and WAL replay records nothing twice.
  client_.reset();
  ASSERT_TRUE(server_->Stop());
  ASSERT_TRUE(server_->Start());
  client_ = server_->Client();
  auto after = Consents(*client_, "anon-7");
  EXPECT_EQ(after.at("history").as_array().size(), 5u);
  EXPECT_EQ(Current(after)["marketing/email"], "granted");
}

TEST_F(ConsentBlackbox, ExportIsOneJsonBundleOverHttpAndFromTheCli) {
  std::vector<std::string> messages = {
      R"({"type":"identify","userId":"bo","messageId":"b0","traits":{"name":"Bo","consent":{"analytics":true}}})"};
  for (int i = 0; i < 300; ++i) {
    messages.push_back(TrackJson("bo", i % 2 ? "Page Viewed" : "Product Viewed", "bo-" + std::to_string(i),
                                 R"("properties":{"marker":"EXPORT-MARK-)" + std::to_string(i) + R"("})"));
  }
  messages.push_back(TrackJson("bo", "Survey Responded", "bo-s", R"("properties":{"nps":9})"));
  messages.push_back(TrackJson("other", "Page Viewed", "o-1"));
  Ingest(*client_, messages);

  auto r = client_->Get("/v1/customers/bo/export", AdminAuth());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200u) << r->body.substr(0, 300);
  EXPECT_EQ(r->Header("Transfer-Encoding"), "chunked");
  EXPECT_NE(r->Header("Content-Disposition").find("attachment"), std::string::npos);
  auto v = ParseJson(r->body);
  ASSERT_TRUE(v.is_object());
  const auto& b = v.as_object();
  EXPECT_EQ(b.at("format").as_string(), "cairn.customer-export");
  EXPECT_EQ(b.at("version").as_int64(), 1);
  EXPECT_EQ(b.at("interactions").as_array().size(), 302u);
  EXPECT_EQ(b.at("counts").as_object().at("interactions").as_int64(), 302);
  EXPECT_EQ(b.at("survey_answers").as_array().size(), 1u);
  EXPECT_EQ(b.at("consents").as_object().at("history").as_array().size(), 1u);
  EXPECT_TRUE(b.at("profile").is_object());
  std::set<std::string> markers;
  for (const auto& in : b.at("interactions").as_array()) {
    const auto& m = in.as_object().at("message").as_object();
    if (m.contains("properties") && m.at("properties").as_object().contains("marker"))
      markers.insert(std::string(m.at("properties").as_object().at("marker").as_string()));
    EXPECT_NE(m.at("messageId").as_string(), "o-1");  // nobody else's data
  }
  EXPECT_EQ(markers.size(), 300u);
  r = client_->Get("/v1/customers/nobody/export", AdminAuth());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404u);

  // The CLI on the stopped data dir writes the same interactions to a file.
  client_.reset();
  ASSERT_TRUE(server_->Stop());
  auto file = ExportWithCli("bo");
  ASSERT_TRUE(file.is_object());
  EXPECT_EQ(file.as_object().at("interactions").as_array().size(), 302u);
  EXPECT_EQ(file.as_object().at("customer"), b.at("customer"));

  auto missing = ChildProcess::Start({CAIRN_BINARY, "export", "--data", tmp_.Sub("data"), "--customer", "nobody",
                                      "--no-value"},
                                     tmp_.Sub("export-missing"));
  ASSERT_TRUE(missing.ok());
  auto code = (*missing)->Wait(kStopTimeout);
  ASSERT_TRUE(code.ok());
  EXPECT_TRUE(code->ExitedWith(1));
  EXPECT_NE((*missing)->ReadStderr().find("nobody"), std::string::npos);
}

// The bundle is complete (docs/export.md): the customer's rescue decision, the action it sent
// (with its gate verdicts), every case (from the complaint, the detractor answer, the rescue's
// action and the API), a survey answer recorded through the API (feedback.db, not an
// interaction) — over HTTP and from
// `cairn export` on the stopped data dir (rescue.db and actions.db opened from the files).
TEST_F(ConsentBlackbox, ExportHasRescuesActionsCasesAndSurveys) {
  // A cheap angry-path rescue (cost 1, not 25), so the decision is worth acting on.
  auto map = client_->Get("/v1/journey-map", AdminAuth());
  ASSERT_TRUE(map.ok());
  ASSERT_EQ(map->status, 200u);
  std::string yaml = map->body;
  const size_t cost = yaml.find("cost: 25");
  ASSERT_NE(cost, std::string::npos);
  yaml.replace(cost, 8, "cost: 1");
  auto put = client_->Request("PUT", "/v1/journey-map", AdminAuth(), yaml);
  ASSERT_TRUE(put.ok());
  ASSERT_EQ(put->status, 200u) << put->body;
  Ingest(*client_, {TrackJson("cy-exp", "Order Completed", "ce-1", R"("properties":{"revenue":5000})"),
                    TrackJson("cy-exp", "Complaint Filed", "ce-2", R"("properties":{"category":"billing","severity":"high"})"),
                    TrackJson("someone-else", "Order Completed", "se-1", R"("properties":{"revenue":10})")});
  int64_t rescue_id = 0;
  for (int i = 0; i < 100 && rescue_id == 0; ++i) {
    auto list = client_->Get("/v1/rescues", AdminAuth());
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->status, 200u) << list->body;
    const boost::json::value queue = ParseJson(list->body);  // outlives the loop
    for (const auto& d : queue.at("rescues").as_array())
      if (d.at("customer").at("ids").at(0).as_string() == "userId:cy-exp") rescue_id = d.at("id").as_int64();
    if (rescue_id == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(rescue_id, 0) << "no rescue decision for cy-exp";
  auto acted = client_->Post("/v1/rescues/" + std::to_string(rescue_id) + "/act", R"({"note":"export test"})", Admin());
  ASSERT_TRUE(acted.ok());
  ASSERT_EQ(acted->status, 200u) << acted->body;
  auto opened = client_->Post("/v1/cases", R"({"customer":"cy-exp","channel":"email","category":"billing","description":"charged twice"})",
                              Admin());
  ASSERT_TRUE(opened.ok());
  ASSERT_EQ(opened->status, 201u) << opened->body;
  auto survey = client_->Post("/v1/feedback/responses", R"({"customer":"cy-exp","survey":"csat","score":2,"comment":"EXPORT-CSAT"})",
                              Admin());
  ASSERT_TRUE(survey.ok());
  ASSERT_TRUE(survey->status == 200u || survey->status == 201u) << survey->body;

  // The action (an internal open_case) runs asynchronously: wait until the bundle shows its case.
  boost::json::object b;
  for (int i = 0; i < 100; ++i) {
    auto r = client_->Get("/v1/customers/cy-exp/export", AdminAuth());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200u) << r->body.substr(0, 300);
    b = ParseJson(r->body).as_object();
    if (b.at("cases").as_array().size() >= 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(b.at("rescues").as_array().size(), 1u) << boost::json::serialize(b.at("rescues"));
  EXPECT_EQ(b.at("rescues").at(0).at("id").as_int64(), rescue_id);
  EXPECT_EQ(b.at("rescues").at(0).at("status").as_string(), "acted");
  ASSERT_EQ(b.at("actions").as_array().size(), 1u) << boost::json::serialize(b.at("actions"));
  const auto& action = b.at("actions").at(0).as_object();
  EXPECT_EQ(action.at("customer").at("id"), b.at("customer"));
  EXPECT_FALSE(action.at("gates").as_array().empty()) << boost::json::serialize(action);
  // The complaint event's case, the detractor survey's, the rescue action's and the API's.
  EXPECT_EQ(b.at("cases").as_array().size(), 4u);
  ASSERT_EQ(b.at("surveys").as_array().size(), 1u) << boost::json::serialize(b.at("surveys"));
  EXPECT_EQ(b.at("surveys").at(0).at("kind").as_string(), "csat");
  EXPECT_EQ(b.at("surveys").at(0).at("score").as_int64(), 2);
  EXPECT_EQ(b.at("surveys").at(0).at("comment").as_string(), "EXPORT-CSAT");
  const auto& counts = b.at("counts").as_object();
  EXPECT_EQ(counts.at("rescues").as_int64(), 1);
  EXPECT_EQ(counts.at("actions").as_int64(), 1);
  EXPECT_EQ(counts.at("surveys").as_int64(), 1);
  // Nobody else's: the other customer's order is in no section.
  EXPECT_EQ(boost::json::serialize(b).find("someone-else"), std::string::npos);

  // The CLI reads rescue.db and actions.db from the files (no rescue stack offline).
  client_.reset();
  ASSERT_TRUE(server_->Stop());
  auto parsed = ExportWithCli("cy-exp");
  ASSERT_TRUE(parsed.is_object());
  const auto& file = parsed.as_object();
  EXPECT_EQ(file.at("rescues"), b.at("rescues"));
  EXPECT_EQ(file.at("actions").as_array().size(), 1u);
  EXPECT_EQ(file.at("actions").at(0).at("id"), action.at("id"));
  EXPECT_EQ(file.at("surveys"), b.at("surveys"));
  EXPECT_EQ(file.at("cases").as_array().size(), 4u);
}

// Analytics consent (docs/consent.md): a customer whose latest `analytics` statement is a denial is
// left out of queries — whether the denial arrives as an event (new rows) or through the API (no
// new rows: the cached index must notice), and counted again after a grant.
TEST_F(ConsentBlackbox, AnalyticsDenialLeavesTheCustomerOutOfQueries) {
  std::vector<std::string> messages;
  for (const char* id : {"cy", "di", "ed"}) {
    messages.push_back(TrackJson(id, "Signed Up", std::string("s-") + id, R"("timestamp":"2026-02-01T10:00:00Z")"));
    messages.push_back(TrackJson(id, "Order Completed", std::string("o-") + id, R"("timestamp":"2026-02-01T11:00:00Z")"));
  }
  Ingest(*client_, messages);
  auto first_step = [&]() -> int64_t {
    auto r = client_->Post("/v1/query/funnel", R"({"steps":["Signed Up","Order Completed"],"window":"1d"})", Admin());
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return -1;
    EXPECT_EQ(r->status, 200u) << r->body;
    auto v = ParseJson(r->body);
    if (!v.is_object()) return -1;
    return v.as_object().at("steps").as_array()[0].as_object().at("count").to_number<int64_t>();
  };
  EXPECT_EQ(first_step(), 3);
  // A denial by event: new rows for the customer.
  Ingest(*client_, {TrackJson("cy", "Consent Updated", "cu-cy", R"("properties":{"purpose":"analytics","state":"denied"})")});
  EXPECT_EQ(first_step(), 2);
  // A denial through the API: no new rows.
  auto r = client_->Request("PUT", "/v1/customers/di/consents", Admin(), R"([{"purpose":"analytics","state":"denied"}])");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200u) << r->body;
  EXPECT_EQ(first_step(), 1);
  r = client_->Request("PUT", "/v1/customers/di/consents", Admin(), R"([{"purpose":"analytics","state":"granted"}])");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200u) << r->body;
  EXPECT_EQ(first_step(), 2);
}

// Retention (issue 8 point 4, docs/consent.md "Retention") end to end: the server's config sets a
// default age and per-event overrides; `cairn compact --data DIR --config FILE` drops exactly the
// interactions older than their event's retention, keeps the young ones and an event kept forever
// (override 0), and the server serves what is left.
TEST(RetentionBlackbox, CompactWithTheConfigDropsByEventOverrideThenDefault) {
  TempDir tmp;
  const std::string data = tmp.Sub("data");
  const std::string config = tmp.Sub("cairn.yaml");
  std::ofstream(config) << "retention:\n  default_days: 5\n  events:\n    \"Page Viewed\": 3\n"
                           "    \"Order Completed\": 0\n";
  CairnServer server(data, tmp.Sub("serve"), {"--config", config});
  ASSERT_TRUE(server.Start());
  // messageId → kept?
  const std::vector<std::tuple<std::string, std::string, int, bool>> rows = {
      {"Page Viewed", "pv-old", 4, false},      // override 3 days
      {"Page Viewed", "pv-young", 1, true},
      {"Signed Up", "su-old", 6, false},        // default 5 days
      {"Signed Up", "su-young", 2, true},
      {"Order Completed", "oc-ancient", 400, true},  // override 0: kept forever
  };
  {
    auto c = server.Client();
    std::vector<std::string> messages;
    for (const auto& [event, id, days, kept] : rows)
      messages.push_back(TrackJson("ret-1", event, id, R"("timestamp":")" + DaysAgo(days) + "\""));
    auto r = c->Post("/v1/batch", BatchJson(messages), WriteAuth());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(MessageIdCounts(*c, "ret-1").size(), rows.size()) << "all stored before the compaction";
  }
  ASSERT_TRUE(server.Stop());
  auto compact = RunToCompletion({CAIRN_BINARY, "compact", "--data", data, "--config", config}, tmp.Sub("compact"),
                                 std::chrono::seconds(120));
  ASSERT_TRUE(compact.ok());
  ASSERT_TRUE(compact->status.ExitedWith(0)) << compact->err;
  ASSERT_TRUE(server.Start());
  auto c = server.Client();
  auto counts = MessageIdCounts(*c, "ret-1");
  for (const auto& [event, id, days, kept] : rows) EXPECT_EQ(counts.count(id), kept ? 1u : 0u) << id;
  c.reset();
  ASSERT_TRUE(server.Stop());
  // A bad config is refused naming the key, and nothing is compacted.
  std::ofstream(config) << "retention:\n  default_dayz: 5\n";
  auto bad = RunToCompletion({CAIRN_BINARY, "compact", "--data", data, "--config", config}, tmp.Sub("compact-bad"),
                             std::chrono::seconds(120));
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->status.ExitedWith(0));
  EXPECT_NE(bad->err.find("default_dayz"), std::string::npos) << bad->err;
}

}  // namespace
}  // namespace cairn::testutil
