// POST /v1/query/{trends,lifecycle,stickiness,paths} against the real `cairn serve`: ingest over
// HTTP (with an anonymous → identified merge), query, check answers, errors and auth. Semantics
// are covered by the goldens (insights_golden_test.cc); this checks the wiring end to end.
#include <gtest/gtest.h>

#include "api/cairn_server.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

std::string Msg(std::string_view ids, std::string_view event, std::string_view ts, std::string_view mid) {
  return "{\"type\":\"track\"," + std::string(ids) + ",\"event\":\"" + std::string(event) + "\",\"timestamp\":\"" +
         std::string(ts) + "\",\"messageId\":\"" + std::string(mid) + "\",\"properties\":{\"channel\":\"web\"}}";
}

TEST(InsightsApi, RoutesAnswerAndReject) {
  TempDir tmp;
  CairnServer server(tmp.Sub("data"), tmp.Sub("serve"));
  ASSERT_TRUE(server.Start());
  auto client = server.Client();
  // a1 browses anonymously, then identifies as u1 (one customer); u2 signs up only.
  const std::vector<std::string> batch = {
      Msg(R"("anonymousId":"a1")", "Home", "2026-01-05T10:00:00.000Z", "m1"),
      Msg(R"("userId":"u1","anonymousId":"a1")", "Signed Up", "2026-01-05T10:01:00.000Z", "m2"),
      Msg(R"("userId":"u1")", "Product Viewed", "2026-01-05T10:02:00.000Z", "m3"),
      Msg(R"("userId":"u2")", "Signed Up", "2026-01-06T09:00:00.000Z", "m4"),
  };
  auto ingest = client->Post("/v1/batch", BatchJson(batch), WriteAuth());
  ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
  ASSERT_EQ(ingest->status, 200u) << ingest->body;

  auto paths = client->Post("/v1/query/paths", R"({"anchor":"Signed Up","direction":"previous","depth":2})", AdminAuth());
  ASSERT_TRUE(paths.ok());
  ASSERT_EQ(paths->status, 200u) << paths->body;
  auto p = ParseJson(paths->body);
  EXPECT_EQ(p.at("customers").to_number<uint64_t>(), 2u);
  // u1's anonymous "Home" comes before their sign-up: the merge is applied on read.
  bool home = false;
  for (const auto& n : p.at("nodes").as_array())
    if (n.at("id").as_string() == "1:Home") home = n.at("count").to_number<uint64_t>() == 1;
  EXPECT_TRUE(home) << paths->body;

  auto trends = client->Post("/v1/query/trends", R"({"event":"Signed Up","from":"2026-01-05","to":"2026-01-07"})",
                             AdminAuth());
  ASSERT_TRUE(trends.ok());
  ASSERT_EQ(trends->status, 200u) << trends->body;
  auto t = ParseJson(trends->body);
  EXPECT_EQ(boost::json::serialize(t.at("series").as_array()[0].at("values")), "[1,1]");

  auto life = client->Post("/v1/query/lifecycle", R"({"period":"day","from":"2026-01-05","to":"2026-01-07"})",
                           AdminAuth());
  ASSERT_TRUE(life.ok());
  ASSERT_EQ(life->status, 200u) << life->body;
  auto l = ParseJson(life->body);
  EXPECT_EQ(l.at("rows").as_array()[0].at("new").to_number<uint64_t>(), 1u);  // u1 (with a1) counts once
  EXPECT_EQ(l.at("rows").as_array()[1].at("dormant").to_number<uint64_t>(), 1u);

  auto stick = client->Post("/v1/query/stickiness", R"({"from":"2026-01-05","to":"2026-01-07"})", AdminAuth());
  ASSERT_TRUE(stick.ok());
  ASSERT_EQ(stick->status, 200u) << stick->body;
  EXPECT_EQ(boost::json::serialize(ParseJson(stick->body).at("counts")), "[2,0]");

  auto bad = client->Post("/v1/query/paths", R"({"anchor":"Signed Up","depth":9})", AdminAuth());
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400u);
  EXPECT_NE(bad->body.find("depth"), std::string::npos) << bad->body;
  auto typo = client->Post("/v1/query/trends", R"({"intervall":"day"})", AdminAuth());
  ASSERT_TRUE(typo.ok());
  EXPECT_EQ(typo->status, 400u);
  EXPECT_NE(typo->body.find("intervall"), std::string::npos) << typo->body;
  auto noauth = client->Post("/v1/query/lifecycle", "{}");
  ASSERT_TRUE(noauth.ok());
  EXPECT_EQ(noauth->status, 401u);
  auto writekey = client->Post("/v1/query/stickiness", "{}", {{"Authorization", std::string("Bearer ") + kWriteKey}});
  ASSERT_TRUE(writekey.ok());
  EXPECT_EQ(writekey->status, 403u);
  EXPECT_TRUE(server.Stop());
}

}  // namespace
}  // namespace cairn::testutil
