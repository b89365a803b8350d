#include "ingest/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "ingest/timestamp.h"

namespace cairn::ingest {
namespace {

using store::MessageType;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1714564800000;  // 2024-05-01T12:00:00.000Z

int64_t Ms(std::string_view iso) {
  int64_t ms = 0;
  EXPECT_TRUE(ParseIso8601Ms(iso, &ms)) << iso;
  return ms;
}

Result<ParsedRequest> Batch(std::string_view body, const ParseOptions& o = {}) {
  return ParseRequest(o, Dialect::kSegmentBatch, MessageType::kTrack, body, kNow);
}
Result<ParsedRequest> Lines(std::string_view body, const ParseOptions& o = {}) {
  return ParseRequest(o, Dialect::kJsonLines, MessageType::kTrack, body, kNow);
}
Result<ParsedRequest> Single(MessageType type, std::string_view body, const ParseOptions& o = {}) {
  return ParseRequest(o, Dialect::kSegmentSingle, type, body, kNow);
}

ParsedRequest Ok(Result<ParsedRequest> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return {};
  return std::move(r).value();
}

std::string Error(Result<ParsedRequest> r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_TRUE(r.status().Is(Code::kInvalidArgument)) << r.status().ToString();
  return std::string(r.status().message());
}

// The one rejection of a one-message batch.
std::string RejectionOf(std::string_view message, const ParseOptions& o = {}) {
  ParsedRequest r = Ok(Batch(fmt::format("{{\"batch\":[{}]}}", message), o));
  EXPECT_TRUE(r.messages.empty());
  EXPECT_EQ(r.rejected.size(), 1u);
  return r.rejected.empty() ? "" : r.rejected[0].error;
}

Message OneMessage(std::string_view message) {
  ParsedRequest r = Ok(Batch(fmt::format("{{\"batch\":[{}]}}", message)));
  EXPECT_EQ(r.messages.size(), 1u);
  for (const auto& rej : r.rejected) ADD_FAILURE() << rej.error;
  return r.messages.empty() ? Message{} : r.messages[0];
}

std::string ReadTestdata(std::string_view name) {
  std::ifstream in(fmt::format("{}/{}", CAIRN_INGEST_TESTDATA, name), std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- Real-client bodies ----------------------------------------------------------------------

TEST(ParserTest, AnalyticsNodeBatch) {
  ParsedRequest r = Ok(Batch(ReadTestdata("analytics_node_batch.json")));
  EXPECT_EQ(r.write_key, "wk_node_test");
  ASSERT_EQ(r.messages.size(), 5u);
  EXPECT_TRUE(r.rejected.empty());
  const int64_t sent = Ms("2024-05-01T11:59:59.000Z");

  const Message& track = r.messages[0];
  EXPECT_EQ(track.type, MessageType::kTrack);
  EXPECT_EQ(track.event, "Order Completed");
  EXPECT_EQ(track.user_id, "user-1842");
  EXPECT_EQ(track.message_id, "node-next-1714564798120-4f5e2c1a-7b9d-4e3f-8a1b-2c3d4e5f6a7b");
  EXPECT_DOUBLE_EQ(track.revenue, 119.0);  // revenue wins over total
  EXPECT_EQ(track.channel, "");
  EXPECT_EQ(track.original_timestamp_ms, Ms("2024-05-01T11:59:58.120Z"));
  EXPECT_EQ(track.sent_at_ms, sent);  // from the envelope
  EXPECT_EQ(track.received_at_ms, kNow);
  EXPECT_EQ(track.timestamp_ms, kNow - (sent - Ms("2024-05-01T11:59:58.120Z")));
  EXPECT_THAT(track.payload, HasSubstr(R"("products":[{"sku":"A-1","price":59.5,"quantity":2}])"));
  EXPECT_EQ(track.payload.find('\n'), std::string::npos);
  EXPECT_EQ(track.payload.find("\": "), std::string::npos);

  const Message& identify = r.messages[1];
  EXPECT_EQ(identify.type, MessageType::kIdentify);
  EXPECT_EQ(identify.anonymous_id, "8a4c1f9e-3b2d-4e5f-9a8b-7c6d5e4f3a2b");
  EXPECT_EQ(identify.email, "ada@example.com");
  EXPECT_EQ(identify.phone, "+44 20 7946 0958");
  EXPECT_EQ(identify.traits_json,
            R"({"email":"ada@example.com","name":"Ada","plan":"pro","phone":"+44 20 7946 0958"})");
  EXPECT_EQ(identify.event, "");

  const Message& page = r.messages[2];
  EXPECT_EQ(page.type, MessageType::kPage);
  EXPECT_EQ(page.event, "Pricing");
  EXPECT_EQ(page.channel, "web");

  const Message& group = r.messages[3];
  EXPECT_EQ(group.type, MessageType::kGroup);
  EXPECT_EQ(group.group_id, "acme-inc");
  EXPECT_EQ(group.traits_json, R"({"name":"Acme Inc","employees":420})");
  EXPECT_EQ(group.email, "");

  const Message& alias = r.messages[4];
  EXPECT_EQ(alias.type, MessageType::kAlias);
  EXPECT_EQ(alias.previous_id, "8a4c1f9e-3b2d-4e5f-9a8b-7c6d5e4f3a2b");
  EXPECT_EQ(alias.user_id, "user-1842");
}

TEST(ParserTest, RudderBatchUsesOriginalTimestampOwnSentAtAndContextTraits) {
  ParsedRequest r = Ok(Batch(ReadTestdata("rudder_batch.json")));
  EXPECT_EQ(r.write_key, "");  // rudder sends the key only in the Authorization header
  ASSERT_EQ(r.messages.size(), 2u);
  const Message& identify = r.messages[0];
  EXPECT_EQ(identify.email, "grace@example.com");
  EXPECT_EQ(identify.original_timestamp_ms, Ms("2024-05-01T11:59:57.000Z"));
  EXPECT_EQ(identify.sent_at_ms, Ms("2024-05-01T11:59:58.000Z"));
  EXPECT_EQ(identify.timestamp_ms, kNow - 1000);
  const Message& track = r.messages[1];
  EXPECT_EQ(track.event, "Checkout Started");
  EXPECT_EQ(track.email, "grace@example.com");  // from context.traits
  EXPECT_DOUBLE_EQ(track.revenue, 49.90);       // numeric string in properties.value
  EXPECT_THAT(track.payload, HasSubstr(R"("channel":"server")"));  // top-level, not an interpreted field
  EXPECT_EQ(track.channel, "");
}

TEST(ParserTest, BrowserShortFormWithWriteKeyInside) {
  ParsedRequest r = Ok(Single(MessageType::kTrack, ReadTestdata("browser_track.json")));
  EXPECT_EQ(r.write_key, "wk_browser_test");
  ASSERT_EQ(r.messages.size(), 1u);
  const Message& m = r.messages[0];
  EXPECT_EQ(m.user_id, "");  // "userId": null is absent
  EXPECT_EQ(m.anonymous_id, "e4f5a6b7-c8d9-4e0f-a1b2-c3d4e5f6a7b8");
  EXPECT_EQ(m.event, "Plan Selected");
  EXPECT_DOUBLE_EQ(m.revenue, 19.0);
  EXPECT_EQ(m.sent_at_ms, Ms("2024-05-01T11:59:57.500Z"));
  EXPECT_EQ(m.timestamp_ms, kNow - 20);
  EXPECT_EQ(m.payload.find("writeKey"), std::string::npos);  // credentials are not stored
  EXPECT_THAT(m.payload, HasSubstr(R"("userId":null)"));
}

TEST(ParserTest, BrowserBatchMode) {
  ParsedRequest r = Ok(Batch(ReadTestdata("browser_batch.json")));
  EXPECT_EQ(r.write_key, "wk_browser_test");
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].type, MessageType::kPage);
  EXPECT_EQ(r.messages[0].event, "");  // "name": null
  EXPECT_EQ(r.messages[1].email, "ivy@example.com");
  EXPECT_EQ(r.messages[1].sent_at_ms, Ms("2024-05-01T11:59:57.600Z"));
}

// ---- Segment single messages ------------------------------------------------------------------

TEST(ParserTest, SingleMessageTypeComesFromThePath) {
  ParsedRequest r = Ok(Single(MessageType::kIdentify, R"({"userId":"u1","traits":{"email":"a@b.c"}})"));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].type, MessageType::kIdentify);
  EXPECT_EQ(r.messages[0].payload, R"({"type":"identify","userId":"u1","traits":{"email":"a@b.c"}})");
  EXPECT_EQ(r.messages[0].email, "a@b.c");

