// POST /v1/query/funnel and /v1/query/retention against the real `cairn serve`: the response
// shapes scripts rely on (issue 3), 400 naming the field, warnings for unknown events, auth, and
// a query seeing interactions acknowledged just before it.

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <thread>

#include "api/cairn_server.h"
#include "api/server_suite.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

namespace json = boost::json;

std::string IsoMinutesAgo(int minutes) {
  const auto t = std::chrono::system_clock::now() - std::chrono::minutes(minutes);
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

std::string At(int minutes_ago) { return "\"timestamp\":\"" + IsoMinutesAgo(minutes_ago) + "\""; }

// One server for the suite (each start costs seconds under ASan); tests only read, except the
// last one, which writes events no other test queries.
class QueryApi : public ServerSuite {
 protected:
  static void SetUpTestSuite() {
    // u1: Signed Up → Product Viewed → Order Completed; u2: Signed Up → Product Viewed; u3: Signed Up.
    StartSuite({.seed = {
                    TrackJson("u1", "Signed Up", "m1", At(50) + R"(,"properties":{"channel":"email"})"),
                    TrackJson("u1", "Product Viewed", "m2", At(40)),
                    TrackJson("u1", "Order Completed", "m3", At(30)),
                    TrackJson("u2", "Signed Up", "m4", At(50) + R"(,"properties":{"channel":"web"})"),
                    TrackJson("u2", "Product Viewed", "m5", At(45)),
                    TrackJson("u3", "Signed Up", "m6", At(20) + R"(,"properties":{"channel":"web"})"),
                }});
  }
  static void TearDownTestSuite() { StopSuite(); }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    client_ = server_->Client();
  }
  HttpResponse Query(const std::string& kind, const std::string& body, const HttpHeaders& h = AdminAuth()) {
    auto r = client_->Post("/v1/query/" + kind, body, h);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : HttpResponse{};
  }

  std::unique_ptr<HttpClient> client_;
};

TEST_F(QueryApi, FunnelAnswersTheDocumentedShape) {
  auto r = Query("funnel",
                 R"({"steps":[{"event":"Signed Up"},{"event":"Product Viewed"},{"event":"Order Completed"}],"window":"7d"})");
  ASSERT_EQ(r.status, 200u) << r.body;
  json::value v = ParseJson(r.body);
  const auto& steps = v.at("steps").as_array();
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].at("event").as_string(), "Signed Up");
  EXPECT_EQ(steps[0].at("count").to_number<int64_t>(), 3);
  EXPECT_EQ(steps[1].at("count").to_number<int64_t>(), 2);
  EXPECT_EQ(steps[2].at("count").to_number<int64_t>(), 1);
  EXPECT_EQ(steps[2].at("time_to_convert").at("from_first").at("median_ms").to_number<int64_t>(), 20 * 60 * 1000);
  EXPECT_TRUE(v.at("warnings").as_array().empty());

  // A 5-minute window: u2's Product Viewed is 5 minutes after Signed Up (inclusive), u1's 10.
  r = Query("funnel", R"({"steps":["Signed Up","Product Viewed"],"window":"5m"})");
  ASSERT_EQ(r.status, 200u) << r.body;
  v = ParseJson(r.body);
  EXPECT_EQ(v.at("steps").as_array()[1].at("count").to_number<int64_t>(), 1);
}

TEST_F(QueryApi, FunnelBreakdownAndWhoList) {
  auto r = Query("funnel", R"({"steps":["Signed Up","Product Viewed"],"window":"1d","breakdown":{"by":"channel"},
                              "who":{"step":1,"status":"dropped"}})");
  ASSERT_EQ(r.status, 200u) << r.body;
  json::value v = ParseJson(r.body);
  const auto& rows = v.at("breakdown").as_array();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("value").as_string(), "web");  // u2 + u3
  EXPECT_EQ(rows[0].at("counts").as_array()[0].to_number<int64_t>(), 2);
  EXPECT_EQ(rows[0].at("counts").as_array()[1].to_number<int64_t>(), 1);
  const auto& who = v.at("who").at("customers").as_array();
  ASSERT_EQ(who.size(), 1u);  // u3 dropped after step 1
  // The id is one the customers API takes back.
  auto p = client_->Get("/v1/customers/" + std::string(who[0].as_string()), AdminAuth());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->status, 200u) << p->body;
  EXPECT_NE(p->body.find("u3"), std::string::npos) << p->body;
}

