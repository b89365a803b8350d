#pragma once
// Maximum-likelihood driver shared by the CLV models: NLopt (Debian libnlopt) from several
// deterministic starts, the best polished, parameters on the log scale (so every parameter stays
// positive without constraints), and a convergence report that says when the answer should not be
// trusted rather than returning a silent garbage fit. Models with an analytic gradient (BG/NBD,
// Gamma-Gamma) are searched by L-BFGS; the others (Pareto/NBD) derivative-free by BOBYQA, polished
// by Nelder-Mead and BOBYQA again.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace cairn::value {

struct FitOptions {
  // Extra deterministic starts beyond the model's default one (spread on the log scale). Default 4.
  int extra_starts = 4;
  // Relative tolerance on the (log) parameters at which a local search stops. Default 1e-10.
  double xtol_rel = 1e-10;
  // Cap on likelihood evaluations per local search. Default 20000.
  int max_evaluations = 20000;
  // Log-parameters are bounded to ±log_bound (e^±20 ≈ 2e-9 … 5e8); an optimum on the bound is
  // reported as not converged (the model degenerates on these data). Default 20.
  double log_bound = 20;
  // Threads for evaluating the likelihood over customers (1 = calling thread only). Default 2.
  int threads = 2;
};

// How a fit went. `converged` is false — and `message` says why — when the optimiser failed, the
// optimum lies on a parameter bound, the starts disagree, or the gradient is not ~0 there.
struct FitReport {
  bool converged = false;
  // The best point found is a maximum of the likelihood: the gradient is ~0 there. True whenever
  // converged. When not converged only because the point lies on a parameter's bound (the model's
  // limit case, e.g. BG/NBD's a -> 0 or b -> infinity on a business where no one has dropped out
  // yet) or because the starts stopped at different heights (a flat ridge toward that limit, or
  // several local maxima, of which this is the highest found), its parameters are still the best
  // model of the data there is; `message` says what to doubt.
  bool stationary = false;
  std::string message;
  double log_likelihood = 0;
  int evaluations = 0;       // likelihood evaluations over all starts
  int starts = 0;            // local searches run
  int starts_agreeing = 0;   // searches that ended within 1e-3 of the best log-likelihood
  double gradient_norm = 0;  // ‖∇ LL‖ on the log-parameter scale at the optimum (central differences)
  double seconds = 0;
  int64_t customers = 0;     // customers the likelihood covered
  int64_t rows = 0;          // distinct rows after merging identical summaries
};

// Maximises `log_likelihood(log_params)` over `n` log-parameters. `starts` are log-parameter
// vectors (the first is the model's default). The function must return -inf or NaN where the
// likelihood is undefined. Fails (InvalidArgument) only on bad arguments; a failed optimisation is
// reported in FitReport, with the best point found.
struct OptimumResult {
  std::vector<double> log_params;
  FitReport report;
};
Result<OptimumResult> MaximizeLogLikelihood(
    const std::function<double(const std::vector<double>&)>& log_likelihood, size_t n,
    std::vector<std::vector<double>> starts, const FitOptions& options);

// Deterministic extra starting points around `base` (log scale): ±1 and ±2 in alternating
// coordinates, so runs are reproducible.
// ln L at log-parameters and, when `gradient` is not null, ∂ ln L / ∂ log-parameter into it (sized n).
using LogLikelihoodWithGradient =
    std::function<double(const std::vector<double>& log_params, std::vector<double>* gradient)>;
// The same search by L-BFGS from every start, the best polished at options.xtol_rel. The reported
// gradient norm is still taken by central differences of the function itself, so a wrong analytic
// gradient cannot report convergence.
Result<OptimumResult> MaximizeLogLikelihoodWithGradient(const LogLikelihoodWithGradient& log_likelihood, size_t n,
                                                        std::vector<std::vector<double>> starts,
                                                        const FitOptions& options);

std::vector<std::vector<double>> SpreadStarts(const std::vector<double>& base, int extra);

// Σ_{i<n} fn(i) split over up to `threads` threads in contiguous chunks (deterministic: the chunk
// sums are added in order).
double ParallelSum(size_t n, int threads, const std::function<double(size_t, size_t)>& chunk_sum);
// Several sums at once: chunk_sums(lo, hi, sums) adds its chunk's k sums into sums[0..k) (zeroed
// per chunk); `out` receives the totals, chunks added in order (deterministic).
void ParallelSums(size_t n, int threads, size_t k,
                  const std::function<void(size_t lo, size_t hi, double* sums)>& chunk_sums, double* out);

}  // namespace cairn::value
