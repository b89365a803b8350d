// Keys against the real binary: write keys on ingest (Basic header, body writeKey, PostHog
// api_key), the admin Bearer key on the read API. Missing or unknown keys get 401, never 5xx;
// a write key on an admin endpoint gets 403. The first start of an empty data directory creates an
// admin and a write key and prints each exactly once; keys.db holds them hashed only.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "api/server_suite.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

class AuthTest : public ServerSuite {
 protected:
  // Posts and returns the status; the body must be a JSON object with "success".
  unsigned Post(const std::string& target, const std::string& body, const HttpHeaders& headers) {
    auto r = client_->Post(target, body, headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return 0;
    boost::json::value v = ParseJson(r->body);
    EXPECT_TRUE(v.is_object() && v.as_object().contains("success")) << r->body;
    last_body_ = r->body;
    return r->status;
  }
  unsigned Get(const std::string& target, const HttpHeaders& headers) {
    auto r = client_->Get(target, headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return 0;
    last_body_ = r->body;
    return r->status;
  }

  std::string last_body_;
};

TEST_F(AuthTest, MissingWriteKeyIs401) {
  EXPECT_EQ(Post("/v1/batch", BatchJson({TrackJson("u-auth", "E", "auth-m1")}), {}), 401u) << last_body_;
  EXPECT_EQ(Post("/v1/track", TrackJson("u-auth", "E", "auth-m2"), {}), 401u) << last_body_;
  EXPECT_EQ(Post("/batch/", R"({"batch":[{"event":"e","distinct_id":"d","uuid":"auth-m3"}]})", {}), 401u)
      << last_body_;
}

TEST_F(AuthTest, UnknownWriteKeyIs401InEveryPlace) {
  const std::string unknown = "wk-unknown-0123456789abcdef";
  EXPECT_EQ(Post("/v1/batch", BatchJson({TrackJson("u-auth", "E", "auth-u1")}), WriteAuth(unknown)), 401u)
      << last_body_;
  EXPECT_EQ(Post("/v1/batch", R"({"writeKey":")" + unknown + R"(","batch":[)" + TrackJson("u-auth", "E", "auth-u2") + "]}",
                 {}),
            401u)
      << last_body_;
  EXPECT_EQ(Post("/batch/", R"({"api_key":")" + unknown + R"(","batch":[{"event":"e","distinct_id":"d","uuid":"auth-u3"}]})",
                 {}),
            401u)
      << last_body_;
  // A malformed Basic header is a credentials problem, not a server error.
  EXPECT_EQ(Post("/v1/batch", BatchJson({TrackJson("u-auth", "E", "auth-u4")}), {{"Authorization", "Basic !!!"}}),
            401u)
      << last_body_;
}

TEST_F(AuthTest, EveryWayOfGivingAValidWriteKeyIsAccepted) {
  EXPECT_EQ(Post("/v1/batch", BatchJson({TrackJson("u-auth", "E", "auth-ok1")}), WriteAuth()), 200u) << last_body_;
  // Without the colon.
  EXPECT_EQ(Post("/v1/batch", BatchJson({TrackJson("u-auth", "E", "auth-ok2")}),
                 {{"Authorization", "Basic " + Base64Encode(kWriteKey)}}),
            200u)
      << last_body_;
  EXPECT_EQ(Post("/v1/batch", R"({"writeKey":")" + std::string(kWriteKey) + R"(","batch":[)" +
                                   TrackJson("u-auth", "E", "auth-ok3") + "]}",
                 {}),
            200u)
      << last_body_;
  EXPECT_EQ(Post("/v1/t", R"({"writeKey":")" + std::string(kWriteKey2) +
                              R"(","type":"track","userId":"u-auth","event":"E","messageId":"auth-ok4"})",
                 {}),
            200u)
      << last_body_;
  EXPECT_EQ(Post("/batch/", R"({"api_key":")" + std::string(kWriteKey) +
                                R"(","batch":[{"event":"e","distinct_id":"u-auth","uuid":"auth-ok5"}]})",
                 {}),
            200u)
      << last_body_;
  auto counts = MessageIdCounts(*client_, "u-auth");
  for (const char* id : {"auth-ok1", "auth-ok2", "auth-ok3", "auth-ok4", "auth-ok5"}) EXPECT_EQ(counts[id], 1) << id;
  // Nothing refused was stored.
  for (const char* id : {"auth-m1", "auth-m2", "auth-u1", "auth-u2", "auth-u4"}) EXPECT_EQ(counts.count(id), 0u) << id;
}

