#pragma once
// Forecast of a daily series and the ETA of a cumulative target (docs/dashboard.md "ETA").
//
// Method: additive Holt-Winters (level, trend, 7-day season) fitted by a small grid search of
// (alpha, beta, gamma) minimising the one-step-ahead squared error. Uncertainty: `refits` refits
// on resampled histories (fitted values + block-resampled one-step residuals; each re-estimates
// the smoothing parameters and the initial state, then runs over the observed days) carry the
// estimates' own error — chiefly the trend's; from each refit's end state, `paths / refits` future
// paths run through the model's state equations with block-resampled residuals, values clamped
// at 0 (metrics are counts and money). Each path's cumulative sum gives the day the target is
// reached; the ETA is the median of those days and the band its 10th–90th percentiles. Series
// shorter than 14 days fall back to the mean (the refits then bootstrap the mean). Deterministic
// for a given seed. Cost: ~refits + 1 grid searches (96 filter runs each over the history) plus
// the paths; ~5 ms for 26 weeks of history (bench/README.md "forecast").


#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cairn::dashboard {

struct ForecastOptions {
  int paths = 400;           // simulated paths. Default 400.
  int refits = 40;           // parameter uncertainty: refits on resampled histories, the paths
                             // split between them; 0 = simulate from the one fit. Default 40.
  int horizon_days = 730;    // stop simulating after this many days. Default 2 years.
  double band_low = 0.10;    // quantiles of the band. Default 10% / 90% (an 80% band).
  double band_high = 0.90;
  uint64_t seed = 0x5eed;    // RNG seed (the answer is reproducible). Default fixed.
};

struct EtaForecast {
  // Days after the last observed day (1 = the next day) on which the cumulative sum of the
  // future reaches `remaining`; nullopt = beyond the horizon.
  std::optional<int> eta, low, high;
  double p_by_deadline = 0;  // share of paths reaching it within `deadline_offset` days
  std::string method;
};

struct HoltWintersFit {
  double alpha = 0, beta = 0, gamma = 0;
  double level = 0, trend = 0;
  double season[7] = {};    // season[(t) % 7] applies to absolute index t of the input series
  size_t n = 0;             // observations fitted
  std::vector<double> residuals;  // one-step errors after the warm-up
  std::vector<double> fitted;     // per observed day: the initial line + season for the first
                                  // week, one-step predictions after (the fallback: the mean)
  bool seasonal = false;    // false: the short-series fallback
};

HoltWintersFit FitHoltWinters(const std::vector<double>& y);

// Mean forecast for the next `h` days.
std::vector<double> ForecastMean(const HoltWintersFit& fit, int h);

// `remaining` > 0 (what is left to reach); `deadline_offset` = days from the last observed day
// to the deadline (may be ≤ 0).
EtaForecast ForecastEta(const std::vector<double>& y, double remaining, int deadline_offset,
                        const ForecastOptions& options = {});

}  // namespace cairn::dashboard
