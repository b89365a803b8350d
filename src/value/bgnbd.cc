#include "value/bgnbd.h"

#include <boost/math/quadrature/tanh_sinh.hpp>
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
  return BgNbdLogLikelihoodGradient(p, d, nullptr, threads);
}

// Gradient: with A₃ = −(r+x) ln(α+T), A₄ = ln a − ln(b+x−1) − (r+x) ln(α+t_x) and the weights
// w₄ = e^{A₄}/(e^{A₃}+e^{A₄}) (0 when x = 0), w₃ = 1 − w₄, per customer
//   ∂/∂r = Σ_{k<x} 1/(r+k) + ln α − w₃ ln(α+T) − w₄ ln(α+t_x)
//   ∂/∂α = r/α − (r+x) [w₃/(α+T) + w₄/(α+t_x)]
//   ∂/∂a = −Σ_{k<x} 1/(a+b+k) + w₄/a
//   ∂/∂b = Σ_{k<x} [1/(b+k) − 1/(a+b+k)] − w₄/(b+x−1)
// and ∂/∂ln θ = θ ∂/∂θ. The x-only parts are summed per distinct x (weight_by_x); per row only
// the five w-weighted sums below remain, over tabulated ln(α+t) and 1/(α+t).
double BgNbdLogLikelihoodGradient(const BgNbdParams& p, const FitData& given, double* gradient, int threads) {
  if (!Valid(p)) return std::numeric_limits<double>::quiet_NaN();
  FitData indexed;
  if (!given.Indexed()) {
    indexed = given;
    IndexFitData(indexed);
  }
  const FitData& d = given.Indexed() ? given : indexed;
  const size_t nx = static_cast<size_t>(d.max_x) + 1;
  // Per x: Σ_{k<x} of ln terms, 1/(r+k), 1/(b+k), 1/(a+b+k); and ln(b+x−1), 1/(b+x−1) for x ≥ 1.
  std::vector<double> x_terms(nx, 0.0), inv_r(nx, 0.0), inv_b(nx, 0.0), inv_ab(nx, 0.0), log_bx1(nx, 0.0),
      inv_bx1(nx, 0.0);
  for (size_t k = 0; k + 1 < nx; ++k) {
    const double kd = static_cast<double>(k);
    x_terms[k + 1] = x_terms[k] + std::log(p.r + kd) + std::log(p.b + kd) - std::log(p.a + p.b + kd);
    inv_r[k + 1] = inv_r[k] + 1 / (p.r + kd);
    inv_b[k + 1] = inv_b[k] + 1 / (p.b + kd);
    inv_ab[k + 1] = inv_ab[k] + 1 / (p.a + p.b + kd);
    log_bx1[k + 1] = std::log(p.b + kd);
    inv_bx1[k + 1] = 1 / (p.b + kd);
  }
  std::vector<double> log_age(d.ages.size()), inv_age(d.ages.size());
  for (size_t i = 0; i < d.ages.size(); ++i) {
    log_age[i] = std::log(p.alpha + d.ages[i]);
    inv_age[i] = 1 / (p.alpha + d.ages[i]);
  }
  const double log_a = std::log(p.a), log_alpha = std::log(p.alpha);
  const bool want = gradient != nullptr;
  // sums: 0 Σw·tail, 1 Σw(w₃ lnT + w₄ ln t_x), 2 Σw(r+x)(w₃/(α+T) + w₄/(α+t_x)), 3 Σw·w₄, 4 Σw·w₄/(b+x−1)
  double s[5];
  ParallelSums(d.x.size(), threads, 5, [&](size_t lo, size_t hi, double* acc) {
    double tail_sum = 0, g_log = 0, g_inv = 0, g_w4 = 0, g_w4b = 0;
    for (size_t i = lo; i < hi; ++i) {
      const double x = d.x[i], w = d.weight[i], rx = p.r + x;
      const double lT = log_age[d.T_age[i]];
      const double a3 = -rx * lT;
      if (x == 0) {
        tail_sum += w * a3;
        if (want) {
          g_log += w * lT;
          g_inv += w * rx * inv_age[d.T_age[i]];
        }
        continue;
      }
      const size_t xi = static_cast<size_t>(x);
      const double ltx = log_age[d.t_x_age[i]];
      const double a4 = log_a - log_bx1[xi] - rx * ltx;
      // ln(e^{A₃} + e^{A₄}) and w₄ from one exp of the smaller minus the larger.
      const double diff = a4 - a3;
      const double e = std::exp(-std::abs(diff));
      tail_sum += w * ((diff > 0 ? a4 : a3) + std::log1p(e));
      if (want) {
        const double w4 = diff > 0 ? 1 / (1 + e) : e / (1 + e), w3 = 1 - w4;
        g_log += w * (w3 * lT + w4 * ltx);
        g_inv += w * rx * (w3 * inv_age[d.T_age[i]] + w4 * inv_age[d.t_x_age[i]]);
        g_w4 += w * w4;
        g_w4b += w * w4 * inv_bx1[xi];
      }
    }
    acc[0] += tail_sum;
    acc[1] += g_log;
    acc[2] += g_inv;
    acc[3] += g_w4;
    acc[4] += g_w4b;
  }, s);
  double n = 0, by_x = 0, dr = 0, da = 0, db = 0;
  for (size_t k = 0; k < nx; ++k) {
    const double w = d.weight_by_x[k];
    if (w == 0) continue;
    n += w;
    by_x += w * x_terms[k];
    if (want) {
      dr += w * inv_r[k];
      da -= w * inv_ab[k];
      db += w * (inv_b[k] - inv_ab[k]);
    }
  }
  const double ll = by_x + n * p.r * log_alpha + s[0];
  if (want) {
    gradient[0] = p.r * (dr + n * log_alpha - s[1]);
    gradient[1] = p.alpha * (n * p.r / p.alpha - s[2]);
    gradient[2] = p.a * (da + s[3] / p.a);
    gradient[3] = p.b * (db - s[4]);
  }
  return ll;
}

