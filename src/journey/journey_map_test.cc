// Journey map loading: the default map is valid; every validation error is reported with its
// message, line and column; a bad map never yields a map.
#include "journey/journey_map.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cairn::journey {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A small valid map; tests append or replace parts of it.
constexpr std::string_view kViews = R"(version: 1
views:
  phase:
    stages:
      - {name: discovery}
      - {name: consideration, dwell: 30d, enter_on: [Signed Up]}
  lifecycle:
    stages: [{name: target}]
  funnel:
    stages:
      - {name: awareness}
      - {name: interest, dwell: 14d, enter_on: [Signed Up]}
      - {name: nodwell, enter_on: [Order Completed]}
)";

std::vector<std::string> Errors(std::string_view yaml) {
  std::vector<MapError> errors;
  auto m = JourneyMap::Parse(yaml, &errors);
  EXPECT_FALSE(m.ok()) << "expected errors for:\n" << yaml;
  if (!m.ok()) {
    EXPECT_EQ(m.status().code(), Code::kInvalidArgument);
  }
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.ToString());
  return out;
}

std::vector<std::string> ErrorsWith(std::string_view extra) { return Errors(std::string(kViews) + std::string(extra)); }

TEST(JourneyMapTest, DefaultMapIsValidAndComplete) {
  std::vector<MapError> errors;
  auto m = JourneyMap::Parse(JourneyMap::DefaultYaml(), &errors);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const JourneyMap& map = **m;
  EXPECT_EQ(map.view(View::kPhase).stages.size(), 4u);
  EXPECT_EQ(map.view(View::kLifecycle).stages.size(), 7u);
  EXPECT_EQ(map.view(View::kFunnel).stages.size(), 5u);
  EXPECT_EQ(map.view(View::kFunnel).stages[1].dwell_ms, 14 * 86400000LL);
  ASSERT_EQ(map.rescue_paths().size(), 4u);
  EXPECT_EQ(map.rescue_paths()[0].name, "going_cold");
  EXPECT_EQ(map.rescue_paths()[3].name, "renewal_doubt");
  EXPECT_TRUE(map.rescue_paths()[3].trigger.usage_drop_before_renewal);
  EXPECT_EQ(map.value().currency, "EUR");
  EXPECT_EQ(map.critical().size(), 2u);
  EXPECT_EQ(map.post_purchase().delay_ms, 2 * 86400000LL);
  EXPECT_EQ(map.emotion().Label(0), Emotion::kDisinterest);
  EXPECT_EQ(map.emotion().Label(-61), Emotion::kAngry);
  EXPECT_EQ(map.emotion().Label(80), Emotion::kTrust);
  EXPECT_EQ(map.default_persona(), "casual_browser");
  EXPECT_EQ(map.timers().signal_horizon_ms, 30 * 86400000LL);
}

TEST(JourneyMapTest, MinimalMapIsValid) {
  auto m = JourneyMap::Parse(kViews);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_NE((*m)->fingerprint(), 0u);
  EXPECT_EQ((*m)->timers().signal_horizon_ms, 30 * 86400000LL);  // the default without a timers section
}

TEST(JourneyMapTest, SignalHorizon) {
  auto m = JourneyMap::Parse(std::string(kViews) + "timers: {signal_horizon: 7d}\n");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->timers().signal_horizon_ms, 7 * 86400000LL);
  m = JourneyMap::Parse(std::string(kViews) + "timers: {signal_horizon: 0}\n");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->timers().signal_horizon_ms, 0);  // no horizon
}

TEST(JourneyMapTest, Durations) {
  int64_t ms;
  EXPECT_TRUE(ParseDuration("14d", &ms));
  EXPECT_EQ(ms, 14 * 86400000LL);
  EXPECT_TRUE(ParseDuration("2w", &ms));
  EXPECT_EQ(ms, 14 * 86400000LL);
  EXPECT_TRUE(ParseDuration("500ms", &ms));
  EXPECT_EQ(ms, 500);
  EXPECT_FALSE(ParseDuration("soon", &ms));
  EXPECT_FALSE(ParseDuration("14", &ms));
  EXPECT_FALSE(ParseDuration("d", &ms));
  EXPECT_EQ(FormatDuration(14 * 86400000LL), "2w");
  EXPECT_EQ(FormatDuration(36 * 3600000LL), "36h");
}

