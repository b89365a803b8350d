#include "cases/intake.h"

#include <gtest/gtest.h>

#include "testutil/temp_dir.h"

namespace cairn::cases {
namespace {

store::Interaction Track(uint64_t seq, uint64_t customer, std::string event, std::string properties) {
  store::Interaction r;
  r.customer = customer;
  r.seq = seq;
  r.type = store::MessageType::kTrack;
  r.event = std::move(event);
  r.channel = "web";
  r.timestamp_ms = 1767225600000 + static_cast<int64_t>(seq) * 1000;
  r.received_at_ms = r.timestamp_ms + 5;
  r.message_id = "m" + std::to_string(seq);
  r.payload = R"({"type":"track","event":")" + r.event + R"(","properties":)" + properties + "}";
  return r;
}

TEST(Intake, ComplaintsAndSurveysFromTheStreamAreIdempotent) {
  testutil::TempDir dir;
  FakeClock clock;
  metrics::Registry metrics;
  CaseManagerOptions o;
  o.dir = dir.path();
  o.clock = &clock;
  o.metrics = &metrics;
  auto m = CaseManager::Open(o);
  ASSERT_TRUE(m.ok());
  CaseManager* cases = m->get();
  // Customer 3 was merged into 2: everything lands on 2.
  Intake intake(cases, [](uint64_t id) { return id == 3 ? 2 : id; }, &metrics);

  store::Batch batch;
  batch.first_seq = 10;
  batch.interactions.push_back(Track(10, 3, "Complaint Filed",
                                     R"({"category":"delivery","severity":"high","description":"box crushed","valueTier":"vip"})"));
  batch.interactions.push_back(Track(11, 2, "Survey Responded", R"({"survey":"nps","score":9,"segment":"smb"})"));
  batch.interactions.push_back(Track(12, 4, "Survey Responded", R"({"survey":"nps","score":"3","comment":"slow and rude"})"));
  batch.interactions.push_back(Track(13, 4, "Survey Responded", R"({"survey":"csat","score":9})"));  // out of range
  batch.interactions.push_back(Track(14, 4, "Complaint Filed", R"({"severity":"apocalyptic"})"));    // bad severity
  batch.interactions.push_back(Track(15, 4, "Order Completed", R"({"revenue":10})"));                // not ours
  intake.OnCommit(batch);
  intake.OnCommit(batch);  // WAL replay: nothing new

  CaseFilter all;
  auto list = cases->ListCases(all);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->cases.size(), 2u);  // the complaint and the detractor's comment
  const Case& survey_case = list->cases[0];
  const Case& complaint = list->cases[1];
  EXPECT_EQ(complaint.customer, 2u);
  EXPECT_EQ(complaint.category, "delivery");
  EXPECT_EQ(complaint.severity, Severity::kHigh);
  EXPECT_EQ(complaint.tier, ValueTier::kVip);
  EXPECT_EQ(complaint.channel, "web");
  EXPECT_EQ(complaint.origin, "interaction");
  EXPECT_EQ(complaint.opened_at_ms, 1767225600000 + 10 * 1000 + 5);
  EXPECT_EQ(complaint.message_id, "m10");
  EXPECT_EQ(survey_case.origin, "survey");
  EXPECT_EQ(survey_case.customer, 4u);
  EXPECT_EQ(survey_case.description, "slow and rude");

  feedback::ScoreQuery q;
  auto nps = cases->Scores(q);
  ASSERT_TRUE(nps.ok());
  EXPECT_EQ(nps->total.nps.responses, 2);
  EXPECT_EQ(nps->total.nps.promoters, 1);
  EXPECT_EQ(nps->total.nps.detractors, 1);
  EXPECT_EQ(metrics.GetCounter("cairn_cases_intake_skipped_total", "")->Value(), 4u);  // 2 bad × 2 runs
}

// DOMAIN.md's shape (what the simulator and most survey tools send): the scores as properties, any
// of nps/csat/ces in one interaction, `survey` naming the survey. Each score is one answer, each
// replays once, and an out-of-range score is refused without losing the others.
TEST(Intake, DomainShapeRecordsEveryScoreOfOneAnswerOnce) {
  testutil::TempDir dir;
  FakeClock clock;
  metrics::Registry metrics;
  CaseManagerOptions o;
  o.dir = dir.path();
  o.clock = &clock;
  o.metrics = &metrics;
  auto m = CaseManager::Open(o);
  ASSERT_TRUE(m.ok());
  CaseManager* cases = m->get();
  Intake intake(cases, [](uint64_t id) { return id; }, &metrics);

  store::Batch batch;
  batch.first_seq = 20;
  batch.interactions.push_back(
      Track(20, 5, "Survey Responded", R"({"survey":"support","nps":10,"csat":5,"ces":2,"comment":"quick and kind"})"));
  batch.interactions.push_back(Track(21, 6, "Survey Responded", R"({"survey":"post_purchase","nps":2,"csat":9})"));
  intake.OnCommit(batch);
  intake.OnCommit(batch);  // replay

  feedback::ScoreQuery q;
  auto scores = cases->Scores(q);
  ASSERT_TRUE(scores.ok());
  EXPECT_EQ(scores->total.nps.responses, 2);
  EXPECT_EQ(scores->total.nps.promoters, 1);
  EXPECT_EQ(scores->total.nps.detractors, 1);
  q.kind = feedback::SurveyKind::kCsat;
  auto csat = cases->Scores(q);
  ASSERT_TRUE(csat.ok());
  EXPECT_EQ(csat->total.csat.responses, 1);  // csat 9 is out of range: refused, counted
  EXPECT_EQ(csat->total.csat.satisfied, 1);
  q.kind = feedback::SurveyKind::kCes;
  auto ces = cases->Scores(q);
  ASSERT_TRUE(ces.ok());
  EXPECT_EQ(ces->total.ces.responses, 1);
  EXPECT_EQ(ces->total.ces.sum, 2);
  EXPECT_EQ(metrics.GetCounter("cairn_cases_intake_skipped_total", "")->Value(), 2u);  // once per run
}

}  // namespace
}  // namespace cairn::cases
