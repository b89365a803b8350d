#include "dashboard/forecast.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace cairn::dashboard {
namespace {

constexpr double kAlphas[] = {0.02, 0.05, 0.1, 0.2, 0.35, 0.5};
constexpr double kBetas[] = {0.0, 0.01, 0.03, 0.1};
constexpr double kGammas[] = {0.02, 0.05, 0.1, 0.25};
// Residuals are resampled in runs of this many consecutive days (a moving-block bootstrap), so
// what is left of a weekly pattern or a slow swing in the errors survives the resampling.
constexpr size_t kBlockDays = 7;
constexpr int kNever = std::numeric_limits<int>::max();

struct State {
  double level, trend, season[7];
};

// The initial state and the line it came from (fitted values of the first 7 days).
State InitialState(const std::vector<double>& y, double* a_out, double* b_out) {
  // Over the first k = min(8, n/7) full weeks: regress the weekly means on their centre days for
  // the trend (two weeks alone give a trend too noisy to extrapolate), then average each weekday's
  // deviation from that line for the season (centred to sum 0). The state is placed at index 6 so
  // the filter starts by predicting index 7.
  State s{};
  size_t k = std::min<size_t>(8, y.size() / 7);
  std::vector<double> mean(k, 0.0), centre(k, 0.0);
  for (size_t j = 0; j < k; ++j) {
    for (size_t d = 0; d < 7; ++d) mean[j] += y[7 * j + d] / 7;
    centre[j] = 7.0 * j + 3;
  }
  double mc = 0, mm = 0;
  for (size_t j = 0; j < k; ++j) mc += centre[j] / k, mm += mean[j] / k;
  double sxy = 0, sxx = 0;
  for (size_t j = 0; j < k; ++j) sxy += (centre[j] - mc) * (mean[j] - mm), sxx += (centre[j] - mc) * (centre[j] - mc);
  double b = sxx > 0 ? sxy / sxx : 0, a = mm - b * mc;
  double total = 0;
  for (size_t d = 0; d < 7; ++d) {
    double dev = 0;
    for (size_t j = 0; j < k; ++j) dev += y[7 * j + d] - (a + b * (7.0 * j + d));
    s.season[d] = dev / k;
    total += s.season[d];
  }
  for (double& v : s.season) v -= total / 7;
  s.trend = b;
  s.level = a + 6 * b;
  if (a_out) *a_out = a, *b_out = b;
  return s;
}

// Runs the filter over y[7..]; returns the SSE of one-step errors from index 14 on. `residuals`
// receives those errors, `fitted` the one-step predictions of y[7..].
double Run(const std::vector<double>& y, double a, double b, double g, State* s,
           std::vector<double>* residuals, std::vector<double>* fitted) {
  // The residual pool starts after the warm-up week, or at index 7 on short series (under 4
  // weeks: a single week of errors is too few to resample).
  const size_t first_residual = y.size() < 28 ? 7 : 14;
  double sse = 0;
  for (size_t t = 7; t < y.size(); ++t) {
    double& season = s->season[t % 7];
    double pred = s->level + s->trend + season;
    double err = y[t] - pred;
    if (fitted) fitted->push_back(pred);
    if (t >= 14) sse += err * err;
    if (residuals && t >= first_residual) residuals->push_back(err);
    double prev_level = s->level;
    s->level = a * (y[t] - season) + (1 - a) * (s->level + s->trend);
    s->trend = b * (s->level - prev_level) + (1 - b) * s->trend;
    season = g * (y[t] - s->level) + (1 - g) * season;
  }
  return sse;
}

}  // namespace

HoltWintersFit FitHoltWinters(const std::vector<double>& y) {
  HoltWintersFit fit;
  fit.n = y.size();
  if (y.size() < 14) {
    // Fallback: the mean, residuals = deviations from it.
    double mean = 0;
    for (double v : y) mean += v;
    mean = y.empty() ? 0 : mean / static_cast<double>(y.size());
    fit.level = mean;
    for (double v : y) fit.residuals.push_back(v - mean);
    fit.fitted.assign(y.size(), mean);
    return fit;
  }
  fit.seasonal = true;
  double best = std::numeric_limits<double>::infinity();
  for (double a : kAlphas)
    for (double b : kBetas)
      for (double g : kGammas) {
        State s = InitialState(y, nullptr, nullptr);
        double sse = Run(y, a, b, g, &s, nullptr, nullptr);
        if (sse < best) {
          best = sse;
          fit.alpha = a, fit.beta = b, fit.gamma = g;
        }
      }
  double a0 = 0, b0 = 0;
  State s = InitialState(y, &a0, &b0);
  for (size_t t = 0; t < 7; ++t) fit.fitted.push_back(a0 + b0 * static_cast<double>(t) + s.season[t]);
  Run(y, fit.alpha, fit.beta, fit.gamma, &s, &fit.residuals, &fit.fitted);
  fit.level = s.level;
  fit.trend = s.trend;
  std::copy(std::begin(s.season), std::end(s.season), fit.season);
  if (fit.residuals.empty()) fit.residuals.push_back(0);
  return fit;
}

namespace {

// Draws residuals in blocks of kBlockDays consecutive ones (fewer when there are fewer).
class BlockDraw {
 public:
  BlockDraw(const std::vector<double>& residuals, std::mt19937_64* rng)
      : r_(residuals), rng_(rng), block_(std::clamp<size_t>(residuals.size() / 4, 1, kBlockDays)),
        start_(0, residuals.size() - block_) {}
  double Next() {
    if (left_ == 0) at_ = start_(*rng_), left_ = block_;
    --left_;
    return r_[at_++];
  }