TEST(JourneyMapErrors, YamlSyntax) {
  EXPECT_THAT(Errors("version: 1\nviews: [a\n"), ElementsAre(HasSubstr("YAML syntax: end of sequence flow not found")));
  EXPECT_THAT(Errors("version: 1\nviews: [a\n")[0], HasSubstr("line 3, column 1"));
}

TEST(JourneyMapErrors, TopLevel) {
  EXPECT_THAT(Errors("- a\n- b\n"), ElementsAre("line 1, column 1: map: expected a YAML mapping at the top (version, views, ...)"));
  EXPECT_THAT(Errors("views: {}\n"),
              ElementsAre("line 1, column 1: version: missing (this Cairn reads version 1)", "line 1, column 8: views.phase: missing",
                          "line 1, column 8: views.lifecycle: missing", "line 1, column 8: views.funnel: missing"));
  EXPECT_THAT(ErrorsWith("colour: red\n"),
              ElementsAre("line 14, column 1: map: unknown key 'colour' (expected one of: version, views, emotion, usage, value, "
                          "timers, personas, rescue_paths, experience_critical, post_purchase, outbound_events)"));
  std::string v2(kViews);
  v2.replace(0, 10, "version: 2");
  EXPECT_THAT(Errors(v2), ElementsAre("line 1, column 10: version: unsupported version '2' (this Cairn reads 1)"));
  EXPECT_THAT(Errors("version: 1\n"), ElementsAre("line 1, column 1: views: missing (phase, lifecycle and funnel are required)"));
}

TEST(JourneyMapErrors, Stages) {
  auto base = [](std::string_view funnel) {
    return "version: 1\nviews:\n  phase: {stages: [{name: p}]}\n  lifecycle: {stages: [{name: l}]}\n  funnel:\n" + std::string(funnel);
  };
  EXPECT_THAT(Errors(base("    stages: []\n")), ElementsAre("line 6, column 13: views.funnel.stages: expected a non-empty list of stages"));
  EXPECT_THAT(Errors(base("    stages: [{name: a}, {name: b, enter_on: X}, {name: b, enter_on: Y}]\n")),
              ElementsAre("line 6, column 56: views.funnel.stages[2].name: duplicate stage 'b'"));
  EXPECT_THAT(Errors(base("    stages: [{name: a}, {name: b}]\n")),
              ElementsAre("line 6, column 25: views.funnel.stages[1]: missing enter_on (only the first stage may have no entry rule)"));
  EXPECT_THAT(Errors(base("    stages: [{name: a, dwell: soon}]\n")),
              ElementsAre("line 6, column 31: views.funnel.stages[0].dwell: expected a duration like 14d, 12h, 30m, got 'soon'"));
  EXPECT_THAT(Errors(base("    stages: [{name: a, any_time: maybe}]\n")),
              ElementsAre("line 6, column 34: views.funnel.stages[0].any_time: expected true or false"));
  EXPECT_THAT(Errors(base("    stages: [{dwell: 1d}]\n")), ElementsAre("line 6, column 14: views.funnel.stages[0]: missing name"));
  EXPECT_THAT(Errors(base("    stages: [{name: a, colour: red}]\n")),
              ElementsAre("line 6, column 24: views.funnel.stages[0]: unknown key 'colour' (expected one of: name, dwell, any_time, "
                          "enter_on, description)"));
  EXPECT_THAT(Errors(base("    stages: [a, b, c, d, e, f, g, h, i]\n")),
              ElementsAre("line 6, column 13: views.funnel.stages: at most 8 stages per view, got 9"));
}