TEST_F(AuthTest, ReadApiNeedsTheAdminBearerKey) {
  ASSERT_EQ(Post("/v1/batch", BatchJson({TrackJson("u-bearer", "E", "bearer-1")}), WriteAuth()), 200u) << last_body_;
  for (const std::string target : {"/v1/customers/u-bearer", "/v1/customers/u-bearer/events"}) {
    EXPECT_EQ(Get(target, {}), 401u) << target << " " << last_body_;
    EXPECT_EQ(Get(target, {{"Authorization", "Bearer ak-unknown-0123456789abcdef"}}), 401u) << target << " " << last_body_;
    EXPECT_EQ(Get(target, {{"Authorization", std::string("Bearer ") + kWriteKey}}), 403u) << target << " " << last_body_;
    // The admin key, but not as a Bearer credential.
    EXPECT_EQ(Get(target, {{"Authorization", BasicAuth(kAdminKey)}}), 401u) << target << " " << last_body_;
    EXPECT_EQ(Get(target, AdminAuth()), 200u) << target << " " << last_body_;
  }
  // The admin key is not a write key.
  EXPECT_EQ(Post("/v1/batch", BatchJson({TrackJson("u-bearer", "E", "bearer-2")}), WriteAuth(kAdminKey)), 401u)
      << last_body_;
}

// SIGTERM, then the exit status must be 0.
::testing::AssertionResult StopCleanly(ChildProcess& p) {
  if (Status s = p.Signal(SIGTERM); !s.ok()) return ::testing::AssertionFailure() << s.ToString();
  auto exit = p.Wait(kStopTimeout);
  if (!exit.ok()) return ::testing::AssertionFailure() << exit.status().ToString();
  if (!exit->ExitedWith(0)) return ::testing::AssertionFailure() << exit->ToString() << ": " << p.ReadStderr();
  return ::testing::AssertionSuccess();
}

// Issue 8, "First start creates an admin credential and prints it once": `cairn serve` on an empty
// data directory with no key configured prints one admin and one write key; they work (admin on
// the read API, write on ingest); keys.db holds neither in plain; the next start prints none and
// the printed keys still work.
TEST(FirstStart, CreatesAnAdminAndAWriteKeyAndPrintsEachOnce) {
  TempDir tmp;
  const std::string data = tmp.Sub("data");
  const std::vector<std::string> argv = {CAIRN_BINARY, "serve", "--data", data, "--listen", "127.0.0.1:0"};
  auto port_of = [](const std::string& line) {
    return static_cast<uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
  };
  auto key_of = [](const std::string& out, const std::string& role) {
    const std::string prefix = "cairn: created " + role + " key (shown once, stored hashed): ";
    size_t at = out.find(prefix);
    if (at == std::string::npos) return std::string();
    at += prefix.size();
    return out.substr(at, out.find('\n', at) - at);
  };
  std::string admin, write;
  {
    auto p = ChildProcess::Start(argv, tmp.Sub("first"));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    auto line = (*p)->WaitForLine("cairn: serving http://", kStartTimeout);
    ASSERT_TRUE(line.ok()) << line.status().ToString();
    const std::string out = (*p)->ReadStdout();
    admin = key_of(out, "admin");
    write = key_of(out, "write");
    ASSERT_GE(admin.size(), 22u) << out << " (at least 128 random bits)";
    ASSERT_GE(write.size(), 22u) << out;
    size_t printed = 0;
    for (size_t at = out.find(admin); at != std::string::npos; at = out.find(admin, at + 1)) ++printed;
    EXPECT_EQ(printed, 1u) << out;
    HttpClient c("127.0.0.1", port_of(line->substr(0, line->find(" (data"))), std::chrono::seconds(60));
    auto keys = c.Get("/v1/keys", {{"Authorization", "Bearer " + admin}});
    ASSERT_TRUE(keys.ok());
    EXPECT_EQ(keys->status, 200) << keys->body;
    EXPECT_EQ(keys->body.find(admin), std::string::npos) << "listed without the secret";
    auto ingest = c.Post("/v1/batch", BatchJson({TrackJson("first-start", "E", "fs-1")}), WriteAuth(write));
    ASSERT_TRUE(ingest.ok());
    EXPECT_EQ(ingest->status, 200) << ingest->body;
    EXPECT_TRUE(StopCleanly(**p));
  }
  for (const auto& e : std::filesystem::directory_iterator(data)) {
    if (e.path().filename().string().rfind("keys.db", 0) != 0) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(admin), std::string::npos) << e.path() << " holds the admin key in plain";
    EXPECT_EQ(bytes.find(write), std::string::npos) << e.path() << " holds the write key in plain";
  }
  // Second start: nothing printed, the keys from the first still work.
  auto p = ChildProcess::Start(argv, tmp.Sub("second"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto line = (*p)->WaitForLine("cairn: serving http://", kStartTimeout);
  ASSERT_TRUE(line.ok()) << line.status().ToString();
  EXPECT_EQ((*p)->ReadStdout().find("created"), std::string::npos) << (*p)->ReadStdout();
  HttpClient c("127.0.0.1", port_of(line->substr(0, line->find(" (data"))), std::chrono::seconds(60));
  auto keys = c.Get("/v1/keys", {{"Authorization", "Bearer " + admin}});
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->status, 200) << keys->body;
  EXPECT_TRUE(StopCleanly(**p));
}

}  // namespace
}  // namespace cairn::testutil
