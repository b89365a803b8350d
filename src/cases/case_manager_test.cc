#include "cases/case_manager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "testutil/temp_dir.h"

namespace cairn::cases {
namespace {

constexpr int64_t kMin = 60 * 1000, kHour = 60 * kMin, kDay = 24 * kHour;

int64_t Utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
  using namespace std::chrono;
  sys_days dd = year(y) / month(mo) / std::chrono::day(d);
  return duration_cast<milliseconds>(dd.time_since_epoch()).count() + h * kHour + mi * kMin;
}

class CaseManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(AssignmentStrategy strategy = AssignmentStrategy::kLeastLoaded) {
    manager_.reset();
    CaseManagerOptions o;
    o.dir = dir_.path();
    o.clock = &clock_;
    o.assignment = strategy;
    o.metrics = &metrics_;
    auto m = CaseManager::Open(o);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    manager_ = std::move(m).value();
  }

  void AddAgents() {
    ASSERT_TRUE(manager_->PutAgent({"ann", "Ann", "red", AgentLevel::kAgent, {"billing"}, true}).ok());
    ASSERT_TRUE(manager_->PutAgent({"tom", "Tom", "red", AgentLevel::kTeamLead, {}, true}).ok());
    ASSERT_TRUE(manager_->PutAgent({"meg", "Meg", "red", AgentLevel::kManager, {}, true}).ok());
    ASSERT_TRUE(manager_->PutAgent({"dan", "Dan", "blue", AgentLevel::kDirector, {}, true}).ok());
  }

  Case Open(const std::string& customer = "c:1", Severity sev = Severity::kMedium, const std::string& category = "billing") {
    NewCase nc;
    nc.customer = customer;
    nc.category = category;
    nc.severity = sev;
    nc.description = "charged twice";
    auto c = manager_->OpenCase(nc);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Case{};
  }

  Result<Case> Move(uint64_t id, CaseStatus to, const std::string& actor = "ann", std::optional<Resolution> res = {}) {
    TransitionRequest r;
    r.to = to;
    r.actor = actor;
    r.resolution = res;
    return manager_->Transition(id, r);
  }

  testutil::TempDir dir_;
  FakeClock clock_{Utc(2026, 1, 12, 8)};  // Mon 2026-01-12 09:00 CET
  metrics::Registry metrics_;
  std::unique_ptr<CaseManager> manager_;
};

TEST_F(CaseManagerTest, StatusMachineAndInvalidTransitionsNameTheAllowedOnes) {
  Case c = Open();
  EXPECT_EQ(c.status, CaseStatus::kNew);
  auto bad = Move(c.id, CaseStatus::kResolved, "ann", Resolution{ResolutionType::kFix, 0});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().Is(Code::kFailedPrecondition));
  EXPECT_NE(bad.status().message().find("allowed: triaged, in_progress"), std::string_view::npos) << bad.status().ToString();
  ASSERT_TRUE(Move(c.id, CaseStatus::kTriaged).ok());
  ASSERT_TRUE(Move(c.id, CaseStatus::kInProgress).ok());
  auto no_res = Move(c.id, CaseStatus::kResolved);
  ASSERT_FALSE(no_res.ok());
  EXPECT_NE(no_res.status().message().find("resolution"), std::string_view::npos);
  ASSERT_TRUE(Move(c.id, CaseStatus::kResolved, "ann", Resolution{ResolutionType::kExplanation, 0}).ok());
  ASSERT_TRUE(Move(c.id, CaseStatus::kClosed).ok());
  auto again = Move(c.id, CaseStatus::kInProgress);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("allowed: reopened"), std::string_view::npos);
  auto reopened = Move(c.id, CaseStatus::kReopened, "customer");
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->reopen_count, 1);
  EXPECT_FALSE(reopened->resolution.has_value());

  auto d = manager_->GetCase(c.id);
  ASSERT_TRUE(d.ok());
  std::vector<std::string> moves;
  for (const auto& a : d->audit)
    if (a.action == "transition") moves.push_back(a.from + ">" + a.to);
  EXPECT_EQ(moves, (std::vector<std::string>{"new>triaged", "triaged>in_progress", "in_progress>resolved",
                                             "resolved>closed", "closed>reopened"}));
  EXPECT_EQ(d->c.version, 1 + 5);  // opened at 1, one bump per change
  EXPECT_FALSE(manager_->GetCase(999).ok());
}