TEST(JourneyMapErrors, EntryRulesAndConditions) {
  auto base = [](std::string_view rule) {
    return "version: 1\nviews:\n  phase: {stages: [{name: p}]}\n  lifecycle: {stages: [{name: l}]}\n  funnel:\n    stages:\n"
           "      - {name: a}\n      - name: b\n        enter_on:\n          - " +
           std::string(rule) + "\n";
  };
  EXPECT_THAT(Errors(base("{event: X, type: page}")),
              ElementsAre("line 10, column 13: views.funnel.stages[1].enter_on[0]: give either event or type, not both"));
  EXPECT_THAT(Errors(base("{type: track}")),
              ElementsAre("line 10, column 20: views.funnel.stages[1].enter_on[0].type: expected page, screen, identify, group or alias, got 'track'"));
  EXPECT_THAT(Errors(base("{where: {a: 1}}")), ElementsAre("line 10, column 13: views.funnel.stages[1].enter_on[0]: missing event (or type)"));
  EXPECT_THAT(Errors(base("{event: X, where: [a]}")),
              ElementsAre("line 10, column 31: views.funnel.stages[1].enter_on[0].where: expected a mapping of field: condition"));
  EXPECT_THAT(Errors(base("{event: X, where: {nps: {about: 9}}}")),
              ElementsAre("line 10, column 38: views.funnel.stages[1].enter_on[0].where.nps: unknown comparison 'about' (expected eq, ne, gt, gte, lt, lte, in, exists)"));
  EXPECT_THAT(Errors(base("{event: X, where: {nps: {gte: high}}}")),
              ElementsAre("line 10, column 43: views.funnel.stages[1].enter_on[0].where.nps.gte: expected a number, got 'high'"));
  EXPECT_THAT(Errors(base("{event: X, where: {plan: {in: []}}}")),
              ElementsAre("line 10, column 43: views.funnel.stages[1].enter_on[0].where.plan.in: expected a non-empty list"));
  EXPECT_THAT(Errors(base("{event: X, where: {plan: {exists: 1}}}")),
              ElementsAre("line 10, column 47: views.funnel.stages[1].enter_on[0].where.plan.exists: expected true or false"));
  EXPECT_THAT(Errors(base("{event: X, where: {plan: []}}")),
              ElementsAre("line 10, column 38: views.funnel.stages[1].enter_on[0].where.plan: expected a value or a mapping of eq|ne|gt|gte|lt|lte|in|exists"));
}

TEST(JourneyMapErrors, Emotion) {
  EXPECT_THAT(ErrorsWith("emotion:\n  labels: {angry: -10, disillusioned: -20}\n"),
              ElementsAre("line 15, column 11: emotion.labels: upper bounds must increase from angry to delight (disillusioned is not above angry)"));
  EXPECT_THAT(ErrorsWith("emotion:\n  labels: {angry: -500}\n"),
              ElementsAre("line 15, column 19: emotion.labels.angry: must be between -100 and 100, got -500"));
  EXPECT_THAT(ErrorsWith("emotion:\n  signals:\n    - {name: x, on: Y, add: 1, set: 2}\n"),
              ElementsAre("line 16, column 7: emotion.signals[0]: give either add or set, not both"));
  EXPECT_THAT(ErrorsWith("emotion:\n  signals:\n    - {add: 1}\n"),
              ElementsAre("line 16, column 7: emotion.signals[0]: missing name", "line 16, column 7: emotion.signals[0]: missing on"));
  EXPECT_THAT(ErrorsWith("emotion:\n  signals: {a: 1}\n"), ElementsAre("line 15, column 12: emotion.signals: expected a list"));
  EXPECT_THAT(ErrorsWith("emotion:\n  recency_half_life: often\n"),
              ElementsAre("line 15, column 22: emotion.recency_half_life: expected a duration like 14d, 12h, 30m, got 'often'"));
}

TEST(JourneyMapErrors, UsageValuePersonas) {
  EXPECT_THAT(ErrorsWith("usage: {weeks: 6}\n"), ElementsAre("line 14, column 16: usage.weeks: must be between 1 and 4, got 6"));
  EXPECT_THAT(ErrorsWith("usage: {weeks: 2.5}\n"), ElementsAre("line 14, column 16: usage.weeks: must be a whole number"));
  EXPECT_THAT(ErrorsWith("usage: {drop: 2}\n"), ElementsAre("line 14, column 15: usage.drop: must be between 0 and 1, got 2"));
  EXPECT_THAT(ErrorsWith("value: {conversion_priors: {nirvana: 0.5}}\n"),
              ElementsAre("line 14, column 29: value.conversion_priors: unknown funnel stage 'nirvana'"));
  EXPECT_THAT(ErrorsWith("value: {conversion_priors: {interest: 1.5}}\n"),
              ElementsAre("line 14, column 39: value.conversion_priors.interest: must be between 0 and 1, got 1.5"));
  EXPECT_THAT(ErrorsWith("timers: {signal_horizon: soon}\n"),
              ElementsAre("line 14, column 26: timers.signal_horizon: expected a duration like 14d, 12h, 30m, got 'soon'"));
  EXPECT_THAT(ErrorsWith("timers: {horizon: 30d}\n"),
              ElementsAre("line 14, column 10: timers: unknown key 'horizon' (expected one of: signal_horizon)"));
  EXPECT_THAT(ErrorsWith("value: {average_order_value: -3}\n"),
              ElementsAre("line 14, column 30: value.average_order_value: must be between 0 and 1e+18, got -3"));
  EXPECT_THAT(ErrorsWith("personas:\n  rules:\n    - {name: vip, when: {shoe_size: 44}}\n"),
              ElementsAre("line 16, column 37: personas.rules[0] (vip).when.shoe_size: unknown persona field (expected "
                          "traits.<name>, revenue, orders, interactions, phase, lifecycle, funnel, emotion, clv, prob_alive, "
                          "expected_purchases, recency_days, tenure_days, purchase_days, average_spend or "
                          "channel.<web|mobile|email|store|other>)"));
  EXPECT_THAT(ErrorsWith("personas:\n  rules:\n    - {name: vip}\n"), ElementsAre("line 16, column 7: personas.rules[0] (vip): missing when"));
}