  r = Ok(Single(MessageType::kIdentify, R"({"type":"track","event":"x","userId":"u1"})"));
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].index, 0u);
  EXPECT_EQ(r.rejected[0].error, R"(type: "track" does not match the endpoint's type "identify")");

  r = Ok(Single(MessageType::kScreen, R"({"type":"screen","name":"Home","anonymousId":"a"})"));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].event, "Home");
  EXPECT_EQ(r.messages[0].channel, "mobile");
}

TEST(ParserTest, SingleMessageRejectionsHaveNoBatchPrefix) {
  ParsedRequest r = Ok(Single(MessageType::kTrack, R"({"event":"x"})"));
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].error, "missing userId and anonymousId");
  r = Ok(Single(MessageType::kTrack, R"({"event":"x","userId":"u","timestamp":"soon"})"));
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].error, R"(timestamp: not an ISO-8601 time: "soon")");
}

// ---- Envelope ---------------------------------------------------------------------------------

TEST(ParserTest, EnvelopeMerge) {
  ParsedRequest r = Ok(Batch(
      R"({"context":{"ip":"1.2.3.4","channel":"email","library":{"name":"env"}},"integrations":{"All":false},)"
      R"("batch":[)"
      R"({"type":"track","event":"a","userId":"u","context":{"library":{"name":"own"}},"integrations":{"X":true}},)"
      R"({"type":"track","event":"b","userId":"u"},)"
      R"({"type":"track","event":"c","userId":"u","context":{"channel":"sms","ip":null}}]})"));
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].payload,
            R"({"type":"track","event":"a","userId":"u","context":{"library":{"name":"own"},"ip":"1.2.3.4",)"
            R"("channel":"email"},"integrations":{"X":true,"All":false}})");
  EXPECT_EQ(r.messages[0].channel, "email");  // merged context.channel
  EXPECT_EQ(r.messages[1].payload,
            R"({"type":"track","event":"b","userId":"u","context":{"ip":"1.2.3.4","channel":"email",)"
            R"("library":{"name":"env"}},"integrations":{"All":false}})");
  EXPECT_EQ(r.messages[2].channel, "sms");
  EXPECT_THAT(r.messages[2].payload, HasSubstr(R"("context":{"channel":"sms","ip":null,"library":{"name":"env"}})"));
}

