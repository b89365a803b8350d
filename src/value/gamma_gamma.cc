#include "value/gamma_gamma.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "value/special.h"

namespace cairn::value {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
bool Valid(const GammaGammaParams& g) {
  return g.p > 0 && g.q > 0 && g.gamma > 0 && std::isfinite(g.p) && std::isfinite(g.q) && std::isfinite(g.gamma);
}
}  // namespace

void SpendData::Prepare() {
  log_m.resize(m_x.size());
  max_x = 0;
  valid = x.size() == m_x.size();
  for (size_t i = 0; i < x.size() && valid; ++i)
    valid = x[i] >= 1 && x[i] == std::floor(x[i]) && x[i] < 1e9 && m_x[i] > 0 && std::isfinite(m_x[i]);
  for (size_t i = 0; i < m_x.size(); ++i) {
    log_m[i] = std::log(m_x[i]);
    if (valid) max_x = std::max(max_x, static_cast<int64_t>(x[i]));
  }
  count_by_x.assign(static_cast<size_t>(max_x) + 1, 0.0);
  sum_log_m = sum_x_log_m = 0;
  if (!valid) return;
  for (size_t i = 0; i < x.size(); ++i) {
    count_by_x[static_cast<size_t>(x[i])] += 1;
    sum_log_m += log_m[i];
    sum_x_log_m += x[i] * log_m[i];
  }
}

SpendData SpendDataOf(std::span<const RfmSummary> rows) {
  SpendData d;
  for (const auto& r : rows) {
    if (r.x >= 1 && r.m_x > 0) {
      d.x.push_back(static_cast<double>(r.x));
      d.m_x.push_back(r.m_x);
    }
  }
  d.Prepare();
  return d;
}

double GammaGammaLogLikelihood(const GammaGammaParams& g, double x, double m_x) {
  if (!Valid(g) || !(x >= 1) || !(m_x > 0)) return kNaN;
  // ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m_x + px ln x − (px+q) ln(γ + x m_x).
  // px is not an integer, so the Γ terms stay as lgamma (no rising-factorial shortcut).
  const double px = g.p * x;
  return std::lgamma(px + g.q) - std::lgamma(px) - std::lgamma(g.q) + g.q * std::log(g.gamma) +
         (px - 1) * std::log(m_x) + px * std::log(x) - (px + g.q) * std::log(g.gamma + x * m_x);
}

double GammaGammaLogLikelihood(const GammaGammaParams& g, const SpendData& d, int threads) {
  if (!Valid(g)) return kNaN;
  if (!d.Prepared()) {  // not prepared: the plain per-customer sum
    double s = 0;
    for (size_t i = 0; i < d.x.size(); ++i) s += GammaGammaLogLikelihood(g, d.x[i], d.m_x[i]);
    return s;
  }
  return GammaGammaLogLikelihoodGradient(g, d, nullptr, threads);
}

