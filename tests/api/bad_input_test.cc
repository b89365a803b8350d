// Bad input against the real binary. For each: the answer (status and a message naming what is
// wrong), and afterwards the server still serving and everything accepted earlier intact.

#include <gtest/gtest.h>

#include "api/server_suite.h"
#include "testutil/gzip.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

using SteadyClock = std::chrono::steady_clock;

class BadInputTest : public ServerSuite {
 protected:
  static void SetUpTestSuite() {
    // The data every test checks is still there, exactly once, after its bad input.
    ServerSuiteOptions o;
    o.seed = {TrackJson("baseline", "Signed Up", "base-1"), TrackJson("baseline", "Paid", "base-2"),
              TrackJson("baseline", "Churned", "base-3")};
    StartSuite(o);
  }
  void TearDown() override {
    if (!Started()) return;
    // Still serving, on a new connection as well as on this one (when the server kept it).
    ASSERT_TRUE(server_->process()->Running()) << server_->process()->ReadStderr();
    auto fresh = server_->Client();
    auto health = fresh->Get("/healthz");
    ASSERT_TRUE(health.ok()) << health.status().ToString();
    EXPECT_EQ(health->status, 200u);
    std::string id = "after-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto ok = fresh->Post("/v1/track", TrackJson("baseline-after", "Still Here", id), WriteAuth());
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    EXPECT_EQ(ok->status, 200u) << ok->body;
    // Earlier data intact.
    auto counts = MessageIdCounts(*fresh, "baseline");
    EXPECT_EQ(counts, (std::map<std::string, int>{{"base-1", 1}, {"base-2", 1}, {"base-3", 1}}));
  }