TEST_F(QueryApi, RetentionAnswersTheDocumentedShape) {
  auto r = Query("retention", R"({"start_event":"Signed Up","return_event":"Order Completed","period":"week","periods":8})");
  ASSERT_EQ(r.status, 200u) << r.body;
  json::value v = ParseJson(r.body);
  const auto& cohorts = v.at("cohorts").as_array();
  ASSERT_GE(cohorts.size(), 1u);
  uint64_t size = 0;
  for (const auto& c : cohorts) {
    EXPECT_EQ(c.at("start").as_string().size(), 10u);  // "2026-01-05"
    EXPECT_EQ(c.at("returned").as_array().size(), 8u);
    size += c.at("size").to_number<uint64_t>();
  }
  EXPECT_EQ(size, 3u);
}

TEST_F(QueryApi, InvalidSpecsAre400NamingTheField) {
  struct Case {
    const char* kind;
    const char* body;
    const char* field;
  } cases[] = {
      {"funnel", R"({"steps":["A","B"],"window":"soon"})", "window"},
      {"funnel", R"({"steps":["A"]})", "steps"},
      {"funnel", R"({"steps":["A","B"],"colour":"red"})", "colour"},
      {"funnel", R"({"steps":[{"event":"A"},{"event":""}]})", "steps[1].event"},
      {"funnel", R"({"steps":["A",{"event":"B","where":[{"property":"p","op":"like","value":1}]}]})", "steps[1].where[0].op"},
      {"funnel", "not json", "body"},
      {"retention", R"({"period":"fortnight"})", "period"},
      {"retention", R"({"periods":0})", "periods"},
  };
  for (const auto& c : cases) {
    auto r = Query(c.kind, c.body);
    EXPECT_EQ(r.status, 400u) << c.body << " → " << r.body;
    EXPECT_NE(r.body.find(c.field), std::string::npos) << c.body << " → " << r.body;
  }
}

TEST_F(QueryApi, UnknownEventsAreAWarningNotAnError) {
  auto r = Query("funnel", R"({"steps":["Signed Up","Teleported"]})");
  ASSERT_EQ(r.status, 200u) << r.body;
  json::value v = ParseJson(r.body);
  EXPECT_EQ(v.at("steps").as_array()[1].at("count").to_number<int64_t>(), 0);
  ASSERT_EQ(v.at("warnings").as_array().size(), 1u);
  EXPECT_NE(std::string(v.at("warnings").as_array()[0].as_string()).find("Teleported"), std::string::npos);
}

TEST_F(QueryApi, NeedsTheAdminKey) {
  const HttpHeaders write_bearer = {{"Authorization", std::string("Bearer ") + kWriteKey}};
  EXPECT_EQ(Query("funnel", R"({"steps":["A","B"]})", {}).status, 401u);
  EXPECT_EQ(Query("funnel", R"({"steps":["A","B"]})", write_bearer).status, 403u);
  EXPECT_EQ(Query("retention", "{}", write_bearer).status, 403u);
}