Result<BgNbdFit> FitBgNbd(const FitData& data, const FitOptions& options) {
  if (data.x.empty()) return InvalidArgument("bgnbd: no customers to fit");
  if (data.max_x == 0) return InvalidArgument("bgnbd: no customer has a repeat purchase; the model is not identified");
  FitData indexed;
  if (!data.Indexed()) {
    indexed = data;
    IndexFitData(indexed);
  }
  const FitData& d = data.Indexed() ? data : indexed;
  auto ll = [&](const std::vector<double>& lp, std::vector<double>* gradient) {
    return BgNbdLogLikelihoodGradient({std::exp(lp[0]), std::exp(lp[1]), std::exp(lp[2]), std::exp(lp[3])}, d,
                                      gradient ? gradient->data() : nullptr, options.threads);
  };
  // Default start r = α = a = b = 1 (α scaled to the mean age so λ·T is O(1)).
  double mean_T = 0;
  for (size_t i = 0; i < data.T.size(); ++i) mean_T += data.weight[i] * data.T[i];
  mean_T /= data.customers;
  std::vector<double> base{0.0, std::log(std::max(1e-3, mean_T / 4)), 0.0, 0.0};
  ASSIGN_OR_RETURN(auto opt, MaximizeLogLikelihoodWithGradient(ll, 4, SpreadStarts(base, options.extra_starts), options));
  BgNbdFit fit;
  fit.params = {std::exp(opt.log_params[0]), std::exp(opt.log_params[1]), std::exp(opt.log_params[2]),
                std::exp(opt.log_params[3])};
  fit.report = opt.report;
  fit.report.customers = static_cast<int64_t>(data.customers);
  fit.report.rows = static_cast<int64_t>(data.x.size());
  return fit;
}

