// Roles against the real binary, table-driven over the route table (docs/access.md): for every
// route the server lists at GET /v1/routes and every caller in {none, write, analyst, agent,
// admin}, the answer is 401 (no usable credential), 403 (role too low) or anything else
// (allowed) exactly as the route's declared access says. A few declarations are pinned as well,
// so that loosening one (keys to analysts, say) fails here and not in production.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "api/server_suite.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

enum class Caller { kNone, kWrite, kAnalyst, kAgent, kAdmin };
constexpr Caller kCallers[] = {Caller::kNone, Caller::kWrite, Caller::kAnalyst, Caller::kAgent, Caller::kAdmin};
const char* Name(Caller c) {
  switch (c) {
    case Caller::kNone: return "none";
    case Caller::kWrite: return "write";
    case Caller::kAnalyst: return "analyst";
    case Caller::kAgent: return "agent";
    case Caller::kAdmin: return "admin";
  }
  return "?";
}
int Rank(Caller c) { return c == Caller::kAnalyst ? 1 : c == Caller::kAgent ? 2 : c == Caller::kAdmin ? 3 : 0; }
int Needed(const std::string& access) {
  return access == "analyst" ? 1 : access == "agent" ? 2 : access == "admin" ? 3 : 0;
}

struct RouteRow {
  std::string method, pattern, access;
  bool personal = false;
};

class RolesTest : public ServerSuite {
 protected:
  static void SetUpTestSuite() {
    StartSuite({});
    if (!Started()) return;
    auto client = server_->Client();
    for (auto [role, slot] : {std::pair{"analyst", &analyst_key_}, std::pair{"agent", &agent_key_}}) {
      auto r = client->Post("/v1/keys", std::string(R"({"role":")") + role + R"(","name":"roles-)" + role + "\"}",
                            AdminAuth());
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->status, 201u) << r->body;
      *slot = std::string(ParseJson(r->body).at("key").as_string());
    }
  }
  void SetUp() override {
    if (agent_key_.empty()) GTEST_SKIP() << "server did not start";
    ServerSuite::SetUp();
  }

  std::vector<RouteRow> Routes() {
    std::vector<RouteRow> out;
    auto r = client_->Get("/v1/routes", AdminAuth());
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    if (!r.ok() || r->status != 200) return out;
    const boost::json::value table = ParseJson(r->body);  // kept alive: the loop walks into it
    for (const auto& v : table.at("routes").as_array()) {
      const auto& o = v.as_object();
      out.push_back({std::string(o.at("method").as_string()), std::string(o.at("pattern").as_string()),
                     std::string(o.at("access").as_string()), o.at("personal").as_bool()});
    }
    return out;
  }

  HttpHeaders Headers(Caller c, bool ingest) const {
    switch (c) {
      case Caller::kNone: return {};
      case Caller::kWrite:
        // Write keys go as Basic on ingest (what SDKs send) and as Bearer elsewhere.
        return ingest ? WriteAuth() : HttpHeaders{{"Authorization", std::string("Bearer ") + kWriteKey}};
      case Caller::kAnalyst: return {{"Authorization", "Bearer " + analyst_key_}};
      case Caller::kAgent: return {{"Authorization", "Bearer " + agent_key_}};
      case Caller::kAdmin: return AdminAuth();
    }
    return {};
  }

  // The path with every {param} filled with an id nothing has (so allowed calls change nothing).
  static std::string Fill(const std::string& pattern) {
    std::string out;
    for (size_t i = 0; i < pattern.size();) {
      if (pattern[i] == '{') {
        size_t end = pattern.find('}', i);
        out += pattern.compare(i, end - i + 1, "{file}") == 0 ? "nothing.js" : "999999";
        i = end + 1;
      } else {
        out += pattern[i++];
      }
    }
    return out;
  }

  static inline std::string analyst_key_, agent_key_;
};

TEST_F(RolesTest, EveryRouteTimesEveryRoleAnswersAsDeclared) {
  std::vector<RouteRow> routes = Routes();
  ASSERT_GT(routes.size(), 50u);
  size_t checked = 0;
  for (const RouteRow& route : routes) {
    if (route.pattern == "/v1/session") continue;  // cookies, not keys: session_test.cc
    const bool ingest = route.access == "write";
    const std::string target = Fill(route.pattern);
    std::string body = route.method == "GET" || route.method == "DELETE" ? "" : "{}";
    // Batch ingest routes check the body's shape before the key: send a well-formed one.
    if (route.pattern == "/v1/batch" || route.pattern == "/v1/b") {
      body = R"({"batch":[{"type":"track","userId":"roles","event":"Roles","messageId":"roles-1"}]})";
    } else if (ingest && !route.pattern.starts_with("/v1/")) {  // PostHog
      body = R"({"batch":[{"event":"Roles","distinct_id":"roles","properties":{}}]})";
    }
    for (Caller caller : kCallers) {
      auto r = client_->Request(route.method, target, Headers(caller, ingest), body);
      ASSERT_TRUE(r.ok()) << route.method << " " << target << ": " << r.status().ToString();
      const unsigned got = r->status;
      const std::string what = route.method + " " + route.pattern + " (" + route.access + ") as " + Name(caller) +
                               ": " + std::to_string(got) + " " + r->body.substr(0, 200);
      ++checked;
      EXPECT_NE(got, 429u) << what;  // the default limits never throttle this suite
      EXPECT_NE(got, 500u) << what;  // 503 (a module this server runs without) is an answer; 500 is a bug
      if (route.access == "public") {
        EXPECT_TRUE(got != 401 && got != 403) << what;
      } else if (ingest) {
        if (caller == Caller::kWrite) EXPECT_TRUE(got != 401 && got != 403) << what;
        else EXPECT_TRUE(got == 401 || got == 403) << what;
      } else if (caller == Caller::kNone) {
        EXPECT_EQ(got, 401u) << what;
      } else if (Rank(caller) < Needed(route.access)) {
        EXPECT_EQ(got, 403u) << what;
        if (got == 403) EXPECT_NE(r->body.find("needs the " + route.access + " role"), std::string::npos) << what;
      } else {
        EXPECT_TRUE(got != 401 && got != 403) << what;
      }
    }
  }
  EXPECT_GE(checked, 5 * 50u);
}

