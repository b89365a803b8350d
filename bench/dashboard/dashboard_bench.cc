// dashboard_bench: GET /v1/dashboard's computation (dashboard::Dashboard::Overview, what the
// handler calls; the JSON encoding of its few numbers is not timed) over a real store of
// `rows` interactions from `customers` customers.
//   Data: real segment files (docs/format/segment.md) written by store::SegmentBuilder into an
//   in-memory Env (read as from the page cache; nothing on disk), customers split into `segments`
//   files by id range as compaction leaves them, a MANIFEST, then store::Store::Open over them —
//   the store the server reads. Each customer has 1..2×avg rows over the last 365 days in a
//   realistic event mix (Order Completed ~3% with revenue, Signed Up, Email Sent, Complaint
//   Filed, page views...). Goals: revenue, orders and sign-ups this quarter, new customers.
//   Timed (`reps` runs, medians printed last): `first` (the first Overview after open), `recompute`
//   (every Overview computed anew: cache_ms 0), `cached` (a second call right after one: within
//   the 5 s cache), and the filters:
//   `persona` (a segment of 25% of the customers, as a persona filter resolves to; answered from
//   the totals' segment cells) and `range` (from 90 days ago to 30 days ago); then `persona_1000_moved`
//   (the persona overview after 1,000 of its customers moved to another persona: each is read back
//   from the store and re-filed once) and `persona_after_move`.
//   The dashboards read one DailyTotals (docs/dashboard.md "Daily totals"), built at open on a
//   background thread as in the server, so `first` waits for the rest of that build; `totals_build`
//   times a rebuild (what start, an erasure or a retention drop costs). --scan 1: no totals, every
//   overview scans the store (the behaviour before them).
// Prints one figure per line: `name value unit`.
// Usage: dashboard_bench [--rows 100000000] [--customers 1000000] [--segments 16] [--reps 3] [--scan 0|1]

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/cpu_time.h"
#include "base/clock.h"
#include "dashboard/dashboard.h"
#include "io/mem_env.h"
#include "store/manifest.h"
#include "store/segment_builder.h"
#include "store/store.h"

using namespace cairn;

namespace {

constexpr int64_t kDayMs = 86'400'000;

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}
void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "dashboard_bench: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

const std::vector<std::string> kEvents = {"Page Viewed",   "Product Viewed", "Added To Cart",  "Order Completed",
                                          "Email Opened",  "Email Sent",     "Signed Up",      "Feature Used",
                                          "Checkout Started", "Complaint Filed", "SMS Sent",   "Survey Responded"};
const std::vector<double> kWeights = {34, 18, 8, 3, 9, 10, 2, 8, 4, 0.3, 3, 0.7};

