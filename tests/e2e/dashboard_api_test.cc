// The dashboard API through the real binary: goals, budgets and activities CRUD (validation
// naming the field, 404, admin key only), orders ingested over HTTP across the last 20 days, the
// overview's progress/ETA/fuel/hazards, a goal edit that moves the ETA past the deadline (the
// projected-miss light turns on), and a restart keeping everything.

#include <gtest/gtest.h>

#include <chrono>

#include "api/cairn_server.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

struct Answer {
  unsigned status = 0;
  boost::json::value json;
};

Answer Call(HttpClient& c, std::string_view method, const std::string& target, const std::string& body = "") {
  auto r = c.Request(method, target, AdminAuth(), body);
  EXPECT_TRUE(r.ok()) << target << ": " << r.status().ToString();
  if (!r.ok()) return {};
  Answer a{r->status, nullptr};
  a.json = ParseJson(r->body);
  return a;
}

std::string Str(const boost::json::value& v, std::string_view key) {
  if (!v.is_object() || !v.as_object().contains(key) || !v.at(key).is_string()) return "";
  return std::string(v.at(key).as_string());
}

int64_t Today() {
  using namespace std::chrono;
  return duration_cast<days>(system_clock::now().time_since_epoch()).count();
}

std::string Day(int64_t d) {
  std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{d}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

const boost::json::object* Light(const boost::json::value& dash, std::string_view name) {
  for (const auto& h : dash.at("hazards").as_array())
    if (Str(h, "light") == name) return &h.as_object();
  return nullptr;
}

TEST(DashboardApi, GoalsOverviewEditAndRestart) {
  TempDir tmp;
  CairnServer server(tmp.Sub("data"), tmp.Sub("serve"));
  ASSERT_TRUE(server.Start());
  const int64_t today = Today();
  int64_t goal_id = 0;
  {
    auto c = server.Client();
    // Admin key only.
    auto denied = c->Request("GET", "/v1/goals", {{"Authorization", std::string("Bearer ") + kWriteKey}}, "");
    ASSERT_TRUE(denied.ok());
    EXPECT_EQ(denied->status, 403u);
    auto anon = c->Request("GET", "/v1/dashboard", {}, "");
    ASSERT_TRUE(anon.ok());
    EXPECT_EQ(anon->status, 401u);

    // Orders: 2 a day at 50.00 on each of the 20 days before today (2000.00 in all).
    std::vector<std::string> msgs;
    for (int d = 1; d <= 20; ++d)
      for (int k = 0; k < 2; ++k)
        msgs.push_back(TrackJson("buyer-" + std::to_string(k + 2 * d), "Order Completed",
                                 "o-" + std::to_string(d) + "-" + std::to_string(k),
                                 "\"timestamp\":\"" + Day(today - d) + "T12:00:00Z\",\"properties\":{\"revenue\":50}"));
    auto ingest = c->Post("/v1/batch", BatchJson(msgs), WriteAuth());
    ASSERT_TRUE(ingest.ok());
    ASSERT_EQ(ingest->status, 200u) << ingest->body;

    // Validation names the field.
    auto bad = Call(*c, "POST", "/v1/goals", R"({"name":"x","metric":"profit","target":10,"deadline":"2030-01-01"})");
    EXPECT_EQ(bad.status, 400u);
    EXPECT_NE(Str(bad.json, "error").find("metric"), std::string::npos) << bad.json;
    bad = Call(*c, "POST", "/v1/goals", R"({"name":"x","metric":"revenue","target":10,"deadline":"2030-02-30"})");
    EXPECT_EQ(bad.status, 400u);
    EXPECT_NE(Str(bad.json, "error").find("deadline"), std::string::npos) << bad.json;
    bad = Call(*c, "POST", "/v1/goals", R"({"name":"x","metric":"revenue","deadline":"2030-01-01"})");
    EXPECT_NE(Str(bad.json, "error").find("target"), std::string::npos) << bad.json;
    bad = Call(*c, "POST", "/v1/goals", R"({"name":"x","colour":"red"})");
    EXPECT_NE(Str(bad.json, "error").find("colour"), std::string::npos) << bad.json;
    EXPECT_EQ(Call(*c, "GET", "/v1/goals/999").status, 404u);
    EXPECT_EQ(Call(*c, "GET", "/v1/goals/abc").status, 400u);

    auto goal = Call(*c, "POST", "/v1/goals",
                     R"({"name":"Autumn revenue","metric":"revenue","target":3000,"start":")" + Day(today - 20) +
                         R"(","deadline":")" + Day(today + 30) + R"("})");
    ASSERT_EQ(goal.status, 201u) << goal.json;
    goal_id = goal.json.at("id").as_int64();
    EXPECT_EQ(Str(goal.json, "deadline"), Day(today + 30));
    auto budget = Call(*c, "POST", "/v1/budgets", R"({"name":"Ads","amount":1000,"end":")" + Day(today + 60) + R"("})");
    ASSERT_EQ(budget.status, 201u) << budget.json;
    int64_t budget_id = budget.json.at("id").as_int64();
    auto act = Call(*c, "POST", "/v1/activities",
                    R"({"name":"Mailing","channel":"email","cost":300,"status":"done","budget_id":)" +
                        std::to_string(budget_id) + "}");
    ASSERT_EQ(act.status, 201u) << act.json;
    EXPECT_EQ(Call(*c, "DELETE", "/v1/budgets/" + std::to_string(budget_id)).status, 409u);  // still used
    EXPECT_EQ(Call(*c, "GET", "/v1/activities").json.at("activities").as_array().size(), 1u);

    auto dash = Call(*c, "GET", "/v1/dashboard");
    ASSERT_EQ(dash.status, 200u) << dash.json;
    ASSERT_EQ(dash.json.at("goals").as_array().size(), 1u);
    const auto& g = dash.json.at("goals").as_array()[0];
    EXPECT_DOUBLE_EQ(g.at("progress").to_number<double>(), 2000);
    EXPECT_TRUE(g.at("on_track").as_bool()) << g;
    // 1000 left at 100/day: the ETA is ~10 days out, inside its band.
    auto eta = Str(g, "eta"), low = Str(g, "eta_low"), high = Str(g, "eta_high");
    EXPECT_GE(eta, Day(today + 8)) << g;
    EXPECT_LE(eta, Day(today + 12)) << g;
    EXPECT_LE(low, eta);
    EXPECT_LE(eta, high);
    const auto& fuel = dash.json.at("fuel").as_array()[0];
    EXPECT_DOUBLE_EQ(fuel.at("left").to_number<double>(), 700);
    EXPECT_EQ(dash.json.at("hazards").as_array().size(), 7u);
    ASSERT_TRUE(Light(dash.json, "projected_miss"));
    EXPECT_FALSE(Light(dash.json, "projected_miss")->at("on").as_bool());
    for (const auto& h : dash.json.at("hazards").as_array()) EXPECT_FALSE(Str(h, "why").empty()) << h;

    // A goal edit moves the ETA: 10000 needs ~80 more days, past the deadline.
    auto edited = Call(*c, "PUT", "/v1/goals/" + std::to_string(goal_id), R"({"target":10000})");
    ASSERT_EQ(edited.status, 200u) << edited.json;
    EXPECT_EQ(Str(edited.json, "name"), "Autumn revenue");  // kept
    dash = Call(*c, "GET", "/v1/dashboard");
    const auto& g2 = dash.json.at("goals").as_array()[0];
    EXPECT_FALSE(g2.at("on_track").as_bool()) << g2;
    EXPECT_GT(Str(g2, "eta"), Day(today + 30)) << g2;
    ASSERT_TRUE(Light(dash.json, "projected_miss"));
    EXPECT_TRUE(Light(dash.json, "projected_miss")->at("on").as_bool()) << dash.json;
  }
  ASSERT_TRUE(server.Stop());
  ASSERT_TRUE(server.Start());
  {
    auto c = server.Client();
    auto goals = Call(*c, "GET", "/v1/goals");
    ASSERT_EQ(goals.json.at("goals").as_array().size(), 1u) << goals.json;
    EXPECT_DOUBLE_EQ(goals.json.at("goals").as_array()[0].at("target").to_number<double>(), 10000);
    EXPECT_EQ(Call(*c, "DELETE", "/v1/goals/" + std::to_string(goal_id)).status, 200u);
    EXPECT_EQ(Call(*c, "DELETE", "/v1/goals/" + std::to_string(goal_id)).status, 404u);
  }
  ASSERT_TRUE(server.Stop());
}

}  // namespace
}  // namespace cairn::testutil
