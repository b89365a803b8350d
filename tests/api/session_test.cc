// The dashboard's login session, rate limits and the audit log against the real binary
// (docs/access.md): cookie flags, CSRF on changes, logout, unknown/ended sessions; 429 with
// Retry-After per key and per client address; audit entries for personal reads and changes.

#include <gtest/gtest.h>

#include "api/server_suite.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

struct Key {
  int64_t id = 0;
  std::string key;
};

Key CreateKey(HttpClient& client, const std::string& role, const std::string& name) {
  auto r = client.Post("/v1/keys", R"({"role":")" + role + R"(","name":")" + name + "\"}", AdminAuth());
  EXPECT_TRUE(r.ok() && r->status == 201) << (r.ok() ? r->body : r.status().ToString());
  if (!r.ok() || r->status != 201) return {};
  auto o = ParseJson(r->body).as_object();
  return {o.at("id").as_int64(), std::string(o.at("key").as_string())};
}

HttpHeaders Bearer(const Key& k) { return {{"Authorization", "Bearer " + k.key}}; }

// The cookie value from a Set-Cookie header ("cairn_session=VALUE; HttpOnly; ...").
std::string CookieOf(const HttpResponse& r) {
  std::string set = r.Header("Set-Cookie");
  size_t eq = set.find('='), semi = set.find(';');
  if (eq == std::string::npos) return "";
  return set.substr(eq + 1, semi == std::string::npos ? std::string::npos : semi - eq - 1);
}

class SessionTest : public ServerSuite {};

TEST_F(SessionTest, LoginCookieCsrfAndLogout) {
  Key analyst = CreateKey(*client_, "analyst", "dash-analyst");
  auto login = client_->Post("/v1/session", R"({"key":")" + analyst.key + "\"}");
  ASSERT_TRUE(login.ok());
  ASSERT_EQ(login->status, 200u) << login->body;
  auto body = ParseJson(login->body).as_object();
  EXPECT_EQ(body.at("role").as_string(), "analyst");
  const std::string csrf(body.at("csrf").as_string());
  EXPECT_GE(csrf.size(), 32u);  // >= 128 bits
  EXPECT_TRUE(std::string(body.at("expires_at").as_string()).ends_with("Z"));
  const std::string set_cookie = login->Header("Set-Cookie");
  EXPECT_TRUE(set_cookie.starts_with("cairn_session=")) << set_cookie;
  for (const char* flag : {"; HttpOnly", "; SameSite=Strict", "; Path=/", "; Max-Age=43200"})
    EXPECT_NE(set_cookie.find(flag), std::string::npos) << flag << " missing in " << set_cookie;
  const std::string cookie = CookieOf(*login);
  EXPECT_GE(cookie.size(), 32u);
  const HttpHeaders with_cookie = {{"Cookie", "theme=dark; cairn_session=" + cookie}};

  auto me = client_->Get("/v1/session", with_cookie);
  ASSERT_TRUE(me.ok());
  ASSERT_EQ(me->status, 200u) << me->body;
  EXPECT_EQ(ParseJson(me->body).at("csrf").as_string(), csrf);

  // The cookie authenticates reads at the analyst's level, no more.
  auto dash = client_->Get("/v1/dashboard", with_cookie);
  ASSERT_TRUE(dash.ok());
  EXPECT_TRUE(dash->status != 401 && dash->status != 403) << dash->body;
  auto customer = client_->Get("/v1/customers/u1", with_cookie);
  ASSERT_TRUE(customer.ok());
  EXPECT_EQ(customer->status, 403u) << customer->body;

  // A change with the cookie needs the CSRF token.
  const std::string spec = R"({"steps":[{"event":"A"},{"event":"B"}]})";
  auto no_csrf = client_->Post("/v1/query/funnel", spec, with_cookie);
  ASSERT_TRUE(no_csrf.ok());
  EXPECT_EQ(no_csrf->status, 403u);
  EXPECT_NE(no_csrf->body.find("CSRF"), std::string::npos) << no_csrf->body;
  HttpHeaders wrong = with_cookie;
  wrong.emplace_back("X-CSRF-Token", std::string(csrf.size(), '0'));
  auto bad_csrf = client_->Post("/v1/query/funnel", spec, wrong);
  ASSERT_TRUE(bad_csrf.ok());
  EXPECT_EQ(bad_csrf->status, 403u);
  HttpHeaders right = with_cookie;
  right.emplace_back("X-CSRF-Token", csrf);
  auto ok = client_->Post("/v1/query/funnel", spec, right);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->status != 401 && ok->status != 403) << ok->body;

  // Logout needs the token too, ends the session and clears the cookie.
  auto forged = client_->Request("DELETE", "/v1/session", with_cookie);
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(forged->status, 403u);
  auto out = client_->Request("DELETE", "/v1/session", right);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, 200u) << out->body;
  EXPECT_NE(out->Header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  auto gone = client_->Get("/v1/session", with_cookie);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, 401u);
  auto gone_read = client_->Get("/v1/dashboard", with_cookie);
  ASSERT_TRUE(gone_read.ok());
  EXPECT_EQ(gone_read->status, 401u) << gone_read->body;
}