// Σ over customers of ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(γ+xm):
// per distinct x, n_x [ln Γ(px+q) − ln Γ(px) + px ln x]; then N(q ln γ − ln Γ(q)) + p Σ x ln m − Σ ln m;
// per customer only L = ln(γ + x m) and R = 1/(γ + x m):  − p Σ x L − q Σ L. The gradient:
//   ∂/∂p = Σ_x n_x x [ψ(px+q) − ψ(px) + ln x] + Σ x ln m − Σ x L
//   ∂/∂q = Σ_x n_x ψ(px+q) − N ψ(q) + N ln γ − Σ L
//   ∂/∂γ = N q/γ − p Σ x R − q Σ R
// and ∂/∂ln θ = θ ∂/∂θ.
double GammaGammaLogLikelihoodGradient(const GammaGammaParams& g, const SpendData& d, double* gradient, int threads) {
  if (!Valid(g) || !d.Prepared() || !d.valid) return kNaN;
  const bool want = gradient != nullptr;
  double n = 0, by_x = 0, dp = 0, dq = 0;
  for (size_t k = 1; k < d.count_by_x.size(); ++k) {
    const double c = d.count_by_x[k];
    if (c == 0) continue;
    const double kd = static_cast<double>(k), px = g.p * kd;
    n += c;
    by_x += c * (std::lgamma(px + g.q) - std::lgamma(px) + px * std::log(kd));
    if (want) {
      const double psi_pxq = Digamma(px + g.q);
      dp += c * kd * (psi_pxq - Digamma(px) + std::log(kd));
      dq += c * psi_pxq;
    }
  }
  // sums: 0 Σ x L, 1 Σ L, 2 Σ x R, 3 Σ R
  double s[4];
  ParallelSums(d.x.size(), threads, 4, [&](size_t lo, size_t hi, double* acc) {
    double xl = 0, l = 0, xr = 0, r = 0;
    for (size_t i = lo; i < hi; ++i) {
      const double v = g.gamma + d.x[i] * d.m_x[i], lv = std::log(v);
      xl += d.x[i] * lv;
      l += lv;
      if (want) {
        const double inv = 1 / v;
        xr += d.x[i] * inv;
        r += inv;
      }
    }
    acc[0] += xl;
    acc[1] += l;
    acc[2] += xr;
    acc[3] += r;
  }, s);
  const double log_gamma = std::log(g.gamma);
  const double ll = by_x + n * (g.q * log_gamma - std::lgamma(g.q)) + g.p * d.sum_x_log_m - d.sum_log_m -
                    g.p * s[0] - g.q * s[1];
  if (want) {
    gradient[0] = g.p * (dp + d.sum_x_log_m - s[0]);
    gradient[1] = g.q * (dq - n * Digamma(g.q) + n * log_gamma - s[1]);
    gradient[2] = g.gamma * (n * g.q / g.gamma - g.p * s[2] - g.q * s[3]);
  }
  return ll;
}

Result<GammaGammaFit> FitGammaGamma(const SpendData& given, const FitOptions& options) {
  SpendData prepared;
  if (!given.Prepared()) {
    prepared = given;
    prepared.Prepare();
  }
  const SpendData& data = given.Prepared() ? given : prepared;
  if (!data.valid) return InvalidArgument("gamma_gamma: every customer needs an integer x >= 1 and m_x > 0");
  if (data.x.size() < 2)
    return InvalidArgument("gamma_gamma: fewer than 2 customers with a repeat purchase and a positive average spend");
  double mean = 0;
  for (double m : data.m_x) mean += m;
  mean /= static_cast<double>(data.m_x.size());
  auto ll = [&](const std::vector<double>& lp, std::vector<double>* gradient) {
    return GammaGammaLogLikelihoodGradient({std::exp(lp[0]), std::exp(lp[1]), std::exp(lp[2])}, data,
                                           gradient ? gradient->data() : nullptr, options.threads);
  };
  // Start p = 1, q = 2, γ = mean (population mean γp/(q−1) = the sample mean).
  std::vector<double> base{0.0, std::log(2.0), std::log(mean)};
  ASSIGN_OR_RETURN(auto opt,
                   MaximizeLogLikelihoodWithGradient(ll, 3, SpreadStarts(base, options.extra_starts), options));
  GammaGammaFit fit;
  fit.params = {std::exp(opt.log_params[0]), std::exp(opt.log_params[1]), std::exp(opt.log_params[2])};
  fit.report = opt.report;
  fit.report.customers = static_cast<int64_t>(data.x.size());
  fit.report.rows = fit.report.customers;
  return fit;
}

double GammaGammaExpectedSpend(const GammaGammaParams& g, int64_t x, double m_x) {
  if (!Valid(g) || g.q <= 1) return kNaN;
  const double xd = static_cast<double>(x);
  if (x <= 0) return g.gamma * g.p / (g.q - 1);
  return (g.gamma + xd * m_x) * g.p / (g.p * xd + g.q - 1);
}

}  // namespace cairn::value
