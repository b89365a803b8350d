#include "value/pareto_nbd.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "value/special.h"

namespace cairn::value {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool Valid(const ParetoNbdParams& p) {
  return p.r > 0 && p.alpha > 0 && p.s > 0 && p.beta > 0 && std::isfinite(p.r) && std::isfinite(p.alpha) &&
         std::isfinite(p.s) && std::isfinite(p.beta);
}

// ln of one A₀ term: ₂F₁(·; z(t)) / (max(α,β)+t)^(r+s+x), by the series. NaN when the series
// needs more than `max_terms` terms (z ≈ 1: one of α, β dwarfs the other and the ages).
double LogA0Term(const ParetoNbdParams& p, double x, double t, int64_t max_terms) {
  const double rsx = p.r + p.s + x;
  if (p.alpha >= p.beta)
    return LogHyp2F1(rsx, p.s + 1, rsx + 1, (p.alpha - p.beta) / (p.alpha + t), max_terms) - rsx * std::log(p.alpha + t);
  return LogHyp2F1(rsx, p.r + x, rsx + 1, (p.beta - p.alpha) / (p.beta + t), max_terms) - rsx * std::log(p.beta + t);
}

// Gauss-Legendre nodes and weights on [-1, 1] (Newton on P_n; computed once).
struct GaussLegendre {
  static constexpr int kN = 16;
  double node[kN], weight[kN];
  GaussLegendre() {
    for (int i = 0; i < kN; ++i) {
      double z = std::cos(M_PI * (i + 0.75) / (kN + 0.5)), dp = 0;
      for (int it = 0; it < 100; ++it) {
        double p0 = 1, p1 = 0;
        for (int j = 0; j < kN; ++j) {
          const double p2 = p1;
          p1 = p0;
          p0 = ((2.0 * j + 1) * z * p1 - j * p2) / (j + 1);
        }
        dp = kN * (z * p0 - p1) / (z * z - 1);
        const double dz = p0 / dp;
        z -= dz;
        if (std::abs(dz) < 1e-16) break;
      }
      node[i] = z;
      weight[i] = 2 / ((1 - z * z) * dp * dp);
    }
  }
};

}  // namespace

double ParetoNbdLogA0Series(const ParetoNbdParams& p, double x, double t_x, double T, int64_t max_terms) {
  if (!(t_x < T)) return kNegInf;
  const double u1 = LogA0Term(p, x, t_x, max_terms), u2 = LogA0Term(p, x, T, max_terms);
  if (std::isnan(u1) || std::isnan(u2)) return kNaN;
  if (u2 >= u1) return kNegInf;  // rounding at t_x ≈ T
  return LogSubExp(u1, u2);
}

// A₀ = (r+s+x) ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ (the "died at τ" part of the likelihood).
// Substituting u = ln(m+τ), m = min(α, β), makes the sharply varying factor smooth exactly where
// the series is slow (the other of α, β ≫ T); composite 8×16-point Gauss-Legendre, summed relative
// to the largest term.
double ParetoNbdLogA0Quadrature(const ParetoNbdParams& p, double x, double t_x, double T) {
  if (!(t_x < T)) return kNegInf;
  static const GaussLegendre gl;
  const double m = std::min(p.alpha, p.beta);
  const double lo = std::log(m + t_x), hi = std::log(m + T);
  constexpr int kPanels = 8;
  constexpr int kNodes = kPanels * GaussLegendre::kN;
  const double half = 0.5 * (hi - lo) / kPanels;
  double log_f[kNodes], weight[kNodes];
  double top = kNegInf;
  for (int k = 0; k < kPanels; ++k) {
    const double mid = lo + (2 * k + 1) * half;
    for (int i = 0; i < GaussLegendre::kN; ++i) {
      const double u = mid + half * gl.node[i];
      const double tau = std::exp(u) - m;  // dτ = e^u du
      const int j = k * GaussLegendre::kN + i;
      log_f[j] = -(p.r + x) * std::log(p.alpha + tau) - (p.s + 1) * std::log(p.beta + tau) + u;
      weight[j] = half * gl.weight[i];
      top = std::max(top, log_f[j]);
    }
  }
  double sum = 0;
  for (int j = 0; j < kNodes; ++j) sum += weight[j] * std::exp(log_f[j] - top);
  const double acc = top + std::log(sum);
  return std::log(p.r + p.s + x) + acc;
}