 private:
  const std::vector<double>& r_;
  std::mt19937_64* rng_;
  size_t block_, at_ = 0, left_ = 0;
  std::uniform_int_distribution<size_t> start_;
};

// Simulates `paths` futures through `fit`'s state equations from its end state, each day's value
// the forecast + a residual drawn from `residuals`, clamped at 0; appends the day each reaches
// `remaining` (kNever past the horizon).
void SimulatePaths(const HoltWintersFit& fit, const std::vector<double>& residuals, int paths, double remaining,
                   int horizon, std::mt19937_64* rng, std::vector<int>* reach) {
  for (int p = 0; p < paths; ++p) {
    BlockDraw draw(residuals, rng);
    double level = fit.level, trend = fit.trend, season[7];
    std::copy(std::begin(fit.season), std::end(fit.season), season);
    double cum = 0;
    int day = kNever;
    for (int k = 1; k <= horizon; ++k) {
      double e = draw.Next();
      double v;
      if (fit.seasonal) {
        double& s = season[(fit.n + k - 1) % 7];
        double pred = level + trend + s;
        v = std::max(0.0, pred + e);
        double prev = level;
        level = fit.alpha * (v - s) + (1 - fit.alpha) * (level + trend);
        trend = fit.beta * (level - prev) + (1 - fit.beta) * trend;
        s = fit.gamma * (v - level) + (1 - fit.gamma) * s;
      } else {
        v = std::max(0.0, fit.level + e);
      }
      cum += v;
      if (cum >= remaining) {
        day = k;
        break;
      }
    }
    reach->push_back(day);
  }
}

}  // namespace


std::vector<double> ForecastMean(const HoltWintersFit& fit, int h) {
  std::vector<double> out;
  for (int k = 1; k <= h; ++k) {
    double v = fit.seasonal ? fit.level + k * fit.trend + fit.season[(fit.n + k - 1) % 7] : fit.level;
    out.push_back(std::max(0.0, v));
  }
  return out;
}

EtaForecast ForecastEta(const std::vector<double>& y, double remaining, int deadline_offset,
                        const ForecastOptions& options) {
  EtaForecast out;
  HoltWintersFit fit = FitHoltWinters(y);
  std::string uncertainty =
      options.refits > 0
          ? fmt::format("{} refits on block-bootstrapped histories x {} paths", options.refits,
                        (options.paths + options.refits - 1) / options.refits)
          : fmt::format("residual bootstrap, {} paths", options.paths);
  out.method = fit.seasonal ? fmt::format("holt-winters additive, weekly season (alpha={}, beta={}, gamma={}) + {}",
                                          fit.alpha, fit.beta, fit.gamma, uncertainty)
                            : fmt::format("short history ({} days): mean + {}", y.size(), uncertainty);
  if (remaining <= 0) {
    out.eta = out.low = out.high = 0;
    out.p_by_deadline = 1;
    return out;
  }
  if (y.empty()) return out;
  std::mt19937_64 rng(options.seed);
  std::vector<int> reach;
  reach.reserve(options.paths);
  if (options.refits <= 0) {
    SimulatePaths(fit, fit.residuals, options.paths, remaining, options.horizon_days, &rng, &reach);
  } else {
    // Parameter uncertainty (docs/dashboard.md "ETA"): each refit sees a history as likely as
    // the observed one — the fitted values plus block-resampled residuals — and estimates its own
    // smoothing parameters (grid search) and initial state from it; that refit is then run over
    // the observed days, so its end state is conditioned on what really happened, and its paths
    // start there. The spread of those end states is the estimates' sampling error (chiefly the
    // trend's), which simulating from the one fit alone leaves out.
    std::vector<double> pseudo(y.size());
    for (int r = 0; r < options.refits; ++r) {
      BlockDraw draw(fit.residuals, &rng);
      for (size_t t = 0; t < y.size(); ++t) pseudo[t] = std::max(0.0, fit.fitted[t] + draw.Next());
      HoltWintersFit refit = FitHoltWinters(pseudo);
      if (refit.seasonal) {
        State s = InitialState(pseudo, nullptr, nullptr);
        Run(y, refit.alpha, refit.beta, refit.gamma, &s, nullptr, nullptr);
        refit.level = s.level, refit.trend = s.trend;
        std::copy(std::begin(s.season), std::end(s.season), refit.season);
      }
      int paths = options.paths / options.refits + (r < options.paths % options.refits ? 1 : 0);
      SimulatePaths(refit, fit.residuals, paths, remaining, options.horizon_days, &rng, &reach);
    }
  }
  int by_deadline = 0;
  for (int day : reach) by_deadline += day <= deadline_offset;
  std::sort(reach.begin(), reach.end());
  auto quantile = [&](double q) -> std::optional<int> {
    size_t i = std::min(reach.size() - 1, static_cast<size_t>(q * static_cast<double>(reach.size() - 1) + 0.5));
    if (reach[i] == kNever) return std::nullopt;
    return reach[i];
  };
  out.eta = quantile(0.5);
  out.low = quantile(options.band_low);
  out.high = quantile(options.band_high);
  out.p_by_deadline = static_cast<double>(by_deadline) / static_cast<double>(reach.size());
  return out;
}

}  // namespace cairn::dashboard
