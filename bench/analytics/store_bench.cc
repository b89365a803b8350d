// analytics_store_bench: the queries of bench/analytics/run.sh run in-process by analytics::Engine
// over a store on disk — no HTTP and no hub (journey engine, profiles). For stores made by
// gen_store (run.sh --direct), which have no journey state: `cairn serve` would first re-derive
// every customer's journey (at 100M events / 1M customers that alone took > 12 GB of RSS here).
//
//   analytics_store_bench --data DIR [--reps R] [--threads T] [--answers FILE]
//
// DIR is a data dir (the store is DIR/store). The store is opened without background work and
// with the identity as canonical mapping (gen_store writes canonical customer ids). Timed, each
// R times after a first run (the first funnel also builds the snapshot's columnar index, printed
// apart as cairn_index_build_ms): the 4-step 7-day funnel, 8-week retention, the funnel's "who
// dropped at step 3" (first page of 100), depth-3 paths from Signed Up, a daily trend. Per query:
// `cairn_<q>_ms` = median wall ms, `cairn_<q>_cpu_ms` = median process CPU ms (every worker),
// `cairn_<q>_events_per_cpu_s` = index rows / CPU seconds (median run). Then the process's peak
// RSS. --answers writes the funnel and retention answers in the peers' line format
// (`funnel_stepK N`, `retention START SIZE R1 .. R8`) for run.sh to compare.
// Prints one figure per line (`name value unit`).

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "analytics/engine.h"
#include "base/cpu_time.h"
#include "io/env.h"
#include "store/store.h"

namespace {

using namespace cairn;
using namespace cairn::analytics;

double PeakRssMb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  return 0;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

[[noreturn]] void Die(const Status& s, const char* what) {
  std::fprintf(stderr, "analytics_store_bench: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

FunnelSpec Funnel() {
  FunnelSpec spec;
  for (const char* e : {"Signed Up", "Product Viewed", "Added To Cart", "Order Completed"})
    spec.steps.push_back({e, {}, false, 0});
  spec.window_ms = 7 * kDayMs;
  return spec;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data, answers;
  int reps = 3;
  unsigned threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--data")) data = argv[i + 1];
    else if (!std::strcmp(argv[i], "--reps")) reps = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--threads")) threads = static_cast<unsigned>(std::max(1, std::atoi(argv[i + 1])));
    else if (!std::strcmp(argv[i], "--answers")) answers = argv[i + 1];
  }
  if (data.empty()) {
    std::fprintf(stderr, "usage: analytics_store_bench --data DIR [--reps R] [--threads T] [--answers FILE]\n");
    return 2;
  }
  store::StoreOptions so;
  so.background_work = false;
  auto st = store::Store::Open(io::Env::Posix(), io::JoinPath(data, "store"), so);
  if (!st.ok()) Die(st.status(), "opening the store");
  EngineOptions eo;
  eo.threads = threads;
  Engine engine(st->get(), [](store::CustomerId c) { return c; }, eo);
  auto ctx = [&] { return QueryContext(0, threads); };

  // The index alone first (what a served query's first call pays once per snapshot).
  const double b0 = (ProcessCpuSeconds() * 1e3);
  auto t0 = std::chrono::steady_clock::now();
  auto entry = engine.Index(ctx());
  if (!entry.ok()) Die(entry.status(), "building the index");
  const double rows = static_cast<double>(entry->index->row_count());
  std::printf("cairn_index_rows %.0f rows\ncairn_index_customers %zu customers\n", rows,
              entry->index->customer_count());
  std::printf("cairn_index_build_ms %.1f ms\ncairn_index_build_cpu_ms %.1f ms\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(), (ProcessCpuSeconds() * 1e3) - b0);

  // Runs `q` once untimed, then `reps` times timed; prints its figures.
  auto time = [&](const char* name, const std::function<Status()>& q) {
    if (Status s = q(); !s.ok()) Die(s, name);
    std::vector<double> wall, cpu;
    for (int r = 0; r < reps; ++r) {
      const double c0 = (ProcessCpuSeconds() * 1e3);
      const auto w0 = std::chrono::steady_clock::now();
      if (Status s = q(); !s.ok()) Die(s, name);
      wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - w0).count());
      cpu.push_back((ProcessCpuSeconds() * 1e3) - c0);
    }
    std::printf("cairn_%s_runs", name);
    for (size_t i = 0; i < wall.size(); ++i) std::printf("%s%.1f", i ? "," : " ", wall[i]);
    const double cpu_ms = Median(cpu);
    std::printf(" ms\ncairn_%s_ms %.1f ms\ncairn_%s_cpu_ms %.1f ms\ncairn_%s_events_per_cpu_s %.0f events/cpu-s\n", name,
                Median(wall), name, cpu_ms, name, cpu_ms > 0 ? rows / (cpu_ms / 1e3) : 0.0);
    std::fflush(stdout);
  };

  FunnelResult funnel;
  time("funnel", [&]() -> Status {
    ASSIGN_OR_RETURN(funnel, engine.Funnel(Funnel(), ctx()));
    return Status::Ok();
  });
  RetentionResult retention;
  RetentionSpec rs;
  rs.start_event = "Signed Up";
  rs.return_event = "Order Completed";
  rs.period = Period::kWeek;
  rs.periods = 8;
  time("retention", [&]() -> Status {
    ASSIGN_OR_RETURN(retention, engine.Retention(rs, ctx()));
    return Status::Ok();
  });
  FunnelSpec who = Funnel();
  who.who = FunnelWho{2, true, 100};  // step 3 (0-based 2), dropped, first page of 100
  size_t who_listed = 0;
  time("funnel_who_dropped3", [&]() -> Status {
    ASSIGN_OR_RETURN(auto r, engine.Funnel(who, ctx()));
    who_listed = r.who.size();
    return Status::Ok();
  });
  std::printf("cairn_funnel_who_dropped3_listed %zu customers\n", who_listed);
  PathsSpec ps;
  ps.anchor = "Signed Up";
  ps.depth = 3;
  time("paths", [&]() -> Status { return engine.Paths(ps, ctx()).status(); });
  TrendsSpec ts;
  ts.interval = Period::kDay;
  time("trends", [&]() -> Status { return engine.Trends(ts, ctx()).status(); });
  std::printf("cairn_peak_rss_mb %.0f MiB\n", PeakRssMb());

  if (!answers.empty()) {
    std::FILE* f = std::fopen(answers.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "analytics_store_bench: cannot write %s\n", answers.c_str());
      return 1;
    }
    for (size_t k = 0; k < funnel.steps.size(); ++k)
      std::fprintf(f, "funnel_step%zu %llu\n", k + 1, static_cast<unsigned long long>(funnel.steps[k].count));
    for (const auto& c : retention.cohorts) {
      std::fprintf(f, "retention %s %llu", c.start.c_str(), static_cast<unsigned long long>(c.size));
      for (uint64_t x : c.returned) std::fprintf(f, " %llu", static_cast<unsigned long long>(x));
      std::fprintf(f, "\n");
    }
    std::fclose(f);
  }
  return 0;
}
