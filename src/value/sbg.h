#pragma once
// Subscription (contractual) CLV: the shifted-beta-geometric model of renewals (Fader & Hardie
// 2007, "How to project customer retention", J. Interactive Marketing 21(1)) and the discounted
// expected residual lifetime (Fader & Hardie 2010, "Customer-base valuation in a contractual
// setting: the perils of ignoring heterogeneity", Marketing Science 29(1)). docs/value.md
// "Subscription CLV". Pure functions, no I/O.
//
// Each customer has a constant churn probability θ per period; θ ~ Beta(α, β) across customers.
// T = the period in which a customer churns (T = 1: paid once, never renewed).
//   P(T = t) = B(α + 1, β + t − 1) / B(α, β),  S(t) = P(T > t) = B(α, β + t) / B(α, β)
//   retention rate r_t = S(t) / S(t − 1) = (β + t − 1) / (α + β + t − 1)

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "value/fit.h"

namespace cairn::value {

struct SbgParams {
  double alpha = 0, beta = 0;
};

// One customer, or `weight` identical ones: observed for `renewals` renewals after the first
// payment, then either churned (did not renew once more: T = renewals + 1) or still active
// (T > renewals).
struct SbgObservation {
  int64_t renewals = 0;
  bool churned = false;
  double weight = 1;
};

// Cohort data as in the papers: survivors[t] customers still active after t renewals
// (survivors[0] = the cohort). InvalidArgument when it increases or is empty/negative.
Result<std::vector<SbgObservation>> SbgFromSurvivors(std::span<const int64_t> survivors);

double SbgLogLikelihood(const SbgParams& p, std::span<const SbgObservation> data);
// P(T = t), t ≥ 1.
double SbgProbChurnAt(const SbgParams& p, int64_t t);
// S(t) = P(T > t), t ≥ 0.
double SbgSurvival(const SbgParams& p, int64_t t);
// r_t = (β + t − 1) / (α + β + t − 1), t ≥ 1.
double SbgRetentionRate(const SbgParams& p, int64_t t);

struct SbgFit {
  SbgParams params;
  FitReport report;
};
// Maximum likelihood (fit.h driver, log-parameters). InvalidArgument without both a churned and an
// active (or later-churned) customer — α and β are not identified otherwise.
Result<SbgFit> FitSbg(std::span<const SbgObservation> data, const FitOptions& options = {});

// Discounted expected residual lifetime of a customer who has made `renewals` renewals and is
// still active: the expected number of future payments, the next one undiscounted and each later
// one discounted by (1 + d) per period (the papers' convention),
//   DERL = Σ_{t > n} S(t) / S(n) · (1 + d)^{n + 1 − t},  n = renewals
// which equals (β+n)/(α+β+n) · ₂F₁(1, β+n+1; α+β+n+1; 1/(1+d)) (Fader & Hardie 2010's DERL for a
// customer who has made n renewals). Summed directly until the terms are negligible. d > 0.
// Subscription CLV = value per period × DERL.
double SbgDiscountedResidualLifetime(const SbgParams& p, int64_t renewals, double discount_rate);

}  // namespace cairn::value