// Writes the store's files under `dir` of `env`; returns the rows written.
uint64_t Generate(io::Env* env, const std::string& dir, uint64_t rows, uint64_t customers, int segments, int64_t now_ms) {
  Check(env->CreateDirIfMissing(dir), "mkdir");
  Check(env->CreateDirIfMissing(dir + "/seg"), "mkdir");
  std::mt19937_64 rng(7);
  std::discrete_distribution<int> pick(kWeights.begin(), kWeights.end());
  const uint64_t avg = std::max<uint64_t>(1, rows / customers);
  const int64_t start = (now_ms / kDayMs - 365) * kDayMs;
  store::Manifest manifest;
  std::unique_ptr<store::SegmentBuilder> builder;
  store::SegmentMeta meta;
  uint64_t seq = 0, per_segment = (customers + segments - 1) / segments;
  std::vector<int64_t> times;
  store::Interaction in;
  auto finish = [&] {
    Check(builder->Finish(), "finish segment");
    meta.rows = builder->rows();
    meta.max_seq = seq - 1;
    manifest.segments.push_back(meta);
    builder.reset();
  };
  for (uint64_t c = 1; c <= customers; ++c) {
    if ((c - 1) % per_segment == 0) {
      if (builder) finish();
      meta = {};
      meta.file_number = manifest.next_file++;
      meta.min_seq = seq;
      auto b = store::SegmentBuilder::Create(env, dir + "/seg/" + store::SegmentFileName(meta.file_number));
      Check(b.status(), "create segment");
      builder = std::move(*b);
    }
    const uint64_t n = 1 + rng() % (2 * avg - 1);
    times.resize(n);
    for (auto& t : times) t = start + static_cast<int64_t>(rng() % static_cast<uint64_t>(now_ms - start));
    std::sort(times.begin(), times.end());
    for (uint64_t i = 0; i < n; ++i) {
      const int e = pick(rng);
      in.customer = c;
      in.timestamp_ms = times[i];
      in.received_at_ms = times[i] + 150;
      in.seq = seq++;
      in.event = kEvents[static_cast<size_t>(e)];
      in.type = e == 0 ? store::MessageType::kPage : store::MessageType::kTrack;
      in.channel = e == 4 || e == 5 ? "email" : e == 10 ? "sms" : "web";
      in.revenue = e == 3 ? 10.0 + static_cast<double>(rng() % 9000) / 100 : 0.0;
      Check(builder->Add(in), "add row");
    }
  }
  finish();
  manifest.flushed_seq = seq;
  Check(manifest.Save(env, dir + "/MANIFEST"), "manifest");
  return seq;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t rows = 100'000'000, customers = 1'000'000;
  int segments = 16, reps = 3;
  bool scan = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rows")) rows = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--customers")) customers = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--segments")) segments = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--reps")) reps = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--scan")) scan = std::atoi(argv[i + 1]) != 0;
    else {
      std::fprintf(stderr, "usage: dashboard_bench [--rows N] [--customers N] [--segments N] [--reps N] [--scan 0|1]\n");
      return 2;
    }
  }
  customers = std::max<uint64_t>(1, std::min(customers, rows));
  io::MemEnv env;
  const int64_t now_ms = Clock::Real()->NowMillis();
  auto g0 = std::chrono::steady_clock::now();
  const uint64_t written = Generate(&env, "store", rows, customers, segments, now_ms);
  std::printf("dashboard_rows %llu rows\ndashboard_customers %llu customers\ndashboard_generate_wall %.1f s\n",
              static_cast<unsigned long long>(written), static_cast<unsigned long long>(customers), Since(g0));
  std::fflush(stdout);

  auto store = store::Store::Open(&env, "store", store::StoreOptions{}, store::StoreListener{});
  Check(store.status(), "open store");
  char tmpl[] = "/tmp/dashboard-bench-XXXXXX";  // dashboard.db (goals): SQLite on a real file
  if (!::mkdtemp(tmpl)) Check(IOError("mkdtemp"), "temp dir");
  const std::string tmp = tmpl;
  int opened = 0;
  auto snapshot = [&] { return (*store)->GetSnapshot(); };
  std::shared_ptr<dashboard::DailyTotals> totals;
  // The segment cells' journey keys (docs/dashboard.md "Segment cells"): persona p<c mod 4> — so
  // p1 is the 25% `persona` segment below — and one of 7 stages; customers below `moved_below`
  // with persona p1 have moved to p2 (the `persona_moved` figure: each is read back once).
  std::atomic<uint64_t> moved_below{0};
  auto journey_keys = [&](const std::vector<store::CustomerId>& ids) {
    std::vector<std::optional<std::pair<std::string, std::string>>> out;
    out.reserve(ids.size());
    for (store::CustomerId c : ids) {
      const uint64_t p = c < moved_below.load() && c % 4 == 1 ? 2 : c % 4;
      out.emplace_back(std::in_place, "p" + std::to_string(p), "stage" + std::to_string(c % 7));
    }
    return out;
  };
  if (!scan) totals = std::make_shared<dashboard::DailyTotals>(dashboard::SeriesOptions{}, nullptr, journey_keys);
  auto c_open = ProcessCpuSeconds();
  auto t_open = std::chrono::steady_clock::now();
  auto open_dashboard = [&](int64_t cache_ms) {
    dashboard::DashboardOptions o;
    o.path = tmp + "/dashboard-" + std::to_string(opened++) + ".db";
    o.cache_ms = cache_ms;
    dashboard::DashboardSources src;
    src.snapshot = snapshot;
    src.totals = totals;
    auto d = dashboard::Dashboard::Open(std::move(o), std::move(src));
    Check(d.status(), "open dashboard");
    return std::move(*d);
  };
  auto cached = open_dashboard(5000), fresh = open_dashboard(0);
  const int64_t today = now_ms / kDayMs;
  for (auto* d : {cached.get(), fresh.get()}) {
    for (const char* metric : {"revenue", "orders", "signups", "new_customers"}) {
      dashboard::Goal g;
      g.name = metric;
      g.metric = metric;
      g.target = 1e9;
      g.start_day = today - 45;
      g.deadline_day = today + 45;
      Check(d->CreateGoal(g).status(), "goal");
    }
  }
  dashboard::OverviewFilter persona;
  persona.members.emplace();
  for (uint64_t c = 1; c <= customers; c += 4) persona.members->push_back(c);
  persona.segment.persona = "p1";
  persona.key = "persona";
  dashboard::OverviewFilter range;
  range.from_day = today - 90;
  range.to_day = today - 30;
  range.key = "range";

  auto time = [&](dashboard::Dashboard* d, const dashboard::OverviewFilter& f, double* cpu) {
    double c0 = ProcessCpuSeconds();
    auto t0 = std::chrono::steady_clock::now();
    auto v = d->Overview(f);
    double ms = Since(t0) * 1000;
    Check(v.status(), "overview");
    if (cpu) *cpu = (ProcessCpuSeconds() - c0) * 1000;
    return ms;
  };
  double cpu = 0;
  double first = time(cached.get(), {}, &cpu);
  std::printf("dashboard_overview_first %.1f ms\ndashboard_overview_first_cpu %.1f ms\n", first, cpu);
  std::printf("dashboard_open_to_first_overview %.1f ms\ndashboard_open_to_first_overview_cpu %.1f ms\n",
              Since(t_open) * 1000, (ProcessCpuSeconds() - c_open) * 1000);
  std::vector<double> recompute, recompute_cpu, hit, by_persona, by_range, persona_cpu, range_cpu;
  for (int r = 0; r < reps; ++r) {
    recompute.push_back(time(fresh.get(), {}, &cpu));
    recompute_cpu.push_back(cpu);
    (void)time(cached.get(), {}, nullptr);  // computes if the 5 s cache has expired meanwhile
    hit.push_back(time(cached.get(), {}, nullptr));
    by_persona.push_back(time(fresh.get(), persona, &cpu));
    persona_cpu.push_back(cpu);
    by_range.push_back(time(fresh.get(), range, &cpu));
    range_cpu.push_back(cpu);
    std::printf("dashboard_overview_run%d_recompute %.1f ms\n", r + 1, recompute.back());
    std::fflush(stdout);
  }
  if (totals) {
    // 1,000 customers leave p1: the next persona overview reads each back once and re-files it.
    moved_below = 4000;
    dashboard::OverviewFilter moved = persona;
    std::erase_if(*moved.members, [](uint64_t c) { return c < 4000; });
    const uint64_t refiled0 = totals->refiled();
    const double ms = time(fresh.get(), moved, &cpu);
    std::printf("dashboard_overview_persona_1000_moved %.1f ms\ndashboard_overview_persona_1000_moved_cpu %.1f ms\n"
                "dashboard_overview_persona_1000_moved_refiled %llu ids\n",
                ms, cpu, static_cast<unsigned long long>(totals->refiled() - refiled0));
    std::printf("dashboard_totals_cells %zu cells\n", totals->cells());
    const double again = time(fresh.get(), moved, &cpu);
    std::printf("dashboard_overview_persona_after_move %.1f ms\ndashboard_overview_persona_after_move_cpu %.1f ms\n", again, cpu);
  }
  std::vector<double> build, build_cpu;
  for (int r = 0; totals && r < reps; ++r) {
    totals->Invalidate();
    double c0 = ProcessCpuSeconds();
    auto t0 = std::chrono::steady_clock::now();
    Check(totals->Build(snapshot), "build totals");
    build.push_back(Since(t0) * 1000);
    build_cpu.push_back((ProcessCpuSeconds() - c0) * 1000);
  }
  double l[1] = {0};
  getloadavg(l, 1);
  if (totals) {
    std::printf("dashboard_totals_build_median %.1f ms\n", Median(build));
    std::printf("dashboard_totals_build_cpu_median %.1f ms\n", Median(build_cpu));
  }
  std::printf("dashboard_overview_recompute_median %.1f ms\n", Median(recompute));
  std::printf("dashboard_overview_recompute_cpu_median %.1f ms\n", Median(recompute_cpu));
  std::printf("dashboard_overview_cached_median %.3f ms\n", Median(hit));
  std::printf("dashboard_overview_persona_median %.1f ms\n", Median(by_persona));
  std::printf("dashboard_overview_range_median %.1f ms\n", Median(by_range));
  std::printf("dashboard_overview_persona_cpu_median %.1f ms\n", Median(persona_cpu));
  std::printf("dashboard_overview_range_cpu_median %.1f ms\n", Median(range_cpu));
  std::printf("dashboard_loadavg %.1f load\n", l[0]);
  Check((*store)->Close(), "close store");
  cached.reset();
  fresh.reset();
  std::filesystem::remove_all(tmp);
  return 0;
}