TEST_F(CaseManagerTest, AuthorityAndApproval) {
  AddAgents();
  Case small = Open();
  EXPECT_EQ(small.assignee, "ann");
  ASSERT_TRUE(Move(small.id, CaseStatus::kInProgress).ok());
  auto done = Move(small.id, CaseStatus::kResolved, "ann", Resolution{ResolutionType::kRefund, 50});  // at the limit
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, CaseStatus::kResolved);

  Case big = Open("c:2");
  ASSERT_TRUE(Move(big.id, CaseStatus::kInProgress).ok());
  auto pending = Move(big.id, CaseStatus::kResolved, "ann", Resolution{ResolutionType::kRefund, 500});
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->status, CaseStatus::kInProgress);
  ASSERT_TRUE(pending->pending_resolution.has_value());
  EXPECT_EQ(pending->approval_level, AgentLevel::kManager);  // 200 < 500 <= 1000
  auto lead = manager_->Approve(big.id, "tom");
  ASSERT_FALSE(lead.ok());
  EXPECT_TRUE(lead.status().Is(Code::kPermissionDenied));
  EXPECT_NE(lead.status().message().find("needs manager"), std::string_view::npos) << lead.status().ToString();
  auto ok = manager_->Approve(big.id, "meg");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, CaseStatus::kResolved);
  EXPECT_EQ(ok->resolution->amount, 500);
  EXPECT_FALSE(ok->pending_resolution.has_value());
  EXPECT_FALSE(manager_->Approve(big.id, "meg").ok());  // nothing pending any more

  // A manager resolves 800 directly; limits are configurable.
  Case mid = Open("c:3");
  ASSERT_TRUE(Move(mid.id, CaseStatus::kInProgress, "meg").ok());
  EXPECT_EQ(Move(mid.id, CaseStatus::kResolved, "meg", Resolution{ResolutionType::kGoodwill, 800})->status,
            CaseStatus::kResolved);
  ASSERT_TRUE(manager_->SetAuthorityLimit(AgentLevel::kAgent, 1000).ok());
  Case more = Open("c:4");
  ASSERT_TRUE(Move(more.id, CaseStatus::kInProgress).ok());
  EXPECT_EQ(Move(more.id, CaseStatus::kResolved, "ann", Resolution{ResolutionType::kRefund, 900})->status,
            CaseStatus::kResolved);
  Reopen();  // limits persist
  auto limits = manager_->AuthorityLimits();
  ASSERT_TRUE(limits.ok());
  EXPECT_EQ((*limits)[0].second, 1000);
  EXPECT_LT((*limits)[4].second, 0);  // executive: unlimited
}

TEST_F(CaseManagerTest, FirstResponseBreachExactlyAtTheBoundary) {
  ASSERT_TRUE(manager_->PutPolicy({Severity::kMedium, ValueTier::kStandard, 60 * kMin, 8 * kHour, ""}).ok());
  Case c = Open();
  const int64_t due = clock_.NowMillis() + 60 * kMin;
  EXPECT_EQ(c.sla.first_response_due_ms, due);
  EXPECT_EQ(*manager_->CheckBreaches(due), 0u);  // the due instant itself is on time
  EXPECT_FALSE(manager_->GetCase(c.id)->c.sla.first_response_breached);
  EXPECT_EQ(*manager_->CheckBreaches(due + 1), 1u);
  auto d = manager_->GetCase(c.id);
  EXPECT_TRUE(d->c.sla.first_response_breached);
  EXPECT_EQ(d->c.sla.breached_at_ms, due + 1);
  ASSERT_FALSE(d->escalations.empty());
  EXPECT_EQ(d->escalations[0].reason, "first_response_breach");

  // A response exactly at the due instant is on time.
  Case d2 = Open("c:2");
  clock_.Set(d2.sla.first_response_due_ms);
  auto moved = Move(d2.id, CaseStatus::kInProgress);
  ASSERT_TRUE(moved.ok());
  EXPECT_FALSE(moved->sla.first_response_breached);
  EXPECT_EQ(moved->first_response_at_ms, d2.sla.first_response_due_ms);
  // One millisecond late is a breach, recorded even before any timer ran.
  Case d3 = Open("c:3");
  clock_.Set(d3.sla.first_response_due_ms + 1);
  CaseComment comment;
  comment.author = "api";
  comment.body = "not an agent: no response";
  ASSERT_TRUE(manager_->AddComment(d3.id, comment).ok());
  EXPECT_EQ(manager_->GetCase(d3.id)->c.first_response_at_ms, 0);
  ASSERT_TRUE(manager_->PutAgent({"ann", "Ann", "red", AgentLevel::kAgent, {}, true}).ok());
  comment.author = "ann";
  ASSERT_TRUE(manager_->AddComment(d3.id, comment).ok());
  EXPECT_TRUE(manager_->GetCase(d3.id)->c.sla.first_response_breached);
}

