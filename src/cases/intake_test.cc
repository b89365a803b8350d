#include "cases/intake.h"

#include <gtest/gtest.h>

#include <filesystem>

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

CaseManagerOptions Options(const std::string& dir, FakeClock* clock, metrics::Registry* metrics) {
  CaseManagerOptions o;
  o.dir = dir;
  o.clock = clock;
  o.metrics = metrics;
  return o;
}

TEST(Intake, ComplaintsAndSurveysFromTheStreamAreIdempotent) {
  testutil::TempDir dir;
  FakeClock clock;
  metrics::Registry metrics;
  CaseManagerOptions o = Options(dir.path(), &clock, &metrics);
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
  CaseManagerOptions o = Options(dir.path(), &clock, &metrics);
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

// A batch of the interaction stream: complaints, NPS answers (every third a detractor with a
// comment, which opens a case of its own) and one answer with three scores.
store::Batch MixedBatch(uint64_t first_seq, int complaints, int answers) {
  store::Batch batch;
  batch.first_seq = first_seq;
  uint64_t seq = first_seq;
  for (int i = 0; i < complaints; ++i, ++seq)
    batch.interactions.push_back(Track(seq, 100 + i, "Complaint Filed", R"({"category":"billing","severity":"low"})"));
  for (int i = 0; i < answers; ++i, ++seq) {
    const bool detractor = i % 3 == 0;
    batch.interactions.push_back(Track(seq, 200 + i, "Survey Responded",
                                       detractor ? R"({"nps":2,"comment":"too slow"})" : R"({"nps":9})"));
    if (i % 4 == 1) batch.interactions.push_back(Track(++seq, 200 + i, "Page Viewed", "{}"));  // not ours
  }
  batch.interactions.push_back(Track(seq, 300, "Survey Responded", R"({"nps":10,"csat":5,"ces":2})"));
  return batch;
}

struct Counts {
  size_t cases = 0;
  int64_t nps = 0, csat = 0, ces = 0;
};

Counts CountAll(CaseManager* cases) {
  Counts c;
  CaseFilter all;
  all.limit = 1000;
  auto list = cases->ListCases(all);
  EXPECT_TRUE(list.ok());
  if (list.ok()) c.cases = list->cases.size();
  feedback::ScoreQuery q;
  c.nps = cases->Scores(q)->total.nps.responses;
  q.kind = feedback::SurveyKind::kCsat;
  c.csat = cases->Scores(q)->total.csat.responses;
  q.kind = feedback::SurveyKind::kCes;
  c.ces = cases->Scores(q)->total.ces.responses;
  return c;
}

// Issue 7 (the demo's load): a committed batch costs one transaction — one fsync — on cases.db and
// one on feedback.db, however many complaints and answers it carries; replaying it (WAL recovery,
// also into a reopened manager) records nothing twice.
TEST(Intake, ABatchIsOneTransactionPerFileAndItsReplayRecordsNothingTwice) {
  testutil::TempDir dir;
  FakeClock clock;
  metrics::Registry metrics;
  auto* cases_commits = metrics.GetCounter("cairn_sqlite_commits_total", "", "db=\"cases\"");
  auto* feedback_commits = metrics.GetCounter("cairn_sqlite_commits_total", "", "db=\"feedback\"");
  CaseManagerOptions o = Options(dir.path(), &clock, &metrics);
  std::vector<CaseEvent> events;
  const store::Batch batch = MixedBatch(1000, /*complaints=*/12, /*answers=*/30);
  {
    auto m = CaseManager::Open(o);
    ASSERT_TRUE(m.ok());
    CaseManager* cases = m->get();
    cases->SetEventListener([&](const CaseEvent& e) { events.push_back(e); });
    Intake intake(cases, [](uint64_t id) { return id; }, &metrics);
    const uint64_t c0 = cases_commits->Value(), f0 = feedback_commits->Value();
    intake.OnCommit(batch);
    EXPECT_EQ(cases_commits->Value() - c0, 1u);
    EXPECT_EQ(feedback_commits->Value() - f0, 1u);
    const Counts first = CountAll(cases);
    EXPECT_EQ(first.cases, 12u + 10u);  // every complaint, every detractor's comment
    EXPECT_EQ(first.nps, 31);
    EXPECT_EQ(first.csat, 1);
    EXPECT_EQ(first.ces, 1);
    EXPECT_EQ(events.size(), 22u);  // each opened case reported once, after the commit
    EXPECT_EQ(cases->pending_timers(), 2u * 22u);  // first response and resolution of each

    intake.OnCommit(batch);  // replay in the same process
    const Counts again = CountAll(cases);
    EXPECT_EQ(again.cases, first.cases);
    EXPECT_EQ(again.nps, first.nps);
    EXPECT_EQ(events.size(), 22u);
    EXPECT_LE(cases_commits->Value() - c0, 2u);
    EXPECT_LE(feedback_commits->Value() - f0, 2u);
  }
  // After a restart (kill -9: the WAL replays batches derived state may already hold).
  auto m = CaseManager::Open(o);
  ASSERT_TRUE(m.ok());
  Intake intake(m->get(), [](uint64_t id) { return id; }, &metrics);
  intake.OnCommit(batch);
  const Counts after = CountAll(m->get());
  EXPECT_EQ(after.cases, 22u);
  EXPECT_EQ(after.nps, 31);
  EXPECT_EQ(after.csat, 1);
  EXPECT_EQ(after.ces, 1);
  EXPECT_EQ(metrics.GetCounter("cairn_cases_intake_skipped_total", "")->Value(), 0u);
}

// feedback.db commits before cases.db: a crash between the two leaves the answers without their
// detractor cases and complaints. The replay completes the batch: each answer once, each case once.
TEST(Intake, ReplayAfterACrashBetweenTheTwoCommitsCompletesTheBatchOnce) {
  testutil::TempDir committed, crashed;
  FakeClock clock;
  metrics::Registry metrics;
  const store::Batch batch = MixedBatch(2000, /*complaints=*/5, /*answers=*/9);
  CaseManagerOptions o = Options(committed.path(), &clock, &metrics);
  {
    auto m = CaseManager::Open(o);
    ASSERT_TRUE(m.ok());
    Intake intake(m->get(), [](uint64_t id) { return id; }, &metrics);
    intake.OnCommit(batch);
    EXPECT_EQ(CountAll(m->get()).cases, 5u + 3u);
  }  // closed: feedback.db holds the batch's answers (its -wal checkpointed into it)
  // The crashed data dir: feedback.db after the batch, cases.db from before it (none).
  std::filesystem::copy_file(committed.Sub("feedback.db"), crashed.Sub("feedback.db"));
  o.dir = crashed.path();
  auto m = CaseManager::Open(o);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->get()->feedback_store()->size(), 9u + 3u);
  EXPECT_EQ(CountAll(m->get()).cases, 0u);
  Intake intake(m->get(), [](uint64_t id) { return id; }, &metrics);
  intake.OnCommit(batch);
  const Counts after = CountAll(m->get());
  EXPECT_EQ(after.cases, 5u + 3u);
  EXPECT_EQ(after.nps, 10);
  EXPECT_EQ(after.csat, 1);
  EXPECT_EQ(after.ces, 1);
}