namespace {

// ln A₀: the series (exact to rounding) when it converges quickly, else quadrature. The series
// needs about (37 + b·z)/(1−z) terms at its largest argument z (at t_x); beyond ~2000
// terms the quadrature is both cheaper and as accurate (tested against the series).
double LogA0(const ParetoNbdParams& p, double x, double t_x, double T) {
  const double big = std::max(p.alpha, p.beta);
  const double z = std::abs(p.alpha - p.beta) / (big + t_x);
  const double b = p.alpha >= p.beta ? p.s + 1 : p.r + x;  // the terms grow until k ≈ b·z/(1−z)
  if ((37 + b * z) / (1 - z) > 2000) return ParetoNbdLogA0Quadrature(p, x, t_x, T);
  const double series = ParetoNbdLogA0Series(p, x, t_x, T, 20000);
  if (!std::isnan(series)) return series;
  return ParetoNbdLogA0Quadrature(p, x, t_x, T);
}

// The two parts of ln L beyond the Γ/α/β prefix: ln of the "alive at T" part and of the "died in
// (t_x, T]" part, so that P(alive) = exp(alive − LogAddExp(alive, died)).
struct Parts {
  double alive, died;
};
Parts LogParts(const ParetoNbdParams& p, double x, double t_x, double T) {
  const double alive = -(p.r + x) * std::log(p.alpha + T) - p.s * std::log(p.beta + T);
  const double died = std::log(p.s / (p.r + p.s + x)) + LogA0(p, x, t_x, T);
  return {alive, died};
}

inline double Row(const ParetoNbdParams& p, double prefix, double x_terms, double x, double t_x, double T) {
  const Parts parts = LogParts(p, x, t_x, T);
  if (std::isnan(parts.died)) return kNaN;
  return x_terms + prefix + LogAddExp(parts.alive, parts.died);
}

}  // namespace

double ParetoNbdLogLikelihood(const ParetoNbdParams& p, int64_t x, double t_x, double T) {
  if (!Valid(p)) return kNaN;
  return Row(p, p.r * std::log(p.alpha) + p.s * std::log(p.beta), LnRisingFactorial(p.r, x),
             static_cast<double>(x), t_x, T);
}

double ParetoNbdLogLikelihood(const ParetoNbdParams& p, const FitData& d, int threads) {
  if (!Valid(p)) return kNaN;
  std::vector<double> x_terms(static_cast<size_t>(d.max_x) + 1, 0.0);
  for (int64_t k = 0; k < d.max_x; ++k) x_terms[k + 1] = x_terms[k] + std::log(p.r + static_cast<double>(k));
  const double prefix = p.r * std::log(p.alpha) + p.s * std::log(p.beta);
  return ParallelSum(d.x.size(), threads, [&](size_t lo, size_t hi) {
    double s = 0;
    for (size_t i = lo; i < hi; ++i)
      s += d.weight[i] * Row(p, prefix, x_terms[static_cast<size_t>(d.x[i])], d.x[i], d.t_x[i], d.T[i]);
    return s;
  });
}

Result<ParetoNbdFit> FitParetoNbd(const FitData& data, const FitOptions& options) {
  if (data.x.empty()) return InvalidArgument("pareto_nbd: no customers to fit");
  if (data.max_x == 0) return InvalidArgument("pareto_nbd: no customer has a repeat purchase; the model is not identified");
  auto ll = [&](const std::vector<double>& lp) {
    return ParetoNbdLogLikelihood({std::exp(lp[0]), std::exp(lp[1]), std::exp(lp[2]), std::exp(lp[3])}, data,
                                  options.threads);
  };
  double mean_T = 0;
  for (size_t i = 0; i < data.T.size(); ++i) mean_T += data.weight[i] * data.T[i];
  mean_T /= data.customers;
  const double scale = std::log(std::max(1e-3, mean_T / 4));
  std::vector<double> base{0.0, scale, 0.0, scale};
  ASSIGN_OR_RETURN(auto opt, MaximizeLogLikelihood(ll, 4, SpreadStarts(base, options.extra_starts), options));
  ParetoNbdFit fit;
  fit.params = {std::exp(opt.log_params[0]), std::exp(opt.log_params[1]), std::exp(opt.log_params[2]),
                std::exp(opt.log_params[3])};
  fit.report = opt.report;
  fit.report.customers = static_cast<int64_t>(data.customers);
  fit.report.rows = static_cast<int64_t>(data.x.size());
  return fit;
}

