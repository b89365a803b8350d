// analytics_bench: the funnel and retention paths on generated data through a real Store.
//   analytics_bench [--customers N] [--events N] [--dir DIR] [--threads N]
// Appends N interactions (20 event names, 4 of them the funnel steps; customers' events spread over
// 60 days) in batches, flushes them to segments, then times: the index build (column scan), the
// 4-step 7-day funnel, 8-week retention, the bare kernel (scalar vs SIMD row filter), then the
// incremental index: extend after 10k new rows (memtable, then flushed) vs a full rebuild of the
// same snapshot. Prints "name value unit" lines.

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <algorithm>
#include <random>

#include "analytics/engine.h"
#include "analytics/exec/funnel_exec.h"
#include "analytics/exec/funnel_kernel.h"
#include "analytics/exec/retention_exec.h"
#include "base/cpu_time.h"
#include "io/env.h"
#include "store/store.h"

using namespace cairn;
using Clock_ = std::chrono::steady_clock;

static double Ms(Clock_::time_point a) { return std::chrono::duration<double, std::milli>(Clock_::now() - a).count(); }

int main(int argc, char** argv) {
  uint64_t customers = 200'000, events = 9'400'000;
  unsigned threads = 0;
  std::string dir = "/tmp/cairn-analytics-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--customers")) customers = std::stoull(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--events")) events = std::stoull(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads")) threads = static_cast<unsigned>(std::stoul(argv[i + 1]));
  }
  std::filesystem::remove_all(dir);
  store::StoreOptions so;
  so.background_work = false;
  so.memtable_flush_bytes = size_t{1} << 40;
  so.wal_max_pending_bytes = size_t{1} << 30;
  auto st = store::Store::Open(io::Env::Posix(), dir, so);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.status().ToString().c_str());
    return 1;
  }
  auto& store = *st;
  static const char* kEvents[] = {"Page Viewed",  "Signed Up",     "Product Viewed", "Added To Cart", "Order Completed",
                                  "Email Opened", "Email Clicked", "Feature Used",   "Ad Clicked",    "Content Viewed",
                                  "Login",        "Logout",        "Search",         "Share",         "Review Submitted",
                                  "Survey Responded", "Support Ticket Opened", "Renewal Due", "Deal Won", "Referral Made"};
  static const int kWeights[] = {30, 4, 15, 8, 4, 6, 3, 10, 2, 4, 3, 2, 3, 1, 1, 1, 1, 1, 1, 1};
  std::discrete_distribution<int> pick(std::begin(kWeights), std::end(kWeights));
  std::mt19937_64 rng(42);
  const int64_t t0 = 1767571200000;  // 2026-01-05
  auto load0 = Clock_::now();
  uint64_t done = 0;
  const uint64_t per_batch = 20'000;
  while (done < events) {
    store::Batch b;
    const uint64_t n = std::min(per_batch, events - done);
    b.interactions.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      auto& r = b.interactions[i];
      r.customer = 1 + rng() % customers;
      r.timestamp_ms = t0 + static_cast<int64_t>(rng() % (60ull * 86'400'000));
      r.event = kEvents[pick(rng)];
      r.payload = "{}";
      r.received_at_ms = r.timestamp_ms;
    }
    std::promise<Status> p;
    auto f = p.get_future();
    Status s = store->Append(std::move(b), [&p](Status s) { p.set_value(s); });
    if (!s.ok() || !(s = f.get()).ok()) {
      std::fprintf(stderr, "append: %s\n", s.ToString().c_str());
      return 1;
    }
    done += n;
  }
  if (Status s = store->Flush(); !s.ok()) {
    std::fprintf(stderr, "flush: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("load_ms %.0f ms\n", Ms(load0));

  analytics::QueryContext ctx(0, threads);
  analytics::IndexCache cache(store.get(), nullptr);
  auto b0 = Clock_::now();
  const double bc0 = (ProcessCpuSeconds() * 1e3);
  auto entry = cache.Get(ctx);
  if (!entry.ok()) return 1;
  std::printf("index_build_ms %.1f ms\n", Ms(b0));
  std::printf("index_build_cpu_ms %.1f ms\n", (ProcessCpuSeconds() * 1e3) - bc0);
  std::printf("index_rows %zu rows\n", entry->index->row_count());
  const auto& index = *entry->index;

  analytics::FunnelSpec spec;
  for (const char* e : {"Signed Up", "Product Viewed", "Added To Cart", "Order Completed"}) spec.steps.push_back({e, {}, false, 0});
  spec.window_ms = 7 * analytics::kDayMs;
  double best = 1e18;
  analytics::FunnelResult fr;
  double best_cpu = 1e18;
  for (int rep = 0; rep < 5; ++rep) {
    auto q0 = Clock_::now();
    const double c0 = (ProcessCpuSeconds() * 1e3);
    auto r = analytics::RunFunnel(index, *entry->snapshot, spec, ctx);
    best = std::min(best, Ms(q0));
    best_cpu = std::min(best_cpu, (ProcessCpuSeconds() * 1e3) - c0);
    if (!r.ok()) return 1;
    fr = std::move(*r);
  }
  for (size_t s = 0; s < fr.steps.size(); ++s) std::printf("funnel_step%zu %llu customers\n", s + 1, (unsigned long long)fr.steps[s].count);
  std::printf("funnel_ms %.1f ms\n", best);
  std::printf("funnel_events_per_s %.0f events/s\n", index.row_count() / (best / 1e3));
  std::printf("funnel_cpu_ms %.1f ms\n", best_cpu);
  std::printf("funnel_threads %u threads\n", ctx.threads());

  analytics::RetentionSpec rs;
  rs.start_event = "Signed Up";
  rs.return_event = "Order Completed";
  best = 1e18;
  for (int rep = 0; rep < 5; ++rep) {
    auto q0 = Clock_::now();
    auto r = analytics::RunRetention(index, *entry->snapshot, rs, ctx);
    best = std::min(best, Ms(q0));
    if (!r.ok()) return 1;
  }
  std::printf("retention_ms %.1f ms\n", best);

  // The bare kernel on one core: every customer through EvaluateFastEvents, the scalar table
  // lookup per row ("scalar") and the vectorised step-event filter ("simd"), alternated per rep
  // so load on the shared machine hits both alike. Medians of 7 reps each.
  const analytics::FunnelPlan plan = analytics::FunnelPlan::From(spec);
  std::vector<uint32_t> lut(index.event_count(), 0);
  for (size_t s = 0; s < spec.steps.size(); ++s) lut[*index.FindEvent(spec.steps[s].event)] |= 1u << s;
  const analytics::StepEventFilter filter = analytics::StepEventFilter::From(lut.data(), lut.size());
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::vector<double> wall[2], cpu[2];
  uint64_t conv[2] = {0, 0};
  for (int rep = 0; rep < 14; ++rep) {
    const int simd = rep % 2;
    auto k0 = Clock_::now();
    const double kc0 = (ThreadCpuSeconds() * 1e3);
    analytics::FunnelOutcome out;
    conv[simd] = 0;
    const auto& off = index.offsets();
    for (size_t c = 0; c + 1 < off.size(); ++c) {
      std::span<const int64_t> ts(index.timestamps().data() + off[c], off[c + 1] - off[c]);
      std::span<const uint32_t> ev(index.events().data() + off[c], off[c + 1] - off[c]);
      if (simd) analytics::EvaluateFastEvents(plan, ts, ev, lut.data(), filter, &out);
      else analytics::EvaluateFastEvents(plan, ts, ev, lut.data(), &out);
      conv[simd] += out.level == 4;
    }
    wall[simd].push_back(Ms(k0));
    cpu[simd].push_back((ThreadCpuSeconds() * 1e3) - kc0);
  }
  for (int simd = 0; simd < 2; ++simd) {
    const char* k = simd ? "simd" : "scalar";
    std::printf("kernel_%s_1core_ms %.1f ms\n", k, median(wall[simd]));
    std::printf("kernel_%s_1core_cpu_ms %.1f ms\n", k, median(cpu[simd]));
    std::printf("kernel_%s_events_per_cpu_s %.0f events/s\n", k, index.row_count() / (median(cpu[simd]) / 1e3));
    std::printf("kernel_%s_converted %llu customers\n", k, (unsigned long long)conv[simd]);
  }

  // Incremental index: a batch of 10k new interactions (in the memtable), then the cache's Get
  // (extends the cached index) vs a full Build of the same snapshot; then the same after a flush
  // (the new rows now in a new segment). Then a funnel on the extended index.
  // memtable2/3: steady state, where the index replaced two extensions ago lends its memory.
  for (const char* phase : {"memtable", "flushed", "memtable2", "memtable3"}) {
    store::Batch b;
    if (std::strcmp(phase, "flushed") != 0) {
      b.interactions.resize(10'000);
      for (auto& r : b.interactions) {
        r.customer = 1 + rng() % (customers + 1000);  // some new customers too
        r.timestamp_ms = t0 + static_cast<int64_t>(rng() % (61ull * 86'400'000));
        r.event = kEvents[pick(rng)];
        r.payload = "{}";
        r.received_at_ms = r.timestamp_ms;
      }
    } else {
      if (!store->Flush().ok()) return 1;
      // A flush alone does not move the seq: one more row so the cache sees a new snapshot.
      b.interactions.resize(1);
      b.interactions[0].customer = 1;
      b.interactions[0].timestamp_ms = t0;
      b.interactions[0].event = "Signed Up";
      b.interactions[0].payload = "{}";
    }
    std::promise<Status> p;
    auto f = p.get_future();
    if (!store->Append(std::move(b), [&p](Status s) { p.set_value(s); }).ok() || !f.get().ok()) return 1;
    auto e0 = Clock_::now();
    const double ec0 = (ProcessCpuSeconds() * 1e3);
    auto ext = cache.Get(ctx);
    if (!ext.ok()) return 1;
    const double ext_ms = Ms(e0), ext_cpu = (ProcessCpuSeconds() * 1e3) - ec0;
    if (!cache.stats().last_was_extend) {
      std::fprintf(stderr, "index was rebuilt, not extended (%s)\n", phase);
      return 1;
    }
    auto r0 = Clock_::now();
    const double rc0 = (ProcessCpuSeconds() * 1e3);
    auto full = analytics::EventIndex::Build(*ext->snapshot, nullptr, ctx);
    if (!full.ok()) return 1;
    std::printf("index_%s_extend_ms %.1f ms\n", phase, ext_ms);
    std::printf("index_%s_extend_cpu_ms %.1f ms\n", phase, ext_cpu);
    std::printf("index_%s_delta_rows %llu rows\n", phase, (unsigned long long)cache.stats().last_delta_rows);
    std::printf("index_%s_rebuild_ms %.1f ms\n", phase, Ms(r0));
    std::printf("index_%s_rebuild_cpu_ms %.1f ms\n", phase, (ProcessCpuSeconds() * 1e3) - rc0);
    if ((*full)->row_count() != ext->index->row_count()) {
      std::fprintf(stderr, "extended index has %zu rows, rebuilt %zu\n", ext->index->row_count(),
                   (*full)->row_count());
      return 1;
    }
    auto q0 = Clock_::now();
    auto r = analytics::RunFunnel(*ext->index, *ext->snapshot, spec, ctx);
    if (!r.ok()) return 1;
    std::printf("funnel_after_%s_extend_ms %.1f ms\n", phase, Ms(q0));
  }
  (void)store->Close();
  std::filesystem::remove_all(dir);
  return 0;
}