// Persona rules over stages, emotion and value facts: each bad rule is named, with its place.
TEST(JourneyMapErrors, PersonaRulesOverStagesEmotionAndValue) {
  EXPECT_THAT(ErrorsWith("personas:\n  rules:\n    - {name: hot, when: {funnel: decison}}\n"),
              ElementsAre("line 16, column 34: personas.rules[0] (hot).when.funnel: unknown funnel stage 'decison' "
                          "(expected one of: awareness, interest, nodwell)"));
  EXPECT_THAT(ErrorsWith("personas:\n  rules:\n    - {name: a, when: {lifecycle: {gte: target}}}\n"),
              ElementsAre("line 16, column 41: personas.rules[0] (a).when.lifecycle.gte: expected a number, got 'target'"));
  EXPECT_THAT(ErrorsWith("personas:\n  rules:\n    - {name: a, when: {phase: {gte: 2}}}\n"),
              ElementsAre("line 16, column 31: personas.rules[0] (a).when.phase: a stage or emotion is compared by name: use a name, eq, ne or in"));
  EXPECT_THAT(ErrorsWith("personas:\n  rules:\n    - {name: a, when: {emotion: {in: [happy, angry]}}}\n"),
              ElementsAre("line 16, column 33: personas.rules[0] (a).when.emotion: unknown emotion label 'happy' (expected one of: "
                          "angry, disillusioned, uninterested, disinterest, interest, satisfaction, delight, trust)"));
  EXPECT_THAT(ErrorsWith("personas:\n  rules:\n    - {name: a, when: {clv: high}}\n"),
              ElementsAre("line 16, column 29: personas.rules[0] (a).when.clv: a number field: use a number, eq, ne, gt, gte, lt or lte with a number"));
  EXPECT_THAT(ErrorsWith("personas:\n  rules:\n    - {name: a, when: {prob_alive: {in: [1]}}}\n"),
              ElementsAre("line 16, column 36: personas.rules[0] (a).when.prob_alive: a number field: use a number, eq, ne, gt, gte, lt or lte with a number"));
  EXPECT_THAT(ErrorsWith("personas:\n  rules:\n    - {name: a, when: {channel.fax: {gte: 0.5}}}\n"),
              ElementsAre("line 16, column 37: personas.rules[0] (a).when.channel.fax: unknown channel group 'fax' (expected web, mobile, email, store or other)"));
  // Good rules load, saying what they read.
  auto m = JourneyMap::Parse(std::string(kViews) +
                             "personas:\n  rules:\n    - {name: a, when: {funnel: {in: [interest, nodwell]}, emotion: trust}}\n");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE((*m)->personas_read_state());
  EXPECT_FALSE((*m)->personas_read_value());
  m = JourneyMap::Parse(std::string(kViews) + "personas:\n  rules:\n    - {name: a, when: {channel.store: {gt: 0.5}, orders: 2}}\n");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FALSE((*m)->personas_read_state());
  EXPECT_TRUE((*m)->personas_read_value());
}

