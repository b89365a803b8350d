// The dashboard API through the real binary: goals, budgets and activities CRUD (validation
// naming the field, 404, admin key only), orders ingested over HTTP across the last 20 days, the
// overview's progress/ETA/fuel/hazards, a goal edit that moves the ETA past the deadline (the
// projected-miss light turns on), and a restart keeping everything; the segment filter of the
// analytics queries and the journey overview.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

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

namespace segment_test {

// The total of a trends answer's first series (uniques over the whole range: distinct customers).
int64_t Total(const Answer& a) {
  if (a.status != 200 || !a.json.is_object()) return -1;
  const auto& series = a.json.at("series").as_array();
  return series.empty() ? 0 : series[0].at("total").to_number<int64_t>();
}

std::string Uniques(const std::string& segment_json) {
  return R"({"measure":"uniques","interval":"month")" + (segment_json.empty() ? "" : ",\"segment\":" + segment_json) + "}";
}

}  // namespace segment_test

// The page-wide segment filter (docs/dashboard-ui.md "Filters", analytics/spec/segment.h): 30
// customers acquired on web / email / sms in turn, every fifth with 3 orders (the journey map's
// loyal_enthusiast persona, the others its default casual_browser). A segment partitions the
// customers: persona, lifecycle stage and acquisition channel counts add up to the whole, the
// journey overview's stage counts equal the analytics counts for the same stage, and a bad
// segment is a 400 naming the field.
TEST(DashboardApi, SegmentFilterPartitionsCustomers) {
  using segment_test::Total;
  using segment_test::Uniques;
  TempDir tmp;
  CairnServer server(tmp.Sub("data"), tmp.Sub("serve"));
  ASSERT_TRUE(server.Start());
  auto c = server.Client();
  const char* channels[] = {"web", "email", "sms"};
  std::vector<std::string> msgs;
  for (int i = 0; i < 30; ++i) {
    const std::string user = "seg-" + std::to_string(i);
    msgs.push_back(TrackJson(user, "Signed Up", user + "-s",
                             std::string("\"timestamp\":\"") + DaysAgo(10) + "\",\"properties\":{\"channel\":\"" +
                                 channels[i % 3] + "\"}"));
    if (i % 5 == 0)
      for (int k = 0; k < 3; ++k)
        msgs.push_back(TrackJson(user, "Order Completed", user + "-o" + std::to_string(k),
                                 "\"timestamp\":\"" + DaysAgo(8 - k) + "\",\"properties\":{\"channel\":\"web\"}"));
  }
  auto ingest = c->Post("/v1/batch", BatchJson(msgs), WriteAuth());
  ASSERT_TRUE(ingest.ok());
  ASSERT_EQ(ingest->status, 200u) << ingest->body;

  // The journey engine derives state asynchronously: wait until it has everyone.
  Answer overview;
  auto persona_count = [](const Answer& o, std::string_view name) -> int64_t {
    for (const auto& p : o.json.at("personas").as_array())
      if (Str(p, "name") == name) return p.at("customers").to_number<int64_t>();
    return 0;
  };
  for (int tries = 0; tries < 300; ++tries) {
    overview = Call(*c, "GET", "/v1/journey/overview");
    if (overview.status == 200 && overview.json.at("customers").to_number<int64_t>() == 30 &&
        persona_count(overview, "loyal_enthusiast") == 6)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(overview.status, 200u);
  ASSERT_EQ(overview.json.at("customers").to_number<int64_t>(), 30);
  EXPECT_EQ(persona_count(overview, "loyal_enthusiast"), 6);
  EXPECT_EQ(persona_count(overview, "casual_browser"), 24);

  EXPECT_EQ(Total(Call(*c, "POST", "/v1/query/trends", Uniques(""))), 30);
  // Persona.
  EXPECT_EQ(Total(Call(*c, "POST", "/v1/query/trends", Uniques(R"({"persona":"loyal_enthusiast"})"))), 6);
  EXPECT_EQ(Total(Call(*c, "POST", "/v1/query/trends", Uniques(R"({"persona":"casual_browser"})"))), 24);
  EXPECT_EQ(Total(Call(*c, "POST", "/v1/query/trends", Uniques(R"({"persona":"nobody_has_this"})"))), 0);
  // Acquisition channel, alone and with a persona (AND): web = customers 0, 3, …, 27; of them
  // 0 and 15 have orders.
  for (const char* ch : channels)
    EXPECT_EQ(Total(Call(*c, "POST", "/v1/query/trends", Uniques(std::string(R"({"channel":")") + ch + "\"}"))), 10) << ch;
  EXPECT_EQ(Total(Call(*c, "POST", "/v1/query/trends", Uniques(R"({"channel":"web","persona":"loyal_enthusiast"})"))), 2);
  Answer funnel = Call(*c, "POST", "/v1/query/funnel",
                       R"({"steps":["Signed Up","Order Completed"],"window":"30d","segment":{"channel":"web"}})");
  ASSERT_EQ(funnel.status, 200u);
  EXPECT_EQ(funnel.json.at("steps").as_array()[0].at("count").to_number<int64_t>(), 10);
  EXPECT_EQ(funnel.json.at("steps").as_array()[1].at("count").to_number<int64_t>(), 2);
  // Lifecycle stage: the analytics count of each stage is the journey overview's, and the
  // stages add up to everyone; the filtered overview counts the same customers.
  int64_t sum = 0;
  for (const auto& v : overview.json.at("views").as_array()) {
    if (Str(v, "view") != "lifecycle") continue;
    for (const auto& s : v.at("stages").as_array()) {
      const std::string stage = Str(s, "name");
      const int64_t now = s.at("customers").to_number<int64_t>();
      EXPECT_EQ(Total(Call(*c, "POST", "/v1/query/trends", Uniques(R"({"lifecycle":")" + stage + "\"}"))), now) << stage;
      Answer only = Call(*c, "GET", "/v1/journey/overview?lifecycle=" + stage);
      ASSERT_EQ(only.status, 200u);
      EXPECT_EQ(only.json.at("customers").to_number<int64_t>(), now) << stage;
      sum += now;
    }
  }
  EXPECT_EQ(sum, 30);
  // The filter bar's choices (GET /v1/journey/segments): the overview's persona names and
  // lifecycle stages, in its order, without counting anyone.
  Answer names = Call(*c, "GET", "/v1/journey/segments");
  ASSERT_EQ(names.status, 200u);
  std::vector<std::string> want, got;
  for (const auto& p : overview.json.at("personas").as_array()) want.push_back(Str(p, "name"));
  for (const auto& p : names.json.at("personas").as_array()) got.push_back(std::string(p.as_string()));
  EXPECT_EQ(got, want);
  want.clear(), got.clear();
  for (const auto& v : overview.json.at("views").as_array())
    if (Str(v, "view") == "lifecycle")
      for (const auto& s : v.at("stages").as_array()) want.push_back(Str(s, "name"));
  for (const auto& s : names.json.at("lifecycle").as_array()) got.push_back(std::string(s.as_string()));
  EXPECT_EQ(got, want);
  EXPECT_FALSE(want.empty());
  Answer loyal = Call(*c, "GET", "/v1/journey/overview?persona=loyal_enthusiast");
  ASSERT_EQ(loyal.status, 200u);
  EXPECT_EQ(loyal.json.at("customers").to_number<int64_t>(), 6);

  // Bad segments: 400 naming the field; the server stays up.
  Answer bad = Call(*c, "POST", "/v1/query/trends", R"({"segment":{"colour":"red"}})");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(Str(bad.json, "error").find("segment.colour"), std::string::npos) << Str(bad.json, "error");
  bad = Call(*c, "POST", "/v1/query/paths", R"({"anchor":"Signed Up","segment":{"persona":5}})");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(Str(bad.json, "error").find("segment.persona"), std::string::npos) << Str(bad.json, "error");
  bad = Call(*c, "GET", "/v1/journey/overview?channel=web");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(Str(bad.json, "error").find("channel"), std::string::npos) << Str(bad.json, "error");
  EXPECT_EQ(Call(*c, "GET", "/v1/journey/overview").status, 200u);
}

}  // namespace
}  // namespace cairn::testutil