TEST(ParserTest, EnvelopeAfterBatchStillApplies) {
  // analytics-node puts writeKey and sentAt after the batch.
  ParsedRequest r = Ok(Batch(R"({"batch":[{"type":"track","event":"e","userId":"u",)"
                             R"("timestamp":"2024-05-01T11:00:00.000Z"}],"context":{"traits":{"email":"x@y.z"}},)"
                             R"("writeKey":"k","sentAt":"2024-05-01T11:00:05.000Z"})"));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.write_key, "k");
  EXPECT_EQ(r.messages[0].timestamp_ms, kNow - 5000);
  EXPECT_EQ(r.messages[0].email, "x@y.z");  // envelope context.traits
}

TEST(ParserTest, MessageWriteKeys) {
  // Without an envelope key, the messages' key is the request's; a different one is rejected.
  ParsedRequest r = Ok(Batch(R"({"batch":[{"type":"track","event":"e","userId":"u","writeKey":"k1"},)"
                             R"({"type":"track","event":"e","userId":"u","writeKey":"k2"}]})"));
  EXPECT_EQ(r.write_key, "k1");
  ASSERT_EQ(r.messages.size(), 1u);
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].error, "batch[1].writeKey: differs from the request's write key");
  // Envelope key wins; messages must agree with it.
  r = Ok(Batch(R"({"writeKey":"env","batch":[{"type":"track","event":"e","userId":"u","writeKey":"k1"}]})"));
  EXPECT_EQ(r.write_key, "env");
  EXPECT_EQ(r.rejected.size(), 1u);
}

TEST(ParserTest, EnvelopeErrorsFailTheRequest) {
  EXPECT_EQ(Error(Batch(R"({"batch":[],"sentAt":"later"})")), R"(sentAt: not an ISO-8601 time: "later")");
  EXPECT_EQ(Error(Batch(R"({"batch":[],"context":[1]})")), "context: must be an object, got array");
  EXPECT_EQ(Error(Batch(R"({"batch":[],"writeKey":5})")), "writeKey: must be a string, got number");
  EXPECT_EQ(Error(Batch(R"({"batch":{}})")), "batch must be an array, got object");
  EXPECT_THAT(Error(Batch(R"({"messages":[]})")), HasSubstr("missing batch"));
  EXPECT_EQ(Error(Batch(R"([{"type":"track"}])")), "request body must be a JSON object, got array");
  EXPECT_EQ(Error(Batch(R"("hello")")), "request body must be a JSON object, got string");
  EXPECT_THAT(Error(Batch("   ")), HasSubstr("empty"));
  EXPECT_THAT(Error(Batch("")), HasSubstr("empty"));
}

TEST(ParserTest, EmptyBatchIsFine) {
  ParsedRequest r = Ok(Batch(R"({"batch":[]})"));
  EXPECT_TRUE(r.messages.empty());
  EXPECT_TRUE(r.rejected.empty());
}

// ---- Clock skew (INGEST.md) -------------------------------------------------------------------

TEST(ParserTest, ClockSkewWorkedExamples) {
  // The device clock is 10 minutes fast: it stamped the event 11:59:00 local (= 11:49 true) and
  // sent it at 12:09:30 local; we received it at 12:00:00. The event happened 30 s before sending,
  // so timestamp = 12:00:00 - 30 s = 11:59:30.
  Message m = OneMessage(R"({"type":"track","event":"e","userId":"u","timestamp":"2024-05-01T12:09:00.000Z",)"
                         R"("sentAt":"2024-05-01T12:09:30.000Z"})");
  EXPECT_EQ(m.timestamp_ms, Ms("2024-05-01T11:59:30.000Z"));
  EXPECT_EQ(m.original_timestamp_ms, Ms("2024-05-01T12:09:00.000Z"));
  EXPECT_EQ(m.sent_at_ms, Ms("2024-05-01T12:09:30.000Z"));

  // A slow clock (2 h behind): 09:58 sent at 10:00 → 2 minutes before receipt.
  m = OneMessage(R"({"type":"track","event":"e","userId":"u","timestamp":"2024-05-01T09:58:00Z",)"
                 R"("sentAt":"2024-05-01T10:00:00Z"})");
  EXPECT_EQ(m.timestamp_ms, Ms("2024-05-01T11:58:00Z"));

  // originalTimestamp (rudder) wins over timestamp.
  m = OneMessage(R"({"type":"track","event":"e","userId":"u","timestamp":"2020-01-01T00:00:00Z",)"
                 R"("originalTimestamp":"2024-05-01T11:59:00Z","sentAt":"2024-05-01T11:59:10Z"})");
  EXPECT_EQ(m.original_timestamp_ms, Ms("2024-05-01T11:59:00Z"));
  EXPECT_EQ(m.timestamp_ms, kNow - 10000);

  // No sentAt: the original timestamp as is.
  m = OneMessage(R"({"type":"track","event":"e","userId":"u","timestamp":"2024-04-30T08:00:00Z"})");
  EXPECT_EQ(m.timestamp_ms, Ms("2024-04-30T08:00:00Z"));
  EXPECT_EQ(m.sent_at_ms, 0);

  // sentAt without an event time: receivedAt.
  m = OneMessage(R"({"type":"track","event":"e","userId":"u","sentAt":"2024-04-30T08:00:00Z"})");
  EXPECT_EQ(m.timestamp_ms, kNow);
  EXPECT_EQ(m.original_timestamp_ms, 0);

  // Nothing: receivedAt.
  m = OneMessage(R"({"type":"track","event":"e","userId":"u"})");
  EXPECT_EQ(m.timestamp_ms, kNow);
  EXPECT_EQ(m.received_at_ms, kNow);

  // The message's own sentAt wins over the envelope's.
  ParsedRequest r = Ok(Batch(R"({"sentAt":"2024-05-01T11:00:00Z","batch":[{"type":"track","event":"e","userId":"u",)"
                             R"("timestamp":"2024-05-01T11:00:00Z","sentAt":"2024-05-01T11:00:01Z"}]})"));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].timestamp_ms, kNow - 1000);
}

