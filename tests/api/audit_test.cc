// The audit log names customers, never their identifiers (docs/access.md, docs/format/audit.md),
// against the real binary: reads of one customer by userId, e-mail and anonymousId, of their case
// and of their rescue decision are all found by `GET /v1/audit?customer=` with ANY of their ids,
// every record names the customer "c:<n>", and no identifier is in any byte of audit.db. A read of
// an unknown e-mail is recorded under a keyed hash, found again by that e-mail.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "api/cairn_server.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

constexpr char kUser[] = "aud-user-5e1c";
constexpr char kEmail[] = "aud-mail-5e1c@example.com";
constexpr char kAnon[] = "aud-anon-5e1c";
constexpr char kStranger[] = "aud-stranger-77b0@example.com";  // never a customer

std::string Key(HttpClient& client, const std::string& role, const std::string& name) {
  auto r = client.Post("/v1/keys", R"({"role":")" + role + R"(","name":")" + name + "\"}", AdminAuth());
  EXPECT_TRUE(r.ok() && r->status == 201) << (r.ok() ? r->body : r.status().ToString());
  if (!r.ok() || r->status != 201) return {};
  return std::string(ParseJson(r->body).at("key").as_string());
}

unsigned Status(HttpClient& client, const std::string& method, const std::string& target, const HttpHeaders& auth,
                const std::string& body = "") {
  auto r = client.Request(method, target, auth, body);
  EXPECT_TRUE(r.ok()) << target;
  return r.ok() ? r->status : 0;
}

struct Entry {
  int64_t seq = 0;
  std::string method, route, customer;
};

