#pragma once
// Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987), in the form of Fader & Hardie,
// "A Note on Deriving the Pareto/NBD Model and Related Expressions" (2005). While alive a customer
// buys at rate λ ~ Gamma(r, α); lifetimes are exponential with rate μ ~ Gamma(s, β).

#include <cstdint>

#include "base/result.h"
#include "value/fit.h"
#include "value/rfm.h"

namespace cairn::value {

struct ParetoNbdParams {
  double r = 0, alpha = 0, s = 0, beta = 0;
};

// ln L for one customer. Both branches of A₀ are implemented (α ≥ β uses ₂F₁(r+s+x, s+1; …;
// (α−β)/(α+t)), α < β uses ₂F₁(r+s+x, r+x; …; (β−α)/(β+t))), so the series argument is always in
// [0, 1); the A₀ difference and the final sum are taken with log-sum-exp / log-sub-exp.
double ParetoNbdLogLikelihood(const ParetoNbdParams& p, int64_t x, double t_x, double T);
double ParetoNbdLogLikelihood(const ParetoNbdParams& p, const FitData& data, int threads = 1);

struct ParetoNbdFit {
  ParetoNbdParams params;
  FitReport report;
};
Result<ParetoNbdFit> FitParetoNbd(const FitData& data, const FitOptions& options = {});

// E[X(t)] for a new customer.
double ParetoNbdExpected(const ParetoNbdParams& p, double t);
// P(alive | x, t_x, T).
double ParetoNbdProbAlive(const ParetoNbdParams& p, int64_t x, double t_x, double T);
// E[Y(t) | x, t_x, T].
double ParetoNbdConditionalExpected(const ParetoNbdParams& p, double t, int64_t x, double t_x, double T);
// P(X(t) = n) for a new customer (Fader & Hardie 2006, "Deriving an expression for P(X(t) = x)
// under the Pareto/NBD model").
double ParetoNbdProbPurchases(const ParetoNbdParams& p, double t, int64_t n);

// The two evaluations of ln A₀ (exposed for tests): the ₂F₁ series (NaN when it needs more than
// max_terms terms) and Gauss-Legendre quadrature of its integral form, used when the series is slow.
double ParetoNbdLogA0Series(const ParetoNbdParams& p, double x, double t_x, double T, int64_t max_terms);
double ParetoNbdLogA0Quadrature(const ParetoNbdParams& p, double x, double t_x, double T);

}  // namespace cairn::value