TEST(ParserTest, TimestampFormats) {
  struct Case {
    std::string_view text;
    std::string_view expected;
  } cases[] = {
      {R"("2024-05-01T11:00:00.123Z")", "2024-05-01T11:00:00.123Z"},
      {R"("2024-05-01T13:00:00.123+02:00")", "2024-05-01T11:00:00.123Z"},
      {R"("2024-05-01T13:00:00+0200")", "2024-05-01T11:00:00.000Z"},
      {R"("2024-05-01t11:00:00.123456z")", "2024-05-01T11:00:00.123Z"},
      {R"("2024-05-01T11:00:00Z")", "2024-05-01T11:00:00.000Z"},
      {"1714561200123", "2024-05-01T11:00:00.123Z"},  // epoch milliseconds
  };
  for (const Case& c : cases) {
    Message m = OneMessage(fmt::format(R"({{"type":"track","event":"e","userId":"u","timestamp":{}}})", c.text));
    EXPECT_EQ(m.timestamp_ms, Ms(c.expected)) << c.text;
  }
}

TEST(ParserTest, TimestampsDecadesOffAreRejected) {
  EXPECT_EQ(RejectionOf(R"({"type":"track","event":"e","userId":"u","timestamp":"1990-01-01T00:00:00Z"})"),
            "batch[0].timestamp: 1990-01-01T00:00:00.000Z is more than max_past_ms (631152000000 ms) before "
            "receivedAt 2024-05-01T12:00:00.000Z");
  EXPECT_EQ(RejectionOf(R"({"type":"track","event":"e","userId":"u","originalTimestamp":"2074-01-01T00:00:00Z"})"),
            "batch[0].originalTimestamp: 2074-01-01T00:00:00.000Z is more than max_future_ms (86400000 ms) after "
            "receivedAt 2024-05-01T12:00:00.000Z");
  // Just inside the window is fine.
  Message m = OneMessage(R"({"type":"track","event":"e","userId":"u","timestamp":"2024-05-02T11:59:59Z"})");
  EXPECT_EQ(m.timestamp_ms, Ms("2024-05-02T11:59:59Z"));
  // Historical imports take any past time.
  ParseOptions historical;
  historical.historical = true;
  ParsedRequest r = Ok(Batch(R"({"batch":[{"type":"track","event":"e","userId":"u","timestamp":"1970-01-02T00:00:00Z"}]})",
                             historical));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].timestamp_ms, 86400000);
  // A skewed sentAt makes the corrected time plausible again: the rule applies before the window.
  m = OneMessage(R"({"type":"track","event":"e","userId":"u","timestamp":"1970-01-01T00:00:10Z",)"
                 R"("sentAt":"1970-01-01T00:00:30Z"})");
  EXPECT_EQ(m.timestamp_ms, kNow - 20000);
}

TEST(ParserTest, BadTimes) {
  EXPECT_EQ(RejectionOf(R"({"type":"track","event":"e","userId":"u","timestamp":"yesterday"})"),
            R"(batch[0].timestamp: not an ISO-8601 time: "yesterday")");
  EXPECT_EQ(RejectionOf(R"({"type":"track","event":"e","userId":"u","timestamp":"2024-02-30T00:00:00Z"})"),
            R"(batch[0].timestamp: not an ISO-8601 time: "2024-02-30T00:00:00Z")");
  EXPECT_EQ(RejectionOf(R"({"type":"track","event":"e","userId":"u","sentAt":{}})"),
            "batch[0].sentAt: must be an ISO-8601 string or epoch milliseconds, got object");
  EXPECT_EQ(RejectionOf(R"({"type":"track","event":"e","userId":"u","timestamp":1e300})"),
            "batch[0].timestamp: epoch milliseconds 1e300 out of range (years 0000..9999)");
  // null is absent.
  Message m = OneMessage(R"({"type":"track","event":"e","userId":"u","timestamp":null})");
  EXPECT_EQ(m.timestamp_ms, kNow);
}

// ---- Per-message rejections -------------------------------------------------------------------