TEST_F(SessionTest, BadLoginsAndUnknownCookies) {
  auto unknown = client_->Post("/v1/session", R"({"key":"cn_nope0000000000000000000000000000"})");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 401u);
  EXPECT_TRUE(unknown->Header("Set-Cookie").empty());
  auto write = client_->Post("/v1/session", std::string(R"({"key":")") + kWriteKey + "\"}");
  ASSERT_TRUE(write.ok());
  EXPECT_EQ(write->status, 403u) << write->body;
  auto missing = client_->Post("/v1/session", R"({"password":"x"})");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 400u);
  EXPECT_NE(missing->body.find("key"), std::string::npos) << missing->body;
  auto junk = client_->Post("/v1/session", "not json");
  ASSERT_TRUE(junk.ok());
  EXPECT_EQ(junk->status, 400u);
  const HttpHeaders forged = {{"Cookie", "cairn_session=" + std::string(64, 'a')}};
  auto me = client_->Get("/v1/session", forged);
  ASSERT_TRUE(me.ok());
  EXPECT_EQ(me->status, 401u);
  auto read = client_->Get("/v1/dashboard", forged);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->status, 401u);
  auto none = client_->Get("/v1/session");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->status, 401u);
}

TEST_F(SessionTest, RevokingTheKeyEndsItsSessions) {
  Key agent = CreateKey(*client_, "agent", "dash-agent-revoked");
  auto login = client_->Post("/v1/session", R"({"key":")" + agent.key + "\"}");
  ASSERT_TRUE(login.ok());
  ASSERT_EQ(login->status, 200u);
  const HttpHeaders with_cookie = {{"Cookie", "cairn_session=" + CookieOf(*login)}};
  auto before = client_->Get("/v1/cases", with_cookie);
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(before->status != 401 && before->status != 403) << before->body;
  auto revoke = client_->Request("DELETE", "/v1/keys/" + std::to_string(agent.id), AdminAuth());
  ASSERT_TRUE(revoke.ok());
  ASSERT_EQ(revoke->status, 200u);
  auto after = client_->Get("/v1/cases", with_cookie);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 401u) << after->body;
}

TEST_F(SessionTest, AuditRecordsPersonalReadsAndChangesWithTheActor) {
  auto ingest = client_->Post("/v1/batch", BatchJson({TrackJson("audited-1", "Signed Up", "m-aud-1"),
                                                      TrackJson("audited-2", "Signed Up", "m-aud-2")}),
                              WriteAuth());
  ASSERT_TRUE(ingest.ok());
  ASSERT_EQ(ingest->status, 200u) << ingest->body;
  Key agent = CreateKey(*client_, "agent", "desk-7");
  Key analyst = CreateKey(*client_, "analyst", "bi-audit");
  auto read = client_->Get("/v1/customers/audited-1", Bearer(agent));
  ASSERT_TRUE(read.ok());
  EXPECT_NE(read->status, 403u) << read->body;
  auto events = client_->Get("/v1/customers/audited-1/events?limit=5", Bearer(agent));
  ASSERT_TRUE(events.ok());
  EXPECT_NE(events->status, 403u);
  auto other = client_->Get("/v1/customers/audited-2", AdminAuth());
  ASSERT_TRUE(other.ok());
  auto aggregate = client_->Get("/v1/dashboard", Bearer(analyst));  // aggregates: not audited
  ASSERT_TRUE(aggregate.ok());

  auto page = client_->Get("/v1/audit?customer=audited-1", AdminAuth());
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->status, 200u) << page->body;
  auto entries = ParseJson(page->body).at("entries").as_array();
  ASSERT_EQ(entries.size(), 2u) << page->body;
  const auto& newest = entries[0].as_object();  // newest first: the timeline read
  EXPECT_EQ(newest.at("route").as_string(), "/v1/customers/{id}/events");
  // Named by the customer's internal id (the profile's "id"), never by the id as requested.
  EXPECT_EQ(newest.at("customer").as_string(), ParseJson(read->body).at("id").as_string()) << read->body;
  EXPECT_EQ(newest.at("method").as_string(), "GET");
  EXPECT_EQ(newest.at("status").as_int64(), events->status);
  EXPECT_EQ(newest.at("actor").at("name").as_string(), "desk-7");
  EXPECT_EQ(newest.at("actor").at("role").as_string(), "agent");
  EXPECT_EQ(newest.at("actor").at("key_id").as_int64(), agent.id);
  EXPECT_EQ(entries[1].at("route").as_string(), "/v1/customers/{id}");
  EXPECT_EQ(page->body.find("Signed Up"), std::string::npos) << "ids only, never bodies";

  // By actor (id or name): the agent's two reads, nothing of the admin's.
  for (const std::string actor : {std::to_string(agent.id), std::string("desk-7")}) {
    auto mine = client_->Get("/v1/audit?actor=" + actor, AdminAuth());
    ASSERT_TRUE(mine.ok());
    ASSERT_EQ(mine->status, 200u) << mine->body;
    EXPECT_EQ(ParseJson(mine->body).at("entries").as_array().size(), 2u) << mine->body;
  }
  // Nothing for the analyst's aggregate read; the admin's key creations are changes, recorded.
  auto analyst_rows = client_->Get("/v1/audit?actor=bi-audit", AdminAuth());
  ASSERT_TRUE(analyst_rows.ok());
  EXPECT_EQ(ParseJson(analyst_rows->body).at("entries").as_array().size(), 0u) << analyst_rows->body;
  auto all = client_->Get("/v1/audit?limit=1000", AdminAuth());
  ASSERT_TRUE(all.ok());
  EXPECT_NE(all->body.find(R"("route":"/v1/keys")"), std::string::npos) << all->body.substr(0, 2000);

  // Paging: limit 1 then the cursor.
  auto p1 = client_->Get("/v1/audit?customer=audited-1&limit=1", AdminAuth());
  ASSERT_TRUE(p1.ok());
  auto v1 = ParseJson(p1->body);
  ASSERT_EQ(v1.at("entries").as_array().size(), 1u);
  ASSERT_TRUE(v1.at("next_cursor").is_string()) << p1->body;
  auto p2 = client_->Get("/v1/audit?customer=audited-1&limit=1&cursor=" + std::string(v1.at("next_cursor").as_string()),
                         AdminAuth());
  ASSERT_TRUE(p2.ok());
  auto v2 = ParseJson(p2->body);
  ASSERT_EQ(v2.at("entries").as_array().size(), 1u) << p2->body;
  EXPECT_EQ(v2.at("entries").at(0).at("route").as_string(), "/v1/customers/{id}");
  // A time window that ends before everything is empty; a bad parameter is named.
  auto early = client_->Get("/v1/audit?customer=audited-1&to=2020-01-01", AdminAuth());
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(ParseJson(early->body).at("entries").as_array().size(), 0u) << early->body;
  auto bad = client_->Get("/v1/audit?limit=0", AdminAuth());
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400u);
  EXPECT_NE(bad->body.find("limit"), std::string::npos);
  // Only admins read the audit log.
  auto agent_audit = client_->Get("/v1/audit", Bearer(agent));
  ASSERT_TRUE(agent_audit.ok());
  EXPECT_EQ(agent_audit->status, 403u);
}

