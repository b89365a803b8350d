// The parser's fast path (segment_fast_path.cc) against its general walk: for every input, both
// must give the same outcome — status, write key, every Message field byte for byte, every
// rejection. The inputs cover what the fast path takes (minified, no escapes) and each reason it
// hands a message back (escapes, whitespace, numbers as ids, traits objects, merges, bad types).

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "ingest/parser.h"
#include "ingest/parser_internal.h"

namespace cairn::ingest {
namespace {

using store::MessageType;

constexpr int64_t kNow = 1714564800000;  // 2024-05-01T12:00:00.000Z

std::string Describe(const Result<ParsedRequest>& r) {
  if (!r.ok()) return "error: " + r.status().ToString();
  std::string out = fmt::format("write_key={}\n", r->write_key);
  for (const Message& m : r->messages) {
    out += fmt::format(
        "type={} user={} anon={} prev={} group={} event={} channel={} id={} email={} phone={} traits={} "
        "revenue={:a} ts={} ots={} sent={} recv={}\npayload={}\n",
        static_cast<int>(m.type), m.user_id, m.anonymous_id, m.previous_id, m.group_id, m.event, m.channel,
        m.message_id, m.email, m.phone, m.traits_json, m.revenue, m.timestamp_ms, m.original_timestamp_ms,
        m.sent_at_ms, m.received_at_ms, m.payload);
  }
  for (const Rejection& j : r->rejected) out += fmt::format("rejected {}: {}\n", j.index, j.error);
  return out;
}

// Parses `body` with and without the fast path and expects the same outcome; returns it.
std::string Same(Dialect dialect, MessageType single, const std::string& body, const ParseOptions& o = {}) {
  Parser fast, general;
  general.SetFastPathForTesting(false);
  std::string a = Describe(fast.Parse(o, dialect, single, body, kNow));
  std::string b = Describe(general.Parse(o, dialect, single, body, kNow));
  EXPECT_EQ(a, b) << "body: " << body;
  return a;
}

// Message texts, each a batch item / JSON line.
const std::vector<std::string>& Messages() {
  static const std::vector<std::string> m = {
      R"({"type":"track","event":"Order Completed","userId":"u1","messageId":"m1","timestamp":"2024-05-01T11:59:00.000Z","properties":{"revenue":12.5,"total":"7","value":3,"channel":"email","coupon":null,"items":[{"id":1},{"id":2.50}]},"context":{"library":{"name":"x","version":"1.0"},"channel":"sms"},"integrations":{}})",
      R"({"type":"track","event":"A","anonymousId":"a1","properties":{"total":" +4.5 ","value":"abc"}})",
      R"({"type":"track","event":"A","anonymousId":"a1","properties":{"revenue":-0}})",
      R"({"type":"track","event":"A","anonymousId":"a1","properties":{"revenue":0,"total":5}})",
      R"({"type":"track","event":"A","anonymousId":"a1","properties":{"value":12345678901234567890,"total":-5,"revenue":1e3}})",
      R"({"type":"track","event":"A","anonymousId":"a1","properties":{"value":123456789012345678901234567890}})",
      R"({"type":"track","event":"A","anonymousId":"a1","properties":{"revenue":true,"total":[1],"channel":null}})",
      R"({"type":"track","event":"A","anonymousId":"a1","properties":{"channel":5}})",
      R"({"type":"track","event":"A","anonymousId":"a1","properties":[1]})",
      R"({"type":"track","event":"A","anonymousId":"a1","properties":null,"context":null,"integrations":null,"traits":null})",
      R"({"type":"track","event":"A","anonymousId":"a1","context":"web"})",
      R"({"type":"track","event":"A","anonymousId":"a1","context":{"channel":["x"]}})",
      R"({"type":"track","event":"A","anonymousId":"a1","context":{"traits":{"email":"e@x.com","phone":5551234}}})",
      R"({"type":"track","event":"A","anonymousId":"a1","context":{"traits":null,"channel":null}})",
      R"({"type":"track","event":"A","anonymousId":"a1","integrations":"all"})",
      R"({"type":"track","event":"","anonymousId":"a1"})",
      R"({"type":"track","anonymousId":"a1"})",
      R"({"type":"track","event":null,"anonymousId":"a1"})",
      R"({"type":"track","event":7,"anonymousId":"a1"})",
      R"({"type":"TRACK","event":"A","userId":42,"anonymousId":null})",
      R"({"type":"track","event":"A","userId":"","anonymousId":""})",
      R"({"type":"track","event":"A","userId":true})",
      R"({"type":"track","event":"A","userId":"a","userId":null,"anonymousId":"b","anonymousId":"c"})",
      R"({"type":"launch","event":"A","userId":"u"})",
      R"({"type":null,"event":"A","userId":"u"})",
      R"({"type":3,"event":"A","userId":"u"})",
      R"({"event":"A","userId":"u"})",
      R"({"type":"track","event":"A","userId":"u","writeKey":"wk"})",
      R"({"type":"track","event":"A","userId":"u","timestamp":"yesterday"})",
      R"({"type":"track","event":"A","userId":"u","timestamp":1714564700000})",
      R"({"type":"track","event":"A","userId":"u","timestamp":null,"originalTimestamp":"2024-05-01T11:00:00Z","sentAt":"2024-05-01T11:59:59.000Z"})",
      R"({"type":"track","event":"A","userId":"u","timestamp":"2034-05-01T11:00:00Z"})",
      R"({"type":"track","event":"A","userId":"u","timestamp":"1990-05-01T11:00:00Z"})",
      R"({"type":"track","event":"A","userId":"u","sentAt":{}})",
      R"({"type":"track","event":"Caf\u00e9","userId":"u\"1","properties":{"note":"a\\b","k\u0065y":1}})",
      R"({"type":"track","event":"Café ☕","userId":"ü","properties":{"emoji":"😀"}})",
      R"({ "type": "track", "event": "A", "userId": "u" })",
      R"({"type":"track","event":"A","userId":"u","properties":{"a": 1}})",
      R"({"type":"page","name":"Home","anonymousId":"a1","properties":{"url":"https://x.example/"}})",
      R"({"type":"page","anonymousId":"a1","name":null})",
      R"({"type":"page","anonymousId":"a1","name":["Home"]})",
      R"({"type":"screen","name":"Main","userId":"u","context":{"channel":"kiosk"}})",
      R"({"type":"identify","userId":"u","traits":{"email":"e@x.com","phone":"555","plan":"pro"}})",
      R"({"type":"identify","userId":"u","context":{"traits":{"email":"c@x.com"}}})",
      R"({"type":"identify","userId":"u","traits":null,"context":{"traits":{"email":"c@x.com"}}})",
      R"({"type":"identify","userId":"u"})",
      R"({"type":"group","userId":"u","groupId":"g1","traits":{"name":"Acme"}})",
      R"({"type":"group","userId":"u","groupId":77})",
      R"({"type":"group","userId":"u"})",
      R"({"type":"alias","userId":"u","previousId":"p"})",
      R"({"type":"alias","previousId":"p"})",
      R"({"type":"alias","userId":"u"})",
      R"({"type":"alias"})",
      R"({})",
      R"({"type":"track","event":"A","userId":"u","deep":)" + std::string(70, '[') + std::string(70, ']') + "}",
      R"({"type":"track","event":"A","userId":"u","x":tru})",
      R"({"type":"track","event":"A","userId":"u","x":01})",
      R"({"type":"track","event":"A","userId":"u","x":"a)" "\x01" R"("})",
      R"({"type":"track","event":"A","userId":"u","x":"\ud800"})",
      R"({"type":"track","event":"A","userId":"u"} )",
      R"({"type":"track","event":"A","userId":"u"}x)",
      R"([1,2])",
      R"("text")",
      R"(null)",
  };
  return m;
}