TEST(ParserTest, RejectionsCarryIndexAndReasonAndKeepTheValidMessages) {
  ParsedRequest r = Ok(Batch(
      R"({"batch":[)"
      R"({"type":"track","event":"ok0","userId":"u"},)"
      R"({"type":"foo","userId":"u"},)"
      R"({"type":"track","event":"x"},)"
      R"({"type":"track","event":"ok3","anonymousId":"a"},)"
      R"({"type":"track","event":"","userId":"u"},)"
      R"({"type":"track","event":"e","userId":"u","timestamp":"yesterday"},)"
      R"("not an object",)"
      R"({"type":"alias","userId":"u"},)"
      R"({"type":"group","userId":"u"},)"
      R"({"event":"e","userId":"u"},)"
      R"({"type":"track","event":"e","userId":"u","properties":[1,2]},)"
      R"({"type":"track","event":7,"userId":"u"},)"
      R"({"type":"track","event":"e","userId":{"id":1}},)"
      R"({"type":"identify","userId":"u","traits":"vip"},)"
      R"({"type":"track","event":"e","userId":"u","context":{"traits":[]}},)"
      R"({"type":"alias","previousId":"p"},)"
      R"({"type":"track","userId":"u"})"
      R"(]})"));
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].event, "ok0");
  EXPECT_EQ(r.messages[1].event, "ok3");
  std::vector<std::pair<size_t, std::string>> got;
  for (const Rejection& rej : r.rejected) got.emplace_back(rej.index, rej.error);
  EXPECT_THAT(got, ::testing::ElementsAre(
                       std::pair<size_t, std::string>{1, R"(batch[1].type: unknown type "foo")"},
                       std::pair<size_t, std::string>{2, "batch[2]: missing userId and anonymousId"},
                       std::pair<size_t, std::string>{4, "batch[4].event: track needs a non-empty event name"},
                       std::pair<size_t, std::string>{5, R"(batch[5].timestamp: not an ISO-8601 time: "yesterday")"},
                       std::pair<size_t, std::string>{6, "batch[6]: message must be an object, got string"},
                       std::pair<size_t, std::string>{7, "batch[7]: alias needs previousId"},
                       std::pair<size_t, std::string>{8, "batch[8]: group needs groupId"},
                       std::pair<size_t, std::string>{9, "batch[9]: missing type"},
                       std::pair<size_t, std::string>{10, "batch[10].properties: must be an object, got array"},
                       std::pair<size_t, std::string>{11, "batch[11].event: must be a string, got number"},
                       std::pair<size_t, std::string>{12, "batch[12].userId: must be a string or number, got object"},
                       std::pair<size_t, std::string>{13, "batch[13].traits: must be an object, got string"},
                       std::pair<size_t, std::string>{14, "batch[14].context.traits: must be an object, got array"},
                       std::pair<size_t, std::string>{15, "batch[15]: alias needs userId"},
                       std::pair<size_t, std::string>{16, "batch[16].event: track needs an event name"}));
}

// ---- JSON Lines (`cairn import`) ----------------------------------------------------------

TEST(ParserTest, JsonLinesGiveTheMessagesABatchOfTheSameLinesGives) {
  const std::vector<std::string> lines = {
      R"({"type":"identify","userId":"u1","traits":{"email":"A@x.io","plan":"pro"},"timestamp":"2024-04-01T10:00:00Z"})",
      R"({"type":"track","event":"Order Completed","anonymousId":"a1","properties":{"revenue":"12.50","channel":"store"},"messageId":"m-2","timestamp":1711965600123})",
      R"({"type":"page","name":"Home","userId":"u1","context":{"traits":{"phone":"+4412"}}})",
      R"({"type":"alias","userId":"u1","previousId":"a1","sentAt":"2024-05-01T11:59:00Z","originalTimestamp":"2024-05-01T11:58:00Z"})"};
  std::string batch = "{\"batch\":[", jsonl;
  for (size_t i = 0; i < lines.size(); ++i) {
    batch += (i ? "," : "") + lines[i];
    jsonl += lines[i] + (i + 1 < lines.size() ? "\n" : "");  // the last line without its newline
  }
  batch += "]}";
  ParsedRequest want = Ok(Batch(batch));
  ParsedRequest got = Ok(Lines(jsonl));
  ASSERT_EQ(want.messages.size(), lines.size());
  ASSERT_EQ(got.messages.size(), lines.size());
  EXPECT_TRUE(got.rejected.empty());
  for (size_t i = 0; i < lines.size(); ++i) {
    const Message &w = want.messages[i], &g = got.messages[i];
    EXPECT_EQ(g.type, w.type) << i;
    EXPECT_EQ(g.user_id, w.user_id) << i;
    EXPECT_EQ(g.anonymous_id, w.anonymous_id) << i;
    EXPECT_EQ(g.previous_id, w.previous_id) << i;
    EXPECT_EQ(g.event, w.event) << i;
    EXPECT_EQ(g.channel, w.channel) << i;
    EXPECT_EQ(g.message_id, w.message_id) << i;
    EXPECT_EQ(g.email, w.email) << i;
    EXPECT_EQ(g.phone, w.phone) << i;
    EXPECT_EQ(g.traits_json, w.traits_json) << i;
    EXPECT_EQ(g.timestamp_ms, w.timestamp_ms) << i;
    EXPECT_EQ(g.revenue, w.revenue) << i;
    EXPECT_EQ(g.payload, w.payload) << i;
  }
  EXPECT_EQ(got.messages[1].revenue, 12.5);
  EXPECT_EQ(got.messages[3].timestamp_ms, kNow - 60000);  // the clock-skew rule per line
}

