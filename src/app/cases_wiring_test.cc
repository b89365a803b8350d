// The pure parts of the cases wiring: the Segment message recorded for a case event, and the
// config file's `cases:` section. The wiring end to end: tests/api/cases_test.cc.
#include "app/cases_wiring.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace cairn::app {
namespace {

cases::CaseEvent Event() {
  cases::CaseEvent e;
  e.c.id = 7;
  e.c.version = 3;
  e.c.customer = 42;
  e.c.channel = "email";
  e.c.category = "delivery";
  e.c.origin = "interaction";
  e.c.severity = cases::Severity::kHigh;
  e.c.tier = cases::ValueTier::kVip;
  e.c.status = cases::CaseStatus::kInProgress;
  e.from = cases::CaseStatus::kNew;
  e.actor = "ann";
  e.at_ms = 1767225600123;  // 2026-01-01T00:00:00.123Z
  return e;
}

TEST(CaseEventMessageTest, StatusChangesAreTrackMessagesOfTheCustomer) {
  auto m = CaseEventMessage(Event(), "u:zoe");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(*m,
            R"({"type":"track","event":"Case Updated","userId":"zoe","messageId":"cairn-case-7-v3","timestamp":"2026-01-01T00:00:00.123Z",)"
            R"("properties":{"caseId":7,"status":"in_progress","from":"new","origin":"interaction","category":"delivery",)"
            R"("severity":"high","tier":"vip","channel":"email","actor":"ann","direction":"outbound"},"context":{"channel":"email"}})");
  cases::CaseEvent opened = Event();
  opened.from.reset();
  opened.c.status = cases::CaseStatus::kNew;
  opened.c.channel.clear();
  auto o = CaseEventMessage(opened, "a:anon-1");
  ASSERT_TRUE(o.ok());
  EXPECT_NE(o->find(R"("event":"Case Opened","anonymousId":"anon-1")"), std::string::npos) << *o;
  EXPECT_NE(o->find(R"("from":null)"), std::string::npos) << *o;
  EXPECT_EQ(o->find("context"), std::string::npos) << *o;
  EXPECT_FALSE(CaseEventMessage(Event(), "e:zoe@x.io").ok());
}

TEST(CaseEventMessageTest, ResolvedSaysWhetherItWentWell) {
  cases::CaseEvent e = Event();
  e.from = cases::CaseStatus::kInProgress;
  e.c.status = cases::CaseStatus::kResolved;
  e.c.resolution = cases::Resolution{cases::ResolutionType::kRefund, 12.5};
  auto well = CaseEventMessage(e, "u:zoe");
  ASSERT_TRUE(well.ok());
  EXPECT_NE(well->find(R"("event":"Case Resolved")"), std::string::npos);
  EXPECT_NE(well->find(R"("well":true,"slaBreached":false,"reopenCount":0,"resolution":{"type":"refund","amount":12.5})"),
            std::string::npos)
      << *well;
  e.c.reopen_count = 1;
  EXPECT_NE(CaseEventMessage(e, "u:zoe")->find(R"("well":false)"), std::string::npos);
  e.c.reopen_count = 0;
  e.c.sla.resolution_breached = true;
  EXPECT_NE(CaseEventMessage(e, "u:zoe")->find(R"("well":false,"slaBreached":true)"), std::string::npos);
}

TEST(CasesConfigTest, SectionIsValidatedNamingTheKey) {
  CasesWiringOptions o;
  ASSERT_TRUE(ApplyCasesSection(YAML::Load("{csat_request: false, csat_purpose: feedback, value_tiers: {high: 10, vip: 20}}"), &o).ok());
  EXPECT_FALSE(o.csat_request);
  EXPECT_EQ(o.csat_purpose, "feedback");
  EXPECT_EQ(o.value_tiers.high, 10);
  EXPECT_EQ(o.value_tiers.vip, 20);
  auto bad = ApplyCasesSection(YAML::Load("{value_tiers: {high: 30, vip: 20}}"), &o);
  EXPECT_NE(bad.message().find("cases.value_tiers"), std::string_view::npos) << bad.ToString();
  bad = ApplyCasesSection(YAML::Load("{csat_requset: true}"), &o);
  EXPECT_NE(bad.message().find("cases.csat_requset"), std::string_view::npos) << bad.ToString();
  bad = ApplyCasesSection(YAML::Load("{value_tiers: {gold: 1}}"), &o);
  EXPECT_NE(bad.message().find("cases.value_tiers.gold"), std::string_view::npos) << bad.ToString();
  bad = ApplyCasesSection(YAML::Load("{csat_request: maybe}"), &o);
  EXPECT_NE(bad.message().find("true or false"), std::string_view::npos) << bad.ToString();
}

TEST(EscalationPayloadTest, NamesTheCaseTheStepAndTheAgent) {
  cases::OutboxItem item;
  item.event = Event();
  item.escalation = cases::EscalationRecord{1767225600123, cases::AgentLevel::kManager, "reassign",
                                            "resolution_breach", "meg"};
  item.event.c.assignee = "meg";
  EXPECT_EQ(EscalationPayload(item),
            R"({"caseId":7,"customer":"c:42","level":"manager","action":"reassign","reason":"resolution_breach",)"
            R"("agent":"meg","escalatedAt":"2026-01-01T00:00:00.123Z","case":{"status":"in_progress","category":"delivery",)"
            R"("severity":"high","tier":"vip","channel":"email","assignee":"meg","version":3}})");
  item.escalation->to_agent.clear();  // nobody holds the level
  EXPECT_NE(EscalationPayload(item).find(R"("agent":null)"), std::string::npos);
}

TEST(CasesConfigTest, EscalationKeys) {
  CasesWiringOptions o;
  EXPECT_TRUE(o.escalation_actions);
  EXPECT_EQ(o.escalation_purpose, "service");
  EXPECT_EQ(o.escalation_channel, "email");
  ASSERT_TRUE(ApplyCasesSection(YAML::Load("{escalation_actions: false, escalation_purpose: ops, escalation_channel: chat}"), &o).ok());
  EXPECT_FALSE(o.escalation_actions);
  EXPECT_EQ(o.escalation_purpose, "ops");
  EXPECT_EQ(o.escalation_channel, "chat");
  auto bad = ApplyCasesSection(YAML::Load("{escalation_channel: ''}"), &o);
  EXPECT_NE(bad.message().find("cases.escalation_channel"), std::string_view::npos) << bad.ToString();
}

}  // namespace
}  // namespace cairn::app