TEST(ParserFastPathTest, JsonLinesSameAsGeneralWalk) {
  for (const std::string& m : Messages()) Same(Dialect::kJsonLines, MessageType::kTrack, m);
  std::string all;
  for (const std::string& m : Messages()) all += m + "\n";
  Same(Dialect::kJsonLines, MessageType::kTrack, all);
  ParseOptions small;
  small.max_message_bytes = 80;
  small.historical = true;
  Same(Dialect::kJsonLines, MessageType::kTrack, all, small);
}

TEST(ParserFastPathTest, BatchesSameAsGeneralWalk) {
  const std::vector<std::string> envelopes = {
      "",
      R"(,"sentAt":"2024-05-01T12:00:30.000Z","writeKey":"wk")",
      R"(,"context":{"channel":"email","traits":{"email":"env@x.com","phone":"1"},"ip":"1.2.3.4"})",
      R"(,"integrations":{"All":false},"context":null)",
      R"(,"context":{"library":{"name":"n"}},"integrations":{"X":true},"sentAt":1714564830000)",
      // Envelopes the fast pass 1 (FastEnvelope) reads itself, and each it hands back.
      R"(,"sentAt":null,"writeKey":null,"context":null,"integrations":null,"meta":{"a":[1,{"b":null}]})",
      R"(,"sentAt":"2024-05-01T12:00:30.000Z","sentAt":null,"writeKey":"wk","writeKey":"wk2")",
      R"(,"sentAt":"2024-05-01T12:00:30.000Z","context":{"channel":"email"},"context":null)",
      R"(,"sentAt":"soon")",
      R"(,"sentAt":true)",
      R"(,"writeKey":7)",
      R"(,"writeKey":"")",
      R"(,"context":"web")",
      R"(,"integrations":[])",
      R"(,"batch":{})",
      R"(,"batch":[1,2,3,4])",
  };
  for (const std::string& env : envelopes) {
    for (const std::string& m : Messages()) {
      Same(Dialect::kSegmentBatch, MessageType::kTrack, "{\"batch\":[" + m + "]" + env + "}");
      Same(Dialect::kSegmentSingle, MessageType::kTrack, m);
      Same(Dialect::kSegmentSingle, MessageType::kIdentify, m);
    }
    std::string batch = "{\"batch\":[\n";
    for (size_t i = 0; i < Messages().size(); ++i) batch += (i ? ",\n" : "") + Messages()[i];
    Same(Dialect::kSegmentBatch, MessageType::kTrack, batch + "\n]" + env + "}");
    Same(Dialect::kSegmentBatch, MessageType::kTrack, "{" + env.substr(env.empty() ? 0 : 1) + (env.empty() ? "" : ",") + "\"batch\":[" + Messages()[0] + "," + Messages()[1] + "]}");
  }
  Same(Dialect::kSegmentBatch, MessageType::kTrack, R"({"batch":[1,"x",null,{"type":"track","event":"A","userId":"u"}]})");
  Same(Dialect::kSegmentBatch, MessageType::kTrack, R"({"batch":[{"type":"track","event":"A","userId":"u"}],"batch":[{"type":"track","event":"B","userId":"u"}]})");
  ParseOptions small;
  small.max_message_bytes = 60;
  small.max_batch_messages = 3;
  Same(Dialect::kSegmentBatch, MessageType::kTrack, R"({"batch":[{"type":"track","event":"A","userId":"u"},{"type":"track","event":"Checkout Started","userId":"u","properties":{"x":1}}]})", small);
  // Over max_batch_messages in a `batch` after the first, with the envelope after it.
  Same(Dialect::kSegmentBatch, MessageType::kTrack, R"({"batch":[{"type":"track","event":"A","userId":"u"}],"batch":[1,2,3,4],"sentAt":"2024-05-01T12:00:30.000Z"})", small);
  Same(Dialect::kSegmentBatch, MessageType::kTrack, R"({"batch":[{"type":"track","event":"A","userId":"u"}],"sentAt":"2024-05-01T12:00:30.000Z"})", small);
}

