// Properties the model formulas must satisfy whatever the data: probabilities sum to one, their
// mean is the closed-form expectation, the two Pareto/NBD branches agree at α = β, the A₀ series
// and quadrature agree, CLV reduces to E[M]·E[Y] without discounting.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "value/bgnbd.h"
#include "value/clv.h"
#include "value/fit.h"
#include "value/gamma_gamma.h"
#include "value/pareto_nbd.h"
#include "value/scorer.h"

namespace cairn::value {
namespace {

// A maximum is `stationary` (the gradient ~0 there), which the value engine keeps, even when it is
// not a clean convergence: on a parameter's bound with a flat likelihood there (the model's limit
// case), or with the starts ending on different local maxima (the highest is kept). A likelihood
// still rising at the bound (the gradient not ~0) is neither.
TEST(Fit, AMaximumIsStationaryEvenWhenNotCleanlyConverged) {
  FitOptions o;
  auto flat = MaximizeLogLikelihood([](const std::vector<double>& x) { return -(x[0] - 1) * (x[0] - 1) - std::exp(-x[1]); },
                                    2, {{0, 0}}, o);
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  EXPECT_FALSE(flat->report.converged);
  EXPECT_TRUE(flat->report.stationary) << flat->report.message;
  EXPECT_NEAR(flat->log_params[0], 1, 1e-4);
  auto rising = MaximizeLogLikelihood([](const std::vector<double>& x) { return -(x[0] - 1) * (x[0] - 1) + x[1]; },
                                      2, {{0, 0}}, o);
  ASSERT_TRUE(rising.ok());
  EXPECT_FALSE(rising->report.converged);
  EXPECT_FALSE(rising->report.stationary) << rising->report.message;
  auto interior = MaximizeLogLikelihood([](const std::vector<double>& x) { return -(x[0] - 1) * (x[0] - 1) - (x[1] + 2) * (x[1] + 2); },
                                        2, {{0, 0}}, o);
  ASSERT_TRUE(interior.ok());
  EXPECT_TRUE(interior->report.converged) << interior->report.message;
  EXPECT_TRUE(interior->report.stationary);
  // Two hills, one start on each: they disagree, and the higher hill is the answer.
  auto hills = MaximizeLogLikelihood(
      [](const std::vector<double>& x) {
        return std::log(std::exp(-(x[0] - 2) * (x[0] - 2)) + 0.5 * std::exp(-(x[0] + 2) * (x[0] + 2))) - x[1] * x[1];
      },
      2, {{1.5, 0}, {-1.5, 0}}, o);
  ASSERT_TRUE(hills.ok());
  EXPECT_FALSE(hills->report.converged);
  EXPECT_EQ(hills->report.starts_agreeing, 1);
  EXPECT_TRUE(hills->report.stationary) << hills->report.message;
  EXPECT_NEAR(hills->log_params[0], 2, 1e-3);
}

TEST(BgNbd, PurchaseCountDistributionSumsToOneWithTheRightMean) {
  for (BgNbdParams p : {BgNbdParams{0.243, 4.414, 0.793, 2.426}, BgNbdParams{2.0, 3.0, 1.5, 4.0}}) {
    const double t = 39;
    double total = 0, mean = 0;
    for (int n = 0; n < 400; ++n) {
      const double pn = BgNbdProbPurchases(p, t, n);
      ASSERT_GE(pn, -1e-15) << n;
      total += pn;
      mean += n * pn;
    }
    EXPECT_NEAR(total, 1, 1e-9);
    EXPECT_NEAR(mean, BgNbdExpected(p, t), 1e-6);
  }
}

// The conditional mean's closed form (₂F₁) and its definition by quadrature agree wherever the
// closed form is well conditioned.
TEST(BgNbd, QuadratureEqualsTheClosedFormWhereBothHold) {
  for (BgNbdParams p : {BgNbdParams{0.243, 4.414, 0.793, 2.426}, BgNbdParams{2.0, 3.0, 1.5, 4.0},
                        BgNbdParams{0.9, 5.5, 3.0, 0.8}, BgNbdParams{10.0, 0.5, 0.2, 30.0}}) {
    for (int64_t x : {0, 1, 4, 25}) {
      for (double T : {0.5, 10.0, 39.0}) {
        for (double t : {1.0, 13.0, 52.0}) {
          const double closed = BgNbdExpectedIfAlive(p, t, x, T);
          const double quad = BgNbdMeanPurchasesByQuadrature(p.r + x, p.alpha + T, t, p.a, p.b + x);
          ASSERT_NEAR(quad, closed, 1e-7 * closed) << p.r << " " << p.alpha << " " << p.a << " " << p.b << " x=" << x
                                                   << " T=" << T << " t=" << t;
        }
      }
    }
    EXPECT_NEAR(BgNbdMeanPurchasesByQuadrature(p.r, p.alpha, 39, p.a, p.b), BgNbdExpected(p, 39), 1e-7 * BgNbdExpected(p, 39));
  }
}

// A young business's fit degenerates (a -> 0: no one drops out; b below 1), where the closed form's
// ₂F₁ is undefined for customers without repeat purchases: their predictions are still finite, and
// at a -> 0 they are the no-drop-out limit E[λ]·t. (Before, these were NaN and every total of the
// value summary that included such a customer was null.)
TEST(BgNbd, PredictionsStayFiniteAtDegenerateFits) {
  const double E = std::exp(20.0);
  int checked = 0;
  for (double r : {0.1, 0.9, 10.0}) {
    for (double alpha : {0.5, 5.5}) {
      for (double a : {1 / E, 1e-4, 0.5, 1.0, 1 + 1e-6, 3.0, E}) {
        for (double b : {1 / E, 1e-4, 0.5, 1.0, 3.0, E}) {
          const BgNbdParams p{r, alpha, a, b};
          ASSERT_TRUE(std::isfinite(BgNbdExpected(p, 52))) << r << " " << alpha << " " << a << " " << b;
          for (int64_t x : {0, 1, 5, 30}) {
            for (double T : {0.1, 3.0, 17.0}) {
              const double tx = x == 0 ? 0 : 0.6 * T;
              const double e = BgNbdConditionalExpected(p, 52, x, tx, T);
              const double pa = BgNbdProbAlive(p, x, tx, T);
              ASSERT_TRUE(std::isfinite(e) && e >= 0) << e << ": " << r << " " << alpha << " " << a << " " << b << " x=" << x << " T=" << T;
              ASSERT_TRUE(pa >= 0 && pa <= 1) << pa;
              ++checked;
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 3 * 2 * 7 * 6 * 4 * 3);
  const BgNbdParams young{0.9, 5.5, 1 / E, 0.5};
  EXPECT_NEAR(BgNbdExpectedIfAlive(young, 52, 0, 17), 0.9 * 52 / (5.5 + 17), 1e-6);
  // a = 1 (the closed form's 0/0) lies between its neighbours.
  const double below = BgNbdExpectedIfAlive({0.9, 5.5, 0.99, 2.0}, 52, 2, 17);
  const double at = BgNbdExpectedIfAlive({0.9, 5.5, 1.0, 2.0}, 52, 2, 17);
  const double above = BgNbdExpectedIfAlive({0.9, 5.5, 1.01, 2.0}, 52, 2, 17);
  EXPECT_TRUE(std::min(below, above) <= at && at <= std::max(below, above)) << below << " " << at << " " << above;
}

TEST(BgNbd, PredictionsBehave) {
  const BgNbdParams p{0.243, 4.414, 0.793, 2.426};
  EXPECT_EQ(BgNbdProbAlive(p, 0, 0, 30), 1);  // no repeat: never observed to drop out
  // A long silence since the last purchase lowers P(alive) and the forecast.
  EXPECT_GT(BgNbdProbAlive(p, 5, 35, 38), BgNbdProbAlive(p, 5, 5, 38));
  EXPECT_GT(BgNbdConditionalExpected(p, 39, 5, 35, 38), BgNbdConditionalExpected(p, 39, 5, 5, 38));
  EXPECT_EQ(BgNbdConditionalExpected(p, 0, 3, 10, 20), 0);
  // The per-customer likelihood of a customer with x = 0 is P(no purchase in (0, T]).
  EXPECT_NEAR(std::exp(BgNbdLogLikelihood(p, 0, 0, 38)), BgNbdProbPurchases(p, 38, 0), 1e-12);
  EXPECT_TRUE(std::isnan(BgNbdLogLikelihood({-1, 1, 1, 1}, 0, 0, 1)));
}

TEST(ParetoNbd, BranchesAgreeAtAlphaEqualsBeta) {
  const double t_x = 20, T = 38;
  ParetoNbdParams below{0.55, 10.0 - 1e-9, 0.6, 10.0}, above{0.55, 10.0 + 1e-9, 0.6, 10.0};
  EXPECT_NEAR(ParetoNbdLogLikelihood(below, 3, t_x, T), ParetoNbdLogLikelihood(above, 3, t_x, T), 1e-8);
}

TEST(ParetoNbd, A0SeriesAndQuadratureAgreeOnBothBranches) {
  for (ParetoNbdParams p : {ParetoNbdParams{0.553, 10.578, 0.606, 11.669}, ParetoNbdParams{0.553, 40, 0.606, 2},
                            ParetoNbdParams{3, 200, 2, 1}, ParetoNbdParams{1, 0.5, 1.5, 90}}) {
    for (double x : {0.0, 1.0, 7.0, 30.0}) {
      const double t_x = x == 0 ? 0 : 12.3, T = 38.86;
      const double series = ParetoNbdLogA0Series(p, x, t_x, T, 2'000'000);
      const double quad = ParetoNbdLogA0Quadrature(p, x, t_x, T);
      ASSERT_TRUE(std::isfinite(series));
      EXPECT_NEAR(quad, series, 1e-10 * std::max(1.0, std::abs(series))) << p.alpha << " " << p.beta << " x=" << x;
    }
  }
}

TEST(ParetoNbd, PurchaseCountDistributionSumsToOneWithTheRightMean) {
  for (ParetoNbdParams p : {ParetoNbdParams{0.553, 10.578, 0.606, 11.669}, ParetoNbdParams{1.2, 8, 2.5, 3}}) {
    const double t = 39;
    double total = 0, mean = 0;
    for (int n = 0; n < 300; ++n) {
      const double pn = ParetoNbdProbPurchases(p, t, n);
      ASSERT_GE(pn, -1e-12) << n;
      total += pn;
      mean += n * pn;
    }
    EXPECT_NEAR(total, 1, 1e-8) << p.alpha;
    EXPECT_NEAR(mean, ParetoNbdExpected(p, t), 1e-4) << p.alpha;
  }
}

TEST(ParetoNbd, LikelihoodOfANonBuyerIsTheProbabilityOfNoPurchase) {
  const ParetoNbdParams p{0.553, 10.578, 0.606, 11.669};
  EXPECT_NEAR(std::exp(ParetoNbdLogLikelihood(p, 0, 0, 38)), ParetoNbdProbPurchases(p, 38, 0), 1e-10);
  EXPECT_NEAR(ParetoNbdProbAlive(p, 4, 38, 38), 1, 1e-12);  // bought at the very end: alive
  EXPECT_LT(ParetoNbdProbAlive(p, 4, 2, 38), 0.5);
}

TEST(GammaGamma, ExpectedSpendShrinksTowardsThePopulationMean) {
  const GammaGammaParams g{6.25, 3.74, 15.44};
  const double pop = g.gamma * g.p / (g.q - 1);
  EXPECT_NEAR(GammaGammaExpectedSpend(g, 0, 0), pop, 1e-12);
  const double one = GammaGammaExpectedSpend(g, 1, 100), many = GammaGammaExpectedSpend(g, 20, 100);
  EXPECT_GT(one, pop);
  EXPECT_LT(one, many);
  EXPECT_LT(many, 100);
  EXPECT_TRUE(std::isnan(GammaGammaExpectedSpend({1, 0.5, 1}, 1, 10)));  // q ≤ 1: no finite mean
  EXPECT_TRUE(std::isnan(GammaGammaLogLikelihood(g, 1, 0)));           // zero average: no density
}

// Summaries of varied shape (x = 0 rows, t_x = T, long ages) for the gradient checks.
std::vector<RfmSummary> VariedSummaries(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<RfmSummary> rows;
  for (int i = 0; i < n; ++i) {
    RfmSummary s;
    s.T = static_cast<double>(1 + rng() % 500) / 7;
    s.x = static_cast<int64_t>(rng() % 4 == 0 ? 0 : rng() % 25);
    s.t_x = s.x == 0 ? 0 : (i % 9 == 0 ? s.T : s.T * static_cast<double>(rng() % 1000) / 1000);
    rows.push_back(s);
  }
  return rows;
}

// ∂/∂ln θ_i by central differences of `f` on the log scale.
template <typename F>
std::vector<double> CentralDifferences(const F& f, std::vector<double> log_params, double h) {
  std::vector<double> g(log_params.size());
  for (size_t i = 0; i < log_params.size(); ++i) {
    auto up = log_params, dn = log_params;
    up[i] += h;
    dn[i] -= h;
    g[i] = (f(up) - f(dn)) / (2 * h);
  }
  return g;
}

TEST(BgNbd, AnalyticGradientMatchesCentralDifferences) {
  const auto rows = VariedSummaries(3000, 5);
  const FitData data = CompressForFit(rows);
  ASSERT_TRUE(data.Indexed());
  for (BgNbdParams p : {BgNbdParams{0.243, 4.414, 0.793, 2.426}, BgNbdParams{2.0, 3.0, 1.5, 4.0},
                        BgNbdParams{0.05, 60, 6, 0.3}, BgNbdParams{12, 0.4, 0.08, 25}}) {
    // The indexed, tabulated sum is the per-customer likelihood summed.
    double plain = 0;
    for (const auto& s : rows) plain += BgNbdLogLikelihood(p, s.x, s.t_x, s.T);
    double g[4];
    const double ll = BgNbdLogLikelihoodGradient(p, data, g, 2);
    EXPECT_NEAR(ll, plain, 1e-9 * std::abs(plain));
    auto f = [&](const std::vector<double>& lp) {
      return BgNbdLogLikelihood({std::exp(lp[0]), std::exp(lp[1]), std::exp(lp[2]), std::exp(lp[3])}, data);
    };
    const auto fd = CentralDifferences(f, {std::log(p.r), std::log(p.alpha), std::log(p.a), std::log(p.b)}, 1e-5);
    for (int i = 0; i < 4; ++i)
      EXPECT_NEAR(g[i], fd[i], 1e-6 * std::max(1.0, std::abs(fd[i])) + 1e-5) << "parameter " << i << " at r=" << p.r;
  }
  // Unindexed data (built by hand) give the same answer.
  FitData bare;
  bare.x = {0, 3, 1};
  bare.t_x = {0, 20.5, 4};
  bare.T = {30, 38, 12};
  bare.weight = {2, 1, 5};
  bare.customers = 8;
  bare.max_x = 3;
  const BgNbdParams p{0.243, 4.414, 0.793, 2.426};
  const double want = 2 * BgNbdLogLikelihood(p, 0, 0, 30) + BgNbdLogLikelihood(p, 3, 20.5, 38) +
                      5 * BgNbdLogLikelihood(p, 1, 4, 12);
  EXPECT_NEAR(BgNbdLogLikelihood(p, bare), want, 1e-10 * std::abs(want));
  EXPECT_TRUE(std::isnan(BgNbdLogLikelihoodGradient({0.2, -1, 1, 1}, data, nullptr)));
}

TEST(GammaGamma, AnalyticGradientMatchesCentralDifferences) {
  std::mt19937_64 rng(3);
  SpendData d;
  for (int i = 0; i < 3000; ++i) {
    d.x.push_back(static_cast<double>(1 + rng() % 30));
    d.m_x.push_back(0.5 + static_cast<double>(rng() % 100000) / 100);
  }
  double plain = 0;
  for (size_t i = 0; i < d.x.size(); ++i) plain += GammaGammaLogLikelihood({6.25, 3.74, 15.44}, d.x[i], d.m_x[i]);
  d.Prepare();
  ASSERT_TRUE(d.valid);
  for (GammaGammaParams g : {GammaGammaParams{6.25, 3.74, 15.44}, GammaGammaParams{0.3, 0.8, 2},
                             GammaGammaParams{40, 15, 900}, GammaGammaParams{1, 1.5, 0.01}}) {
    double grad[3];
    const double ll = GammaGammaLogLikelihoodGradient(g, d, grad, 2);
    if (g.p == 6.25) {
      EXPECT_NEAR(ll, plain, 1e-9 * std::abs(plain));
    }
    auto f = [&](const std::vector<double>& lp) {
      return GammaGammaLogLikelihood({std::exp(lp[0]), std::exp(lp[1]), std::exp(lp[2])}, d);
    };
    const auto fd = CentralDifferences(f, {std::log(g.p), std::log(g.q), std::log(g.gamma)}, 1e-5);
    for (int i = 0; i < 3; ++i)
      EXPECT_NEAR(grad[i], fd[i], 1e-6 * std::max(1.0, std::abs(fd[i])) + 1e-5) << "parameter " << i << " at p=" << g.p;
  }
  SpendData bad = d;
  bad.m_x[7] = 0;
  bad.Prepare();
  EXPECT_FALSE(bad.valid);
  EXPECT_TRUE(std::isnan(GammaGammaLogLikelihoodGradient({6.25, 3.74, 15.44}, bad, nullptr)));
}

TEST(GammaGamma, FitRecoversSimulatedParameters) {
  std::mt19937_64 rng(7);
  const GammaGammaParams truth{4, 3, 20};
  SpendData d;
  for (int i = 0; i < 20000; ++i) {
    const double nu = std::gamma_distribution<double>(truth.q, 1 / truth.gamma)(rng);
    const int x = 1 + static_cast<int>(rng() % 6);
    double sum = 0;
    for (int k = 0; k < x; ++k) sum += std::gamma_distribution<double>(truth.p, 1 / nu)(rng);
    d.x.push_back(x);
    d.m_x.push_back(sum / x);
  }
  const double plain = GammaGammaLogLikelihood(truth, d);
  d.Prepare();  // the tabulated form must agree with the per-customer sum
  EXPECT_NEAR(GammaGammaLogLikelihood(truth, d, 2), plain, 1e-7 * std::abs(plain));
  auto fit = FitGammaGamma(d);
  ASSERT_TRUE(fit.ok());
  EXPECT_TRUE(fit->report.converged) << fit->report.message;
  EXPECT_NEAR(fit->params.p, truth.p, 0.1 * truth.p);
  EXPECT_NEAR(fit->params.q, truth.q, 0.1 * truth.q);
  EXPECT_NEAR(fit->params.gamma, truth.gamma, 0.15 * truth.gamma);
  SpendData one;
  one.x = {1};
  one.m_x = {2};
  EXPECT_FALSE(FitGammaGamma(one).ok());
}

TEST(BgNbd, FitRecoversSimulatedParametersAndRefusesUnidentifiedData) {
  std::mt19937_64 rng(11);
  const BgNbdParams truth{0.8, 6, 0.6, 3};
  std::vector<RfmSummary> rows;
  for (int i = 0; i < 10000; ++i) {
    const double lambda = std::gamma_distribution<double>(truth.r, 1 / truth.alpha)(rng);
    // p ~ Beta(a, b) from two gammas.
    const double g1 = std::gamma_distribution<double>(truth.a, 1)(rng), g2 = std::gamma_distribution<double>(truth.b, 1)(rng);
    const double p = g1 / (g1 + g2);
    RfmSummary s;
    s.T = 10 + (i % 30) / 7.0 * 7;
    double t = 0;
    while (true) {
      t += std::exponential_distribution<double>(lambda)(rng);
      if (t > s.T) break;
      ++s.x;
      s.t_x = std::floor(t * 7) / 7;  // whole days, as real summaries are (and so they compress)
      if (std::uniform_real_distribution<double>(0, 1)(rng) < p) break;
    }
    rows.push_back(s);
  }
  auto fit = FitBgNbd(CompressForFit(rows));
  ASSERT_TRUE(fit.ok());
  EXPECT_TRUE(fit->report.converged) << fit->report.message;
  EXPECT_NEAR(fit->params.r, truth.r, 0.15 * truth.r);
  EXPECT_NEAR(fit->params.alpha, truth.alpha, 0.2 * truth.alpha);
  EXPECT_NEAR(fit->params.a, truth.a, 0.25 * truth.a);
  EXPECT_NEAR(fit->params.b, truth.b, 0.35 * truth.b);
  std::vector<RfmSummary> none(10);
  for (auto& s : none) s.T = 5;
  auto bad = FitBgNbd(CompressForFit(none));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("no customer has a repeat purchase"), std::string_view::npos);
}

TEST(Clv, UndiscountedClvIsSpendTimesExpectedPurchases) {
  PurchaseModel m;
  m.bgnbd = {0.243, 4.414, 0.793, 2.426};
  const GammaGammaParams g{6.25, 3.74, 15.44};
  RfmSummary s;
  s.x = 2; s.t_x = 30.43; s.T = 38.86; s.m_x = 22.35;
  ClvOptions o;
  o.horizon = 39;
  o.step = 4;
  o.discount_rate = 0;
  const double want = GammaGammaExpectedSpend(g, 2, 22.35) * BgNbdConditionalExpected(m.bgnbd, 39, 2, 30.43, 38.86);
  EXPECT_NEAR(DiscountedClv(m, g, s, o), want, 1e-9);
  o.discount_rate = 0.01;
  EXPECT_LT(DiscountedClv(m, g, s, o), want);
  auto v = ScoreCustomer(m, g, s, o);
  EXPECT_NEAR(v.expected_purchases, 1.2260281747671445, 1e-12);
  EXPECT_GT(v.prob_alive, 0);
  EXPECT_LT(v.prob_alive, 1);
  m.kind = PurchaseModelKind::kParetoNbd;
  m.pareto_nbd = {0.553, 10.578, 0.606, 11.669};
  EXPECT_GT(DiscountedClv(m, g, s, o), 0);
  o.step = 0;
  EXPECT_FALSE(ValidateClvOptions(o).ok());
}

// The scorer's cached (x, T) factors give exactly ScoreCustomer's numbers, for customers sharing
// (x, T) with different recencies, under both purchase models, with the default CLV options and
// with a horizon that is not a whole number of steps.
TEST(Clv, ScorerGivesExactlyScoreCustomer) {
  const GammaGammaParams g{6.25, 3.74, 15.44};
  std::mt19937_64 rng(21);
  std::vector<RfmSummary> rows;
  for (int i = 0; i < 400; ++i) {
    RfmSummary s;
    s.T = static_cast<double>(20 + rng() % 10) / 7;  // few distinct T: pairs repeat
    s.x = static_cast<int64_t>(rng() % 5);
    s.t_x = s.x == 0 ? 0 : s.T * static_cast<double>(rng() % 100) / 100;
    s.m_x = s.x == 0 ? 0 : 1 + static_cast<double>(rng() % 5000) / 100;
    rows.push_back(s);
  }
  ClvOptions odd;
  odd.horizon = 30;
  odd.step = 4.345;
  for (const ClvOptions& o : {ClvOptions{}, odd}) {
    for (PurchaseModelKind kind : {PurchaseModelKind::kBgNbd, PurchaseModelKind::kParetoNbd}) {
      PurchaseModel m;
      m.kind = kind;
      m.bgnbd = {0.243, 4.414, 0.793, 2.426};
      m.pareto_nbd = {0.553, 10.578, 0.606, 11.669};
      CustomerScorer scorer(m, g, o);
      for (const auto& s : rows) {
        const CustomerValue want = ScoreCustomer(m, g, s, o), got = scorer.Score(s);
        ASSERT_EQ(got.prob_alive, want.prob_alive);
        ASSERT_EQ(got.expected_purchases, want.expected_purchases);
        ASSERT_EQ(got.expected_spend, want.expected_spend);
        ASSERT_EQ(got.clv, want.clv);
      }
      if (kind == PurchaseModelKind::kBgNbd) {
        EXPECT_LE(scorer.cached_pairs(), 50u);  // 10 ages × 5 counts, not 400 customers
      }
    }
  }
}

}  // namespace
}  // namespace cairn::value