TEST(ParserTest, JsonLinesJudgeEachLineOnItsOwn) {
  ParsedRequest r = Ok(Lines(
      "{\"type\":\"track\",\"event\":\"ok0\",\"userId\":\"u\"}\r\n"  // CRLF
      "{\"type\":\"track\",\"event\":\"e\",\"userId\":\"u\",\"properties\":{\"a\":[1,}}\n"
      "\n"
      "[1,2]\n"
      "{\"type\":\"track\",\"event\":\"e\",\"userId\":\"u\"} {\"x\":1}\n"
      "{\"type\":\"track\",\"event\":\"e\"}\n"
      "{\"type\":\"track\",\"event\":\"e\",\"userId\":\"u\xff\"}\n"
      "{\"type\":\"track\",\"event\":\"e\",\"userId\":\"u\"\n"
      "  {\"type\":\"track\",\"event\":\"ok8\",\"userId\":\"u\"}  \n"));
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].event, "ok0");
  EXPECT_EQ(r.messages[1].event, "ok8");
  std::vector<std::pair<size_t, std::string>> got;
  for (const Rejection& rej : r.rejected) got.emplace_back(rej.index, rej.error);
  ASSERT_EQ(got.size(), 7u);
  EXPECT_EQ(got[0].first, 1u);
  EXPECT_THAT(got[0].second, HasSubstr("malformed JSON at byte 62 (properties.a[1])"));
  EXPECT_EQ(got[1], (std::pair<size_t, std::string>{2, "a line is empty (expected a JSON object)"}));
  EXPECT_EQ(got[2], (std::pair<size_t, std::string>{3, "a line must be a JSON object, got array"}));
  EXPECT_EQ(got[3], (std::pair<size_t, std::string>{4, "malformed JSON at byte 42: content after the object"}));
  EXPECT_EQ(got[4], (std::pair<size_t, std::string>{5, "missing userId and anonymousId"}));
  EXPECT_EQ(got[5], (std::pair<size_t, std::string>{6, "a line is not valid UTF-8 at byte 39"}));
  EXPECT_EQ(got[6], (std::pair<size_t, std::string>{7, "malformed JSON at byte 0: the top-level object is not closed or is followed by more content"}));
}

TEST(ParserTest, JsonLinesOverTheMessageLimitFailTheRequest) {
  ParseOptions o;
  o.max_batch_messages = 2;
  std::string line = R"({"type":"track","event":"e","userId":"u"})";
  EXPECT_EQ(Ok(Lines(line + "\n" + line + "\n", o)).messages.size(), 2u);
  EXPECT_EQ(Error(Lines(line + "\n" + line + "\n" + line, o)), "3 lines, over the limit of 2 (max_batch_messages)");
}

TEST(ParserTest, NumericIdsBecomeStrings) {
  Message m = OneMessage(R"({"type":"identify","userId":12345,"anonymousId":-7.5,"messageId":99})");
  EXPECT_EQ(m.user_id, "12345");
  EXPECT_EQ(m.anonymous_id, "-7.5");
  EXPECT_EQ(m.message_id, "99");
  m = OneMessage(R"({"type":"track","event":"e","userId":"","anonymousId":"a"})");
  EXPECT_EQ(m.user_id, "");
}

TEST(ParserTest, TypeIsCaseInsensitive) {
  Message m = OneMessage(R"({"type":"Track","event":"e","userId":"u"})");
  EXPECT_EQ(m.type, MessageType::kTrack);
}

// ---- Derived columns --------------------------------------------------------------------------

TEST(ParserTest, ChannelPrecedence) {
  EXPECT_EQ(OneMessage(R"({"type":"track","event":"e","userId":"u","properties":{"channel":"email"},)"
                       R"("context":{"channel":"sms"}})")
                .channel,
            "email");
  EXPECT_EQ(OneMessage(R"({"type":"track","event":"e","userId":"u","context":{"channel":"sms"}})").channel, "sms");
  EXPECT_EQ(OneMessage(R"({"type":"page","userId":"u"})").channel, "web");
  EXPECT_EQ(OneMessage(R"({"type":"screen","userId":"u"})").channel, "mobile");
  EXPECT_EQ(OneMessage(R"({"type":"identify","userId":"u"})").channel, "");
  EXPECT_EQ(RejectionOf(R"({"type":"track","event":"e","userId":"u","properties":{"channel":3}})"),
            "batch[0].properties.channel: must be a string, got number");
}

TEST(ParserTest, RevenuePrecedenceAndForms) {
  auto revenue = [](std::string_view props) {
    return OneMessage(fmt::format(R"({{"type":"track","event":"e","userId":"u","properties":{}}})", props)).revenue;
  };
  EXPECT_DOUBLE_EQ(revenue(R"({"value":1,"total":2,"revenue":3})"), 3);
  EXPECT_DOUBLE_EQ(revenue(R"({"value":1,"total":2})"), 2);
  EXPECT_DOUBLE_EQ(revenue(R"({"value":1})"), 1);
  EXPECT_DOUBLE_EQ(revenue(R"({"revenue":"12.50"})"), 12.5);
  EXPECT_DOUBLE_EQ(revenue(R"({"revenue":"n/a","total":4})"), 4);  // not numeric: next candidate
  EXPECT_DOUBLE_EQ(revenue(R"({"revenue":true})"), 0);
  EXPECT_DOUBLE_EQ(revenue(R"({"nested":{"revenue":9}})"), 0);  // only top-level properties
  EXPECT_DOUBLE_EQ(revenue("{}"), 0);
}

