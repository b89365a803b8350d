#include "api/dto/customer_dto.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <limits>

#include "api/dto/json_writer.h"

namespace cairn::api {
namespace {

namespace json = boost::json;

TEST(JsonWriterTest, EscapesAndStaysValid) {
  JsonWriter w;
  w.BeginObject();
  w.Key("q\"k").String("a\"b\\c\n\t\x01 \xE2\x82\xAC");
  w.Key("bad_utf8").String("x\xff\xC0\xAFy\xED\xA0\x80");  // stray byte, overlong '/', surrogate
  w.Key("nums").BeginArray().Int(-3).UInt(18446744073709551615ull).Double(0.25).Double(std::numeric_limits<double>::infinity()).EndArray();
  w.Key("raw").Raw(R"({"a":[1,2]})");
  w.Key("empty_raw").Raw("");
  w.Key("b").Bool(true).Key("n").Null();
  w.EndObject();
  EXPECT_EQ(w.str(),
            "{\"q\\\"k\":\"a\\\"b\\\\c\\n\\t\\u0001 \xE2\x82\xAC\","
            "\"bad_utf8\":\"x\\ufffd\\ufffd\\ufffdy\\ufffd\\ufffd\\ufffd\","
            "\"nums\":[-3,18446744073709551615,0.25,null],\"raw\":{\"a\":[1,2]},\"empty_raw\":null,"
            "\"b\":true,\"n\":null}");
  boost::system::error_code ec;
  json::parse(w.str(), ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST(CustomerDtoTest, IsoMillis) {
  EXPECT_EQ(FormatIsoMillis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIsoMillis(1767225600123), "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(FormatIsoMillis(951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatIsoMillis(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIsoMillis(253402300799999), "9999-12-31T23:59:59.999Z");
}

store::Interaction SampleInteraction() {
  store::Interaction in;
  in.customer = 42;
  in.timestamp_ms = 1767225600123;
  in.received_at_ms = 1767225601000;
  in.seq = 7;
  in.type = store::MessageType::kTrack;
  in.event = "Order \"Completed\"";
  in.channel = "web";
  in.message_id = "m-1";
  in.revenue = 19.5;
  in.payload = R"({"type":"track","event":"Order \"Completed\"","properties":{"revenue":19.5}})";
  return in;
}

TEST(CustomerDtoTest, TimelineEmbedsPayloadVerbatim) {
  entity::TimelinePage page;
  page.interactions.push_back(SampleInteraction());
  page.next_before = "cursor-1";
  std::string text = TimelineToJson(page);
  // The payload appears byte for byte (not re-serialised).
  EXPECT_NE(text.find(SampleInteraction().payload), std::string::npos);
  json::value v = json::parse(text);
  const json::object& in = v.at("interactions").at(0).as_object();
  EXPECT_EQ(in.at("type").as_string(), "track");
  EXPECT_EQ(in.at("event").as_string(), "Order \"Completed\"");
  EXPECT_EQ(in.at("channel").as_string(), "web");
  EXPECT_EQ(in.at("timestamp").as_string(), "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(in.at("receivedAt").as_string(), "2026-01-01T00:00:01.000Z");
  EXPECT_EQ(in.at("seq").to_number<uint64_t>(), 7u);
  EXPECT_EQ(in.at("messageId").as_string(), "m-1");
  EXPECT_DOUBLE_EQ(in.at("revenue").to_number<double>(), 19.5);
  EXPECT_EQ(in.at("customer").as_string(), "c:42");
  EXPECT_DOUBLE_EQ(in.at("message").at("properties").at("revenue").to_number<double>(), 19.5);
  EXPECT_EQ(v.at("nextBefore").as_string(), "cursor-1");

  page.next_before.reset();
  EXPECT_TRUE(json::parse(TimelineToJson(page)).at("nextBefore").is_null());
}

TEST(CustomerDtoTest, Profile) {
  entity::Profile p;
  p.id = 9;
  p.identities = {{"userId", "u1"}, {"email", "a@b.c"}};
  p.traits = {{"name", "\"Ann\"", 1000}, {"plan", R"({"tier":"pro"})", 2000}, {"broken", "", 0}};
  p.groups = {{"g1", R"({"size":3})", 3000}};
  p.merged_from = {3, 4};
  p.first_seen_ms = 1000;
  p.last_seen_ms = 5000;
  p.interaction_count = 12;
  json::value v = json::parse(ProfileToJson(p));
  EXPECT_EQ(v.at("id").as_string(), "c:9");
  EXPECT_EQ(v.at("identities").at(1).at("kind").as_string(), "email");
  EXPECT_EQ(v.at("identities").at(1).at("value").as_string(), "a@b.c");
  EXPECT_EQ(v.at("traits").at("name").as_string(), "Ann");
  EXPECT_EQ(v.at("traits").at("plan").at("tier").as_string(), "pro");
  EXPECT_TRUE(v.at("traits").at("broken").is_null());
  EXPECT_EQ(v.at("traitsSetAt").at("plan").as_string(), "1970-01-01T00:00:02.000Z");
  EXPECT_EQ(v.at("groups").at(0).at("groupId").as_string(), "g1");
  EXPECT_EQ(v.at("groups").at(0).at("traits").at("size").to_number<int>(), 3);
  EXPECT_EQ(v.at("mergedFrom").at(1).as_string(), "c:4");
  EXPECT_EQ(v.at("lastSeen").as_string(), "1970-01-01T00:00:05.000Z");
  EXPECT_EQ(v.at("interactionCount").to_number<int>(), 12);
}

}  // namespace
}  // namespace cairn::api
