// What the API gives back after ingest, against the real binary: de-duplication (also across a
// restart), identity merges showing one timeline, and timeline pagination.

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "api/cairn_server.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

boost::json::object PostOk(HttpClient& client, const std::string& target, const std::string& body,
                           const HttpHeaders& headers = WriteAuth()) {
  auto r = client.Post(target, body, headers);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return {};
  EXPECT_EQ(r->status, 200u) << target << ": " << r->body;
  boost::json::value v = ParseJson(r->body);
  return v.is_object() ? v.as_object() : boost::json::object{};
}

boost::json::object Profile(HttpClient& client, const std::string& id) {
  auto r = client.Get("/v1/customers/" + id, AdminAuth());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return {};
  EXPECT_EQ(r->status, 200u) << id << ": " << r->body;
  boost::json::value v = ParseJson(r->body);
  return v.is_object() ? v.as_object() : boost::json::object{};
}

std::string IsoAt(int64_t seconds_after_2024) {
  // 2024-01-01T00:00:00Z + s, formatted by hand (no time zone library needed for a day or two).
  int64_t day = seconds_after_2024 / 86400, s = seconds_after_2024 % 86400;
  char buf[64];
  std::snprintf(buf, sizeof buf, "2024-01-%02lldT%02lld:%02lld:%02lld.000Z", static_cast<long long>(day + 1),
                static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return buf;
}

TEST(Dedup, ResentBatchIsCountedAsDuplicatesAndStoredOnceAlsoAfterRestart) {
  TempDir tmp;
  CairnServer server(tmp.Sub("data"), tmp.Sub("serve"));
  ASSERT_TRUE(server.Start());
  std::vector<std::string> messages;
  for (int i = 0; i < 5; ++i) messages.push_back(TrackJson("u-dedup", "E" + std::to_string(i), "dup-" + std::to_string(i)));
  const std::string batch = BatchJson(messages);
  const std::map<std::string, int> once = {{"dup-0", 1}, {"dup-1", 1}, {"dup-2", 1}, {"dup-3", 1}, {"dup-4", 1}};
  {
    auto client = server.Client();
    auto first = PostOk(*client, "/v1/batch", batch);
    EXPECT_EQ(first["accepted"], 5);
    EXPECT_EQ(first["duplicates"], 0);
    // A retry is a success: `accepted` counts the duplicates too (ingestor.h).
    auto again = PostOk(*client, "/v1/batch", batch);
    EXPECT_EQ(again["accepted"], 5);
    EXPECT_EQ(again["duplicates"], 5);
    // A batch mixing new and seen ids: only the new one is stored.
    auto mixed = PostOk(*client, "/v1/batch", BatchJson({messages[1], TrackJson("u-dedup", "New", "dup-5")}));
    EXPECT_EQ(mixed["accepted"], 2);
    EXPECT_EQ(mixed["duplicates"], 1);
    auto expected = once;
    expected["dup-5"] = 1;
    EXPECT_EQ(MessageIdCounts(*client, "u-dedup"), expected);
    auto metrics = client->Get("/metrics");
    ASSERT_TRUE(metrics.ok());
    EXPECT_NE(metrics->body.find("cairn_ingest_duplicates_total 6"), std::string::npos)
        << metrics->body.substr(0, 3000);
  }
  ASSERT_TRUE(server.Stop());
  ASSERT_TRUE(server.Start());
  {
    auto client = server.Client();
    auto after = PostOk(*client, "/v1/batch", batch);
    EXPECT_EQ(after["accepted"], 5);
    EXPECT_EQ(after["duplicates"], 5) << "de-duplication must survive a restart";
    auto expected = once;
    expected["dup-5"] = 1;
    EXPECT_EQ(MessageIdCounts(*client, "u-dedup"), expected);
    // De-duplication is per source (write key): another source's same ids are its own messages.
    auto other = PostOk(*client, "/v1/batch", batch, WriteAuth(kWriteKey2));
    EXPECT_EQ(other["accepted"], 5);
    EXPECT_EQ(other["duplicates"], 0);
    auto other_again = PostOk(*client, "/v1/batch", batch, WriteAuth(kWriteKey2));
    EXPECT_EQ(other_again["duplicates"], 5);
  }
  ASSERT_TRUE(server.Stop());
}

// With more stored interactions than the de-dup table holds, a restart must remember the newest
// ones (by arrival), not whichever customers a snapshot visits last: a message sent just before
// the restart is the one a client is most likely to retry.
TEST(Dedup, RestartRemembersTheNewestMessagesWhenMoreAreStoredThanTheTableHolds) {
  TempDir tmp;
  std::ofstream(tmp.Sub("cairn.yaml")) << "dedup_capacity: 4\n";
  CairnServer server(tmp.Sub("data"), tmp.Sub("serve"), {"--config", tmp.Sub("cairn.yaml")});
  ASSERT_TRUE(server.Start());
  // Arrival order: first-1 (customer 1), second-1..4 (customer 2), first-2 (customer 1, newest).
  // The newest four are second-2..4 and first-2; a snapshot visits customer 1 before customer 2.
  const std::string newest = TrackJson("u-first", "Paid", "first-2");
  {
    auto client = server.Client();
    PostOk(*client, "/v1/batch", BatchJson({TrackJson("u-first", "Signed Up", "first-1")}));
    std::vector<std::string> second;
    for (int i = 1; i <= 4; ++i) second.push_back(TrackJson("u-second", "Viewed", "second-" + std::to_string(i)));
    PostOk(*client, "/v1/batch", BatchJson(second));
    PostOk(*client, "/v1/batch", BatchJson({newest}));
  }
  ASSERT_TRUE(server.Stop());
  ASSERT_TRUE(server.Start());
  {
    auto client = server.Client();
    auto retry = PostOk(*client, "/v1/batch", BatchJson({newest}));
    EXPECT_EQ(retry["duplicates"], 1) << "the newest message before the restart was forgotten";
    EXPECT_EQ(MessageIdCounts(*client, "u-first"), (std::map<std::string, int>{{"first-1", 1}, {"first-2", 1}}));
    // The oldest was forgotten (capacity 4): re-sent, it is stored again — the table's documented bound.
    auto old = PostOk(*client, "/v1/batch", BatchJson({TrackJson("u-first", "Signed Up", "first-1")}));
    EXPECT_EQ(old["duplicates"], 0);
  }
  ASSERT_TRUE(server.Stop());
}

TEST(Identity, MergingTwoKnownCustomersShowsOneTimelineWithBoth) {
  TempDir tmp;
  CairnServer server(tmp.Sub("data"), tmp.Sub("serve"));
  ASSERT_TRUE(server.Start());
  std::string alice_id, anon_id, anon8_id;
  {
    auto client = server.Client();
    PostOk(*client, "/v1/batch", BatchJson({TrackJson("alice", "Signed Up", "al-1"), TrackJson("alice", "Paid", "al-2")}));
    PostOk(*client, "/v1/batch",
           BatchJson({R"({"type":"page","anonymousId":"anon-7","name":"Home","messageId":"an-1"})",
                      R"({"type":"track","anonymousId":"anon-7","event":"Viewed","messageId":"an-2"})",
                      R"({"type":"track","anonymousId":"anon-8","event":"Viewed","messageId":"an8-1"})"}));
    alice_id = std::string(Profile(*client, "alice")["id"].as_string());
    anon_id = std::string(Profile(*client, "anon-7")["id"].as_string());
    anon8_id = std::string(Profile(*client, "anon-8")["id"].as_string());
    ASSERT_NE(alice_id, anon_id);
    ASSERT_NE(alice_id, anon8_id);

    // identify with both ids links them; alias merges a second anonymous customer.
    PostOk(*client, "/v1/identify",
           R"({"userId":"alice","anonymousId":"anon-7","traits":{"plan":"pro"},"messageId":"idf-1"})");
    PostOk(*client, "/v1/alias", R"({"previousId":"anon-8","userId":"alice","messageId":"als-1"})");
  }
  auto check = [&] {
    auto client = server.Client();
    const std::map<std::string, int> all = {{"al-1", 1}, {"al-2", 1}, {"an-1", 1}, {"an-2", 1},
                                            {"an8-1", 1}, {"idf-1", 1}, {"als-1", 1}};
    EXPECT_EQ(MessageIdCounts(*client, "alice"), all);
    EXPECT_EQ(MessageIdCounts(*client, "anon-7"), all);
    EXPECT_EQ(MessageIdCounts(*client, "anon-8"), all);
    auto p = Profile(*client, "alice");
    std::string id(p["id"].as_string());
    EXPECT_EQ(Profile(*client, "anon-7")["id"], p["id"]);
    EXPECT_EQ(Profile(*client, "anon-8")["id"], p["id"]);
    EXPECT_EQ(Profile(*client, id)["id"], p["id"]);  // "c:<n>" resolves too
    EXPECT_TRUE(id == alice_id || id == anon_id || id == anon8_id) << id;
    std::set<std::string> merged;
    for (const auto& m : p["mergedFrom"].as_array()) merged.insert(std::string(m.as_string()));
    std::set<std::string> others = {alice_id, anon_id, anon8_id};
    others.erase(id);
    EXPECT_EQ(merged, others) << boost::json::serialize(p);
    EXPECT_EQ(p["interactionCount"], 7) << boost::json::serialize(p);
    EXPECT_EQ(p["traits"].at("plan"), "pro") << boost::json::serialize(p);
  };
  check();
  // Merges are durable.
  ASSERT_TRUE(server.Stop());
  ASSERT_TRUE(server.Start());
  check();
  ASSERT_TRUE(server.Stop());
}

TEST(Timeline, BeforeCursorsReturnEveryInteractionExactlyOnceNewestFirst) {
  TempDir tmp;
  CairnServer server(tmp.Sub("data"), tmp.Sub("serve"));
  ASSERT_TRUE(server.Start());
  auto client = server.Client();
  constexpr int kEvents = 250;
  // Three events per timestamp, so pages also split runs of equal timestamps; sent out of order.
  std::vector<std::string> messages;
  for (int i = 0; i < kEvents; ++i) {
    int k = (i * 97) % kEvents;  // a permutation of 0..249
    messages.push_back(TrackJson("u-pages", "E", "pg-" + std::to_string(k), "\"timestamp\":\"" + IsoAt(k / 3 * 60) + "\""));
  }
  auto r = PostOk(*client, "/v1/batch", BatchJson(messages));
  ASSERT_EQ(r["accepted"], kEvents) << boost::json::serialize(r);

  for (size_t page_size : {1000, 7, 3, 1}) {
    size_t pages = 0;
    auto rows = Timeline(*client, "u-pages", page_size, &pages);
    ASSERT_EQ(rows.size(), static_cast<size_t>(kEvents)) << "page size " << page_size;
    EXPECT_EQ(pages, (kEvents + page_size - 1) / page_size) << "page size " << page_size;
    std::set<std::string> ids;
    for (size_t i = 0; i < rows.size(); ++i) {
      ids.insert(std::string(rows[i].at("messageId").as_string()));
      if (i == 0) continue;
      std::string prev_ts(rows[i - 1].at("timestamp").as_string()), ts(rows[i].at("timestamp").as_string());
      ASSERT_GE(prev_ts, ts) << "not newest first at row " << i << " (page size " << page_size << ")";
      if (prev_ts == ts) {
        ASSERT_GT(rows[i - 1].at("seq").to_number<uint64_t>(), rows[i].at("seq").to_number<uint64_t>()) << i;
      }
    }
    EXPECT_EQ(ids.size(), static_cast<size_t>(kEvents)) << "page size " << page_size;
  }
  // A cursor that is not one is a 400 naming `before`, not an empty page.
  auto bad = client->Get("/v1/customers/u-pages/events?before=garbage", AdminAuth());
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400u) << bad->body;
  EXPECT_NE(bad->body.find("before"), std::string::npos) << bad->body;
  ASSERT_TRUE(server.Stop());
}

}  // namespace
}  // namespace cairn::testutil