TEST(ParserTest, IdentityFromTraitsAndContextTraits) {
  Message m = OneMessage(R"({"type":"identify","userId":"u","traits":{"email":"own@x.y"},)"
                         R"("context":{"traits":{"email":"ctx@x.y","phone":5551234}}})");
  EXPECT_EQ(m.email, "own@x.y");
  EXPECT_EQ(m.phone, "5551234");
  // Non-identify: only context.traits (a group's traits describe the group).
  m = OneMessage(R"({"type":"group","userId":"u","groupId":"g","traits":{"email":"billing@acme"}})");
  EXPECT_EQ(m.email, "");
  // identify without traits: traits_json falls back to context.traits.
  m = OneMessage(R"({"type":"identify","userId":"u","context":{"traits":{"name":"A"}}})");
  EXPECT_EQ(m.traits_json, R"({"name":"A"})");
  // Track has no traits_json.
  m = OneMessage(R"({"type":"track","event":"e","userId":"u","traits":{"a":1}})");
  EXPECT_EQ(m.traits_json, "");
}

TEST(ParserTest, DeterministicMessageIdWhenAbsent) {
  const std::string body = R"({"batch":[{"type":"track","event":"e","userId":"u"},{"type":"track","event":"f","userId":"u"}]})";
  ParsedRequest a = Ok(Batch(body));
  ParsedRequest b = Ok(Batch(body));
  ASSERT_EQ(a.messages.size(), 2u);
  EXPECT_THAT(a.messages[0].message_id, ::testing::MatchesRegex("h-[0-9a-f]{16}"));
  EXPECT_EQ(a.messages[0].message_id, b.messages[0].message_id);
  EXPECT_NE(a.messages[0].message_id, a.messages[1].message_id);
}

// ---- Payload ----------------------------------------------------------------------------------

TEST(ParserTest, PayloadIsMinifiedAndLossless) {
  Message m = OneMessage(
      "{ \"type\" : \"track\" ,\n \"event\":\"caf\\u00e9 \\\"q\\\" \\/\",\t\"userId\":\"u\",\r\n"
      " \"properties\": { \"price\": 1.50, \"big\": 123456789012345678901234567890, \"exp\": 1E+5,"
      " \"neg\": -0, \"list\": [ true, false, null, [ ], { } ], \"emoji\": \"\\ud83d\\ude00 \xF0\x9F\x98\x80\" } }");
  EXPECT_EQ(m.payload,
            "{\"type\":\"track\",\"event\":\"caf\\u00e9 \\\"q\\\" \\/\",\"userId\":\"u\",\"properties\":{\"price\":1.50,"
            "\"big\":123456789012345678901234567890,\"exp\":1E+5,\"neg\":-0,\"list\":[true,false,null,[],{}],"
            "\"emoji\":\"\\ud83d\\ude00 \xF0\x9F\x98\x80\"}}");
  EXPECT_EQ(m.event, "caf\xC3\xA9 \"q\" /");
}

TEST(ParserTest, UnknownAndDuplicateKeysAreKept) {
  Message m = OneMessage(R"({"type":"track","event":"e","userId":"u","_metadata":{"a":[1]},"x":1,"x":2})");
  EXPECT_EQ(m.payload, R"({"type":"track","event":"e","userId":"u","_metadata":{"a":[1]},"x":1,"x":2})");
}

// ---- Malformed bodies -------------------------------------------------------------------------

TEST(ParserTest, MalformedJsonSaysWhatAndWhere) {
  // A trailing comma inside the third message's properties.
  std::string body = R"({"batch":[{"type":"track","event":"e","userId":"u"},{"type":"track","event":"e","userId":"u"},)"
                     R"({"type":"track","event":"e","userId":"u","properties":{"a":1,}}]})";
  std::string e = Error(Batch(body));
  EXPECT_THAT(e, HasSubstr("malformed JSON at byte "));
  EXPECT_THAT(e, HasSubstr("(batch[2].properties"));
  size_t at = std::stoul(e.substr(e.find("byte ") + 5));
  EXPECT_GE(at, body.find("\"a\":1,}"));
  EXPECT_LE(at, body.size());

  body = R"({"batch":[{"type":"track","event":"e","userId":"u","properties":{"n":01}}]})";
  EXPECT_EQ(Error(Batch(body)), fmt::format(R"(malformed JSON at byte {} (batch[0].properties.n): invalid number "01")",
                                            body.find("01")));
  body = R"({"batch":[{"type":"track","event":"e","userId":"u","properties":{"n":tru}}]})";
  EXPECT_EQ(Error(Batch(body)), fmt::format(R"(malformed JSON at byte {} (batch[0].properties.n): invalid boolean "tru")",
                                            body.find("tru")));
  e = Error(Batch(R"({"batch":[{"type":"track","event":"bad \x escape","userId":"u"}]})"));
  EXPECT_THAT(e, HasSubstr("(batch[0].event): invalid string"));
  e = Error(Batch(R"({"batch":[{"type":"track","event":"e","userId":"u"}]} trailing)"));
  EXPECT_THAT(e, HasSubstr("the top-level object is not closed or is followed by more content"));
  e = Error(Batch(R"({"batch":[{"type":"track","event":"e","userId":"u"})"));
  EXPECT_THAT(e, HasSubstr("malformed JSON"));
  e = Error(Batch(R"({"batch":[{"type":"track","event":"e","userId":"u}]})"));
  EXPECT_THAT(e, HasSubstr("not closed"));
  e = Error(Single(MessageType::kTrack, R"({"event":"e" "userId":"u"})"));
  EXPECT_THAT(e, HasSubstr("malformed JSON at byte"));
  e = Error(Batch("{\"batch\":[{\"type\":\"track\",\"event\":\"a\tb\",\"userId\":\"u\"}]}"));
  EXPECT_THAT(e, HasSubstr("control character"));
}

