// PostHog /batch/ mapping onto Segment-shaped messages.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "ingest/parser.h"
#include "ingest/timestamp.h"

namespace cairn::ingest {
namespace {

using store::MessageType;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1714564800000;  // 2024-05-01T12:00:00.000Z

Result<ParsedRequest> PostHog(std::string_view body, const ParseOptions& o = {}) {
  return ParseRequest(o, Dialect::kPostHogBatch, MessageType::kTrack, body, kNow);
}

ParsedRequest Ok(Result<ParsedRequest> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return {};
  return std::move(r).value();
}

Message One(std::string_view item) {
  ParsedRequest r = Ok(PostHog(fmt::format(R"({{"api_key":"k","batch":[{}]}})", item)));
  for (const auto& rej : r.rejected) ADD_FAILURE() << rej.error;
  EXPECT_EQ(r.messages.size(), 1u);
  return r.messages.empty() ? Message{} : r.messages[0];
}

std::string Rejection(std::string_view item) {
  ParsedRequest r = Ok(PostHog(fmt::format(R"({{"api_key":"k","batch":[{}]}})", item)));
  EXPECT_EQ(r.rejected.size(), 1u);
  return r.rejected.empty() ? "" : r.rejected[0].error;
}

TEST(PostHogTest, RealClientBatch) {
  std::ifstream in(std::string(CAIRN_INGEST_TESTDATA) + "/posthog_batch.json");
  std::stringstream ss;
  ss << in.rdbuf();
  ParsedRequest r = Ok(PostHog(ss.str()));
  EXPECT_EQ(r.write_key, "phc_testkey");
  ASSERT_EQ(r.messages.size(), 5u);
  EXPECT_TRUE(r.rejected.empty());
  int64_t sent = 0, ts = 0;
  ASSERT_TRUE(ParseIso8601Ms("2024-05-01T11:59:58.000Z", &sent));
  ASSERT_TRUE(ParseIso8601Ms("2024-05-01T11:59:57.000Z", &ts));

  const Message& identify = r.messages[0];
  EXPECT_EQ(identify.type, MessageType::kIdentify);
  EXPECT_EQ(identify.user_id, "user-5");
  EXPECT_EQ(identify.anonymous_id, "0190f3a2-1111-7c3b-8e1f-6a2b9c0d1e2f");
  // The anonymous distinct_id was a "userId" on earlier events: identify merges it explicitly.
  EXPECT_EQ(identify.previous_id, "0190f3a2-1111-7c3b-8e1f-6a2b9c0d1e2f");
  EXPECT_EQ(identify.message_id, "0190f3a2-aaaa-7c3b-8e1f-6a2b9c0d1e2f");
  EXPECT_EQ(identify.email, "lin@example.com");
  // $set → traits; $set_once → traitsSetOnce (only where nothing set them); $set wins for "plan".
  EXPECT_EQ(identify.traits_json, R"({"email":"lin@example.com","plan":"team"})");
  EXPECT_EQ(identify.timestamp_ms, kNow - (sent - ts));  // sent_at applies the clock-skew rule
  EXPECT_EQ(identify.sent_at_ms, sent);
  EXPECT_EQ(identify.event, "");
  EXPECT_THAT(identify.payload, ::testing::StartsWith(
                                    R"({"type":"identify","userId":"user-5","anonymousId":"0190f3a2-1111-7c3b-8e1f-6a2b9c0d1e2f",)"
                                    R"("previousId":"0190f3a2-1111-7c3b-8e1f-6a2b9c0d1e2f",)"
                                    R"("traits":{"email":"lin@example.com","plan":"team"},"traitsSetOnce":{"first_seen":"2024-04-01"},)"
                                    R"("messageId":"0190f3a2-aaaa-7c3b-8e1f-6a2b9c0d1e2f","distinct_id":"user-5","event":"$identify",)"));
  EXPECT_THAT(identify.payload, HasSubstr(R"("$posthog_type":"capture")"));

  const Message& alias = r.messages[1];
  EXPECT_EQ(alias.type, MessageType::kAlias);
  EXPECT_EQ(alias.user_id, "user-5");
  EXPECT_EQ(alias.previous_id, "legacy-55");

  const Message& group = r.messages[2];
  EXPECT_EQ(group.type, MessageType::kGroup);
  EXPECT_EQ(group.group_id, "acme");
  EXPECT_EQ(group.traits_json, R"({"$group_type":"company","name":"Acme","seats":12})");

  const Message& page = r.messages[3];
  EXPECT_EQ(page.type, MessageType::kPage);
  EXPECT_EQ(page.event, "https://app.example.com/billing");
  EXPECT_EQ(page.channel, "web");
  EXPECT_THAT(page.payload, HasSubstr(R"("name":"https://app.example.com/billing")"));

  const Message& track = r.messages[4];
  EXPECT_EQ(track.type, MessageType::kTrack);
  EXPECT_EQ(track.event, "subscription upgraded");
  EXPECT_DOUBLE_EQ(track.revenue, 240);
  EXPECT_THAT(track.payload, HasSubstr(R"("$groups":{"company":"acme"})"));
}

TEST(PostHogTest, PageviewNameFallsBackToPathname) {
  Message m = One(R"({"event":"$pageview","distinct_id":"d","properties":{"$pathname":"/a"}})");
  EXPECT_EQ(m.event, "/a");
}

TEST(PostHogTest, IdentifyWithOnlySetOnceAndNumericDistinctId) {
  Message m = One(R"({"event":"$identify","distinct_id":42,"properties":{"$set_once":{"email":"o@x.y"}}})");
  EXPECT_EQ(m.user_id, "42");
  EXPECT_EQ(m.email, "o@x.y");
  EXPECT_EQ(m.traits_json, "");  // set-once values travel as traitsSetOnce
  EXPECT_THAT(m.payload, ::testing::HasSubstr(R"("traitsSetOnce":{"email":"o@x.y"})"));
  m = One(R"({"event":"$identify","distinct_id":"d"})");
  EXPECT_EQ(m.traits_json, "");
}

TEST(PostHogTest, TopLevelSetFromOlderClients) {
  Message m = One(R"({"event":"$identify","distinct_id":"d","$set":{"email":"t@x.y"},"properties":{}})");
  EXPECT_EQ(m.email, "t@x.y");
  EXPECT_EQ(m.traits_json, R"({"email":"t@x.y"})");
}

TEST(PostHogTest, ItemsWithTypeInsteadOfEvent) {
  Message m = One(R"({"type":"identify","distinct_id":"d","properties":{"$set":{"a":1}}})");
  EXPECT_EQ(m.type, MessageType::kIdentify);
  EXPECT_EQ(m.traits_json, R"({"a":1})");
  m = One(R"({"type":"alias","distinct_id":"d","properties":{"alias":"old"}})");
  EXPECT_EQ(m.type, MessageType::kAlias);
  EXPECT_EQ(m.previous_id, "old");
  EXPECT_EQ(Rejection(R"({"type":"capture","distinct_id":"d"})"), "batch[0]: missing event");
  EXPECT_EQ(Rejection(R"({"type":"merge","distinct_id":"d"})"), R"(batch[0].type: unknown type "merge")");
}

TEST(PostHogTest, Rejections) {
  EXPECT_EQ(Rejection(R"({"event":"x"})"), "batch[0]: missing distinct_id");
  EXPECT_EQ(Rejection(R"({"distinct_id":"d"})"), "batch[0]: missing event");
  EXPECT_EQ(Rejection(R"({"event":"","distinct_id":"d"})"), "batch[0].event: track needs a non-empty event name");
  EXPECT_EQ(Rejection(R"({"event":"$create_alias","distinct_id":"d","properties":{}})"),
            "batch[0].properties.alias: alias needs properties.alias (the previous id)");
  EXPECT_EQ(Rejection(R"({"event":"$groupidentify","distinct_id":"d","properties":{"$group_type":"c"}})"),
            "batch[0].properties.$group_key: group needs $group_key");
  EXPECT_EQ(Rejection(R"({"event":"e","distinct_id":"d","properties":"x"})"),
            "batch[0].properties: must be an object, got string");
  EXPECT_EQ(Rejection(R"({"event":"e","distinct_id":"d","timestamp":"tomorrow"})"),
            R"(batch[0].timestamp: not an ISO-8601 time: "tomorrow")");
  EXPECT_EQ(Rejection(R"({"event":"$identify","distinct_id":"d","properties":{"$set":[1]}})"),
            "batch[0].properties.$set: must be an object, got array");
}

TEST(PostHogTest, EnvelopeErrors) {
  auto r = PostHog(R"({"api_key":"k","batch":[],"sent_at":"never"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), R"(sent_at: not an ISO-8601 time: "never")");
  r = PostHog(R"({"api_key":"k"})");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("missing batch"));
  r = PostHog(R"({"api_key":"k","batch":[{"event":"e","distinct_id":"d","properties":{"a":[1,]}}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("(batch[0].properties.a"));
}

TEST(PostHogTest, CollidingKeysAreRenamedNotDuplicated) {
  Message m = One(R"({"event":"e","distinct_id":"d","userId":"other","name":"n"})");
  EXPECT_EQ(m.user_id, "d");
  EXPECT_EQ(m.payload, R"({"type":"track","userId":"d","event":"e","distinct_id":"d","$posthog_userId":"other","$posthog_name":"n"})");
}

TEST(PostHogTest, ApiKeyInItemsIsNotStored) {
  Message m = One(R"({"event":"e","distinct_id":"d","api_key":"secret"})");
  EXPECT_EQ(m.payload.find("secret"), std::string::npos);
}

}  // namespace
}  // namespace cairn::ingest
