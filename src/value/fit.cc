#include "value/fit.h"

#include <nlopt.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include <fmt/format.h>

namespace cairn::value {
namespace {

struct Objective {
  const LogLikelihoodWithGradient* ll;
  std::vector<double> scratch, grad;
  int evaluations = 0;
};

// NLopt minimises; an undefined likelihood becomes a huge value so both BOBYQA and Nelder-Mead
// simply step away from it (and L-BFGS's line search backtracks).
double Negated(unsigned n, const double* x, double* grad, void* data) {
  auto* o = static_cast<Objective*>(data);
  o->scratch.assign(x, x + n);
  ++o->evaluations;
  if (grad == nullptr) {
    const double v = (*o->ll)(o->scratch, nullptr);
    return std::isfinite(v) ? -v : 1e300;
  }
  o->grad.assign(n, 0.0);
  const double v = (*o->ll)(o->scratch, &o->grad);
  bool finite = std::isfinite(v);
  for (unsigned i = 0; i < n; ++i) finite = finite && std::isfinite(o->grad[i]);
  for (unsigned i = 0; i < n; ++i) grad[i] = finite ? -o->grad[i] : 0.0;
  return finite ? -v : 1e300;
}

std::string ResultName(nlopt_result r) {
  const char* s = nlopt_result_to_string(r);
  return s ? s : fmt::format("code {}", static_cast<int>(r));
}

}  // namespace

double ParallelSum(size_t n, int threads, const std::function<double(size_t, size_t)>& chunk_sum) {
  const size_t t = static_cast<size_t>(std::max(1, threads));
  if (t == 1 || n < 512) return chunk_sum(0, n);
  std::vector<double> partial(t, 0);
  std::vector<std::thread> workers;
  const size_t per = (n + t - 1) / t;
  for (size_t k = 1; k < t; ++k) {
    const size_t lo = std::min(n, k * per), hi = std::min(n, (k + 1) * per);
    workers.emplace_back([&, k, lo, hi] { partial[k] = chunk_sum(lo, hi); });
  }
  partial[0] = chunk_sum(0, std::min(n, per));
  for (auto& w : workers) w.join();
  double s = 0;
  for (double p : partial) s += p;
  return s;
}

void ParallelSums(size_t n, int threads, size_t k,
                  const std::function<void(size_t lo, size_t hi, double* sums)>& chunk_sums, double* out) {
  const size_t t = (n < 512) ? 1 : static_cast<size_t>(std::max(1, threads));
  std::vector<double> partial(t * k, 0.0);
  const size_t per = (n + t - 1) / t;
  std::vector<std::thread> workers;
  for (size_t c = 1; c < t; ++c) {
    const size_t lo = std::min(n, c * per), hi = std::min(n, (c + 1) * per);
    workers.emplace_back([&, c, lo, hi] { chunk_sums(lo, hi, partial.data() + c * k); });
  }
  chunk_sums(0, std::min(n, per), partial.data());
  for (auto& w : workers) w.join();
  for (size_t j = 0; j < k; ++j) {
    out[j] = 0;
    for (size_t c = 0; c < t; ++c) out[j] += partial[c * k + j];
  }
}

std::vector<std::vector<double>> SpreadStarts(const std::vector<double>& base, int extra) {
  std::vector<std::vector<double>> out{base};
  static constexpr double kOffsets[] = {1, -1, 2, -2, 0.5, -0.5, 3, -3};
  for (int k = 0; k < extra; ++k) {
    auto s = base;
    for (size_t i = 0; i < s.size(); ++i)
      s[i] += kOffsets[k % 8] * ((i + static_cast<size_t>(k)) % 2 == 0 ? 1.0 : -0.5);
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

// The search both entry points share; `gradient` says whether log_likelihood fills one.
Result<OptimumResult> Search(const LogLikelihoodWithGradient& log_likelihood_fg, bool gradient, size_t n,
                             std::vector<std::vector<double>> starts, const FitOptions& options) {
  auto log_likelihood = [&](const std::vector<double>& x) { return log_likelihood_fg(x, nullptr); };
  if (n == 0) return InvalidArgument("fit: no parameters");
  if (starts.empty()) return InvalidArgument("fit: no starting point");
  for (const auto& s : starts)
    if (s.size() != n) return InvalidArgument("fit: starting point has the wrong dimension");
  const auto t0 = std::chrono::steady_clock::now();

  Objective obj{&log_likelihood_fg, {}, {}, 0};
  std::vector<double> lower(n, -options.log_bound), upper(n, options.log_bound);
  std::vector<double> best;
  double best_ll = -std::numeric_limits<double>::infinity();
  std::vector<double> lls;
  std::string last_failure;

  // One local search with `alg` from x (in place); returns the log-likelihood reached.
  auto local = [&](nlopt_algorithm alg, std::vector<double>& x, double step, double xtol) {
    nlopt_opt opt = nlopt_create(alg, static_cast<unsigned>(n));
    nlopt_set_min_objective(opt, Negated, &obj);
    nlopt_set_lower_bounds(opt, lower.data());
    nlopt_set_upper_bounds(opt, upper.data());
    nlopt_set_xtol_rel(opt, xtol);
    nlopt_set_ftol_abs(opt, 1e-10);
    // L-BFGS: also stop on a relative change of 1e-15 in ln L (|ln L| is ~1e6 on a million
    // customers, where an absolute 1e-10 is below rounding), and keep more corrections.
    if (gradient) {
      nlopt_set_ftol_rel(opt, 1e-15);
      nlopt_set_vector_storage(opt, 10);
    }
    nlopt_set_maxeval(opt, options.max_evaluations);
    std::vector<double> steps(n, step);
    nlopt_set_initial_step(opt, steps.data());
    double f = 0;
    nlopt_result r = nlopt_optimize(opt, x.data(), &f);
    nlopt_destroy(opt);
    if (r < 0) last_failure = fmt::format("{} failed: {}", nlopt_algorithm_name(alg), ResultName(r));
    const double ll = log_likelihood(x);
    ++obj.evaluations;
    return ll;
  };

  // L-BFGS with the gradient, else BOBYQA (quadratic models, few evaluations), from every start ...
  const nlopt_algorithm start_alg = gradient ? NLOPT_LD_LBFGS : NLOPT_LN_BOBYQA;
  for (auto start : starts) {
    for (auto& v : start) v = std::clamp(v, -options.log_bound + 1e-6, options.log_bound - 1e-6);
    // Starts only need to find the basin (and show they agree): a looser tolerance; the polish
    // below takes the best to options.xtol_rel.
    const double ll = local(start_alg, start, 0.5, std::max(options.xtol_rel, 1e-7));
    if (std::isfinite(ll)) {
      lls.push_back(ll);
      if (ll > best_ll) {
        best_ll = ll;
        best = start;
      }
    }
  }
  // ... then the best one polished: by L-BFGS at the final tolerance, or by Nelder-Mead and BOBYQA
  // again — that polish catches BOBYQA stopping early on a flat ridge, as the Pareto/NBD
  // likelihood has.
  if (!best.empty()) {
    auto x = best;
    double ll;
    if (gradient) {
      ll = local(NLOPT_LD_LBFGS, x, 0.01, options.xtol_rel);
    } else {
      ll = local(NLOPT_LN_NELDERMEAD, x, 0.05, options.xtol_rel);
      ll = local(NLOPT_LN_BOBYQA, x, 0.01, options.xtol_rel);
    }
    if (std::isfinite(ll) && ll >= best_ll) {
      best_ll = ll;
      best = x;
    }
  }

  OptimumResult out;
  FitReport& rep = out.report;
  rep.starts = static_cast<int>(starts.size());
  rep.evaluations = obj.evaluations;
  if (best.empty()) {
    out.log_params = starts.front();
    rep.converged = false;
    rep.log_likelihood = std::numeric_limits<double>::quiet_NaN();
    rep.message = "no start reached a finite log-likelihood" +
                  (last_failure.empty() ? std::string() : " (" + last_failure + ")");
    return out;
  }
  out.log_params = best;
  rep.log_likelihood = best_ll;
  for (double ll : lls) rep.starts_agreeing += (best_ll - ll <= 1e-3) ? 1 : 0;

  // Gradient on the log scale by central differences: ~0 at an interior optimum.
  double g2 = 0;
  for (size_t i = 0; i < n; ++i) {
    const double h = 1e-5;
    auto up = best, dn = best;
    up[i] += h;
    dn[i] -= h;
    const double g = (log_likelihood(up) - log_likelihood(dn)) / (2 * h);
    g2 += g * g;
  }
  rep.gradient_norm = std::sqrt(g2);

  std::vector<std::string> problems;
  for (size_t i = 0; i < n; ++i)
    if (std::abs(best[i]) > options.log_bound - 1e-3)
      problems.push_back(fmt::format("parameter {} at its bound (e^{:+g}): the model degenerates on these data", i, best[i]));
  const bool flat = std::isfinite(rep.gradient_norm) && rep.gradient_norm <= 1e-2 * std::max(1.0, std::sqrt(std::abs(best_ll)));
  if (!flat) problems.push_back(fmt::format("gradient not ~0 at the optimum (|g| = {:.3g})", rep.gradient_norm));
  if (starts.size() > 1 && rep.starts_agreeing < 2)
    problems.push_back("only one start reached the best log-likelihood");
  rep.converged = problems.empty();
  rep.stationary = flat;
  if (rep.converged) {
    rep.message = fmt::format("converged: {} of {} starts agree within 1e-3", rep.starts_agreeing, rep.starts);
  } else {
    rep.message = "NOT converged: ";
    for (size_t i = 0; i < problems.size(); ++i) rep.message += (i ? "; " : "") + problems[i];
  }
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace

Result<OptimumResult> MaximizeLogLikelihood(
    const std::function<double(const std::vector<double>&)>& log_likelihood, size_t n,
    std::vector<std::vector<double>> starts, const FitOptions& options) {
  return Search([&](const std::vector<double>& x, std::vector<double>*) { return log_likelihood(x); }, false, n,
                std::move(starts), options);
}

Result<OptimumResult> MaximizeLogLikelihoodWithGradient(const LogLikelihoodWithGradient& log_likelihood, size_t n,
                                                        std::vector<std::vector<double>> starts,
                                                        const FitOptions& options) {
  return Search(log_likelihood, true, n, std::move(starts), options);
}

}  // namespace cairn::value