  // Sends and returns {status, parsed body}.
  std::pair<unsigned, boost::json::object> Send(const std::string& target, const std::string& body,
                                                HttpHeaders headers = WriteAuth()) {
    auto r = client_->Post(target, body, headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {0, {}};
    raw_ = r->body;
    boost::json::value v = ParseJson(r->body);
    EXPECT_TRUE(v.is_object()) << r->body;
    return {r->status, v.is_object() ? v.as_object() : boost::json::object{}};
  }
  static std::string Error(const boost::json::object& o) {
    auto it = o.find("error");
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
  }
  static std::vector<std::pair<int64_t, std::string>> Rejected(const boost::json::object& o) {
    std::vector<std::pair<int64_t, std::string>> out;
    for (const auto& r : o.at("rejected").as_array())
      out.emplace_back(r.at("index").to_number<int64_t>(), std::string(r.at("error").as_string()));
    return out;
  }

  std::string raw_;
};

TEST_F(BadInputTest, MalformedJsonIs400NamingWhere) {
  auto [status, body] = Send("/v1/batch", R"({"batch":[{"type":"track","userId":"u","event":"E",}]})");
  EXPECT_EQ(status, 400u) << raw_;
  EXPECT_EQ(body["success"], false) << raw_;
  // The error says where: the byte offset and the path.
  EXPECT_NE(Error(body).find("at byte "), std::string::npos) << Error(body);
  EXPECT_NE(Error(body).find("batch[0]"), std::string::npos) << Error(body);
  auto [s2, b2] = Send("/v1/batch", "not json at all");
  EXPECT_EQ(s2, 400u) << raw_;
  auto [s3, b3] = Send("/v1/batch", "");
  EXPECT_EQ(s3, 400u) << raw_;
  auto [s4, b4] = Send("/v1/batch", R"({"batch":{"type":"track"}})");
  EXPECT_EQ(s4, 400u) << raw_;
  EXPECT_NE(Error(b4).find("batch"), std::string::npos) << Error(b4);
}

TEST_F(BadInputTest, WrongTypesRejectTheMessageNamingTheField) {
  auto [status, body] = Send("/v1/batch", BatchJson({R"({"type":"track","userId":"u-types","event":123,"messageId":"t-1"})",
                                                     R"({"type":"track","userId":"u-types","event":"E","properties":"x","messageId":"t-2"})",
                                                     R"({"type":"identify","userId":"u-types","traits":[1,2],"messageId":"t-3"})",
                                                     R"({"type":"track","userId":{"a":1},"event":"E","messageId":"t-4"})"}));
  ASSERT_EQ(status, 200u) << raw_;
  EXPECT_EQ(body["accepted"], 0) << raw_;
  auto rejected = Rejected(body);
  ASSERT_EQ(rejected.size(), 4u) << raw_;
  const char* fields[] = {"event", "properties", "traits", "userId"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(rejected[i].first, static_cast<int64_t>(i)) << raw_;
    EXPECT_NE(rejected[i].second.find(fields[i]), std::string::npos) << rejected[i].second;
  }
}

TEST_F(BadInputTest, MissingIdsRejectTheMessage) {
  auto [status, body] = Send("/v1/batch", BatchJson({R"({"type":"track","event":"E","messageId":"noid-1"})",
                                                     R"({"type":"alias","userId":"u","messageId":"noid-2"})",
                                                     R"({"type":"group","userId":"u","messageId":"noid-3"})"}));
  ASSERT_EQ(status, 200u) << raw_;
  auto rejected = Rejected(body);
  ASSERT_EQ(rejected.size(), 3u) << raw_;
  EXPECT_NE(rejected[0].second.find("userId"), std::string::npos) << rejected[0].second;
  EXPECT_NE(rejected[0].second.find("anonymousId"), std::string::npos) << rejected[0].second;
  EXPECT_NE(rejected[1].second.find("previousId"), std::string::npos) << rejected[1].second;
  EXPECT_NE(rejected[2].second.find("groupId"), std::string::npos) << rejected[2].second;
}

TEST_F(BadInputTest, OversizedMessageIsARejectedEntry) {
  std::string big = "\"properties\":{\"blob\":\"" + std::string(70 * 1024, 'x') + "\"}";
  auto [status, body] = Send("/v1/batch", BatchJson({TrackJson("u-big", "Big", "big-1", big), TrackJson("u-big", "Small", "big-2")}));
  ASSERT_EQ(status, 200u) << raw_.substr(0, 500);
  EXPECT_EQ(body["accepted"], 1) << raw_;
  auto rejected = Rejected(body);
  ASSERT_EQ(rejected.size(), 1u) << raw_;
  EXPECT_EQ(rejected[0].first, 0);
  EXPECT_NE(rejected[0].second.find("65536"), std::string::npos) << rejected[0].second;
  auto counts = MessageIdCounts(*client_, "u-big");
  EXPECT_EQ(counts, (std::map<std::string, int>{{"big-2", 1}}));
}

TEST_F(BadInputTest, OversizedBodyIs400AndOnPostHog413) {
  // Just over the decoded limit (1 MiB), under the HTTP limit: the ingest pipeline answers.
  std::string pad = "\"properties\":{\"p\":\"" + std::string(60 * 1024, 'y') + "\"}";
  std::vector<std::string> messages;
  for (int i = 0; i < 18; ++i) messages.push_back(TrackJson("u-huge", "E", "huge-" + std::to_string(i), pad));
  std::string body = BatchJson(messages);
  ASSERT_GT(body.size(), size_t{1} << 20);
  ASSERT_LT(body.size(), (size_t{1} << 20) + (64u << 10));
  auto [s1, b1] = Send("/v1/batch", body);
  EXPECT_EQ(s1, 400u) << raw_;
  EXPECT_NE(Error(b1).find("1048576"), std::string::npos) << Error(b1);

  // Far over: the HTTP layer answers, naming its limit, and keeps the connection usable.
  std::string huge = BatchJson({TrackJson("u-huge", "E", "huge-x", "\"properties\":{\"p\":\"" + std::string(3 << 20, 'z') + "\"}")});
  auto [s2, b2] = Send("/v1/batch", huge);
  EXPECT_EQ(s2, 400u) << raw_;
  EXPECT_NE(Error(b2).find("limit"), std::string::npos) << Error(b2);

  std::string ph_pad(60 * 1024, 'q');
  std::string ph = R"({"api_key":")" + std::string(kWriteKey) + R"(","batch":[)";
  for (int i = 0; i < 18; ++i) {
    if (i) ph += ",";
    ph += R"({"event":"e","distinct_id":"u-huge","uuid":"ph-huge-)" + std::to_string(i) + R"(","properties":{"p":")" +
          ph_pad + "\"}}";
  }
  ph += "]}";
  auto [s3, b3] = Send("/batch/", ph, {});
  EXPECT_EQ(s3, 413u) << raw_;
  auto [s4, b4] = Send("/batch/", R"({"api_key":")" + std::string(kWriteKey) + R"(","batch":[{"event":"e","distinct_id":"u-huge","uuid":"ph-x","properties":{"p":")" +
                                      std::string(3 << 20, 'z') + "\"}}]}",
                       {});
  EXPECT_EQ(s4, 413u) << raw_;
  // None of it was stored.
  auto probe = client_->Get("/v1/customers/u-huge", AdminAuth());
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe->status, 404u) << probe->body;
}

