#include "value/special.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace cairn::value {
namespace {

TEST(Special, LnRisingFactorialIsExactWhereLgammaDifferencesAreNot) {
  EXPECT_DOUBLE_EQ(LnRisingFactorial(2.5, 0), 0);
  EXPECT_NEAR(LnRisingFactorial(2.5, 3), std::log(2.5 * 3.5 * 4.5), 1e-14);
  EXPECT_NEAR(LnRisingFactorial(0.243, 10), std::lgamma(10.243) - std::lgamma(0.243), 1e-12);
  // At c = 1e15, lgamma(c+3) − lgamma(c) is off by a large relative amount; the sum is not.
  const double c = 1e15;
  EXPECT_NEAR(LnRisingFactorial(c, 3), 3 * std::log(c), 1e-9);
}

TEST(Special, DigammaMatchesKnownValuesAndTheDerivativeOfLgamma) {
  constexpr double kEulerGamma = 0.57721566490153286061;
  EXPECT_NEAR(Digamma(1), -kEulerGamma, 4e-15);
  EXPECT_NEAR(Digamma(0.5), -kEulerGamma - 2 * std::log(2.0), 4e-15);
  EXPECT_NEAR(Digamma(10), 1 + 1.0 / 2 + 1.0 / 3 + 1.0 / 4 + 1.0 / 5 + 1.0 / 6 + 1.0 / 7 + 1.0 / 8 + 1.0 / 9 - kEulerGamma,
              1e-14);
  // ψ(x+1) = ψ(x) + 1/x across the switch to the asymptotic series, and ψ = (ln Γ)' elsewhere.
  for (double x : {1e-3, 0.243, 3.74, 9.5, 10.0, 37.5, 1e4}) {
    EXPECT_NEAR(Digamma(x + 1), Digamma(x) + 1 / x, 1e-13 * std::max(1.0, 1 / x)) << x;
    const double h = 1e-5 * x;
    const double fd = (std::lgamma(x + h) - std::lgamma(x - h)) / (2 * h);
    EXPECT_NEAR(Digamma(x), fd, 1e-6 * std::max(1.0, std::abs(fd))) << x;
  }
  EXPECT_TRUE(std::isnan(Digamma(0)));
  EXPECT_TRUE(std::isnan(Digamma(-1.5)));
}

TEST(Special, LogAddAndSubExp) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_NEAR(LogAddExp(std::log(2.0), std::log(3.0)), std::log(5.0), 1e-15);
  EXPECT_NEAR(LogAddExp(-1000, -1000), -1000 + std::log(2.0), 1e-12);  // exp underflows; this does not
  EXPECT_NEAR(LogAddExp(1000, 0), 1000, 1e-12);
  EXPECT_EQ(LogAddExp(-inf, 1.5), 1.5);
  EXPECT_NEAR(LogSubExp(std::log(5.0), std::log(3.0)), std::log(2.0), 1e-15);
  EXPECT_EQ(LogSubExp(2.0, 2.0), -inf);
  EXPECT_TRUE(std::isnan(LogSubExp(1.0, 2.0)));
}

TEST(Special, Hyp2F1MatchesClosedFormsIncludingNearOne) {
  // ₂F₁(1, 1; 2; z) = −ln(1−z)/z
  for (double z : {0.0, 0.1, 0.5, 0.946, 0.99}) {
    const double want = z == 0 ? 1.0 : -std::log1p(-z) / z;
    EXPECT_NEAR(std::exp(LogHyp2F1(1, 1, 2, z)), want, 1e-13 * want) << z;
  }
  // ₂F₁(a, b; b; z) = (1−z)^−a, with large a: the rescaling keeps it finite.
  EXPECT_NEAR(LogHyp2F1(0.5, 3, 3, 0.946), -0.5 * std::log1p(-0.946), 1e-12);
  EXPECT_NEAR(LogHyp2F1(800, 2, 2, 0.9), -800 * std::log1p(-0.9), 1e-8);
  // Outside the domain or not converging within the cap: NaN, never a wrong number.
  EXPECT_TRUE(std::isnan(LogHyp2F1(1, 1, 2, 1.0)));
  EXPECT_TRUE(std::isnan(LogHyp2F1(1, 1, 2, -0.5)));
  EXPECT_TRUE(std::isnan(LogHyp2F1(1, 1, 2, 0.999, /*max_terms=*/100)));
}

}  // namespace
}  // namespace cairn::value
