// Cases inside the journey: status events for the timeline, value tiers from predicted CLV,
// cases that follow their customer across identity merges, CSAT answers joined to the case.
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "cases/case_manager.h"
#include "testutil/temp_dir.h"

namespace cairn::cases {
namespace {

constexpr int64_t kHour = 3600 * 1000, kDay = 24 * kHour;
constexpr int64_t kStart = 1768204800000;  // 2026-01-12T08:00:00Z

class CaseEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CaseManagerOptions o;
    o.dir = dir_.path();
    o.clock = &clock_;
    o.metrics = &metrics_;
    // A tiny union-find stand-in: root_[id] = the id it merged into.
    o.canonical = [this](uint64_t id) {
      std::lock_guard lock(mu_);
      auto it = root_.find(id);
      return it == root_.end() ? id : it->second;
    };
    o.members = [this](uint64_t root) {
      std::lock_guard lock(mu_);
      std::vector<uint64_t> out = {root};
      for (const auto& [id, r] : root_)
        if (r == root) out.push_back(id);
      return out;
    };
    auto m = CaseManager::Open(o);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    manager_ = std::move(m).value();
    manager_->SetEventListener([this](const CaseEvent& e) { events_.push_back(e); });
  }

  void Merge(uint64_t from, uint64_t into) {
    std::lock_guard lock(mu_);
    root_[from] = into;
  }

  Case Open(const std::string& customer, std::optional<ValueTier> tier = std::nullopt) {
    NewCase nc;
    nc.customer = customer;
    nc.category = "delivery";
    nc.tier = tier;
    auto c = manager_->OpenCase(nc);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Case{};
  }

  Result<Case> Move(uint64_t id, CaseStatus to, std::optional<Resolution> res = std::nullopt) {
    TransitionRequest r;
    r.to = to;
    r.actor = "ann";
    r.resolution = res;
    return manager_->Transition(id, r);
  }

  testutil::TempDir dir_;
  FakeClock clock_{kStart};
  metrics::Registry metrics_;
  std::mutex mu_;
  std::map<uint64_t, uint64_t> root_;
  std::vector<CaseEvent> events_;
  std::unique_ptr<CaseManager> manager_;
};

TEST_F(CaseEventsTest, EveryStatusChangeIsReportedOnceAndResolvedWellMeansInSlaNeverReopened) {
  Case c = Open("c:1");
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_FALSE(events_[0].from.has_value());
  EXPECT_EQ(events_[0].c.status, CaseStatus::kNew);
  EXPECT_EQ(events_[0].at_ms, kStart);

  ASSERT_TRUE(Move(c.id, CaseStatus::kInProgress).ok());
  // Field edits and comments are not status changes.
  CaseUpdate u;
  u.root_cause = "carrier";
  ASSERT_TRUE(manager_->UpdateCase(c.id, u).ok());
  ASSERT_TRUE(manager_->AddComment(c.id, {0, 0, "ann", "on it", true}).ok());
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(*events_[1].from, CaseStatus::kNew);
  EXPECT_EQ(events_[1].c.status, CaseStatus::kInProgress);
  EXPECT_EQ(events_[1].actor, "ann");

  clock_.Advance(2 * kHour);
  ASSERT_TRUE(Move(c.id, CaseStatus::kResolved, Resolution{ResolutionType::kFix, 0}).ok());
  ASSERT_EQ(events_.size(), 3u);
  EXPECT_TRUE(events_[2].resolved_well());
  EXPECT_EQ(events_[2].at_ms, kStart + 2 * kHour);

  // Reopened and resolved again: no longer "well".
  ASSERT_TRUE(Move(c.id, CaseStatus::kReopened).ok());
  ASSERT_TRUE(Move(c.id, CaseStatus::kInProgress).ok());
  ASSERT_TRUE(Move(c.id, CaseStatus::kResolved, Resolution{ResolutionType::kRefund, 10}).ok());
  ASSERT_EQ(events_.size(), 6u);
  EXPECT_FALSE(events_[5].resolved_well());

  // A case resolved after its resolution SLA (medium, standard: 72 h on 24×7) is not "well".
  Case late = Open("c:2");
  ASSERT_TRUE(Move(late.id, CaseStatus::kInProgress).ok());
  clock_.Advance(72 * kHour + 1);
  ASSERT_TRUE(Move(late.id, CaseStatus::kResolved, Resolution{ResolutionType::kFix, 0}).ok());
  EXPECT_FALSE(events_.back().resolved_well());
  EXPECT_TRUE(events_.back().c.sla.resolution_breached);

  // A refused transition reports nothing.
  const size_t n = events_.size();
  EXPECT_FALSE(Move(late.id, CaseStatus::kTriaged).ok());
  EXPECT_EQ(events_.size(), n);
}