// A separate server with low limits: per key, then per client address.
TEST(RateLimitTest, BurstOverTheLimitGets429WithRetryAfterOthersUnaffected) {
  TempDir tmp;
  CairnServer server(tmp.Sub("data"), tmp.Sub("serve"), {"--key-rate-limit", "1:10", "--ip-rate-limit", "1:80"});
  ASSERT_TRUE(server.Start());
  auto client = server.Client();
  Key a = CreateKey(*client, "analyst", "burst-a");
  Key b = CreateKey(*client, "analyst", "burst-b");
  size_t ok = 0;
  HttpResponse limited;
  for (int i = 0; i < 20; ++i) {
    auto r = client->Get("/v1/journey/overview", Bearer(a));
    ASSERT_TRUE(r.ok());
    if (r->status == 429) {
      limited = *r;
      break;
    }
    ++ok;
  }
  // The burst is 10; at 1 token/s a slow (sanitized) run may earn one or two more meanwhile.
  EXPECT_GE(ok, 10u);
  EXPECT_LE(ok, 12u);
  ASSERT_EQ(limited.status, 429u);
  EXPECT_GE(std::stoi(limited.Header("Retry-After")), 1) << limited.Header("Retry-After");
  EXPECT_NE(limited.body.find("this key"), std::string::npos) << limited.body;
  auto other = client->Get("/v1/journey/overview", Bearer(b));  // another key: its own bucket
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->status, 429u) << other->body;
  // Ingest is not throttled by key or address (back-pressure governs it).
  for (int i = 0; i < 15; ++i) {
    auto r = client->Post("/v1/track", TrackJson("rl-u", "Ping", "rl-" + std::to_string(i)), WriteAuth());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200u) << r->body;
  }
  // The address: ~14 requests so far counted; keep going unauthenticated until it trips.
  HttpResponse by_ip;
  for (int i = 0; i < 100 && by_ip.status != 429; ++i) {
    auto r = client->Get("/v1/dashboard");
    ASSERT_TRUE(r.ok());
    if (r->status == 429) by_ip = *r;
    else EXPECT_EQ(r->status, 401u);
  }
  ASSERT_EQ(by_ip.status, 429u) << "the per-address limit never tripped";
  EXPECT_NE(by_ip.body.find("client address"), std::string::npos) << by_ip.body;
  EXPECT_FALSE(by_ip.Header("Retry-After").empty());
  auto health = client->Get("/healthz");  // health checks are exempt
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200u);
  EXPECT_TRUE(server.Stop());
}

}  // namespace
}  // namespace cairn::testutil
