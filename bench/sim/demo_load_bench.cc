// demo_load_bench: how long `cairn demo` takes to load its history (the import path, with the
// journey engine, cases, consents and profiles attached, as the demo runs it: DemoBusiness::
// LoadHistory into a fresh data dir, until the hub has closed and every file is synced).
//
//   demo_load_bench [--customers N (50000)] [--days D (365)] [--reps R (3)] [--dir TMP]
//
// Each rep loads into its own fresh dir (removed after). Prints one figure per line, `name value
// unit`: per run the wall, CPU (user + system of the process during the load) and the 1-minute
// load average at its end, then the medians. The machine is shared: read the CPU figures beside
// the wall ones. To see what the disk's sync latency costs, run it with fsync/fdatasync stubbed
// out (LD_PRELOAD of a two-line shim returning 0): the difference is the syncs' share.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/simulate_cmd.h"

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
double LoadAverage() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : -1;
}
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cairn;
  using namespace cairn::app;
  uint64_t customers = 50000;
  int days = 365, reps = 3;
  std::string dir = "/tmp/cairn-demo-load-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--customers")) customers = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--days")) days = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: demo_load_bench [--customers N] [--days D] [--reps R] [--dir TMP]\n");
      return 2;
    }
  }
  const std::vector<std::string> modes = {"demo"};  // figure name prefixes, one load each per rep
  std::vector<std::vector<double>> wall(modes.size()), cpu(modes.size()), load(modes.size());
  uint64_t lines = 0;
  for (int rep = 0; rep < reps; ++rep) {
    for (size_t m = 0; m < modes.size(); ++m) {
      const std::string data = dir + "/" + modes[m] + "-" + std::to_string(rep);
      std::filesystem::remove_all(data);
      std::filesystem::create_directories(data);  // as `cairn demo`'s mkdtemp
      CliFlags flags;
      flags.data = data;
      auto cfg = BuildConfig(flags);
      if (!cfg.ok()) {
        std::fprintf(stderr, "demo_load_bench: %s\n", cfg.status().ToString().c_str());
        return 1;
      }
      DemoBusiness::Options o;
      o.customers = customers;
      o.days = days;
      o.progress = false;
      auto business = DemoBusiness::Create(o);
      if (!business.ok()) {
        std::fprintf(stderr, "demo_load_bench: %s\n", business.status().ToString().c_str());
        return 1;
      }
      double cpu0 = CpuSeconds();
      auto t0 = std::chrono::steady_clock::now();
      auto r = (*business)->LoadHistory(*cfg);  // returns after the hub has closed (all synced)
      double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      double c = CpuSeconds() - cpu0;
      if (!r.ok()) {
        std::fprintf(stderr, "demo_load_bench: %s\n", r.status().ToString().c_str());
        return 1;
      }
      lines = r->lines;
      wall[m].push_back(w);
      cpu[m].push_back(c);
      load[m].push_back(LoadAverage());
      std::printf("demo_load_%s_run%d_wall %.1f s\n", modes[m].c_str(), rep + 1, w);
      std::printf("demo_load_%s_run%d_cpu %.1f s\n", modes[m].c_str(), rep + 1, c);
      std::printf("demo_load_%s_run%d_loadavg %.1f load\n", modes[m].c_str(), rep + 1, load[m].back());
      std::fflush(stdout);
      std::filesystem::remove_all(data);
    }
  }
  std::printf("demo_load_customers %lu count\n", static_cast<unsigned long>(customers));
  std::printf("demo_load_interactions %lu count\n", static_cast<unsigned long>(lines));
  for (size_t m = 0; m < modes.size(); ++m) {
    std::printf("demo_load_%s_wall_median %.1f s\n", modes[m].c_str(), Median(wall[m]));
    std::printf("demo_load_%s_cpu_median %.1f s\n", modes[m].c_str(), Median(cpu[m]));
    std::printf("demo_load_%s_rate_median %.0f 1/s\n", modes[m].c_str(), lines / std::max(Median(wall[m]), 1e-9));
  }
  std::filesystem::remove(dir);
  return 0;
}
