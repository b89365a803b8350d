// forecast_bench: CPU time of one ForecastEta (docs/dashboard.md "ETA") — what GET /v1/dashboard
// spends per goal twice (the forecast now and the one a week ago). Series: 182 days (the
// dashboard's 26-week history) of 1000 + 2·t + a weekly season ±300 + Gaussian noise σ 200; the
// target is ~30 or ~120 days of it ahead (the paths' cost grows with the ETA). Each case runs
// `reps` times (default 7) after one warm-up, with the default options and with refits = 0 (the
// method without parameter uncertainty); prints medians, one figure per line: `name value unit`.
// Usage: forecast_bench [--reps N]
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "base/cpu_time.h"
#include "dashboard/forecast.h"

namespace {

}  // namespace

int main(int argc, char** argv) {
  int reps = 7;
  for (int i = 1; i + 1 < argc; i += 2)
    if (!std::strcmp(argv[i], "--reps")) reps = std::max(1, std::atoi(argv[i + 1]));
  constexpr double kSeason[7] = {-300, -100, 0, 100, 250, 150, -100};
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0, 200);
  std::vector<double> y;
  for (int t = 0; t < 182; ++t) y.push_back(1000 + 2 * t + kSeason[t % 7] + noise(rng));
  for (int ahead : {30, 120}) {
    double remaining = ahead * (1000 + 2 * (182 + ahead / 2.0));
    for (int refits : {40, 0}) {
      cairn::dashboard::ForecastOptions options;
      options.refits = refits;
      cairn::dashboard::ForecastEta(y, remaining, ahead, options);  // warm-up
      std::vector<double> cpu;
      int eta = 0;
      for (int r = 0; r < reps; ++r) {
        double c0 = cairn::ProcessCpuSeconds();
        auto f = cairn::dashboard::ForecastEta(y, remaining, ahead, options);
        cpu.push_back(1000 * (cairn::ProcessCpuSeconds() - c0));
        eta = f.eta.value_or(-1);
      }
      std::sort(cpu.begin(), cpu.end());
      std::printf("forecast_eta_182d_ahead%d_refits%d_cpu_median %.2f ms\n", ahead, refits, cpu[cpu.size() / 2]);
      std::printf("forecast_eta_182d_ahead%d_refits%d_eta %d days\n", ahead, refits, eta);
    }
  }
  return 0;
}
