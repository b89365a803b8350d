#include "feedback/feedback_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "testutil/temp_dir.h"

namespace cairn::feedback {
namespace {

int64_t Utc(int y, unsigned mo, unsigned d) {
  using namespace std::chrono;
  sys_days dd = year(y) / month(mo) / std::chrono::day(d);
  return duration_cast<milliseconds>(dd.time_since_epoch()).count();
}

SurveyResponse Answer(uint64_t customer, int score, int64_t at, std::string segment, std::string channel = "web",
                      SurveyKind kind = SurveyKind::kNps) {
  SurveyResponse r;
  r.customer = customer;
  r.kind = kind;
  r.score = score;
  r.at_ms = at;
  r.segment = std::move(segment);
  r.channel = std::move(channel);
  return r;
}

TEST(FeedbackStore, ScoresBySegmentChannelAndTimeSurviveReopen) {
  testutil::TempDir dir;
  {
    auto store = FeedbackStore::Open(dir.Sub("feedback.db"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    std::vector<SurveyResponse> batch = {
        Answer(1, 10, Utc(2026, 1, 5), "smb"),            // Mon, week of 01-05
        Answer(2, 9, Utc(2026, 1, 6), "smb"),
        Answer(3, 3, Utc(2026, 1, 7), "smb", "email"),
        Answer(4, 7, Utc(2026, 1, 12), "enterprise"),     // next week
        Answer(5, 0, Utc(2026, 1, 13), "enterprise", "email"),
        Answer(6, 4, Utc(2026, 2, 2), "enterprise", "email", SurveyKind::kCsat),
    };
    batch[0].source_seq = 77;
    ASSERT_TRUE((*store)->RecordAll(batch).ok());
    // Replaying the interaction with seq 77 changes nothing.
    ASSERT_TRUE((*store)->Record(batch[0]).ok());
    EXPECT_EQ((*store)->size(), 6u);
    SurveyResponse bad = Answer(9, 12, 0, "");
    auto r = (*store)->Record(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("score"), std::string_view::npos);
  }
  auto store = FeedbackStore::Open(dir.Sub("feedback.db"));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->size(), 6u);
  ScoreQuery q;
  ScoreReport all = (*store)->Scores(q);
  // 5 NPS answers: promoters 10, 9; passive 7; detractors 3, 0 → (2 − 2) / 5 = 0.
  EXPECT_EQ(all.total.nps.responses, 5);
  EXPECT_EQ(all.total.nps.promoters, 2);
  EXPECT_EQ(all.total.nps.detractors, 2);
  EXPECT_DOUBLE_EQ(all.total.nps.nps, 0);

  q.group_by = GroupBy::kSegment;
  ScoreReport seg = (*store)->Scores(q);
  ASSERT_EQ(seg.groups.size(), 2u);
  EXPECT_EQ(seg.groups[0].key, "enterprise");  // 7, 0 → −50
  EXPECT_DOUBLE_EQ(seg.groups[0].nps.nps, -50);
  EXPECT_EQ(seg.groups[1].key, "smb");  // 10, 9, 3 → 33.3
  EXPECT_NEAR(seg.groups[1].nps.nps, 100.0 / 3, 1e-9);

  q.group_by = GroupBy::kWeek;
  ScoreReport weeks = (*store)->Scores(q);
  ASSERT_EQ(weeks.groups.size(), 2u);
  EXPECT_EQ(weeks.groups[0].key, "2026-01-05");
  EXPECT_EQ(weeks.groups[0].nps.responses, 3);
  EXPECT_EQ(weeks.groups[1].key, "2026-01-12");

  q.group_by = GroupBy::kNone;
  q.channel = "email";
  EXPECT_EQ((*store)->Scores(q).total.nps.responses, 2);
  q.channel = "fax";
  EXPECT_EQ((*store)->Scores(q).total.nps.responses, 0);
  q.channel.clear();
  q.from_ms = Utc(2026, 1, 12);
  EXPECT_EQ((*store)->Scores(q).total.nps.responses, 2);
  q.from_ms = INT64_MIN;
  std::unordered_set<uint64_t> some = {1, 5};
  q.include_customers = &some;
  EXPECT_EQ((*store)->Scores(q).total.nps.responses, 2);
  q.include_customers = nullptr;
  const std::vector<uint64_t> sorted = {1, 5}, others = {2, 3, 4}, none = {};
  q.include_sorted = &sorted;  // the same customers as a sorted list: the same answers
  EXPECT_EQ((*store)->Scores(q).total.nps.responses, 2);
  EXPECT_DOUBLE_EQ((*store)->Scores(q).total.nps.nps, 0);  // a promoter (10) and a detractor (0)
  q.include_sorted = &others;
  EXPECT_EQ((*store)->Scores(q).total.nps.responses, 3);
  q.include_sorted = &none;
  EXPECT_EQ((*store)->Scores(q).total.nps.responses, 0);
  q.include_sorted = nullptr;
  q.exclude_customers = &some;
  EXPECT_EQ((*store)->Scores(q).total.nps.responses, 3);

  ScoreQuery cq;
  cq.kind = SurveyKind::kCsat;
  cq.group_by = GroupBy::kMonth;
  ScoreReport csat = (*store)->Scores(cq);
  EXPECT_DOUBLE_EQ(csat.total.csat.csat, 100);
  ASSERT_EQ(csat.groups.size(), 1u);
  EXPECT_EQ(csat.groups[0].key, "2026-02-01");
}

// Persona and phase are customer-level: answers without their own take their customer's from the
// query's functions (looked up once per customer); an answer's own value wins; anonymous answers
// and erased customers stay unknown ("").
TEST(FeedbackStore, PersonaAndPhaseFromTheCustomer) {
  testutil::TempDir dir;
  auto store = FeedbackStore::Open(dir.Sub("feedback.db"));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const int64_t t = Utc(2026, 3, 2);
  std::vector<SurveyResponse> batch = {
      Answer(1, 10, t, ""), Answer(1, 9, t, ""),  // customer 1: whales, retention
      Answer(2, 3, t, ""),                        // customer 2: bargain, consideration
      Answer(3, 8, t, ""),                        // customer 3: bargain, retention
      Answer(4, 0, t, ""),                        // customer 4: not modelled (no persona), retention
      Answer(0, 10, t, ""),                       // anonymous
      Answer(3, 2, t, ""),                        // customer 3, but the answer names its own persona
  };
  batch.back().persona = "explicit";
  ASSERT_TRUE((*store)->RecordAll(batch).ok());
  std::map<uint64_t, int> lookups;
  ScoreQuery q;
  q.persona_of = [&](uint64_t c) -> std::string {
    ++lookups[c];
    return c == 1 ? "whales" : c == 2 || c == 3 ? "bargain" : "";
  };
  q.phase_of = [](uint64_t c) -> std::string { return c == 2 ? "consideration" : "retention"; };
  q.group_by = GroupBy::kPersona;
  ScoreReport by = (*store)->Scores(q);
  // "" : 4 (0), anonymous (10) → 1 promoter, 1 detractor: 0. bargain: 2 (3), 3 (8) → −50.
  // explicit: 3 (2) → −100. whales: 10, 9 → 100.
  ASSERT_EQ(by.groups.size(), 4u);
  EXPECT_EQ(by.groups[0].key, "");
  EXPECT_EQ(by.groups[0].nps.responses, 2);
  EXPECT_DOUBLE_EQ(by.groups[0].nps.nps, 0);
  EXPECT_EQ(by.groups[1].key, "bargain");
  EXPECT_EQ(by.groups[1].nps.responses, 2);
  EXPECT_DOUBLE_EQ(by.groups[1].nps.nps, -50);
  EXPECT_EQ(by.groups[2].key, "explicit");
  EXPECT_DOUBLE_EQ(by.groups[2].nps.nps, -100);
  EXPECT_EQ(by.groups[3].key, "whales");
  EXPECT_EQ(by.groups[3].nps.responses, 2);
  EXPECT_DOUBLE_EQ(by.groups[3].nps.nps, 100);
  for (const auto& [c, n] : lookups) EXPECT_EQ(n, 1) << "customer " << c << " looked up " << n << " times";
  EXPECT_FALSE(lookups.contains(0)) << "anonymous answers have no customer to ask about";

  // A filter on a derived value, grouped by the other derived dimension.
  q.persona = "bargain";
  q.group_by = GroupBy::kPhase;
  by = (*store)->Scores(q);
  EXPECT_EQ(by.total.nps.responses, 2);
  ASSERT_EQ(by.groups.size(), 2u);
  EXPECT_EQ(by.groups[0].key, "consideration");
  EXPECT_DOUBLE_EQ(by.groups[0].nps.nps, -100);
  EXPECT_EQ(by.groups[1].key, "retention");
  EXPECT_DOUBLE_EQ(by.groups[1].nps.nps, 0);
  q.persona = "nobody";
  EXPECT_EQ((*store)->Scores(q).total.nps.responses, 0);

  // Without the functions only answers' own values count (the rest are unknown).
  ScoreQuery plain;
  plain.group_by = GroupBy::kPersona;
  by = (*store)->Scores(plain);
  ASSERT_EQ(by.groups.size(), 2u);
  EXPECT_EQ(by.groups[0].key, "");
  EXPECT_EQ(by.groups[0].nps.responses, 6);

  // An erased customer's answers keep their scores but no longer reach a persona.
  ASSERT_TRUE((*store)->EraseCustomers({1}).ok());
  q.persona.clear();
  q.group_by = GroupBy::kPersona;
  by = (*store)->Scores(q);
  ASSERT_EQ(by.groups.size(), 3u);
  EXPECT_EQ(by.groups[0].key, "");
  EXPECT_EQ(by.groups[0].nps.responses, 4);
}

// dimension_max_age_ms > 0: what was looked up for every customer is reused within that age (no
// lookup at all), customers first seen since are looked up alone, and a later query, another
// source or an erasure asks again.
TEST(FeedbackStore, LookedUpPersonasAreReusedWithinTheirAge) {
  testutil::TempDir dir;
  auto store = FeedbackStore::Open(dir.Sub("feedback.db"));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const int64_t t = Utc(2026, 3, 2);
  ASSERT_TRUE((*store)->RecordAll({Answer(1, 10, t, ""), Answer(2, 0, t, ""), Answer(3, 8, t, "")}).ok());
  std::map<uint64_t, std::string> persona = {{1, "whales"}, {2, "bargain"}, {3, "bargain"}};
  int lookups = 0;
  ScoreQuery q;
  q.persona_of = [&](uint64_t c) {
    ++lookups;
    return persona[c];
  };
  q.group_by = GroupBy::kPersona;
  q.dimension_max_age_ms = 30000;
  q.now_ms = 1000;
  q.dimension_source = 7;
  auto keys = [&] {
    std::map<std::string, int64_t> out;
    for (const auto& g : (*store)->Scores(q).groups) out[g.key] = g.nps.responses;
    return out;
  };
  EXPECT_EQ(keys(), (std::map<std::string, int64_t>{{"bargain", 2}, {"whales", 1}}));
  EXPECT_EQ(lookups, 3);
  // Customer 2 moves to whales; within the age the kept value counts, nobody is asked.
  persona[2] = "whales";
  q.now_ms = 30999;
  EXPECT_EQ(keys(), (std::map<std::string, int64_t>{{"bargain", 2}, {"whales", 1}}));
  EXPECT_EQ(lookups, 3);
  // A customer first seen since is looked up alone.
  persona[4] = "lapsed";
  ASSERT_TRUE((*store)->Record(Answer(4, 5, t, "")).ok());
  EXPECT_EQ(keys(), (std::map<std::string, int64_t>{{"bargain", 2}, {"lapsed", 1}, {"whales", 1}}));
  EXPECT_EQ(lookups, 4);
  // At the age, everyone is asked again.
  q.now_ms = 31000;
  EXPECT_EQ(keys(), (std::map<std::string, int64_t>{{"bargain", 1}, {"lapsed", 1}, {"whales", 2}}));
  EXPECT_EQ(lookups, 8);
  // Another source (new functions) drops what was kept.
  persona[3] = "whales";
  q.dimension_source = 8;
  EXPECT_EQ(keys(), (std::map<std::string, int64_t>{{"lapsed", 1}, {"whales", 3}}));
  EXPECT_EQ(lookups, 12);
  // So does an erasure (nothing about an erased customer is kept); customer 1's answer is anonymous now.
  ASSERT_TRUE((*store)->EraseCustomers({1}).ok());
  EXPECT_EQ(keys(), (std::map<std::string, int64_t>{{"", 1}, {"lapsed", 1}, {"whales", 2}}));
  EXPECT_EQ(lookups, 16);  // ordinals stay: customer 1 is still asked, its answer no longer points at it
  // Age 0 (the default) asks at every query.
  q.dimension_max_age_ms = 0;
  keys();
  keys();
  EXPECT_EQ(lookups, 24);
}

}  // namespace
}  // namespace cairn::feedback