TEST(JourneyMapErrors, RescuePaths) {
  EXPECT_THAT(ErrorsWith("rescue_paths:\n  - {name: a, action: x, trigger: {on: [X]}}\n  - {name: a, action: y, trigger: {on: [Y]}}\n"),
              ElementsAre("line 16, column 12: rescue_paths[1].name: duplicate rescue path 'a'"));
  EXPECT_THAT(ErrorsWith("rescue_paths:\n  - {name: a, trigger: {on: [X]}}\n"), ElementsAre("line 15, column 5: rescue_paths[0]: missing action"));
  EXPECT_THAT(ErrorsWith("rescue_paths:\n  - {name: a, action: x}\n"), ElementsAre("line 15, column 5: rescue_paths[0]: missing trigger"));
  EXPECT_THAT(ErrorsWith("rescue_paths:\n  - {name: a, action: x, trigger: {}}\n"),
              ElementsAre("line 15, column 35: rescue_paths[0].trigger: fires on nothing (give on, stuck_in, usage_drop_before_renewal or emotion_below)"));
  EXPECT_THAT(ErrorsWith("rescue_paths:\n  - {name: a, action: x, trigger: {stuck_in: {funnel: [heaven]}}}\n"),
              ElementsAre("line 15, column 56: rescue_paths[0].trigger.stuck_in.funnel[0]: unknown funnel stage 'heaven'",
                          "line 15, column 35: rescue_paths[0].trigger: fires on nothing (give on, stuck_in, usage_drop_before_renewal or emotion_below)"));
  EXPECT_THAT(ErrorsWith("rescue_paths:\n  - {name: a, action: x, trigger: {stuck_in: {funnel: [nodwell]}}}\n"),
              ElementsAre("line 15, column 56: rescue_paths[0].trigger.stuck_in.funnel[0]: stage 'nodwell' has no dwell, so it can never be overstayed"));
  EXPECT_THAT(ErrorsWith("rescue_paths:\n  - {name: a, action: x, trigger: {stuck_in: {funnel: [interest], phase: [consideration]}}}\n"),
              ElementsAre("line 15, column 46: rescue_paths[0].trigger.stuck_in: name exactly one view"));
  EXPECT_THAT(ErrorsWith("rescue_paths:\n  - {name: a, action: x, trigger: {on: [X]}, p_success_with: 0.1, p_success_without: 0.2}\n"),
              ElementsAre("line 15, column 62: rescue_paths[0].p_success_with: is below p_success_without: the rescue would never be worth it"));
  EXPECT_THAT(ErrorsWith("rescue_paths:\n  - {name: a, action: x, trigger: {on: [X]}, outcome_window: forever}\n"),
              ElementsAre("line 15, column 62: rescue_paths[0].outcome_window: expected a duration like 14d, 12h, 30m, got 'forever'"));
  EXPECT_THAT(ErrorsWith("rescue_paths: {a: 1}\n"), ElementsAre("line 14, column 15: rescue_paths: expected a list"));
}

TEST(JourneyMapErrors, CriticalAndPostPurchase) {
  EXPECT_THAT(ErrorsWith("experience_critical:\n  - {name: refund, events: [Order Refunded]}\n"),
              ElementsAre("line 15, column 5: experience_critical[0].tiers: expected a non-empty list of tiers"));
  EXPECT_THAT(ErrorsWith("experience_critical:\n  - name: refund\n    events: [R]\n    tiers:\n      - {name: low, min_value: 0, channels: [email]}\n"
                         "      - {name: high, min_value: 500, channels: [phone]}\n"),
              ElementsAre("line 19, column 33: experience_critical[0].tiers[1].min_value: tiers must be listed from the highest min_value down"));
  EXPECT_THAT(ErrorsWith("experience_critical:\n  - {name: refund, events: [R], tiers: [{name: t}]}\n"),
              ElementsAre("line 15, column 41: experience_critical[0].tiers[0]: missing channels"));
  EXPECT_THAT(ErrorsWith("post_purchase: {happy: {min_nps: 5}, unhappy: {max_nps: 6}}\n"),
              ElementsAre("line 14, column 16: post_purchase: unhappy.max_nps must be below happy.min_nps"));
  EXPECT_THAT(ErrorsWith("post_purchase: {delay: later}\n"),
              ElementsAre("line 14, column 24: post_purchase.delay: expected a duration like 14d, 12h, 30m, got 'later'"));
}

TEST(JourneyMapErrors, ReportsEveryErrorAtOnce) {
  auto errors = ErrorsWith("usage: {weeks: 9, drop: 3}\npost_purchase: {delay: x}\n");
  EXPECT_EQ(errors.size(), 3u);
}

}  // namespace
}  // namespace cairn::journey