TEST_F(QueryApi, SeesInteractionsAcknowledgedBeforeTheQuery) {
  // Events no other test asks about.
  const std::string spec = R"({"steps":["Trial Started","Trial Converted"],"window":"1d"})";
  auto w = client_->Post("/v1/batch", BatchJson({TrackJson("u9", "Trial Started", "t1", At(15))}), WriteAuth());
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->status, 200u);
  auto r = Query("funnel", spec);
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(ParseJson(r.body).at("steps").as_array()[0].at("count").to_number<int64_t>(), 1);
  EXPECT_EQ(ParseJson(r.body).at("steps").as_array()[1].at("count").to_number<int64_t>(), 0);
  w = client_->Post("/v1/batch", BatchJson({TrackJson("u9", "Trial Converted", "t2", At(10))}), WriteAuth());
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->status, 200u);
  r = Query("funnel", spec);
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(ParseJson(r.body).at("steps").as_array()[1].at("count").to_number<int64_t>(), 1);
}

// `cairn serve` builds the analytics index in the background as it starts (config
// query_warm_at_start, default on): after a restart the index holds every stored interaction
// before anyone asks, the build is not counted as a query, and the first query answers from it.
// With the option off nothing is built until a query asks.
TEST(QueryWarmUp, TheIndexIsBuiltAtStartBeforeAnyQuery) {
  using std::chrono::milliseconds;
  TempDir tmp;
  auto metric = [](CairnServer& s, const std::string& name) {
    auto r = s.Client()->Get("/metrics");
    return r.ok() && r->status == 200 ? MetricValue(r->body, name) : -2.0;
  };
  const std::string funnel = R"({"steps":["Signed Up","Order Completed"],"window":"7d"})";
  auto funnel_counts = [&](CairnServer& s) {
    auto r = s.Client()->Post("/v1/query/funnel", funnel, AdminAuth());
    EXPECT_TRUE(r.ok());
    if (!r.ok() || r->status != 200) return std::pair<int64_t, int64_t>(-1, -1);
    const json::value body = ParseJson(r->body);
    const auto& steps = body.at("steps").as_array();
    return std::pair(steps[0].at("count").to_number<int64_t>(), steps[1].at("count").to_number<int64_t>());
  };
  {
    CairnServer s(tmp.Sub("data"), tmp.Sub("first"));
    ASSERT_TRUE(s.Start());
    auto w = s.Client()->Post("/v1/batch",
                              BatchJson({TrackJson("u1", "Signed Up", "m1", At(50)),
                                         TrackJson("u1", "Order Completed", "m2", At(40)),
                                         TrackJson("u2", "Signed Up", "m3", At(30))}),
                              WriteAuth());
    ASSERT_TRUE(w.ok());
    ASSERT_EQ(w->status, 200u) << w->body;
    ASSERT_TRUE(s.Stop());
  }
  {
    CairnServer s(tmp.Sub("data"), tmp.Sub("warm"));
    ASSERT_TRUE(s.Start());
    double rows = metric(s, "cairn_analytics_index_rows");
    for (int i = 0; i < 600 && rows < 3; ++i) {
      std::this_thread::sleep_for(milliseconds(100));
      rows = metric(s, "cairn_analytics_index_rows");
    }
    EXPECT_EQ(rows, 3) << "the index was not built at start";
    EXPECT_LE(metric(s, "cairn_analytics_queries_total"), 0) << "the warm-up counted as a query";
    EXPECT_EQ(funnel_counts(s), (std::pair<int64_t, int64_t>(2, 1)));
    ASSERT_TRUE(s.Stop());
  }
  {
    std::ofstream(tmp.Sub("cold.yaml")) << "query_warm_at_start: false\n";
    CairnServer s(tmp.Sub("data"), tmp.Sub("cold"), {"--config", tmp.Sub("cold.yaml")});
    ASSERT_TRUE(s.Start());
    std::this_thread::sleep_for(milliseconds(1500));  // a warm-up, were there one, would be done
    EXPECT_LE(metric(s, "cairn_analytics_index_rows"), 0);
    EXPECT_EQ(funnel_counts(s), (std::pair<int64_t, int64_t>(2, 1)));
    EXPECT_EQ(metric(s, "cairn_analytics_index_rows"), 3);
    ASSERT_TRUE(s.Stop());
  }
}

}  // namespace
}  // namespace cairn::testutil