TEST_F(CaseEventsTest, ValueTierFromPredictedClvSetsTheSlaTargets) {
  std::map<uint64_t, double> clv = {{1, 6000}, {2, 1500}, {4, 999.99}};
  EXPECT_FALSE(manager_->SetValueModel([](uint64_t) { return std::optional<double>(); }, {5000, 1000}).ok());
  EXPECT_FALSE(manager_->SetValueModel([](uint64_t) { return std::optional<double>(); }, {-1, 1000}).ok());
  ASSERT_TRUE(manager_
                  ->SetValueModel(
                      [&](uint64_t c) -> std::optional<double> {
                        auto it = clv.find(c);
                        if (it == clv.end()) return std::nullopt;
                        return it->second;
                      },
                      {1000, 5000})
                  .ok());
  Case vip = Open("c:1"), high = Open("c:2"), unknown = Open("c:3"), below = Open("c:4");
  EXPECT_EQ(vip.tier, ValueTier::kVip);
  EXPECT_EQ(high.tier, ValueTier::kHigh);
  EXPECT_EQ(unknown.tier, ValueTier::kStandard);
  EXPECT_EQ(below.tier, ValueTier::kStandard);
  // Default medium policy: 72 h resolution; high tier ¾, vip ½.
  EXPECT_EQ(vip.sla.resolution_target_ms, 36 * kHour);
  EXPECT_EQ(high.sla.resolution_target_ms, 54 * kHour);
  EXPECT_EQ(unknown.sla.resolution_target_ms, 72 * kHour);
  // A given tier wins over the model.
  EXPECT_EQ(Open("c:1", ValueTier::kStandard).tier, ValueTier::kStandard);
  // The model's figure is on the audit trail.
  auto d = manager_->GetCase(vip.id);
  ASSERT_TRUE(d.ok());
  bool audited = false;
  for (const auto& a : d->audit) audited |= a.action == "tier_from_clv" && a.from == "6000.00" && a.to == "vip";
  EXPECT_TRUE(audited);
  // Exactly at the threshold is the higher tier.
  clv[5] = 5000;
  EXPECT_EQ(Open("c:5").tier, ValueTier::kVip);
}

TEST_F(CaseEventsTest, ACaseOpenedWhileAnonymousStaysWithTheCustomerAfterTheyMerge) {
  Case anon = Open("c:7");  // an anonymous visitor complains
  EXPECT_EQ(anon.customer, 7u);
  Merge(7, 3);  // ... and later signs in as customer 3
  auto got = manager_->GetCase(anon.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->c.customer, 3u);
  CaseFilter f;
  f.customer = "c:3";
  auto list = manager_->ListCases(f);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->cases.size(), 1u);
  EXPECT_EQ(list->cases[0].id, anon.id);
  EXPECT_EQ(list->cases[0].customer, 3u);
  // Any of their ids finds it.
  f.customer = "c:7";
  ASSERT_EQ(manager_->ListCases(f)->cases.size(), 1u);
  // Their next problem within 30 days is a secondary error of the anonymous one.
  clock_.Advance(10 * kDay);
  Case second = Open("c:3");
  EXPECT_EQ(second.secondary_of, anon.id);
  // A change re-keys the stored row: still theirs with the merge forgotten by the resolver.
  ASSERT_TRUE(Move(anon.id, CaseStatus::kInProgress).ok());
  EXPECT_EQ(events_.back().c.customer, 3u);
  {
    std::lock_guard lock(mu_);
    root_.clear();
  }
  f.customer = "c:3";
  EXPECT_EQ(manager_->ListCases(f)->cases.size(), 2u);
}

TEST_F(CaseEventsTest, CsatAfterResolutionJoinsTheCaseOnceAndCountsInTheAnalysis) {
  Case c = Open("c:1");
  ASSERT_TRUE(Move(c.id, CaseStatus::kInProgress).ok());
  ASSERT_TRUE(Move(c.id, CaseStatus::kResolved, Resolution{ResolutionType::kReplacement, 20}).ok());
  feedback::SurveyInput in;
  in.customer = "c:1";
  in.response.kind = feedback::SurveyKind::kCsat;
  in.response.score = 4;
  in.response.case_id = c.id;
  in.response.source_seq = 99;  // from the stream: a replay must not link it twice
  ASSERT_TRUE(manager_->RecordSurvey(in).ok());
  ASSERT_TRUE(manager_->RecordSurvey(in).ok());
  auto d = manager_->GetCase(c.id);
  ASSERT_TRUE(d.ok());
  int linked = 0;
  for (const auto& a : d->audit) linked += a.action == "survey" && a.to == "csat 4";
  EXPECT_EQ(linked, 1);
  // An answer about an unknown case is still recorded.
  in.response.case_id = 12345;
  in.response.source_seq = 100;
  EXPECT_TRUE(manager_->RecordSurvey(in).ok());
  auto a = manager_->Analyze(0, kStart + kDay);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->csat_responses, 1);
  EXPECT_DOUBLE_EQ(a->csat_after_resolution, 100);
}

