#include "rescue/decision_math.h"

#include <gtest/gtest.h>

namespace cairn::rescue {
namespace {

PathConfig Path(double cost, double p_rescue, double p_none, double strength = 10) {
  PathConfig p;
  p.name = "going_cold";
  p.action = "send case studies";
  p.cost = cost;
  p.prior_p_rescue = p_rescue;
  p.prior_p_none = p_none;
  p.prior_strength = strength;
  return p;
}

// Golden cases: value at stake × (p_rescue − p_none) − cost, on the priors.
TEST(DecisionMathTest, GoldenCasesOnPriors) {
  struct Case {
    double value, cost, pr, pn, gain;
    bool rescue;
  } cases[] = {
      {1000, 50, 0.30, 0.10, 150, true},     // 1000 × 0.2 − 50
      {200, 50, 0.30, 0.10, -10, false},     // 200 × 0.2 − 50
      {250, 50, 0.30, 0.10, 0, false},       // exactly zero is not worth it
      {5000, 0, 0.50, 0.50, 0, false},       // no uplift, free: still not positive
      {0, 10, 0.9, 0.1, -10, false},         // nothing at stake
      {10000, 400, 0.25, 0.05, 1600, true},  // 10000 × 0.2 − 400
      {800, 100, 0.10, 0.30, -260, false},   // a rescue that backfires
  };
  for (const auto& c : cases) {
    DecisionMath m = ComputeDecision(Path(c.cost, c.pr, c.pn), c.value, {}, {}, std::nullopt);
    EXPECT_NEAR(m.expected_gain, c.gain, 1e-9) << c.value << " " << c.cost;
    EXPECT_EQ(m.rescue, c.rescue) << c.value << " " << c.cost;
    EXPECT_DOUBLE_EQ(m.p_rescue, c.pr);
    EXPECT_DOUBLE_EQ(m.p_none, c.pn);
  }
}

TEST(DecisionMathTest, PosteriorMovesFromPriorTowardsObservedRate) {
  // Prior 0.3 with strength 10 = Beta(3, 7). 8 successes of 10 → (3 + 8) / 20.
  EXPECT_DOUBLE_EQ(PosteriorMean(0.3, 10, {}), 0.3);
  EXPECT_DOUBLE_EQ(PosteriorMean(0.3, 10, {8, 2}), 11.0 / 20.0);
  EXPECT_DOUBLE_EQ(PosteriorMean(0.3, 10, {0, 10}), 3.0 / 20.0);
  // Many outcomes dominate the prior.
  EXPECT_NEAR(PosteriorMean(0.3, 10, {900, 100}), 0.9, 0.01);
}

TEST(DecisionMathTest, LearnedChancesChangeTheVerdict) {
  PathConfig p = Path(50, 0.30, 0.10);
  // On priors: 400 × 0.2 − 50 = 30 → rescue.
  EXPECT_TRUE(ComputeDecision(p, 400, {}, {}, std::nullopt).rescue);
  // Rescues rarely worked (1 of 10): p_rescue = (3 + 1) / 20 = 0.2; gain = 400 × 0.1 − 50 = −10.
  DecisionMath m = ComputeDecision(p, 400, {1, 9}, {}, std::nullopt);
  EXPECT_DOUBLE_EQ(m.p_rescue, 0.2);
  EXPECT_NEAR(m.expected_gain, -10, 1e-9);
  EXPECT_FALSE(m.rescue);
  EXPECT_NE(m.explanation.find("learned from 10 outcomes (1 succeeded)"), std::string::npos) << m.explanation;
}

TEST(DecisionMathTest, BudgetLimitsRescuesThatAreWorthIt) {
  PathConfig p = Path(100, 0.5, 0.1);
  DecisionMath fits = ComputeDecision(p, 1000, {}, {}, BudgetState{250, 150});
  EXPECT_TRUE(fits.rescue);
  EXPECT_NE(fits.explanation.find("Budget left this period after it: 0.00 of 250.00"), std::string::npos) << fits.explanation;
  DecisionMath over = ComputeDecision(p, 1000, {}, {}, BudgetState{250, 151});
  EXPECT_TRUE(over.worth);
  EXPECT_FALSE(over.within_budget);
  EXPECT_FALSE(over.rescue);
  EXPECT_NE(over.explanation.find("over budget"), std::string::npos) << over.explanation;
}

TEST(DecisionMathTest, ExplanationStatesTheNumbers) {
  DecisionMath m = ComputeDecision(Path(50, 0.3, 0.1), 1000, {}, {}, std::nullopt);
  EXPECT_EQ(m.explanation,
            "Expected gain 150.00 = value at stake 1000.00 × (p(success|rescue) 0.300 − p(success|none) 0.100) − cost "
            "50.00. p(success|rescue) 0.300 is the prior (no outcomes yet); p(success|none) 0.100 is the prior (no "
            "outcomes yet). Worth rescuing.");
}

TEST(DecisionMathTest, ValidationNamesTheField) {
  PathConfig p = Path(10, 1.5, 0.1);
  EXPECT_EQ(ValidatePath(p).message(), "paths[going_cold].prior_p_rescue: must be in [0, 1], got 1.5");
  p = Path(-1, 0.3, 0.1);
  EXPECT_EQ(ValidatePath(p).message(), "paths[going_cold].cost: must be a finite number >= 0, got -1");
  p = Path(1, 0.3, 0.1, 0);
  EXPECT_EQ(ValidatePath(p).message(), "paths[going_cold].prior_strength: must be > 0, got 0");
  p = Path(1, 0.3, 0.1);
  p.outcome_window_ms = 0;
  EXPECT_EQ(ValidatePath(p).message(), "paths[going_cold].outcome_window: must be positive");
  EXPECT_TRUE(ValidatePath(Path(1, 0.3, 0.1)).ok());
}

}  // namespace
}  // namespace cairn::rescue
