// The consent ledger and the export against the real binary (docs/consent.md, docs/export.md):
// statements from identify traits, `Consent Updated` events and PUT, read back with history,
// across an identity merge and a restart; 400 naming the field, 404; and the export bundle over
// HTTP (chunked) and from `cairn export` (the same bundle, parsed as JSON).

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

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
  auto child = ChildProcess::Start({CAIRN_BINARY, "export", "--data", tmp_.Sub("data"), "--customer", "bo", "--out",
                                    tmp_.Sub("bo.json"), "--no-value"},
                                   tmp_.Sub("export"));
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  auto exit = (*child)->Wait(kStopTimeout);
  ASSERT_TRUE(exit.ok());
  ASSERT_TRUE(exit->ExitedWith(0)) << (*child)->ReadStderr();
  std::ifstream in(tmp_.Sub("bo.json"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto file = ParseJson(text);
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

}  // namespace
}  // namespace cairn::testutil