// The outbox: every status change and every escalation step is a row written with the change,
// kept across a restart until acked, in the order of the changes; erasure drops the rows.
TEST_F(CaseEventsTest, OutboxHoldsEventsAndEscalationNoticesUntilAcked) {
  ASSERT_TRUE(manager_->PutAgent({"tom", "Tom", "red", AgentLevel::kTeamLead, {}, true}).ok());
  ASSERT_TRUE(manager_->PutAgent({"meg", "Meg", "red", AgentLevel::kManager, {}, true}).ok());
  int kicks = 0;
  manager_->SetOutboxListener([&] { ++kicks; });
  NewCase nc;
  nc.customer = "c:1";
  nc.category = "billing";
  nc.severity = Severity::kCritical;  // a manager is notified at once
  auto critical = manager_->OpenCase(nc);
  ASSERT_TRUE(critical.ok());
  Case c = Open("c:2");  // medium: first response due in 8 h (24×7)
  ASSERT_TRUE(Move(c.id, CaseStatus::kTriaged).ok());
  EXPECT_EQ(kicks, 3);

  auto rows = manager_->PendingOutbox(100);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 4u);
  const auto& opened = (*rows)[0];
  EXPECT_FALSE(opened.escalation.has_value());
  EXPECT_FALSE(opened.event.from.has_value());
  EXPECT_EQ(opened.event.c.id, critical->id);
  EXPECT_EQ(opened.event.c.version, 1);
  EXPECT_EQ(opened.event.c.category, "billing");
  EXPECT_EQ(opened.event.c.severity, Severity::kCritical);
  const auto& notice = (*rows)[1];
  ASSERT_TRUE(notice.escalation.has_value());
  EXPECT_EQ(notice.event.c.id, critical->id);
  EXPECT_EQ(notice.escalation->level, AgentLevel::kManager);
  EXPECT_EQ(notice.escalation->action, "notify");
  EXPECT_EQ(notice.escalation->reason, "severity");
  EXPECT_EQ(notice.escalation->to_agent, "meg");
  EXPECT_EQ((*rows)[2].event.c.id, c.id);
  EXPECT_EQ(*(*rows)[3].event.from, CaseStatus::kNew);
  EXPECT_EQ((*rows)[3].event.c.status, CaseStatus::kTriaged);
  EXPECT_EQ((*rows)[3].event.c.version, 2);
  EXPECT_EQ((*rows)[3].event.actor, "ann");

  // Acked rows go; the rest survive a restart.
  ASSERT_TRUE(manager_->AckOutbox({(*rows)[0].id, (*rows)[1].id, 999999}).ok());
  manager_.reset();
  auto reopened = CaseManager::Open([&] {
    CaseManagerOptions o;
    o.dir = dir_.path();
    o.clock = &clock_;
    o.metrics = &metrics_;
    return o;
  }());
  ASSERT_TRUE(reopened.ok());
  manager_ = std::move(reopened).value();
  rows = manager_->PendingOutbox(100);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].event.c.id, c.id);
  ASSERT_TRUE(manager_->AckOutbox({(*rows)[0].id, (*rows)[1].id}).ok());

  // A breach escalates (default chain step 0: team lead notify): a notice row with the reason.
  clock_.Advance(8 * kHour + 1);
  ASSERT_TRUE(manager_->CheckBreaches(clock_.NowMillis()).ok());
  rows = manager_->PendingOutbox(100);
  ASSERT_TRUE(rows.ok());
  int breach_notices = 0;
  for (const auto& r : *rows) {
    if (!r.escalation || r.event.c.id != c.id) continue;
    ++breach_notices;
    EXPECT_EQ(r.escalation->level, AgentLevel::kTeamLead);
    EXPECT_EQ(r.escalation->reason, "first_response_breach");
    EXPECT_EQ(r.escalation->to_agent, "tom");
  }
  EXPECT_EQ(breach_notices, 1);

  // Erasing the customers drops what is still to be sent about them.
  ASSERT_TRUE(manager_->EraseCustomers({1, 2}).ok());
  rows = manager_->PendingOutbox(100);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

}  // namespace
}  // namespace cairn::cases
