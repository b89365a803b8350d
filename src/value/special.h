#pragma once
// Special functions the CLV models need, written for numerical robustness rather than speed alone:
// everything the likelihoods use is computed on the log scale.

#include <cstdint>

namespace cairn::value {

// ln Γ(c + n) − ln Γ(c) for integer n ≥ 0, as Σ_{k<n} ln(c + k). Differences of lgamma lose all
// precision when c is large (≈1e15 during a wandering optimiser step), which once let a fit drift to
// a positive "log-likelihood"; the sum is exact to rounding for any c > 0.
double LnRisingFactorial(double c, int64_t n);

// ψ(x) = d/dx ln Γ(x) for x > 0 (the Gamma-Gamma likelihood's gradient): shifted up by
// ψ(x) = ψ(x+1) − 1/x until x ≥ 10, then the asymptotic series; ~1e-15 relative. NaN for x ≤ 0.
double Digamma(double x);

// ln(e^a + e^b) without overflow or underflow; either argument may be -inf.
double LogAddExp(double a, double b);
// ln(e^a − e^b) for a ≥ b; -inf when a == b. NaN when a < b.
double LogSubExp(double a, double b);

// ln ₂F₁(a, b; c; z) by its power series, for a, b, c > 0 and 0 ≤ z < 1 (every term positive, so
// no cancellation). Iterates until a term is below 1e-16 of the running sum (a fixed 151 terms are
// not enough at z ≈ 0.95). The sum is rescaled as it grows so large parameters cannot overflow.
// Returns NaN when the arguments are outside that domain or the series has not converged within
// `max_terms` terms.
double LogHyp2F1(double a, double b, double c, double z, int64_t max_terms = 2'000'000);

}  // namespace cairn::value