TEST(ParserFastPathTest, SampleBodiesSameAsGeneralWalk) {
  for (const char* name : {"analytics_node_batch.json", "browser_batch.json", "rudder_batch.json"}) {
    std::ifstream in(std::string(CAIRN_INGEST_TESTDATA) + "/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    ASSERT_FALSE(ss.str().empty()) << name;
    std::string out = Same(Dialect::kSegmentBatch, MessageType::kTrack, ss.str());
    EXPECT_EQ(out.find("error:"), std::string::npos) << name << ": " << out;
  }
  std::ifstream in(std::string(CAIRN_INGEST_TESTDATA) + "/browser_track.json");
  std::stringstream ss;
  ss << in.rdbuf();
  Same(Dialect::kSegmentSingle, MessageType::kTrack, ss.str());
}

// The payload is the message's own text, byte for byte, when it qualifies: numbers keep their
// spelling and non-ASCII text is not re-encoded.
TEST(ParserFastPathTest, PayloadIsTheMessageText) {
  const std::string line =
      R"({"type":"track","event":"Café","userId":"u","properties":{"price":1.50,"n":1E3,"big":123456789012345678901234567890}})";
  Parser parser;
  auto r = parser.Parse({}, Dialect::kJsonLines, MessageType::kTrack, line, kNow);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->messages.size(), 1u);
  EXPECT_EQ(r->messages[0].payload, line);
  EXPECT_EQ(r->messages[0].event, "Café");
}

