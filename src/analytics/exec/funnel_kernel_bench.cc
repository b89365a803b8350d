// analytics_kernel_bench: the one-pass funnel kernel (EvaluateFastEventsBatch with the vectorised
// row filter) alone, on one core, over synthetic customer runs already in memory — no store, no index
// build, so it runs in seconds where analytics_bench needs minutes of loading.
//   analytics_kernel_bench [--customers N] [--reps R]
// Two shapes of 200k customers x 30..69 rows (4-step 7-day funnel, 14 event names):
//   journey: like bench/gen_events — a few anonymous page/product views, identify, Signed Up
//            once, then a customer's events over weeks (sessions minutes apart, days between);
//   uniform: every event anywhere, Signed Up among them at random (analytics_bench's shape).
// Prints, per shape, the median over R reps of thread CPU ms and events per CPU-second of the batch
// call over every customer (EvaluateFastEventsBatch, as the funnel query runs it), and the events
// per CPU-second of one EvaluateFastEvents call per customer (per_customer).

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "analytics/exec/funnel_kernel.h"
#include "base/cpu_time.h"

using namespace cairn::analytics;

namespace {

struct Runs {
  std::vector<int64_t> ts;
  std::vector<uint32_t> ev;
  std::vector<size_t> off{0};
};

// Event ids: 0 page, 1 identify, 2 Signed Up, 3 Product Viewed, 4 search, 5 Added To Cart,
// 6 checkout, 7 Order Completed, 8..13 others.
Runs Make(bool journey, size_t customers) {
  std::mt19937_64 rng(1);
  const int w[] = {250, 25, 0, 180, 70, 90, 50, 45, 80, 50, 80, 20, 15, 20};  // gen_events' weights
  const int wu[] = {30, 3, 4, 15, 5, 8, 3, 4, 6, 3, 10, 2, 4, 3};
  std::discrete_distribution<int> pick(std::begin(w), std::end(w)), pick_uniform(std::begin(wu), std::end(wu));
  Runs r;
  for (size_t c = 0; c < customers; ++c) {
    const int n = 30 + static_cast<int>(rng() % 40);
    int64_t t = 1767225600000 + static_cast<int64_t>(rng() % (30ull * 86'400'000));
    const int anon = journey ? 3 + static_cast<int>(rng() % 8) : 0;
    for (int i = 0; i < n; ++i) {
      if (journey) {
        t += rng() % 4 == 0 ? static_cast<int64_t>(rng() % (4ull * 86'400'000)) : static_cast<int64_t>(1000 + rng() % 600'000);
        r.ev.push_back(i < anon ? (rng() % 3 ? 0 : 3) : i == anon ? 1 : i == anon + 1 ? 2 : pick(rng));
      } else {
        t += static_cast<int64_t>(rng() % (2ull * 86'400'000));
        r.ev.push_back(static_cast<uint32_t>(pick_uniform(rng)));
      }
      r.ts.push_back(t);
    }
    r.off.push_back(r.ts.size());
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  size_t customers = 200'000;
  int reps = 9;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--customers")) customers = std::stoull(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps")) reps = std::stoi(argv[i + 1]);
  }
  FunnelSpec spec;
  for (const char* e : {"Signed Up", "Product Viewed", "Added To Cart", "Order Completed"}) spec.steps.push_back({e, {}, false, 0});
  spec.window_ms = 7 * kDayMs;
  const FunnelPlan plan = FunnelPlan::From(spec);
  std::vector<uint32_t> lut(14, 0);
  lut[2] = 1, lut[3] = 2, lut[5] = 4, lut[7] = 8;
  const StepEventFilter filter = StepEventFilter::From(lut.data(), lut.size());
  for (bool journey : {true, false}) {
    const Runs runs = Make(journey, customers);
    const char* shape = journey ? "journey" : "uniform";
    // The batch API over every customer (as the funnel query calls it), then one call per customer.
    struct Count final : FunnelSink {
      uint64_t converted = 0;
      void Add(size_t, const FunnelOutcome& out) override { converted += out.level == 4; }
    };
    std::vector<uint32_t> off32(runs.off.begin(), runs.off.end());
    std::vector<double> cpu, cpu_single;
    uint64_t converted = 0, converted_single = 0;
    for (int rep = 0; rep < reps; ++rep) {
      Count sink;
      const double c0 = (cairn::ThreadCpuSeconds() * 1e3);
      EvaluateFastEventsBatch(plan, runs.ts.data(), runs.ev.data(), off32.data(), 0, off32.size() - 1, lut.data(), filter,
                              &sink);
      cpu.push_back((cairn::ThreadCpuSeconds() * 1e3) - c0);
      converted = sink.converted;
      FunnelOutcome out;
      converted_single = 0;
      const double c1 = (cairn::ThreadCpuSeconds() * 1e3);
      for (size_t c = 0; c + 1 < runs.off.size(); ++c) {
        const size_t b = runs.off[c], n = runs.off[c + 1] - b;
        EvaluateFastEvents(plan, {runs.ts.data() + b, n}, {runs.ev.data() + b, n}, lut.data(), filter, &out);
        converted_single += out.level == 4;
      }
      cpu_single.push_back((cairn::ThreadCpuSeconds() * 1e3) - c1);
    }
    std::sort(cpu.begin(), cpu.end());
    std::sort(cpu_single.begin(), cpu_single.end());
    const double med = cpu[cpu.size() / 2], med_single = cpu_single[cpu_single.size() / 2];
    std::printf("kernel_%s_rows %zu rows\n", shape, runs.ts.size());
    std::printf("kernel_%s_cpu_ms %.1f ms\n", shape, med);
    std::printf("kernel_%s_events_per_cpu_s %.0f events/s\n", shape, static_cast<double>(runs.ts.size()) / (med / 1e3));
    std::printf("kernel_%s_converted %llu customers\n", shape, static_cast<unsigned long long>(converted));
    std::printf("kernel_%s_per_customer_events_per_cpu_s %.0f events/s\n", shape,
                static_cast<double>(runs.ts.size()) / (med_single / 1e3));
    std::printf("kernel_%s_per_customer_converted %llu customers\n", shape,
                static_cast<unsigned long long>(converted_single));
  }
  return 0;
}
