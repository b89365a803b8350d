// sim_bench: how fast the simulated business generates its history, and in how much memory.
//
//   sim_bench [--customers N] [--days D] [--seed S]
//
// Generates the history in memory (lines are built and dropped: no I/O) and prints one figure
// per line: name value unit. CPU time is the process's (steady on a shared machine).

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sim/simulator.h"

int main(int argc, char** argv) {
  uint64_t customers = 50000, seed = 1;
  int days = 365;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--customers")) customers = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--days")) days = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: sim_bench [--customers N] [--days D] [--seed S]\n");
      return 2;
    }
  }
  auto sim = cairn::sim::Simulator::Create(cairn::sim::DefaultSimOptions(customers, days, seed, 1735689600000));
  if (!sim.ok()) {
    std::fprintf(stderr, "sim_bench: %s\n", sim.status().ToString().c_str());
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  std::string line;
  uint64_t lines = 0, bytes = 0;
  while ((*sim)->Next((*sim)->history_end_ms(), &line)) {
    ++lines;
    bytes += line.size() + 1;
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  const auto& s = (*sim)->stats();
  std::printf("sim_customers %lu count\n", static_cast<unsigned long>(customers));
  std::printf("sim_interactions %lu count\n", static_cast<unsigned long>(lines));
  std::printf("sim_interactions_per_customer %.1f count\n", static_cast<double>(lines) / customers);
  std::printf("sim_wall %.2f s\n", wall);
  std::printf("sim_interactions_per_cpu_s %.0f 1/s\n", lines / cpu);
  std::printf("sim_bytes_per_interaction %.0f bytes\n", static_cast<double>(bytes) / lines);
  std::printf("sim_peak_rss %.1f MiB\n", ru.ru_maxrss / 1024.0);
  std::printf("sim_peak_customers_in_memory %lu count\n", static_cast<unsigned long>(s.peak_live_customers));
  std::printf("sim_conversion %.4f ratio\n", s.Conversion());
  std::printf("sim_membership_churn_per_renewal %.4f ratio\n", s.Churn());
  std::printf("sim_nps %.1f score\n", s.Nps());
  std::printf("sim_outbound_share %.3f ratio\n", static_cast<double>(s.outbound) / lines);
  return 0;
}