double BgNbdMeanPurchasesByQuadrature(double m, double s, double t, double a, double beta) {
  if (!(m > 0 && s > 0 && t >= 0 && a > 0 && beta > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (t == 0) return 0;
  const double rate = t / s;
  // (1 − (1 + p·t/s)^−m) / p, and its limit m·t/s at p = 0; expm1/log1p keep it exact for small p.
  auto g = [&](double p) { return p <= 0 ? m * rate : -std::expm1(-m * std::log1p(p * rate)) / p; };
  // The Beta(a, β) weight p^(a−1) (1−p)^(β−1) is singular at p = 0 when a < 1 and at p = 1 when
  // β < 1 (and, for a near 0, holds almost all its mass within e^(−1/a) of 0). Each half of (0, 1)
  // is integrated in the variable that absorbs its singular factor: u = p^a on (0, ½], where
  // p^(a−1) dp = du / a, and v = (1−p)^β on [½, 1). Both integrands are then bounded.
  boost::math::quadrature::tanh_sinh<double> integrator;
  const double tol = 1e-10;
  try {
    const double left = integrator.integrate(
        [&](double u) {
          const double p = std::exp(std::log(u) / a);
          return g(p) * std::exp((beta - 1) * std::log1p(-p));
        },
        0.0, std::exp(-a * std::log(2.0)), tol);
    const double right = integrator.integrate(
        [&](double v) {
          const double q = std::exp(std::log(v) / beta);  // 1 − p
          return g(1 - q) * std::exp((a - 1) * std::log1p(-q));
        },
        0.0, std::exp(-beta * std::log(2.0)), tol);
    // Divided by B(a, β), with the 1/a and 1/β of the substitutions, on the log scale (each is
    // near 1/a or 1/β alone when that parameter is tiny).
    const double log_beta = std::lgamma(a) + std::lgamma(beta) - std::lgamma(a + beta);
    return std::exp(-std::log(a) - log_beta) * left + std::exp(-std::log(beta) - log_beta) * right;
  } catch (const std::exception&) {
    return std::numeric_limits<double>::quiet_NaN();
  }
}

namespace {

// (a+β−1)/(a−1) · [1 − (s/(s+t))^m ₂F₁(m, β; a+β−1; t/(s+t))], the closed form of the mean above,
// where it is well conditioned: ₂F₁'s c = a+β−1 well above 0 (at or below 0 its series is
// undefined) and a away from 1 (where the closed form is 0/0). Elsewhere, and should the closed
// form not give a finite non-negative number, the quadrature.
double MeanPurchases(double m, double s, double t, double a, double beta) {
  const double c = a + beta - 1;
  if (c >= 0.05 && std::abs(a - 1) >= 1e-3) {
    const double h = std::exp(m * std::log(s / (s + t)) + LogHyp2F1(m, beta, c, t / (s + t)));
    const double closed = c / (a - 1) * (1 - h);
    if (std::isfinite(closed) && closed >= 0) return closed;
  }
  return BgNbdMeanPurchasesByQuadrature(m, s, t, a, beta);
}

}  // namespace

double BgNbdExpected(const BgNbdParams& p, double t) {
  if (!Valid(p) || t < 0) return std::numeric_limits<double>::quiet_NaN();
  if (t == 0) return 0;
  return MeanPurchases(p.r, p.alpha, t, p.a, p.b);
}

double BgNbdExpectedIfAlive(const BgNbdParams& p, double t, int64_t x, double T) {
  if (!Valid(p) || t < 0) return std::numeric_limits<double>::quiet_NaN();
  if (t == 0) return 0;
  // Alive after x purchases in T: λ ~ Gamma(r+x, α+T), p ~ Beta(a, b+x).
  const double xd = static_cast<double>(x);
  return MeanPurchases(p.r + xd, p.alpha + T, t, p.a, p.b + xd);
}

double BgNbdConditionalExpected(const BgNbdParams& p, double t, int64_t x, double t_x, double T) {
  if (!Valid(p) || t < 0) return std::numeric_limits<double>::quiet_NaN();
  if (t == 0) return 0;
  return BgNbdExpectedIfAlive(p, t, x, T) * BgNbdProbAlive(p, x, t_x, T);
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
