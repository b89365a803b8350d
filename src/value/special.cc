#include "value/special.h"

#include <cmath>
#include <limits>

namespace cairn::value {

double LnRisingFactorial(double c, int64_t n) {
  double s = 0;
  for (int64_t k = 0; k < n; ++k) s += std::log(c + static_cast<double>(k));
  return s;
}

double Digamma(double x) {
  if (!(x > 0) || !std::isfinite(x)) return std::numeric_limits<double>::quiet_NaN();
  double shift = 0;
  for (; x < 10; x += 1) shift -= 1 / x;
  // ln x − 1/(2x) − Σ B_{2k}/(2k x^{2k}), k = 1..6: the first omitted term is < 1e-17 at x ≥ 10.
  const double z = 1 / (x * x);
  const double series =
      z * (1.0 / 12 - z * (1.0 / 120 - z * (1.0 / 252 - z * (1.0 / 240 - z * (1.0 / 132 - z * (691.0 / 32760))))));
  return shift + std::log(x) - 0.5 / x - series;
}

double LogAddExp(double a, double b) {
  if (a == -std::numeric_limits<double>::infinity()) return b;
  if (b == -std::numeric_limits<double>::infinity()) return a;
  if (a < b) std::swap(a, b);
  return a + std::log1p(std::exp(b - a));
}

double LogSubExp(double a, double b) {
  if (a < b) return std::numeric_limits<double>::quiet_NaN();
  if (b == -std::numeric_limits<double>::infinity()) return a;
  if (a == b) return -std::numeric_limits<double>::infinity();
  return a + std::log1p(-std::exp(b - a));
}

double LogHyp2F1(double a, double b, double c, double z, int64_t max_terms) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (!(a > 0) || !(b > 0) || !(c > 0) || !(z >= 0) || !(z < 1)) return nan;
  if (z == 0) return 0;
  // sum and term are kept relative to exp(log_scale).
  double log_scale = 0, sum = 1, term = 1;
  for (int64_t k = 0; k < max_terms; ++k) {
    const double kd = static_cast<double>(k);
    const double ratio = (a + kd) * (b + kd) / ((c + kd) * (kd + 1)) * z;
    term *= ratio;
    sum += term;
    // Stop only once the terms are shrinking: with a tiny `a` and a large `b` an early term can be
    // negligible while later ones grow again.
    if (term <= 1e-16 * sum && ratio < 1) return log_scale + std::log(sum);
    if (sum > 1e200) {
      log_scale += std::log(sum);
      term /= sum;
      sum = 1;
    }
  }
  return nan;
}

}  // namespace cairn::value
