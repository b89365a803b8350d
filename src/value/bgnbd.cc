#include "value/bgnbd.h"

#include <cmath>
#include <limits>
#include <vector>

#include "value/special.h"

namespace cairn::value {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

bool Valid(const BgNbdParams& p) {
  return p.r > 0 && p.alpha > 0 && p.a > 0 && p.b > 0 && std::isfinite(p.r) && std::isfinite(p.alpha) &&
         std::isfinite(p.a) && std::isfinite(p.b);
}

// ln L given the tabulated x-only terms:
//   ln L = lnΓ(r+x)−lnΓ(r) + r ln α + [lnΓ(b+x)−lnΓ(b)] − [lnΓ(a+b+x)−lnΓ(a+b)]
//          + ln( (α+T)^−(r+x) + δ(x>0) · a/(b+x−1) · (α+t_x)^−(r+x) )
inline double LogLikelihoodRow(const BgNbdParams& p, double log_alpha, double x_terms, double x, double t_x,
                               double T) {
  const double a3 = -(p.r + x) * std::log(p.alpha + T);
  double tail = a3;
  if (x > 0) {
    const double a4 = std::log(p.a) - std::log(p.b + x - 1) - (p.r + x) * std::log(p.alpha + t_x);
    tail = LogAddExp(a3, a4);
  }
  return x_terms + p.r * log_alpha + tail;
}

}  // namespace

double BgNbdLogLikelihood(const BgNbdParams& p, int64_t x, double t_x, double T) {
  if (!Valid(p)) return std::numeric_limits<double>::quiet_NaN();
  const double x_terms = LnRisingFactorial(p.r, x) + LnRisingFactorial(p.b, x) - LnRisingFactorial(p.a + p.b, x);
  return LogLikelihoodRow(p, std::log(p.alpha), x_terms, static_cast<double>(x), t_x, T);
}

double BgNbdLogLikelihood(const BgNbdParams& p, const FitData& d, int threads) {
  if (!Valid(p)) return std::numeric_limits<double>::quiet_NaN();
  // Cumulative sums Σ_{k<x} [ln(r+k) + ln(b+k) − ln(a+b+k)] for every x up to max_x.
  std::vector<double> x_terms(static_cast<size_t>(d.max_x) + 1, 0.0);
  for (int64_t k = 0; k < d.max_x; ++k) {
    const double kd = static_cast<double>(k);
    x_terms[k + 1] = x_terms[k] + std::log(p.r + kd) + std::log(p.b + kd) - std::log(p.a + p.b + kd);
  }
  const double log_alpha = std::log(p.alpha);
  return ParallelSum(d.x.size(), threads, [&](size_t lo, size_t hi) {
    double s = 0;
    for (size_t i = lo; i < hi; ++i)
      s += d.weight[i] * LogLikelihoodRow(p, log_alpha, x_terms[static_cast<size_t>(d.x[i])], d.x[i], d.t_x[i], d.T[i]);
    return s;
  });
}

Result<BgNbdFit> FitBgNbd(const FitData& data, const FitOptions& options) {
  if (data.x.empty()) return InvalidArgument("bgnbd: no customers to fit");
  if (data.max_x == 0) return InvalidArgument("bgnbd: no customer has a repeat purchase; the model is not identified");
  auto ll = [&](const std::vector<double>& lp) {
    return BgNbdLogLikelihood({std::exp(lp[0]), std::exp(lp[1]), std::exp(lp[2]), std::exp(lp[3])}, data,
                              options.threads);
  };
  // Default start r = α = a = b = 1 (α scaled to the mean age so λ·T is O(1)).
  double mean_T = 0;
  for (size_t i = 0; i < data.T.size(); ++i) mean_T += data.weight[i] * data.T[i];
  mean_T /= data.customers;
  std::vector<double> base{0.0, std::log(std::max(1e-3, mean_T / 4)), 0.0, 0.0};
  ASSIGN_OR_RETURN(auto opt, MaximizeLogLikelihood(ll, 4, SpreadStarts(base, options.extra_starts), options));
  BgNbdFit fit;
  fit.params = {std::exp(opt.log_params[0]), std::exp(opt.log_params[1]), std::exp(opt.log_params[2]),
                std::exp(opt.log_params[3])};
  fit.report = opt.report;
  fit.report.customers = static_cast<int64_t>(data.customers);
  fit.report.rows = static_cast<int64_t>(data.x.size());
  return fit;
}

double BgNbdExpected(const BgNbdParams& p, double t) {
  if (!Valid(p) || t < 0) return std::numeric_limits<double>::quiet_NaN();
  if (t == 0) return 0;
  // (a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))]
  const double c = p.a + p.b - 1;
  const double h = std::exp(p.r * std::log(p.alpha / (p.alpha + t)) + LogHyp2F1(p.r, p.b, c, t / (p.alpha + t)));
  return c / (p.a - 1) * (1 - h);
}

double BgNbdConditionalExpected(const BgNbdParams& p, double t, int64_t x, double t_x, double T) {
  if (!Valid(p) || t < 0) return std::numeric_limits<double>::quiet_NaN();
  if (t == 0) return 0;
  const double xd = static_cast<double>(x);
  const double c = p.a + p.b + xd - 1;
  const double h = std::exp((p.r + xd) * std::log((p.alpha + T) / (p.alpha + T + t)) +
                            LogHyp2F1(p.r + xd, p.b + xd, c, t / (p.alpha + T + t)));
  const double num = c / (p.a - 1) * (1 - h);
  return num * BgNbdProbAlive(p, x, t_x, T);
}

double BgNbdProbAlive(const BgNbdParams& p, int64_t x, double t_x, double T) {
  if (!Valid(p)) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return 1;
  const double xd = static_cast<double>(x);
  // 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)), the ratio taken on the log scale.
  const double log_odds = std::log(p.a / (p.b + xd - 1)) + (p.r + xd) * std::log((p.alpha + T) / (p.alpha + t_x));
  return 1 / (1 + std::exp(log_odds));
}

double BgNbdProbPurchases(const BgNbdParams& p, double t, int64_t n) {
  if (!Valid(p) || t < 0 || n < 0) return std::numeric_limits<double>::quiet_NaN();
  const double nd = static_cast<double>(n);
  const double lq = std::log(p.alpha / (p.alpha + t));          // ln(α/(α+t))
  const double lz = t > 0 ? std::log(t / (p.alpha + t)) : kNegInf;  // ln(t/(α+t))
  // B(a, b+n)/B(a, b) on the log scale.
  const double lbeta = LnRisingFactorial(p.b, n) - LnRisingFactorial(p.a + p.b, n);
  auto nbd_term = [&](int64_t j) {  // Γ(r+j)/(Γ(r) j!) (α/(α+t))^r (t/(α+t))^j
    const double jd = static_cast<double>(j);
    return std::exp(LnRisingFactorial(p.r, j) - std::lgamma(jd + 1) + p.r * lq + (j > 0 ? jd * lz : 0.0));
  };
  double prob = std::exp(lbeta) * nbd_term(n);
  if (n > 0) {
    double cdf = 0;
    for (int64_t j = 0; j < n; ++j) cdf += nbd_term(j);
    prob += std::exp(std::log(p.a) - std::log(p.b + nd - 1) + lbeta) * (1 - cdf);
  }
  return prob;
}

}  // namespace cairn::value
