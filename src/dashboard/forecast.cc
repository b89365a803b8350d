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

struct State {
  double level, trend, season[7];
};

State InitialState(const std::vector<double>& y) {
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
  return s;
}

// Runs the filter over y[7..]; returns the SSE of one-step errors from index 14 on.
double Run(const std::vector<double>& y, double a, double b, double g, State* s,
           std::vector<double>* residuals) {
  double sse = 0;
  for (size_t t = 7; t < y.size(); ++t) {
    double& season = s->season[t % 7];
    double pred = s->level + s->trend + season;
    double err = y[t] - pred;
    if (t >= 14) {
      sse += err * err;
      if (residuals) residuals->push_back(err);
    }
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
    return fit;
  }
  fit.seasonal = true;
  double best = std::numeric_limits<double>::infinity();
  for (double a : kAlphas)
    for (double b : kBetas)
      for (double g : kGammas) {
        State s = InitialState(y);
        double sse = Run(y, a, b, g, &s, nullptr);
        if (sse < best) {
          best = sse;
          fit.alpha = a, fit.beta = b, fit.gamma = g;
        }
      }
  State s = InitialState(y);
  Run(y, fit.alpha, fit.beta, fit.gamma, &s, &fit.residuals);
  fit.level = s.level;
  fit.trend = s.trend;
  std::copy(std::begin(s.season), std::end(s.season), fit.season);
  if (fit.residuals.empty()) fit.residuals.push_back(0);
  return fit;
}

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
  out.method = fit.seasonal ? fmt::format("holt-winters additive, weekly season (alpha={}, beta={}, gamma={}) "
                                          "+ residual bootstrap, {} paths",
                                          fit.alpha, fit.beta, fit.gamma, options.paths)
                            : fmt::format("short history ({} days): mean + bootstrap of days, {} paths", y.size(),
                                          options.paths);
  if (remaining <= 0) {
    out.eta = out.low = out.high = 0;
    out.p_by_deadline = 1;
    return out;
  }
  if (y.empty()) return out;
  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<size_t> pick(0, fit.residuals.size() - 1);
  const int kNever = std::numeric_limits<int>::max();
  std::vector<int> reach;
  reach.reserve(options.paths);
  int by_deadline = 0;
  for (int p = 0; p < options.paths; ++p) {
    double level = fit.level, trend = fit.trend, season[7];
    std::copy(std::begin(fit.season), std::end(fit.season), season);
    double cum = 0;
    int day = kNever;
    for (int k = 1; k <= options.horizon_days; ++k) {
      double e = fit.residuals[pick(rng)];
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
    if (day <= deadline_offset) ++by_deadline;
    reach.push_back(day);
  }
  std::sort(reach.begin(), reach.end());
  auto quantile = [&](double q) -> std::optional<int> {
    size_t i = std::min(reach.size() - 1, static_cast<size_t>(q * static_cast<double>(reach.size() - 1) + 0.5));
    if (reach[i] == kNever) return std::nullopt;
    return reach[i];
  };
  out.eta = quantile(0.5);
  out.low = quantile(options.band_low);
  out.high = quantile(options.band_high);
  out.p_by_deadline = static_cast<double>(by_deadline) / options.paths;
  return out;
}

}  // namespace cairn::dashboard