// A payload is held until its memtable is flushed: it is allocated at its final size, whatever
// the envelope merges into it (slack would be memory held per interaction). The only slack
// allowed is a single message's inserted "type" sized for the longest name ("identify").
TEST(ParserFastPathTest, PayloadAllocatedAtItsSize) {
  const std::string m = R"({"event":"A","userId":"u","messageId":"m1","properties":{"x":"0123456789abcdefghijklmnopqrstuvwxyz"}})";
  const std::string typed = R"({"type":"track",)" + m.substr(1);
  struct Case {
    Dialect dialect;
    MessageType single;
    std::string body;
    size_t slack;
  };
  const std::vector<Case> cases = {
      {Dialect::kJsonLines, MessageType::kTrack, typed, 0},
      {Dialect::kSegmentBatch, MessageType::kTrack, "{\"batch\":[" + typed + "]}", 0},
      {Dialect::kSegmentBatch, MessageType::kTrack,
       "{\"batch\":[" + typed + R"(],"context":{"ip":"1.2.3.4"},"integrations":{"All":false}})", 0},
      {Dialect::kSegmentSingle, MessageType::kIdentify, m, 0},
      {Dialect::kSegmentSingle, MessageType::kTrack, m, std::string_view("identify").size() - std::string_view("track").size()},
  };
  for (const Case& c : cases) {
    Parser parser;
    auto r = parser.Parse({}, c.dialect, c.single, c.body, kNow);
    ASSERT_TRUE(r.ok()) << c.body;
    ASSERT_EQ(r->messages.size(), 1u) << c.body;
    const std::string& payload = r->messages[0].payload;
    EXPECT_LE(payload.capacity(), payload.size() + c.slack) << c.body << " -> " << payload;
  }
}

// Bodies a little larger each time (as request bodies come) do not regrow the body copy and the
// JSON parsers at each new largest one: each grows to a power of two, so once here (three of them).
TEST(ParserFastPathTest, BuffersGrowByPowersOfTwo) {
  const std::string m = R"({"type":"track","event":"A","userId":"u","properties":{"x":"0123456789abcdefghijklmnopqrstuvwxyz"}})";
  ParseOptions options;
  options.max_batch_messages = ParseOptions::kMaxBatchMessages;
  Parser::Impl parser;
  std::string body = "{\"batch\":[" + m;
  for (int i = 0; i < 100; ++i) {
    while (body.size() < 300000 + 200 * static_cast<size_t>(i)) body += "," + m;
    auto r = parser.Parse(options, Dialect::kSegmentBatch, MessageType::kTrack, body + "]}", kNow);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->rejected.empty());
  }
  EXPECT_EQ(parser.growths_, 3u);
}

}  // namespace
}  // namespace cairn::ingest