TEST_F(BadInputTest, GzipBombIs400NamingTheLimitAndIsFast) {
  std::string bomb = GzipZeros(size_t{100} << 20);
  ASSERT_LT(bomb.size(), 200u << 10);
  auto headers = WriteAuth();
  headers.emplace_back("Content-Encoding", "gzip");
  auto start = SteadyClock::now();
  auto [status, body] = Send("/v1/batch", bomb, headers);
  auto elapsed = SteadyClock::now() - start;
  EXPECT_EQ(status, 400u) << raw_;
  EXPECT_NE(Error(body).find("1048576"), std::string::npos) << Error(body);
  // Inflation stops at the limit: well under a second even in a sanitizer build.
  EXPECT_LT(elapsed, std::chrono::seconds(3));
  // Also when only the magic bytes say gzip (no Content-Encoding).
  auto [s2, b2] = Send("/v1/batch", bomb);
  EXPECT_EQ(s2, 400u) << raw_;
  // A good gzip body is accepted.
  auto [s3, b3] = Send("/v1/batch", Gzip(BatchJson({TrackJson("u-gzip", "E", "gz-1")})), headers);
  EXPECT_EQ(s3, 200u) << raw_;
  EXPECT_EQ(b3["accepted"], 1) << raw_;
  // A corrupt gzip body is bad input, not a server error.
  std::string corrupt = Gzip(BatchJson({TrackJson("u-gzip", "E", "gz-2")}));
  corrupt[corrupt.size() / 2] ^= 0x55;
  corrupt.resize(corrupt.size() - 6);
  auto [s4, b4] = Send("/v1/batch", corrupt, headers);
  EXPECT_EQ(s4, 400u) << raw_;
}

TEST_F(BadInputTest, InvalidUtf8Is400) {
  std::string body = BatchJson({TrackJson("u-utf8", "Caf\xc3\xa9", "utf-1"), TrackJson("u-utf8", "Bad \xff\xfe here", "utf-2")});
  auto [status, b] = Send("/v1/batch", body);
  EXPECT_EQ(status, 400u) << raw_;
  EXPECT_NE(Error(b).find("UTF-8"), std::string::npos) << Error(b);
  // Nothing of that request was stored (the whole body is refused).
  auto probe = client_->Get("/v1/customers/u-utf8", AdminAuth());
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe->status, 404u) << probe->body;
}

TEST_F(BadInputTest, TimestampsDecadesOffAreRejectedNamingTheField) {
  auto [status, body] = Send(
      "/v1/batch",
      BatchJson({TrackJson("u-time", "E", "time-1", R"("timestamp":"1960-03-01T00:00:00.000Z")"),
                 TrackJson("u-time", "E", "time-2", R"("timestamp":"2091-03-01T00:00:00Z")"),
                 TrackJson("u-time", "E", "time-3", R"("originalTimestamp":"1901-01-01T00:00:00Z")"),
                 TrackJson("u-time", "E", "time-4", R"("timestamp":"yesterday")"),
                 TrackJson("u-time", "E", "time-5", R"("timestamp":"2020-02-02T10:00:00+02:00")")}));
  ASSERT_EQ(status, 200u) << raw_;
  EXPECT_EQ(body["accepted"], 1) << raw_;
  auto rejected = Rejected(body);
  ASSERT_EQ(rejected.size(), 4u) << raw_;
  const char* fields[] = {"timestamp", "timestamp", "originalTimestamp", "timestamp"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(rejected[i].first, static_cast<int64_t>(i)) << raw_;
    EXPECT_NE(rejected[i].second.find(fields[i]), std::string::npos) << rejected[i].second;
  }
  auto timeline = Timeline(*client_, "u-time");
  ASSERT_EQ(timeline.size(), 1u);
  EXPECT_EQ(timeline[0].at("messageId"), "time-5");
  EXPECT_EQ(timeline[0].at("timestamp"), "2020-02-02T08:00:00.000Z");
}

TEST_F(BadInputTest, MixedBatchKeepsTheValidWithRightIndexes) {
  auto [status, body] = Send("/v1/batch", BatchJson({TrackJson("u-mixed", "A", "mix-0"),
                                                     R"({"type":"track","event":"no ids","messageId":"mix-1"})",
                                                     TrackJson("u-mixed", "B", "mix-2"),
                                                     R"({"type":"track","userId":"u-mixed","event":["x"],"messageId":"mix-3"})",
                                                     R"({"type":"bogus","userId":"u-mixed","messageId":"mix-4"})",
                                                     TrackJson("u-mixed", "C", "mix-5")}));
  ASSERT_EQ(status, 200u) << raw_;
  EXPECT_EQ(body["success"], true);
  EXPECT_EQ(body["accepted"], 3) << raw_;
  auto rejected = Rejected(body);
  ASSERT_EQ(rejected.size(), 3u) << raw_;
  EXPECT_EQ(rejected[0].first, 1);
  EXPECT_EQ(rejected[1].first, 3);
  EXPECT_EQ(rejected[2].first, 4);
  EXPECT_NE(rejected[2].second.find("type"), std::string::npos) << rejected[2].second;
  auto counts = MessageIdCounts(*client_, "u-mixed");
  EXPECT_EQ(counts, (std::map<std::string, int>{{"mix-0", 1}, {"mix-2", 1}, {"mix-5", 1}}));
}

}  // namespace
}  // namespace cairn::testutil
