// Retention policy (docs/consent.md "Retention"): the config section, the per-event overrides, and
// the store's compaction dropping interactions older than their retention while young ones (and
// events kept forever) remain — through the same StoreOptions::compaction_filter `cairn serve`
// sets from the config file.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <future>
#include <set>

#include "app/consent_wiring.h"
#include "base/clock.h"
#include "io/mem_env.h"
#include "store/store.h"

namespace cairn::app {
namespace {

constexpr int64_t kDay = 86'400'000;

store::Interaction Row(store::CustomerId c, int64_t ts, std::string event,
                       store::MessageType type = store::MessageType::kTrack) {
  store::Interaction r;
  r.customer = c;
  r.timestamp_ms = ts;
  r.received_at_ms = ts;
  r.type = type;
  r.event = std::move(event);
  r.message_id = "m-" + std::to_string(c) + "-" + std::to_string(ts) + r.event;
  r.payload = R"({"type":"track"})";
  return r;
}

Status AppendSync(store::Store* s, store::Batch b) {
  std::promise<Status> p;
  Status st = s->Append(std::move(b), [&](Status r) { p.set_value(r); });
  if (!st.ok()) return st;
  return p.get_future().get();
}

TEST(RetentionTest, ConfigSectionAndErrorsNameTheKey) {
  RetentionPolicy p;
  ASSERT_TRUE(ApplyRetentionSection(YAML::Load(R"(
default_days: 365
events: {"Page Viewed": 90, "Order Completed": 0}
)"), &p).ok());
  EXPECT_EQ(p.default_days, 365);
  EXPECT_EQ(p.events.at("Page Viewed"), 90);
  EXPECT_EQ(p.events.at("Order Completed"), 0);
  Status s = ApplyRetentionSection(YAML::Load("events: {\"Page Viewed\": -3}"), &p);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("retention.events.Page Viewed"), std::string::npos) << s.ToString();
  s = ApplyRetentionSection(YAML::Load("default_dayz: 3"), &p);
  EXPECT_NE(s.message().find("unknown key 'default_dayz'"), std::string::npos) << s.ToString();
  RetentionPolicy none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(RetentionFilter(none, nullptr, nullptr), nullptr);  // no policy: compaction keeps all
}

TEST(RetentionTest, ExpiryFollowsTheEventOverrideThenTheDefault) {
  RetentionPolicy p;
  p.default_days = 365;
  p.events = {{"Page Viewed", 90}, {"Order Completed", 0}};
  const int64_t now = 1000 * kDay;
  EXPECT_TRUE(Expired(p, Row(1, now - 91 * kDay, "", store::MessageType::kPage), now));  // page call
  EXPECT_FALSE(Expired(p, Row(1, now - 89 * kDay, "Page Viewed"), now));
  EXPECT_TRUE(Expired(p, Row(1, now - 91 * kDay, "Page Viewed"), now));                  // track "Page Viewed"
  EXPECT_FALSE(Expired(p, Row(1, now - 900 * kDay, "Order Completed"), now));            // kept forever
  EXPECT_TRUE(Expired(p, Row(1, now - 366 * kDay, "Signed Up"), now));                   // the default
  EXPECT_FALSE(Expired(p, Row(1, now - 364 * kDay, "Signed Up"), now));
}

TEST(RetentionTest, CompactionDropsOldInteractionsAndKeepsYoungOnes) {
  FakeClock clock(1000 * kDay);
  const int64_t now = clock.NowMillis();
  RetentionPolicy p;
  p.default_days = 365;
  p.events = {{"Page Viewed", 90}, {"Order Completed", 0}};
  std::atomic<int> erasure_asked{0};
  // Another filter already set (erasure's, say) keeps working beside retention.
  auto other = [&](const store::Interaction& r) {
    ++erasure_asked;
    return r.event == "Drop Me";
  };
  io::MemEnv env;
  store::StoreOptions o;
  o.background_work = false;
  o.compaction_filter = RetentionFilter(p, &clock, other);
  auto s = store::Store::Open(&env, "/db", o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  store::Batch old_batch, young_batch;
  old_batch.interactions = {Row(1, now - 200 * kDay, "Page Viewed"), Row(1, now - 400 * kDay, "Signed Up"),
                            Row(2, now - 900 * kDay, "Order Completed"), Row(2, now - 100 * kDay, "Product Viewed")};
  young_batch.interactions = {Row(1, now - 10 * kDay, "Page Viewed"), Row(2, now - 5 * kDay, "Drop Me"),
                              Row(3, now - kDay, "", store::MessageType::kPage)};
  ASSERT_TRUE(AppendSync(s->get(), old_batch).ok());
  ASSERT_TRUE((*s)->Flush().ok());
  ASSERT_TRUE(AppendSync(s->get(), young_batch).ok());
  ASSERT_TRUE((*s)->Flush().ok());
  auto before = (*s)->GetSnapshot()->ReadCustomers({1, 2, 3});
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->size(), 7u);  // nothing is dropped before compaction rewrites the segments

  ASSERT_TRUE((*s)->Compact({}, /*force=*/true).ok());
  auto after = (*s)->GetSnapshot()->ReadCustomers({1, 2, 3});
  ASSERT_TRUE(after.ok());
  std::set<std::pair<store::CustomerId, std::string>> left;
  for (const auto& r : *after) left.insert({r.customer, r.event});
  EXPECT_EQ(left, (std::set<std::pair<store::CustomerId, std::string>>{
                      {1, "Page Viewed"},        // 10 days old (< 90)
                      {2, "Order Completed"},    // 900 days old, kept forever
                      {2, "Product Viewed"},     // 100 days old (< 365)
                      {3, ""}}));                // a page call a day old
  EXPECT_EQ(after->size(), 4u);
  EXPECT_GT(erasure_asked.load(), 0);  // the other filter saw the rows retention kept
  ASSERT_TRUE((*s)->Close().ok());
}

}  // namespace
}  // namespace cairn::app
