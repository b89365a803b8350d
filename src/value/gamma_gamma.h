#pragma once
// Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013, "The
// Gamma-Gamma model of monetary value"). A customer's transaction values are Gamma(p, ν) with
// ν ~ Gamma(q, γ); the average of x of them, m_x, is the sufficient statistic.

#include <cstdint>
#include <span>

#include "base/result.h"
#include "value/fit.h"
#include "value/rfm.h"

namespace cairn::value {

struct GammaGammaParams {
  double p = 0, q = 0, gamma = 0;
};

// The spend data: only customers with x ≥ 1 and m_x > 0 (the model is a density of a positive
// average; a zero average has no density).
struct SpendData {
  std::vector<double> x, m_x;
  // Filled by SpendDataOf / Prepare(): ln m_x per customer, the largest x, the customers per x and
  // the parameter-free sums Σ ln m_x and Σ x ln m_x (the likelihood tabulates its x-only Γ terms per
  // distinct x instead of calling lgamma per customer, and per customer only ln(γ + x m_x) is left).
  std::vector<double> log_m;
  int64_t max_x = 0;
  std::vector<double> count_by_x;
  double sum_log_m = 0, sum_x_log_m = 0;
  bool valid = false;  // every customer has an integer x ≥ 1 and m_x > 0
  void Prepare();
  bool Prepared() const { return log_m.size() == m_x.size() && !count_by_x.empty(); }
};
SpendData SpendDataOf(std::span<const RfmSummary> rows);

// ln f(m_x | p, q, γ, x) for one customer (x ≥ 1, m_x > 0).
double GammaGammaLogLikelihood(const GammaGammaParams& g, double x, double m_x);
double GammaGammaLogLikelihood(const GammaGammaParams& g, const SpendData& data, int threads = 1);
// The same over prepared data, and when `gradient` is not null ∂ Σ ln f / ∂(ln p, ln q, ln γ) into
// gradient[0..3). Analytic (digamma); NaN when the data are not prepared or not valid.
double GammaGammaLogLikelihoodGradient(const GammaGammaParams& g, const SpendData& data, double* gradient,
                                       int threads = 1);

struct GammaGammaFit {
  GammaGammaParams params;
  FitReport report;
};
// InvalidArgument when fewer than 2 customers have x ≥ 1 and m_x > 0.
Result<GammaGammaFit> FitGammaGamma(const SpendData& data, const FitOptions& options = {});

// E[M | x, m_x] = (γ + x m_x) p / (p x + q − 1): the population mean γp/(q−1) shrunk towards the
// customer's own average. For x = 0 it is the population mean. NaN when q ≤ 1 (infinite mean).
double GammaGammaExpectedSpend(const GammaGammaParams& g, int64_t x, double m_x);

}  // namespace cairn::value