TEST_F(CaseManagerTest, ResolutionClockPausesWhileWaitingOnTheCustomer) {
  CalendarSpec cal;
  cal.name = "berlin";
  cal.timezone = "Europe/Berlin";
  for (int d = 0; d < 5; ++d) cal.hours[d] = {{9 * 60, 17 * 60}};
  ASSERT_TRUE(manager_->PutCalendar(cal).ok());
  ASSERT_TRUE(manager_->PutPolicy({Severity::kMedium, ValueTier::kStandard, 4 * kHour, 8 * kHour, "berlin"}).ok());
  Case c = Open();  // Mon 09:00 CET
  EXPECT_EQ(c.sla.resolution_due_ms, Utc(2026, 1, 12, 16));  // Mon 17:00 CET
  clock_.Set(Utc(2026, 1, 12, 10));  // 11:00 CET: 2 business hours used
  ASSERT_TRUE(Move(c.id, CaseStatus::kInProgress).ok());
  auto waiting = Move(c.id, CaseStatus::kWaitingOnCustomer);
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(waiting->sla.resolution_due_ms, 0);
  EXPECT_EQ(waiting->sla.resolution_remaining_ms, 6 * kHour);
  // The old deadline passes while paused: no breach.
  EXPECT_EQ(*manager_->CheckBreaches(Utc(2026, 1, 14, 8)), 0u);
  // The customer answers Wed 09:00 CET (08:00Z): 6 h left → Wed 15:00 CET (14:00Z).
  clock_.Set(Utc(2026, 1, 14, 8));
  auto resumed = Move(c.id, CaseStatus::kInProgress);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->sla.resolution_due_ms, Utc(2026, 1, 14, 14));
  EXPECT_FALSE(resumed->sla.resolution_breached);
  EXPECT_EQ(*manager_->CheckBreaches(Utc(2026, 1, 14, 14)), 0u);
  EXPECT_EQ(*manager_->CheckBreaches(Utc(2026, 1, 14, 14) + 1), 1u);
  EXPECT_TRUE(manager_->GetCase(c.id)->c.sla.resolution_breached);
}

TEST_F(CaseManagerTest, MultiLevelEscalationChain) {
  AddAgents();
  ASSERT_TRUE(manager_->PutPolicy({Severity::kHigh, ValueTier::kStandard, 30 * kMin, 4 * kHour, ""}).ok());
  ASSERT_TRUE(manager_
                  ->SetEscalationChain({{0, AgentLevel::kTeamLead, false},
                                        {60 * kMin, AgentLevel::kManager, true},
                                        {120 * kMin, AgentLevel::kDirector, false}})
                  .ok());
  Case c = Open("c:1", Severity::kHigh);
  const int64_t breach = c.sla.first_response_due_ms + 1;
  EXPECT_EQ(*manager_->CheckBreaches(breach), 1u);
  auto d = manager_->GetCase(c.id);
  ASSERT_EQ(d->escalations.size(), 1u);
  EXPECT_EQ(d->escalations[0].level, AgentLevel::kTeamLead);
  EXPECT_EQ(d->escalations[0].to_agent, "tom");
  EXPECT_EQ(d->escalations[0].action, "notify");
  EXPECT_EQ(d->c.assignee, "ann");
  EXPECT_EQ(*manager_->CheckBreaches(breach + 60 * kMin - 1), 0u);
  EXPECT_EQ(*manager_->CheckBreaches(breach + 60 * kMin + 1), 1u);
  d = manager_->GetCase(c.id);
  ASSERT_EQ(d->escalations.size(), 2u);
  EXPECT_EQ(d->escalations[1].level, AgentLevel::kManager);
  EXPECT_EQ(d->escalations[1].at_ms, breach + 60 * kMin);
  EXPECT_EQ(d->c.assignee, "meg");  // reassigned
  EXPECT_EQ(d->c.escalation_level, AgentLevel::kManager);
  // Resolving stops the chain: the director is never called.
  ASSERT_TRUE(Move(c.id, CaseStatus::kInProgress, "meg").ok());
  ASSERT_TRUE(Move(c.id, CaseStatus::kResolved, "meg", Resolution{ResolutionType::kFix, 0}).ok());
  ASSERT_TRUE(manager_->CheckBreaches(breach + 10 * kHour).ok());
  EXPECT_EQ(manager_->GetCase(c.id)->escalations.size(), 2u);
  // Listing by breached flag.
  CaseFilter f;
  f.breached = true;
  auto list = manager_->ListCases(f);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->cases.size(), 1u);
  EXPECT_EQ(list->cases[0].id, c.id);
}