double ParetoNbdExpected(const ParetoNbdParams& p, double t) {
  if (!Valid(p) || t < 0) return kNaN;
  // rβ/(α(s−1)) · [1 − (β/(β+t))^(s−1)]; the s → 1 limit is rβ/α · ln((β+t)/β).
  if (std::abs(p.s - 1) < 1e-9) return p.r * p.beta / p.alpha * std::log((p.beta + t) / p.beta);
  return p.r * p.beta / (p.alpha * (p.s - 1)) * -std::expm1((p.s - 1) * std::log(p.beta / (p.beta + t)));
}

double ParetoNbdProbAlive(const ParetoNbdParams& p, int64_t x, double t_x, double T) {
  if (!Valid(p)) return kNaN;
  const Parts parts = LogParts(p, static_cast<double>(x), t_x, T);
  if (std::isnan(parts.died)) return kNaN;
  return std::exp(parts.alive - LogAddExp(parts.alive, parts.died));
}

double ParetoNbdConditionalExpected(const ParetoNbdParams& p, double t, int64_t x, double t_x, double T) {
  if (!Valid(p) || t < 0) return kNaN;
  const double xd = static_cast<double>(x);
  // (r+x)(β+T)/((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive)
  double growth;
  if (std::abs(p.s - 1) < 1e-9) {
    growth = (p.r + xd) * (p.beta + T) / (p.alpha + T) * std::log((p.beta + T + t) / (p.beta + T));
  } else {
    growth = (p.r + xd) * (p.beta + T) / ((p.alpha + T) * (p.s - 1)) *
             -std::expm1((p.s - 1) * std::log((p.beta + T) / (p.beta + T + t)));
  }
  return growth * ParetoNbdProbAlive(p, x, t_x, T);
}

double ParetoNbdProbPurchases(const ParetoNbdParams& p, double t, int64_t n) {
  if (!Valid(p) || t < 0 || n < 0) return kNaN;
  const double nd = static_cast<double>(n);
  const double rs = p.r + p.s;
  // Alive through t with exactly n purchases.
  const double first = std::exp(LnRisingFactorial(p.r, n) - std::lgamma(nd + 1) + p.r * std::log(p.alpha / (p.alpha + t)) +
                                (n > 0 ? nd * std::log(t / (p.alpha + t)) : 0.0) + p.s * std::log(p.beta / (p.beta + t)));
  // Died before t after exactly n purchases: α^r β^s B(r+n, s+1)/B(r, s) · [B₁ − Σ_{i≤n} … B₂(i)].
  const double log_pref = p.r * std::log(p.alpha) + p.s * std::log(p.beta) + std::lgamma(p.r + nd) + std::lgamma(p.s + 1) +
                          std::lgamma(rs) - std::lgamma(rs + nd + 1) - std::lgamma(p.r) - std::lgamma(p.s);
  const bool a_ge_b = p.alpha >= p.beta;
  const double c = rs + nd + 1;
  const double b_arg = a_ge_b ? p.s + 1 : p.r + nd;
  const double big = a_ge_b ? p.alpha : p.beta;
  const double diff = std::abs(p.alpha - p.beta);
  const double log_b1 = LogHyp2F1(rs, b_arg, c, diff / big) - rs * std::log(big);
  double bracket = std::exp(log_b1 + log_pref);
  for (int64_t i = 0; i <= n; ++i) {
    const double id = static_cast<double>(i);
    const double log_b2 = LogHyp2F1(rs + id, b_arg, c, diff / (big + t)) - (rs + id) * std::log(big + t);
    const double log_coef = LnRisingFactorial(rs, i) - std::lgamma(id + 1) + (i > 0 ? id * std::log(t) : 0.0);
    bracket -= std::exp(log_pref + log_coef + log_b2);
  }
  return first + bracket;
}

}  // namespace cairn::value
