// NPS / CSAT / CES against hand-computed cases.
#include "feedback/survey.h"

#include <gtest/gtest.h>

#include <cmath>

namespace cairn::feedback {
namespace {

TEST(Nps, HandComputed) {
  NpsStats s;
  for (int v : {10, 9, 9, 8, 7, 6, 5, 0, 10, 3}) s.Add(v);
  s.Finish();
  EXPECT_EQ(s.responses, 10);
  EXPECT_EQ(s.promoters, 4);
  EXPECT_EQ(s.passives, 2);
  EXPECT_EQ(s.detractors, 4);
  EXPECT_DOUBLE_EQ(s.nps, 0);
  // pp = pd = 0.4: variance 0.8 − 0 = 0.8; half width 1.96·√(0.8/10)·100 = 55.4372…
  EXPECT_NEAR(s.ci_high, 55.4372, 1e-3);
  EXPECT_NEAR(s.ci_low, -55.4372, 1e-3);
}

TEST(Nps, IntervalIsClamped) {
  NpsStats s;
  for (int i = 0; i < 7; ++i) s.Add(10);
  s.Add(7);
  s.Add(8);
  s.Add(2);
  s.Finish();
  EXPECT_DOUBLE_EQ(s.nps, 60);
  // variance 0.8 − 0.36 = 0.44: half width 1.96·√0.044·100 = 41.113…
  EXPECT_NEAR(s.ci_low, 18.887, 1e-3);
  EXPECT_DOUBLE_EQ(s.ci_high, 100);
  NpsStats empty;
  empty.Finish();
  EXPECT_EQ(empty.nps, 0);
}

TEST(Csat, HandComputed) {
  CsatStats s;
  for (int v : {5, 4, 3, 2, 1, 5}) s.Add(v);
  s.Finish();
  EXPECT_DOUBLE_EQ(s.csat, 50);
  EXPECT_NEAR(s.mean, 20.0 / 6, 1e-12);
}

TEST(Ces, HandComputed) {
  CesStats s;
  for (int v : {7, 5, 4, 1}) s.Add(v);
  s.Finish();
  EXPECT_DOUBLE_EQ(s.easy_pct, 50);
  EXPECT_DOUBLE_EQ(s.mean, 4.25);
}

TEST(Survey, RangesAndBands) {
  EXPECT_TRUE(ValidateScore(SurveyKind::kNps, 0).ok());
  EXPECT_FALSE(ValidateScore(SurveyKind::kNps, 11).ok());
  EXPECT_FALSE(ValidateScore(SurveyKind::kCsat, 0).ok());
  EXPECT_FALSE(ValidateScore(SurveyKind::kCes, 8).ok());
  EXPECT_NE(ValidateScore(SurveyKind::kCes, 8).message().find("score"), std::string_view::npos);
  EXPECT_EQ(BandOf(SurveyKind::kNps, 6), Band::kLow);
  EXPECT_EQ(BandOf(SurveyKind::kNps, 7), Band::kMid);
  EXPECT_EQ(BandOf(SurveyKind::kNps, 9), Band::kHigh);
  EXPECT_EQ(BandOf(SurveyKind::kCsat, 3), Band::kMid);
  EXPECT_EQ(BandOf(SurveyKind::kCes, 3), Band::kLow);
  EXPECT_EQ(ParseSurveyKind("csat"), SurveyKind::kCsat);
  EXPECT_FALSE(ParseSurveyKind("xyz").has_value());
}

}  // namespace
}  // namespace cairn::feedback