TEST_F(CaseManagerTest, CriticalCasesNotifyAManagerAtOnce) {
  AddAgents();
  Case c = Open("c:1", Severity::kCritical);
  auto d = manager_->GetCase(c.id);
  ASSERT_EQ(d->escalations.size(), 1u);
  EXPECT_EQ(d->escalations[0].reason, "severity");
  EXPECT_EQ(d->escalations[0].to_agent, "meg");
}

TEST_F(CaseManagerTest, TimersSurviveARestart) {
  ASSERT_TRUE(manager_->PutPolicy({Severity::kMedium, ValueTier::kStandard, 10 * kMin, kHour, ""}).ok());
  Case c = Open();
  Reopen();
  EXPECT_GE(manager_->pending_timers(), 2u);
  EXPECT_EQ(*manager_->CheckBreaches(c.sla.first_response_due_ms + 1), 1u);
  EXPECT_TRUE(manager_->GetCase(c.id)->c.sla.first_response_breached);
}

TEST_F(CaseManagerTest, ConcurrentUpdatesLoseNothing) {
  Case c = Open();
  constexpr int kThreads = 8, kEach = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        CaseComment cc;
        cc.author = "t" + std::to_string(t);
        cc.body = "note " + std::to_string(i);
        EXPECT_TRUE(manager_->AddComment(c.id, cc).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto d = manager_->GetCase(c.id);
  EXPECT_EQ(d->comments.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(d->c.version, 1 + kThreads * kEach);

  // Everyone read the same version; only one update based on it may win.
  const int64_t v = d->c.version;
  std::atomic<int> won{0}, stale{0};
  threads.clear();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      CaseUpdate u;
      u.root_cause = "cause-" + std::to_string(t);
      u.expected_version = v;
      auto r = manager_->UpdateCase(c.id, u);
      if (r.ok()) ++won;
      else if (r.status().Is(Code::kFailedPrecondition)) ++stale;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(stale.load(), kThreads - 1);
  EXPECT_EQ(manager_->GetCase(c.id)->c.version, v + 1);
}

TEST_F(CaseManagerTest, SecondaryErrorsWithinThirtyDays) {
  Case first = Open("c:7");
  EXPECT_EQ(first.secondary_of, 0u);
  clock_.Advance(10 * kDay);
  Case second = Open("c:7");
  EXPECT_EQ(second.secondary_of, first.id);
  Case other = Open("c:8");
  EXPECT_EQ(other.secondary_of, 0u);
  clock_.Advance(31 * kDay);
  Case third = Open("c:7");
  EXPECT_EQ(third.secondary_of, 0u);  // 31 days after the second
  auto a = manager_->Analyze(0, INT64_MAX);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->cases, 4);
  EXPECT_EQ(a->secondary, 1);
  EXPECT_DOUBLE_EQ(a->secondary_rate, 25.0);
}

TEST_F(CaseManagerTest, RoundRobinAndLeastLoadedBySkill) {
  ASSERT_TRUE(manager_->PutAgent({"a1", "", "t", AgentLevel::kAgent, {"billing"}, true}).ok());
  ASSERT_TRUE(manager_->PutAgent({"a2", "", "t", AgentLevel::kAgent, {"billing", "delivery"}, true}).ok());
  ASSERT_TRUE(manager_->PutAgent({"a3", "", "t", AgentLevel::kAgent, {"delivery"}, true}).ok());
  // Least loaded (default): billing goes to a1, then a2 (a1 has one), then a1 again.
  EXPECT_EQ(Open("c:1").assignee, "a1");
  EXPECT_EQ(Open("c:2").assignee, "a2");
  EXPECT_EQ(Open("c:3").assignee, "a1");
  EXPECT_EQ(Open("c:4", Severity::kLow, "delivery").assignee, "a3");
  Reopen(AssignmentStrategy::kRoundRobin);
  std::vector<std::string> got;
  for (int i = 0; i < 4; ++i) got.push_back(Open("c:9", Severity::kLow, "delivery").assignee);
  EXPECT_EQ(got, (std::vector<std::string>{"a2", "a3", "a2", "a3"}));
  // A category nobody has as a skill goes to any agent.
  EXPECT_FALSE(Open("c:10", Severity::kLow, "returns").assignee.empty());
}

TEST_F(CaseManagerTest, ListFiltersAndPaging) {
  AddAgents();
  for (int i = 0; i < 5; ++i) Open("c:" + std::to_string(i + 1));
  Case other = Open("c:9", Severity::kLow, "delivery");
  ASSERT_TRUE(manager_->Assign(other.id, "tom", "api", 0).ok());
  ASSERT_TRUE(Move(other.id, CaseStatus::kTriaged).ok());
  CaseFilter f;
  f.status = CaseStatus::kNew;
  f.limit = 3;
  auto page1 = manager_->ListCases(f);
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->cases.size(), 3u);
  EXPECT_NE(page1->next_before, 0u);
  f.before_id = page1->next_before;
  auto page2 = manager_->ListCases(f);
  ASSERT_EQ(page2->cases.size(), 2u);
  EXPECT_EQ(page2->next_before, 0u);
  CaseFilter by;
  by.assignee = "tom";
  EXPECT_EQ(manager_->ListCases(by)->cases.size(), 1u);
  CaseFilter cust;
  cust.customer = "c:9";
  EXPECT_EQ(manager_->ListCases(cust)->cases.size(), 1u);
  CaseFilter bad;
  bad.customer = "nobody";
  EXPECT_TRUE(manager_->ListCases(bad).status().Is(Code::kInvalidArgument));
  EXPECT_TRUE(manager_->Assign(other.id, "ghost", "api", 0).status().Is(Code::kNotFound));
}

