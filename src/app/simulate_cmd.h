#pragma once
// `cairn simulate` and the business behind `cairn demo` (docs/simulator.md).
//
//   cairn simulate [--customers N] [--days D] [--seed S] [--start YYYY-MM-DD]
//                  (--out FILE.jsonl[.gz] | --url URL --write-key K | --data DIR)
//
// --out writes the history as JSON Lines (for benchmarks and peers); --data and --url send it
// through the real ingest path (RunImportFrom: the same batching, back-pressure and progress bar
// as `cairn import`). Generation streams: memory is bounded by the customers alive at once, not
// by the number of interactions.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "app/config.h"
#include "base/result.h"
#include "dashboard/dashboard_service.h"
#include "sim/simulator.h"

namespace CLI {
class App;
}

namespace cairn::app {

struct SimulateOptions {
  uint64_t customers = 50000;  // --customers: arrivals over the history
  int days = 365;              // --days: length of the history
  uint64_t seed = 1;           // --seed: same seed and options → same bytes
  std::string start;           // --start YYYY-MM-DD (UTC); default: `days` days before today
  std::string out;             // --out FILE: JSON Lines ("-" = stdout; a .gz name is gzip'd)
  std::string url;             // --url http://HOST:PORT: send to a running server
  std::string write_key;       // --write-key: with --url (required) or --data (names the source)
  std::string data;            // --data DIR: load into a (stopped) data directory
  bool progress = true;        // --no-progress
  std::string sim_config;      // --sim-config FILE: the business's parameters (config/sim.yaml)
};

struct SimulateReport {
  uint64_t lines = 0;
  uint64_t accepted = 0;  // by the ingest path (--data / --url)
  uint64_t bad = 0;
  double seconds = 0;
  sim::SimStats stats;
};

void AddSimulateFlags(CLI::App* cmd, SimulateOptions* options);

// Overrides `options` from a YAML file (config/sim.yaml documents every key). InvalidArgument
// naming the key with its line and column; unknown keys are errors.
Status ApplySimConfig(const std::string& path, sim::SimOptions* options);

// The simulator options for `options`; InvalidArgument naming the flag. `now_ms` anchors the
// default start (midnight UTC, `days` days before now).
Result<sim::SimOptions> BuildSimOptions(const SimulateOptions& options, int64_t now_ms);

// Runs `cairn simulate`; prints a summary (lines, rate, conversion, churn, NPS...) to stderr.
Result<SimulateReport> RunSimulate(const SimulateOptions& options);

// The demo's business: loads `days` of history ending now into a data dir, then keeps it live
// (a few interactions per second through HTTP to the server) until Stop.
//
// Closed loop: OnAction hands Cairn's action (a rescue or outreach webhook) to the simulated
// customer, who responds with the probabilities in docs/simulator.md. Thread-safe.
class DemoBusiness {
 public:
  struct Options {
    uint64_t customers = 20000;
    int days = 365;
    uint64_t seed = 1;
    double live_rate = 3;  // interactions per second once live (sets the time compression)
    bool progress = true;
    std::string sim_config;  // YAML of the business's parameters ("" = the defaults)
  };
  static Result<std::unique_ptr<DemoBusiness>> Create(const Options& options);
  ~DemoBusiness();

  // Loads the history into cfg.hub.data_dir (the data dir must not be open elsewhere).
  Result<SimulateReport> LoadHistory(const Config& cfg);
  // Pre-configures the dashboard once, when it has no goals yet (a restart keeps the user's
  // edits): this quarter's revenue and sign-up goals at 110–115% of the history's pace, and the
  // quarter's paid-acquisition budget at the history's spend rate. Needs LoadHistory first.
  Status SeedDashboard(dashboard::DashboardService* dashboard) const;
  // Starts sending live interactions to `url` with `write_key`, in batches about every 250 ms.
  Status StartLive(const std::string& url, const std::string& write_key);
  void Stop();
  Status OnAction(const sim::Action& action);

  uint64_t live_sent() const { return live_sent_.load(); }

 private:
  explicit DemoBusiness(Options options) : options_(options) {}
  void LiveLoop(std::string url, std::string write_key);

  Options options_;
  std::optional<sim::SimStats> history_;  // set by LoadHistory
  std::mutex mu_;
  std::unique_ptr<sim::Simulator> sim_;  // guarded by mu_ once live
  std::thread live_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> live_sent_{0};
};

}  // namespace cairn::app
