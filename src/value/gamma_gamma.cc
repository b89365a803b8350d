#include "value/gamma_gamma.h"

#include <algorithm>
#include <cmath>
#include <limits>

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
  for (size_t i = 0; i < m_x.size(); ++i) {
    log_m[i] = std::log(m_x[i]);
    max_x = std::max(max_x, static_cast<int64_t>(x[i]));
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
  if (d.log_m.size() != d.m_x.size()) {  // not prepared: the plain per-customer sum
    double s = 0;
    for (size_t i = 0; i < d.x.size(); ++i) s += GammaGammaLogLikelihood(g, d.x[i], d.m_x[i]);
    return s;
  }
  // Per distinct x: lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln γ + px ln x; per customer only the
  // m_x terms remain.
  std::vector<double> x_terms(static_cast<size_t>(d.max_x) + 1, 0.0);
  const double common = -std::lgamma(g.q) + g.q * std::log(g.gamma);
  for (int64_t k = 1; k <= d.max_x; ++k) {
    const double px = g.p * static_cast<double>(k);
    x_terms[k] = std::lgamma(px + g.q) - std::lgamma(px) + common + px * std::log(static_cast<double>(k));
  }
  return ParallelSum(d.x.size(), threads, [&](size_t lo, size_t hi) {
    double s = 0;
    for (size_t i = lo; i < hi; ++i) {
      const double px = g.p * d.x[i];
      if (!(d.m_x[i] > 0) || !(d.x[i] >= 1)) return kNaN;
      s += x_terms[static_cast<size_t>(d.x[i])] + (px - 1) * d.log_m[i] - (px + g.q) * std::log(g.gamma + d.x[i] * d.m_x[i]);
    }
    return s;
  });
}

Result<GammaGammaFit> FitGammaGamma(const SpendData& given, const FitOptions& options) {
  SpendData prepared;
  if (given.log_m.size() != given.m_x.size()) {
    prepared = given;
    prepared.Prepare();
  }
  const SpendData& data = given.log_m.size() == given.m_x.size() ? given : prepared;
  for (size_t i = 0; i < data.x.size(); ++i)
    if (!(data.x[i] >= 1) || !(data.m_x[i] > 0) || data.x[i] != std::floor(data.x[i]))
      return InvalidArgument("gamma_gamma: every customer needs an integer x >= 1 and m_x > 0");
  if (data.x.size() < 2)
    return InvalidArgument("gamma_gamma: fewer than 2 customers with a repeat purchase and a positive average spend");
  double mean = 0;
  for (double m : data.m_x) mean += m;
  mean /= static_cast<double>(data.m_x.size());
  auto ll = [&](const std::vector<double>& lp) {
    return GammaGammaLogLikelihood({std::exp(lp[0]), std::exp(lp[1]), std::exp(lp[2])}, data, options.threads);
  };
  // Start p = 1, q = 2, γ = mean (population mean γp/(q−1) = the sample mean).
  std::vector<double> base{0.0, std::log(2.0), std::log(mean)};
  ASSIGN_OR_RETURN(auto opt, MaximizeLogLikelihood(ll, 3, SpreadStarts(base, options.extra_starts), options));
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