TEST_F(RolesTest, DeclarationsThatMatter) {
  std::map<std::string, RouteRow> by_key;
  for (const RouteRow& r : Routes()) by_key[r.method + " " + r.pattern] = r;
  const std::map<std::string, std::string> pinned = {
      {"POST /v1/batch", "write"},
      {"GET /v1/customers/{id}", "agent"},
      {"GET /v1/customers/{id}/events", "agent"},
      {"GET /v1/customers/{id}/journey", "agent"},
      {"GET /v1/customers/{id}/value", "agent"},
      {"POST /v1/query/funnel", "analyst"},
      {"GET /v1/dashboard", "analyst"},
      {"GET /v1/journey/overview", "analyst"},
      {"GET /v1/journey/segments", "analyst"},
      {"GET /v1/value/summary", "analyst"},
      {"GET /v1/feedback/nps", "analyst"},
      {"POST /v1/cases", "agent"},
      {"POST /v1/rescues/{id}/act", "agent"},
      {"PUT /v1/journey-map", "admin"},
      {"POST /v1/goals", "admin"},
      {"GET /v1/keys", "admin"},
      {"POST /v1/keys", "admin"},
      {"DELETE /v1/keys/{id}", "admin"},
      {"GET /v1/audit", "admin"},
      {"GET /healthz", "public"},
  };
  for (const auto& [key, access] : pinned) {
    auto it = by_key.find(key);
    ASSERT_NE(it, by_key.end()) << key << " is not in the route table";
    EXPECT_EQ(it->second.access, access) << key;
  }
  // Erasure is admin-only wherever it is.
  if (auto it = by_key.find("DELETE /v1/customers/{id}"); it != by_key.end()) EXPECT_EQ(it->second.access, "admin");
  // Every customer route is personal (audited), and only analysts are kept off them.
  for (const auto& [key, row] : by_key) {
    if (row.pattern.starts_with("/v1/customers/{")) {
      EXPECT_TRUE(row.personal) << key;
      EXPECT_NE(row.access, "analyst") << key << ": analysts see aggregates, never a customer";
      EXPECT_NE(row.access, "public") << key;
    }
  }
}

TEST_F(RolesTest, ForbiddenAnswersNameTheRoleAndUnknownKeysAre401) {
  auto r = client_->Get("/v1/keys", {{"Authorization", "Bearer " + agent_key_}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 403u);
  EXPECT_NE(r->body.find("needs the admin role"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("role agent"), std::string::npos) << r->body;
  r = client_->Get("/v1/dashboard", {{"Authorization", "Bearer cn_notakeyatall0000000000000000000"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401u) << r->body;
}

TEST_F(RolesTest, KeysAreShownOnceListedWithoutSecretsAndRevocable) {
  auto created = client_->Post("/v1/keys", R"({"role":"analyst","name":"short-lived"})", AdminAuth());
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->status, 201u) << created->body;
  auto c = ParseJson(created->body).as_object();
  const std::string key(c.at("key").as_string());
  const int64_t id = c.at("id").as_int64();
  EXPECT_TRUE(key.starts_with("cn_")) << key;
  EXPECT_GE(key.size(), 3u + 26u);  // >= 128 bits of base32
  auto list = client_->Get("/v1/keys", AdminAuth());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->status, 200u);
  EXPECT_EQ(list->body.find(key), std::string::npos) << "the raw key must never be listed";
  EXPECT_NE(list->body.find("short-lived"), std::string::npos);
  HttpHeaders auth = {{"Authorization", "Bearer " + key}};
  auto ok = client_->Get("/v1/dashboard", auth);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->status != 401 && ok->status != 403) << ok->body;
  auto revoked = client_->Request("DELETE", "/v1/keys/" + std::to_string(id), AdminAuth());
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->status, 200u) << revoked->body;
  auto after = client_->Get("/v1/dashboard", auth);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 401u) << after->body;
  // Bad input names the field.
  auto bad = client_->Post("/v1/keys", R"({"role":"root","name":"x"})", AdminAuth());
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400u);
  EXPECT_NE(bad->body.find("role"), std::string::npos) << bad->body;
  bad = client_->Post("/v1/keys", R"({"role":"agent"})", AdminAuth());
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400u);
  EXPECT_NE(bad->body.find("name"), std::string::npos) << bad->body;
  auto missing = client_->Request("DELETE", "/v1/keys/999999", AdminAuth());
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404u) << missing->body;
}

}  // namespace
}  // namespace cairn::testutil