TEST_F(CaseManagerTest, DetractorCommentOpensACaseAndAnalysisCountsRecovery) {
  feedback::SurveyInput in;
  in.customer = "c:5";
  in.response.kind = feedback::SurveyKind::kNps;
  in.response.score = 2;
  in.response.comment = "the courier lost my parcel";
  auto r = manager_->RecordSurvey(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_NE(r->case_id, 0u);
  auto d = manager_->GetCase(r->case_id);
  EXPECT_EQ(d->c.origin, "survey");
  EXPECT_EQ(d->c.severity, Severity::kHigh);
  in.response.comment.clear();
  EXPECT_EQ(manager_->RecordSurvey(in)->case_id, 0u);  // no comment: no case
  in.response.score = 11;
  EXPECT_TRUE(manager_->RecordSurvey(in).status().Is(Code::kInvalidArgument));

  // Resolve c:5's case well; c:6 never complained.
  ASSERT_TRUE(Move(r->case_id, CaseStatus::kInProgress).ok());
  ASSERT_TRUE(Move(r->case_id, CaseStatus::kResolved, "ann", Resolution{ResolutionType::kReplacement, 20}).ok());
  in.response.score = 10;
  in.customer = "c:5";
  ASSERT_TRUE(manager_->RecordSurvey(in).ok());
  in.customer = "c:6";
  in.response.score = 8;
  ASSERT_TRUE(manager_->RecordSurvey(in).ok());
  feedback::SurveyInput csat;
  csat.customer = "c:5";
  csat.response.kind = feedback::SurveyKind::kCsat;
  csat.response.score = 5;
  csat.response.case_id = r->case_id;
  ASSERT_TRUE(manager_->RecordSurvey(csat).ok());
  auto a = manager_->Analyze(0, INT64_MAX);
  ASSERT_TRUE(a.ok());
  // c:5 answered 2, 2 and 10 → 1 promoter, 2 detractors of 3 → −33.3; c:6: one passive → 0.
  EXPECT_EQ(a->recovery.well_resolved_responses, 3);
  EXPECT_NEAR(a->recovery.well_resolved_nps, -100.0 / 3, 1e-9);
  EXPECT_EQ(a->recovery.never_complained_responses, 1);
  EXPECT_DOUBLE_EQ(a->recovery.never_complained_nps, 0);
  EXPECT_EQ(a->csat_responses, 1);
  EXPECT_DOUBLE_EQ(a->csat_after_resolution, 100);
  ASSERT_EQ(a->categories.size(), 1u);
  EXPECT_EQ(a->categories[0].key, "survey_detractor");
}

TEST_F(CaseManagerTest, AnAnswerCountsUnderTheCategoryOfTheCustomersCase) {
  auto answer = [&](int score, uint64_t case_id = 0, int64_t at = 0, std::string comment = "") {
    feedback::SurveyInput in;
    in.customer = "c:7";
    in.response.kind = feedback::SurveyKind::kNps;
    in.response.score = score;
    in.response.case_id = case_id;
    in.response.at_ms = at;
    in.response.comment = std::move(comment);
    auto r = manager_->RecordSurvey(in);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : feedback::RecordedSurvey{};
  };
  const int64_t before = clock_.NowMillis();
  answer(10);  // no case yet: no category
  clock_.Advance(kHour);
  const Case billing = Open("c:7", Severity::kMedium, "billing");
  clock_.Advance(kHour);
  answer(9);  // after the billing case
  answer(6, 0, before);  // answered before it (arrived late): no category
  clock_.Advance(kHour);
  Open("c:7", Severity::kLow, "delivery");
  clock_.Advance(kHour);
  answer(0);               // the latest case: delivery
  answer(8, billing.id);   // about the billing case
  // A detractor comment opens its own case as survey_detractor; the answer counts under delivery.
  const auto detractor = answer(3, 0, 0, "still no parcel");
  ASSERT_NE(detractor.case_id, 0u);
  EXPECT_EQ(manager_->GetCase(detractor.case_id)->c.category, "survey_detractor");

  feedback::ScoreQuery q;
  q.group_by = feedback::GroupBy::kCategory;
  auto by = manager_->Scores(q);
  ASSERT_TRUE(by.ok());
  // "": 10, 6 → 0. billing: 9, 8 → 50. delivery: 0, 3 → −100.
  ASSERT_EQ(by->groups.size(), 3u);
  EXPECT_EQ(by->groups[0].key, "");
  EXPECT_EQ(by->groups[0].nps.responses, 2);
  EXPECT_DOUBLE_EQ(by->groups[0].nps.nps, 0);
  EXPECT_EQ(by->groups[1].key, "billing");
  EXPECT_EQ(by->groups[1].nps.responses, 2);
  EXPECT_DOUBLE_EQ(by->groups[1].nps.nps, 50);
  EXPECT_EQ(by->groups[2].key, "delivery");
  EXPECT_EQ(by->groups[2].nps.responses, 2);
  EXPECT_DOUBLE_EQ(by->groups[2].nps.nps, -100);
}

TEST_F(CaseManagerTest, ParetoOfCategoriesAndRootCauses) {
  const char* cats[] = {"billing", "delivery", "billing", "billing", "app", "delivery"};
  int i = 0;
  for (const char* cat : cats) {
    Case c = Open("c:" + std::to_string(100 + i++), Severity::kLow, cat);
    CaseUpdate u;
    u.root_cause = std::string(cat) == "billing" ? "double charge" : "carrier";
    ASSERT_TRUE(manager_->UpdateCase(c.id, u).ok());
  }
  auto a = manager_->Analyze(0, INT64_MAX);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->categories.size(), 3u);
  EXPECT_EQ(a->categories[0].key, "billing");
  EXPECT_DOUBLE_EQ(a->categories[0].share, 50);
  EXPECT_EQ(a->categories[1].key, "delivery");
  EXPECT_NEAR(a->categories[1].cumulative, 100.0 * 5 / 6, 1e-9);
  EXPECT_DOUBLE_EQ(a->categories[2].cumulative, 100);
  ASSERT_EQ(a->root_causes.size(), 2u);
  EXPECT_EQ(a->root_causes[0].key, "carrier");  // 3 vs 3: ties break alphabetically
  EXPECT_EQ(a->open, 6);
}

}  // namespace
}  // namespace cairn::cases
