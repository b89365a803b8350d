#include "value/sbg.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace cairn::value {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool Valid(const SbgParams& p) { return p.alpha > 0 && p.beta > 0 && std::isfinite(p.alpha) && std::isfinite(p.beta); }

// ln B(a, b) − ln B(α, β) pieces via lgamma (α, β stay bounded on the log scale: e^±20).
double LnBeta(double a, double b) { return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b); }

}  // namespace

Result<std::vector<SbgObservation>> SbgFromSurvivors(std::span<const int64_t> survivors) {
  if (survivors.empty() || survivors[0] <= 0) return InvalidArgument("sbg: survivors[0] (the cohort) must be > 0");
  std::vector<SbgObservation> out;
  for (size_t t = 1; t < survivors.size(); ++t) {
    if (survivors[t] < 0 || survivors[t] > survivors[t - 1])
      return InvalidArgument(fmt::format("sbg: survivors[{}] must be in [0, survivors[{}]]", t, t - 1));
    if (survivors[t - 1] > survivors[t])
      out.push_back({static_cast<int64_t>(t - 1), true, static_cast<double>(survivors[t - 1] - survivors[t])});
  }
  if (survivors.back() > 0)
    out.push_back({static_cast<int64_t>(survivors.size() - 1), false, static_cast<double>(survivors.back())});
  return out;
}

double SbgProbChurnAt(const SbgParams& p, int64_t t) {
  if (!Valid(p) || t < 1) return kNaN;
  return std::exp(LnBeta(p.alpha + 1, p.beta + static_cast<double>(t) - 1) - LnBeta(p.alpha, p.beta));
}

double SbgSurvival(const SbgParams& p, int64_t t) {
  if (!Valid(p) || t < 0) return kNaN;
  return std::exp(LnBeta(p.alpha, p.beta + static_cast<double>(t)) - LnBeta(p.alpha, p.beta));
}

double SbgRetentionRate(const SbgParams& p, int64_t t) {
  if (!Valid(p) || t < 1) return kNaN;
  const double td = static_cast<double>(t);
  return (p.beta + td - 1) / (p.alpha + p.beta + td - 1);
}

double SbgLogLikelihood(const SbgParams& p, std::span<const SbgObservation> data) {
  if (!Valid(p)) return kNaN;
  const double base = LnBeta(p.alpha, p.beta);
  double ll = 0;
  for (const auto& o : data) {
    const double n = static_cast<double>(o.renewals);
    // churned: P(T = n + 1) = B(α+1, β+n)/B(α,β); active: S(n) = B(α, β+n)/B(α,β).
    ll += o.weight * ((o.churned ? LnBeta(p.alpha + 1, p.beta + n) : LnBeta(p.alpha, p.beta + n)) - base);
  }
  return ll;
}

Result<SbgFit> FitSbg(std::span<const SbgObservation> data, const FitOptions& options) {
  bool churned = false, survived = false;
  for (const auto& o : data) {
    if (o.renewals < 0 || !(o.weight > 0)) return InvalidArgument("sbg: renewals must be ≥ 0 and weight > 0");
    churned |= o.churned;
    survived |= !o.churned || o.renewals > 0;
  }
  if (!churned || !survived)
    return InvalidArgument("sbg: need customers who churned and customers who renewed at least once");
  auto ll = [&](const std::vector<double>& lp) {
    return SbgLogLikelihood({std::exp(lp[0]), std::exp(lp[1])}, data);
  };
  std::vector<double> base{0.0, 0.0};  // α = β = 1: churn uniform across customers
  ASSIGN_OR_RETURN(auto opt, MaximizeLogLikelihood(ll, 2, SpreadStarts(base, options.extra_starts), options));
  SbgFit fit;
  fit.params = {std::exp(opt.log_params[0]), std::exp(opt.log_params[1])};
  fit.report = opt.report;
  double customers = 0;
  for (const auto& o : data) customers += o.weight;
  fit.report.customers = static_cast<int64_t>(customers);
  fit.report.rows = static_cast<int64_t>(data.size());
  return fit;
}

double SbgDiscountedResidualLifetime(const SbgParams& p, int64_t renewals, double discount_rate) {
  if (!Valid(p) || renewals < 0 || !(discount_rate > 0)) return kNaN;
  // term_k = S(n+k)/S(n) / (1+d)^k = Π_{j=1..k} r_{n+j} / (1+d); every factor < 1/(1+d), so the
  // tail after term_k is below term_k / d: stop when that is negligible.
  const double n = static_cast<double>(renewals);
  double term = 1, sum = 0;
  for (int64_t k = 1; k < 100'000'000; ++k) {
    const double t = n + static_cast<double>(k);  // the renewal count after k more periods
    term *= (p.beta + t - 1) / (p.alpha + p.beta + t - 1) / (1 + discount_rate);
    sum += term;
    if (term < 1e-17 * sum * discount_rate) break;
  }
  // The papers' convention: the next renewal payment is not discounted (payments at the start of
  // each period, valued at the start of the next), so one factor of (1 + d) comes back.
  return sum * (1 + discount_rate);
}

}  // namespace cairn::value