TEST(ParserTest, InvalidUtf8NamesTheByte) {
  std::string body = "{\"batch\":[{\"type\":\"track\",\"event\":\"caf\xC3\",\"userId\":\"u\"}]}";
  EXPECT_EQ(Error(Batch(body)), fmt::format("request body is not valid UTF-8 at byte {}", body.find('\xC3')));
  body = "{\"batch\":[],\"x\":\"\xED\xA0\x80\"}";  // an encoded surrogate
  EXPECT_EQ(Error(Batch(body)), fmt::format("request body is not valid UTF-8 at byte {}", body.find('\xED')));
}

TEST(ParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string body = R"({"batch":[{"type":"track","event":"e","userId":"u","properties":{"x":)" + deep + "}}]}";
  EXPECT_THAT(Error(Batch(body)), HasSubstr("nested deeper than"));
  std::string ok_depth = R"({"batch":[{"type":"track","event":"e","userId":"u","properties":{"x":)" +
                         std::string(100, '[') + std::string(100, ']') + "}}]}";
  EXPECT_EQ(Ok(Batch(ok_depth)).messages.size(), 1u);
}

// ---- Sizes ------------------------------------------------------------------------------------

TEST(ParserTest, MessageSizeLimit) {
  ParseOptions o;
  o.max_message_bytes = 200;
  std::string pad(150, 'x');
  std::string big = fmt::format(R"({{"type":"track","event":"e","userId":"u","properties":{{"p":"{}"}}}})", pad);
  std::string small = R"({"type":"track","event":"e","userId":"u"})";
  ParsedRequest r = Ok(Batch(fmt::format(R"({{"batch":[{},{}]}})", small, big), o));
  ASSERT_EQ(r.messages.size(), 1u);
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].error, fmt::format("batch[1]: message is {} bytes, over the 200-byte limit", big.size()));
  // Whitespace does not count; exactly at the limit is accepted.
  o.max_message_bytes = big.size();
  std::string spaced = big;
  spaced.insert(1, 500, ' ');
  EXPECT_EQ(Ok(Batch(fmt::format(R"({{"batch":[{}]}})", spaced), o)).messages.size(), 1u);
}

TEST(ParserTest, DefaultLimitsAcceptRealClientSizes) {
  // 40 KB messages and ~650 KB requests are what clients really send.
  std::string pad(40000, 'y');
  std::string msg = fmt::format(R"({{"type":"track","event":"e","userId":"u","properties":{{"p":"{}"}}}})", pad);
  std::string body = R"({"batch":[)";
  for (int i = 0; i < 16; ++i) body += (i ? "," : "") + msg;
  body += "]}";
  ASSERT_GT(body.size(), 640000u);
  ParsedRequest r = Ok(Batch(body));
  EXPECT_EQ(r.messages.size(), 16u);
  // Over 64 KiB is rejected with the default.
  std::string huge = fmt::format(R"({{"type":"track","event":"e","userId":"u","properties":{{"p":"{}"}}}})",
                                 std::string(70000, 'z'));
  EXPECT_THAT(RejectionOf(huge), HasSubstr("over the 65536-byte limit"));
}

TEST(ParserTest, BatchMessageCountLimit) {
  auto body = [](int n) {
    std::string b = R"({"batch":[)";
    for (int i = 0; i < n; ++i) b += std::string(i ? "," : "") + R"({"type":"track","event":"e","userId":"u"})";
    return b + "]}";
  };
  EXPECT_EQ(Ok(Batch(body(2500))).messages.size(), 2500u);
  EXPECT_EQ(Error(Batch(body(2501))), "batch has 2501 messages, over the limit of 2500 (max_batch_messages)");
  ParseOptions o;
  o.max_batch_messages = 10000;
  EXPECT_EQ(Ok(Batch(body(10000), o)).messages.size(), 10000u);
  o.max_batch_messages = 10001;
  EXPECT_THAT(Error(Batch(body(1), o)), HasSubstr("max_batch_messages must be in 1..10000"));
}

TEST(ParserTest, ParserObjectsAreReusable) {
  Parser parser;
  ParseOptions o;
  for (int i = 0; i < 3; ++i) {
    auto bad = parser.Parse(o, Dialect::kSegmentBatch, MessageType::kTrack, R"({"batch":[{]})", kNow);
    EXPECT_FALSE(bad.ok());
    auto good = parser.Parse(o, Dialect::kSegmentBatch, MessageType::kTrack,
                             R"({"batch":[{"type":"track","event":"e","userId":"u"}]})", kNow);
    ASSERT_TRUE(good.ok());
    EXPECT_EQ(good->messages.size(), 1u);
  }
  // A big body releases the thread's buffers afterwards and parsing still works.
  std::string big = R"({"batch":[],"pad":")" + std::string(5 << 20, 'p') + "\"}";
  EXPECT_TRUE(parser.Parse(o, Dialect::kSegmentBatch, MessageType::kTrack, big, kNow).ok());
  EXPECT_TRUE(parser.Parse(o, Dialect::kSegmentBatch, MessageType::kTrack, R"({"batch":[]})", kNow).ok());
}

}  // namespace
}  // namespace cairn::ingest
