// Shifted-beta-geometric: Fader & Hardie (2007)'s published fits on their two cohorts, the
// survival/retention identities, and DERL against its ₂F₁ closed form (Fader & Hardie 2010).

#include "value/sbg.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "value/special.h"

namespace cairn::value {
namespace {

// Fader & Hardie (2007), Table 1 / Figure 1: customers still active after t renewals (of 1000), years
// 0–12. The paper fits years 0–7 and projects years 8–12.
constexpr int64_t kRegular[] = {1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173};
constexpr int64_t kHighEnd[] = {1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394};

// The paper reports α and β to three decimals.
double Round3(double v) { return std::round(v * 1000) / 1000; }

TEST(SbgTest, ReproducesFaderHardie2007) {
  struct Case {
    const int64_t* survivors;
    double alpha, beta;
    const char* name;
  };
  for (const Case& c : {Case{kRegular, 0.704, 1.182, "regular"}, Case{kHighEnd, 0.668, 3.806, "high end"}}) {
    auto data = SbgFromSurvivors(std::span(c.survivors, 8));
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    auto fit = FitSbg(*data);
    ASSERT_TRUE(fit.ok()) << fit.status().ToString();
    EXPECT_TRUE(fit->report.converged) << fit->report.message;
    EXPECT_EQ(fit->report.customers, 1000);
    EXPECT_DOUBLE_EQ(Round3(fit->params.alpha), c.alpha) << c.name << " alpha " << fit->params.alpha;
    EXPECT_DOUBLE_EQ(Round3(fit->params.beta), c.beta) << c.name << " beta " << fit->params.beta;
    // Log-likelihoods at the optimum (the paper's spreadsheets): regular −1680.3, high end −1611.2.
    EXPECT_NEAR(fit->report.log_likelihood, c.survivors == kRegular ? -1680.265 : -1611.158, 1e-3) << c.name;
    std::printf("%s: alpha=%.4f beta=%.4f LL=%.3f; projected survivors years 8-12:", c.name, fit->params.alpha,
                fit->params.beta, fit->report.log_likelihood);
    double max_err = 0;
    for (int t = 8; t <= 12; ++t) {
      const double projected = 1000 * SbgSurvival(fit->params, t);
      std::printf(" %.0f (actual %lld)", projected, static_cast<long long>(c.survivors[t]));
      max_err = std::max(max_err, std::fabs(projected - static_cast<double>(c.survivors[t])) / c.survivors[t]);
    }
    std::printf("\n");
    // The paper's point: the sBG projects five years ahead within a few percent.
    EXPECT_LT(max_err, 0.06) << c.name;
  }
}

TEST(SbgTest, SurvivalRetentionAndLikelihoodIdentities) {
  const SbgParams p{0.704, 1.182};
  EXPECT_DOUBLE_EQ(SbgSurvival(p, 0), 1);
  EXPECT_NEAR(SbgProbChurnAt(p, 1), p.alpha / (p.alpha + p.beta), 1e-14);
  double s = 1;
  for (int t = 1; t <= 30; ++t) {
    s -= SbgProbChurnAt(p, t);
    EXPECT_NEAR(SbgSurvival(p, t), s, 1e-12) << t;
    EXPECT_NEAR(SbgRetentionRate(p, t), SbgSurvival(p, t) / SbgSurvival(p, t - 1), 1e-12) << t;
  }
  // Retention rises with tenure (the heterogeneity effect the papers are about).
  EXPECT_LT(SbgRetentionRate(p, 1), SbgRetentionRate(p, 5));
  EXPECT_TRUE(std::isnan(SbgSurvival({-1, 1}, 1)));
  EXPECT_FALSE(FitSbg(std::vector<SbgObservation>{{0, true, 5}}).ok());  // nobody renewed: not identified
  EXPECT_FALSE(SbgFromSurvivors(std::vector<int64_t>{100, 120}).ok());
}

TEST(SbgTest, DiscountedResidualLifetimeMatchesTheClosedForm) {
  for (const SbgParams p : {SbgParams{0.704, 1.182}, SbgParams{0.668, 3.806}, SbgParams{3, 0.5}})
    for (int64_t n : {0, 1, 4, 20})
      for (double d : {0.1, 0.01}) {
        const double closed = (p.beta + n) / (p.alpha + p.beta + n) *
                               std::exp(LogHyp2F1(1, p.beta + n + 1, p.alpha + p.beta + n + 1, 1 / (1 + d)));
        EXPECT_NEAR(SbgDiscountedResidualLifetime(p, n, d), closed, 1e-9 * closed) << p.alpha << " " << n << " " << d;
      }
  // A customer with a longer tenure is worth more (they are likelier a low-churn type).
  const SbgParams p{0.704, 1.182};
  EXPECT_GT(SbgDiscountedResidualLifetime(p, 5, 0.1), SbgDiscountedResidualLifetime(p, 0, 0.1));
  EXPECT_TRUE(std::isnan(SbgDiscountedResidualLifetime(p, 0, 0)));
}

}  // namespace
}  // namespace cairn::value
