#pragma once
// BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").
// While alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each purchase
// they drop out with probability p ~ Beta(a, b). Time is in the summary's unit (weeks for CDNOW).

#include <cstdint>

#include "base/result.h"
#include "value/fit.h"
#include "value/rfm.h"

namespace cairn::value {

struct BgNbdParams {
  double r = 0, alpha = 0, a = 0, b = 0;
};

// ln L for one customer. Lnrising factorials are summed (special.h), and A₃ + δA₄ is combined by
// log-sum-exp, so no term overflows for any positive parameters.
double BgNbdLogLikelihood(const BgNbdParams& p, int64_t x, double t_x, double T);
// Σ weight · ln L over the data (one pass; the x-dependent Γ terms and the age terms ln(α + t) are
// tabulated per call, data indexed or not).
double BgNbdLogLikelihood(const BgNbdParams& p, const FitData& data, int threads = 1);
// The same, and when `gradient` is not null, ∂ Σ ln L / ∂(ln r, ln α, ln a, ln b) into gradient[0..4)
// (the fit's parameters are on the log scale). Analytic; NaN where the likelihood is undefined.
double BgNbdLogLikelihoodGradient(const BgNbdParams& p, const FitData& data, double* gradient, int threads = 1);

struct BgNbdFit {
  BgNbdParams params;
  FitReport report;
};
// Maximum likelihood. InvalidArgument when the data are empty or have no repeat purchases at all.
Result<BgNbdFit> FitBgNbd(const FitData& data, const FitOptions& options = {});

// E over p ~ Beta(a, beta) of (1 − (s/(s + p·t))^m) / p: the mean purchases in the next t of a
// customer whose rate is λ ~ Gamma(m, s) and who drops out after each purchase with probability p —
// the definition behind BgNbdExpected (m = r, s = α, beta = b) and BgNbdExpectedIfAlive (m = r+x,
// s = α+T, beta = b+x), by tanh-sinh quadrature. Those use their closed form (₂F₁) where it is
// well conditioned and this elsewhere: a + beta − 1 near or below 0, where ₂F₁ is undefined (the
// degenerate fits of a young business, a -> 0 with b < 1), and a near 1. NaN for invalid arguments.
double BgNbdMeanPurchasesByQuadrature(double m, double s, double t, double a, double beta);

// E[X(t)]: expected purchases in (0, t] of a new customer.
double BgNbdExpected(const BgNbdParams& p, double t);
// E[Y(t) | x, T, alive]: expected purchases in the next t time units of a customer still alive —
// it does not depend on t_x; E[Y(t) | x, t_x, T] is this × P(alive | x, t_x, T).
double BgNbdExpectedIfAlive(const BgNbdParams& p, double t, int64_t x, double T);
// E[Y(t) | x, t_x, T]: expected purchases in the next t time units.
double BgNbdConditionalExpected(const BgNbdParams& p, double t, int64_t x, double t_x, double T);
// P(alive | x, t_x, T).
double BgNbdProbAlive(const BgNbdParams& p, int64_t x, double t_x, double T);
// P(X(t) = n) for a new customer.
double BgNbdProbPurchases(const BgNbdParams& p, double t, int64_t n);

}  // namespace cairn::value