std::vector<Entry> AuditOf(HttpClient& client, const std::string& customer) {
  auto r = client.Get("/v1/audit?limit=1000&customer=" + customer, AdminAuth());
  EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
  std::vector<Entry> out;
  if (!r.ok() || r->status != 200) return out;
  const boost::json::value page = ParseJson(r->body);  // outlives the loop
  for (const auto& e : page.at("entries").as_array()) {
    out.push_back({e.at("seq").as_int64(), std::string(e.at("method").as_string()), std::string(e.at("route").as_string()),
                   std::string(e.at("customer").as_string())});
  }
  return out;
}

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(AuditTest, CustomersAreNamedBySubjectAndFoundByAnyOfTheirIds) {
  TempDir tmp;
  const std::string data = tmp.Sub("data");
  CairnServer server(data, tmp.Sub("serve"));
  ASSERT_TRUE(server.Start());
  auto client = server.Client();
  const std::string identify = std::string(R"({"type":"identify","userId":")") + kUser + R"(","anonymousId":")" + kAnon +
                               R"(","messageId":"aud-id","traits":{"email":")" + kEmail + R"("}})";
  auto ingest = client->Post(
      "/v1/batch",
      BatchJson({identify, TrackJson(kUser, "Order Completed", "aud-oc", R"("properties":{"revenue":5000})"),
                 TrackJson(kUser, "Complaint Filed", "aud-cf", R"("properties":{"category":"billing","severity":"high"})")}),
      WriteAuth());
  ASSERT_TRUE(ingest.ok());
  ASSERT_EQ(ingest->status, 200u) << ingest->body;
  const HttpHeaders agent = {{"Authorization", "Bearer " + Key(*client, "agent", "desk-audit")}};

  // Personal reads by three different ids, and one of an unknown e-mail.
  auto profile = client->Get(std::string("/v1/customers/") + kEmail, agent);
  ASSERT_TRUE(profile.ok());
  ASSERT_EQ(profile->status, 200u) << profile->body;
  const std::string cid(ParseJson(profile->body).at("id").as_string());
  ASSERT_TRUE(cid.starts_with("c:")) << cid;
  EXPECT_EQ(Status(*client, "GET", std::string("/v1/customers/a:") + kAnon + "/events", agent), 200u);
  Status(*client, "GET", std::string("/v1/customers/u:") + kUser + "/journey", agent);
  EXPECT_EQ(Status(*client, "GET", std::string("/v1/customers/") + kStranger, agent), 404u);

  // Their case: opened by an agent (the customer named in the body), read, commented on; a survey
  // answer recorded for them through the API.
  auto opened = client->Post("/v1/cases",
                             std::string(R"({"customer":"u:)") + kUser + R"(","channel":"email","category":"billing",)" +
                                 R"("description":"charged twice"})",
                             agent);
  ASSERT_TRUE(opened.ok());
  ASSERT_EQ(opened->status, 201u) << opened->body;
  const std::string case_path = "/v1/cases/" + std::to_string(ParseJson(opened->body).at("id").as_int64());
  EXPECT_EQ(Status(*client, "GET", case_path, agent), 200u);
  EXPECT_EQ(Status(*client, "POST", case_path + "/comments", agent, R"({"author":"desk","body":"refund sent"})"), 201u);
  auto answer = client->Post("/v1/feedback/responses",
                             std::string(R"({"customer":")") + kEmail + R"(","survey":"nps","score":9})", agent);
  ASSERT_TRUE(answer.ok());
  EXPECT_LT(answer->status, 300u) << answer->body;

  // Their rescue decision (the complaint after a large order: the angry path).
  std::string rescue_path;
  for (int i = 0; i < 100 && rescue_path.empty(); ++i) {
    auto list = client->Get("/v1/rescues", agent);
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->status, 200u) << list->body;
    const boost::json::value queue = ParseJson(list->body);
    for (const auto& d : queue.at("rescues").as_array()) {
      for (const auto& id : d.at("customer").at("ids").as_array())
        if (id.as_string() == std::string("userId:") + kUser) rescue_path = "/v1/rescues/" + std::to_string(d.at("id").as_int64());
    }
    if (rescue_path.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(rescue_path.empty()) << "no rescue decision for " << kUser;
  EXPECT_EQ(Status(*client, "GET", rescue_path, agent), 200u);

  // The same records whichever id the admin asks with, each naming the customer by internal id.
  const std::vector<Entry> by_cid = AuditOf(*client, cid);
  std::set<std::string> seen;
  for (const Entry& e : by_cid) {
    EXPECT_EQ(e.customer, cid) << e.method << " " << e.route;
    seen.insert(e.method + " " + e.route);
  }
  for (const char* want : {"GET /v1/customers/{id}", "GET /v1/customers/{id}/events", "GET /v1/customers/{id}/journey",
                                 "POST /v1/cases", "GET /v1/cases/{id}", "POST /v1/cases/{id}/comments",
                                 "POST /v1/feedback/responses", "GET /v1/rescues/{id}"}) {
    EXPECT_TRUE(seen.count(want)) << want << " is not in the customer's audit records";
  }
  auto seqs = [](const std::vector<Entry>& v) {
    std::vector<int64_t> out;
    for (const Entry& e : v) out.push_back(e.seq);
    return out;
  };
  for (const std::string& id : {std::string(kUser), "u:" + std::string(kUser), std::string(kEmail), "e:" + std::string(kEmail),
                               "a:" + std::string(kAnon)}) {
    EXPECT_EQ(seqs(AuditOf(*client, id)), seqs(by_cid)) << "asked by " << id;
  }
  // The list of rescues is personal too (it names customers), recorded without a subject.
  auto all = client->Get("/v1/audit?limit=1000", AdminAuth());
  ASSERT_TRUE(all.ok());
  EXPECT_NE(all->body.find(R"("method":"GET","route":"/v1/rescues","customer":"")"), std::string::npos);

  // The unknown e-mail: a keyed hash, found again by the same e-mail, and by nothing else.
  const std::vector<Entry> stranger = AuditOf(*client, kStranger);
  ASSERT_EQ(stranger.size(), 1u);
  EXPECT_TRUE(stranger[0].customer.starts_with("h:")) << stranger[0].customer;
  EXPECT_EQ(stranger[0].route, "/v1/customers/{id}");
  for (const Entry& e : by_cid) EXPECT_NE(e.seq, stranger[0].seq);

  // No identifier in any byte of the audit log's files (main file and SQLite's -wal).
  client.reset();
  ASSERT_TRUE(server.Stop());
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(data)) {
    const std::string name = f.path().filename().string();
    if (!name.starts_with("audit.db")) continue;
    ++files;
    const std::string bytes = ReadAll(f.path());
    for (const char* id : {kUser, kEmail, kAnon, kStranger, "aud-mail", "aud-stranger"})
      EXPECT_EQ(bytes.find(id), std::string::npos) << id << " is in " << name;
  }
  EXPECT_GE(files, 1);
}

}  // namespace
}  // namespace cairn::testutil