// A malformed interaction in a batch is refused alone: the rest of the batch commits.
TEST(Intake, AMalformedInteractionDoesNotHoldBackItsBatch) {
  testutil::TempDir dir;
  FakeClock clock;
  metrics::Registry metrics;
  CaseManagerOptions o = Options(dir.path(), &clock, &metrics);
  auto m = CaseManager::Open(o);
  ASSERT_TRUE(m.ok());
  Intake intake(m->get(), [](uint64_t id) { return id; }, &metrics);
  store::Batch batch;
  batch.first_seq = 50;
  batch.interactions.push_back(Track(50, 1, "Complaint Filed", R"({"category":"delivery"})"));
  // A channel past the 100-byte limit: its case is refused when written, not when parsed.
  batch.interactions.push_back(Track(51, 2, "Complaint Filed", R"({"channel":")" + std::string(101, 'x') + R"("})"));
  batch.interactions.push_back(Track(52, 3, "Survey Responded", R"({"nps":11})"));  // out of range
  batch.interactions.push_back(Track(53, 4, "Survey Responded", R"({"nps":"x?"})"));  // not a number: nps absent → score missing
  batch.interactions.push_back(Track(54, 5, "Survey Responded", R"({"nps":8})"));
  intake.OnCommit(batch);
  const Counts c = CountAll(m->get());
  EXPECT_EQ(c.cases, 1u);
  EXPECT_EQ(c.nps, 1);
  EXPECT_EQ(metrics.GetCounter("cairn_cases_intake_skipped_total", "")->Value(), 3u);
}

}  // namespace
}  // namespace cairn::cases
