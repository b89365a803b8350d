// journey_bench: throughput of the journey state machine and engine, bytes per customer, dwell
// timer cost, rebuild rate from a real store. Prints one figure per line: name value unit.
//
//   journey_bench [--customers N] [--interactions M] [--segments K] [--rebuild-only 1] [--threads T]
//                 [--repeat R]
//
// The rebuild figure reads a store of K segments (default 4: each flush holds every customer, so
// most timelines are merged from several segments, as on a live store between compactions) and
// derives with T threads (default 2; the target is on 2 cores). It prints wall and process CPU time.
// --repeat R (default 1) rebuilds R times on the same store, each into a fresh engine, printing
// each run's figures (journey_rebuild_run_*) and then the medians under the names above — the
// store is built once, so R runs cost R rebuilds, not R workloads.
//
// The workload mimics the simulated business's event mix (docs/simulator.md): mostly page views,
// product views and email touches; ~15% of interactions carry conditions that need their payload
// parsed (surveys, ticket resolutions, deliveries, reviews, lost deals). Timestamps rise per
// customer (live order); customers interleave as they would on a live hub.

#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "base/cpu_time.h"
#include "ingest/identity_resolver.h"
#include "io/mem_env.h"
#include "journey/engine.h"
#include "store/store.h"

using namespace cairn;
using namespace cairn::journey;

namespace {

struct Ev {
  const char* name;
  store::MessageType type;
  const char* props;
  int weight;
};
const Ev kMix[] = {
    {"Home", store::MessageType::kPage, "{}", 300},
    {"Product Viewed", store::MessageType::kTrack, R"({"product_id":"p1","price":49.9,"channel":"web","direction":"inbound"})", 200},
    {"Email Sent", store::MessageType::kTrack, R"({"email_type":"newsletter","channel":"email","direction":"outbound"})", 100},
    {"Email Opened", store::MessageType::kTrack, R"({"channel":"email","direction":"inbound"})", 80},
    {"Added To Cart", store::MessageType::kTrack, R"({"product_id":"p1","quantity":1,"channel":"web"})", 60},
    {"Signed Up", store::MessageType::kTrack, R"({"method":"email","channel":"web"})", 20},
    {"Checkout Started", store::MessageType::kTrack, R"({"cart_value":99,"channel":"web"})", 30},
    {"Order Completed", store::MessageType::kTrack, R"({"order_id":"o1","revenue":99,"channel":"web"})", 25},
    {"Order Delivered", store::MessageType::kTrack, R"({"order_id":"o1","on_time":true,"days_late":0})", 25},
    {"Feature Used", store::MessageType::kTrack, R"({"feature":"routes","channel":"mobile"})", 60},
    {"Survey Responded", store::MessageType::kTrack, R"({"survey":"post_purchase","nps":9,"csat":5,"channel":"email"})", 20},
    {"Support Ticket Resolved", store::MessageType::kTrack, R"({"ticket_id":"t1","satisfied":true,"hours_to_resolve":5})", 8},
    {"Complaint Filed", store::MessageType::kTrack, R"({"category":"delivery","severity":"high"})", 5},
    {"Review Submitted", store::MessageType::kTrack, R"({"rating":5,"product_id":"p1"})", 8},
    {"Competitor Considered", store::MessageType::kTrack, R"({"competitor":"TrailMart"})", 3},
    {"Renewal Due", store::MessageType::kTrack, R"({"amount":9.9,"channel":"email","direction":"outbound"})", 5},
    {"Subscription Renewed", store::MessageType::kTrack, R"({"revenue":9.9})", 4},
    {"Deal Lost", store::MessageType::kTrack, R"({"reason":"competitor","competitor":"TrailMart"})", 2},
};

std::vector<store::Interaction> Workload(uint64_t customers, uint64_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  int total = 0;
  for (const auto& e : kMix) total += e.weight;
  std::vector<int64_t> clock(customers + 1, 1767225600000);
  std::vector<store::Interaction> out;
  out.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    int pick = static_cast<int>(rng() % total);
    const Ev* e = &kMix[0];
    for (const auto& x : kMix) {
      if (pick < x.weight) {
        e = &x;
        break;
      }
      pick -= x.weight;
    }
    store::Interaction r;
    r.customer = 1 + rng() % customers;
    clock[r.customer] += static_cast<int64_t>(rng() % (3 * 86400000));
    r.timestamp_ms = clock[r.customer];
    r.seq = i;
    r.type = e->type;
    r.event = e->name;
    r.revenue = std::strstr(e->props, "revenue") ? 99 : 0;
    r.payload = std::string("{\"type\":\"") + std::string(store::MessageTypeName(e->type)) + "\",\"event\":\"" + e->name +
                "\",\"userId\":\"cust-" + std::to_string(r.customer) + "\",\"properties\":" + e->props + "}";
    out.push_back(std::move(r));
  }
  return out;
}

double Secs(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

void Print(const char* name, double v, const char* unit) { std::printf("%s %.6g %s\n", name, v, unit); }

}  // namespace

int main(int argc, char** argv) {
  // The allocator settings of cairn's main (src/app/main.cc), so that allocation costs what it
  // costs in the server.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 16 << 20);
  uint64_t customers = 100000, n = 2000000;
  bool apply_only = false;    // --apply-only 1: just the state machine (for profiling)
  bool rebuild_only = false;  // --rebuild-only 1: just the rebuild (for profiling)
  uint64_t segments = 4;
  int threads = 2;
  int repeat = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--apply-only")) apply_only = std::atoi(argv[i + 1]) != 0;
    if (!std::strcmp(argv[i], "--rebuild-only")) rebuild_only = std::atoi(argv[i + 1]) != 0;
    if (!std::strcmp(argv[i], "--segments")) segments = std::max<uint64_t>(1, std::strtoull(argv[i + 1], nullptr, 10));
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--repeat")) repeat = std::max(1, std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--customers")) customers = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--interactions")) n = std::strtoull(argv[i + 1], nullptr, 10);
  }
  // The default map without the timer signal horizon: the timer figure below pops every timer far
  // past its due time, and must measure firing (signals), not dropping stale timers.
  std::string yaml(JourneyMap::DefaultYaml());
  const size_t horizon = yaml.find("signal_horizon: 30d");
  if (horizon != std::string::npos) yaml.replace(horizon, 19, "signal_horizon: 0  ");
  auto map = JourneyMap::Parse(yaml);
  if (!map.ok()) {
    std::fprintf(stderr, "%s\n", map.status().ToString().c_str());
    return 1;
  }
  auto rows = Workload(customers, n, 1);

  // 1. The pure state machine: Deriver::Apply over the workload (states in a flat vector).
  if (!rebuild_only) {
    Deriver d(*map);
    std::vector<CustomerState> states(customers + 1);
    std::vector<History> hist(customers + 1);
    for (uint64_t c = 0; c <= customers; ++c) states[c] = d.Initial(c, 0);
    auto t = std::chrono::steady_clock::now();
    const double cpu0 = ThreadCpuSeconds();
    // As the engine's OnCommit does for a batch: the states a few rows ahead are prefetched.
    constexpr size_t kAhead = 8;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i + kAhead < rows.size()) {
        const char* p = reinterpret_cast<const char*>(&states[rows[i + kAhead].customer]);
        for (size_t off = 0; off < sizeof(CustomerState); off += 64) __builtin_prefetch(p + off);
      }
      d.Apply(&states[rows[i].customer], &hist[rows[i].customer], rows[i], nullptr);
    }
    double s = Secs(t);
    const double cpu = ThreadCpuSeconds() - cpu0;
    Print("journey_apply_rate", n / s, "interactions/s");
    // Per core: the same over the thread's CPU time (the machine is shared; wall time is not ours).
    Print("journey_apply_rate_cpu", n / cpu, "interactions/cpu-s");
    size_t hb = 0;
    for (const auto& h : hist) hb += h.transitions.size() * sizeof(Transition) + h.emotion.size() * sizeof(EmotionPoint);
    Print("journey_history_bytes_per_customer", static_cast<double>(hb) / customers, "bytes");
  }
  if (apply_only) return 0;

  // 2. The engine's live path: OnCommit batches of 500 (canonical ids, hash map, timers).
  metrics::Registry reg;
  ingest::IdentityResolver identity(ingest::DefaultIdentityOptions(), &reg);
  for (uint64_t c = 1; c <= customers; ++c) (void)identity.Apply({store::IdentityOp::Kind::kLink, c, 0, "u:" + std::to_string(c)});
  if (!rebuild_only) {
    EngineOptions o;
    o.background = false;
    o.metrics = &reg;
    size_t before = mallinfo2().uordblks;
    auto e = JourneyEngine::Open(*map, o);
    (*e)->SetIdentity(&identity);
    std::vector<store::Batch> batches;
    for (size_t i = 0; i < rows.size(); i += 500) {
      store::Batch b;
      b.first_seq = i;
      b.interactions.assign(rows.begin() + i, rows.begin() + std::min(rows.size(), i + 500));
      batches.push_back(std::move(b));
    }
    before = mallinfo2().uordblks;
    auto t = std::chrono::steady_clock::now();
    const double cpu0 = ThreadCpuSeconds();
    for (const auto& b : batches) (*e)->OnCommit(b, false);
    double s = Secs(t);
    const double cpu = ThreadCpuSeconds() - cpu0;
    Print("journey_engine_oncommit_rate_cpu", n / cpu, "interactions/cpu-s");
    auto st = (*e)->Stats();
    size_t after = mallinfo2().uordblks;
    Print("journey_engine_oncommit_rate", n / s, "interactions/s");
    Print("journey_state_bytes_per_customer", sizeof(CustomerState), "bytes");
    Print("journey_heap_bytes_per_customer", static_cast<double>(after - before - st.history_bytes) / st.customers, "bytes");
    Print("journey_history_heap_bytes_per_customer", static_cast<double>(st.history_bytes) / st.customers, "bytes");
    Print("journey_timers", static_cast<double>(st.timers), "timers");
    // 3. Dwell timers: pop every timer (all due far in the future from the workload's end).
    t = std::chrono::steady_clock::now();
    (*e)->Tick(INT64_MAX / 2);
    double ts = Secs(t);
    Print("journey_timer_pop_ns", ts * 1e9 / std::max<uint64_t>(1, st.timers), "ns/timer");
  }

  // 3b. The timer structure alone at 10M: the engine's heap is a std::priority_queue of 24-byte
  // records (due, customer, stage entry, view, stage); push and pop are O(log n).
  if (!rebuild_only) {
    struct T {
      int64_t due;
      uint64_t customer;
      uint32_t entered;
      uint8_t view, stage;
      bool operator>(const T& o) const { return due > o.due; }
    };
    constexpr size_t kTimers = 10'000'000;
    std::mt19937_64 rng(7);
    std::vector<T> storage;
    storage.reserve(kTimers);
    std::priority_queue<T, std::vector<T>, std::greater<T>> heap(std::greater<T>(), std::move(storage));
    auto t = std::chrono::steady_clock::now();
    for (size_t i = 0; i < kTimers; ++i) heap.push({static_cast<int64_t>(rng() % (90 * 86400000ULL)), i, 0, 2, 1});
    double push = Secs(t);
    t = std::chrono::steady_clock::now();
    while (!heap.empty()) heap.pop();
    double pop = Secs(t);
    Print("journey_timer_heap_10m_push_ns", push * 1e9 / kTimers, "ns/op");
    Print("journey_timer_heap_10m_pop_ns", pop * 1e9 / kTimers, "ns/op");
    Print("journey_timer_heap_bytes_per_timer", sizeof(T), "bytes");
  }

  // 4. Rebuild from a real store (in-memory Env) of `segments` segments: the column scan derives
  // each customer's timeline merged from the segments (rebuild_scan.h) on `threads` threads.
  {
    io::MemEnv env;
    store::StoreOptions so;
    so.background_work = false;
    so.metrics = &reg;
    so.memtable_flush_bytes = size_t{16} << 30;  // segments are cut by Flush() below, not by size
    so.memtable_max_bytes = size_t{32} << 30;
    auto st = store::Store::Open(&env, "/s", so, {});
    const size_t per_segment = (rows.size() + segments - 1) / segments;
    for (size_t i = 0; i < rows.size(); i += 5000) {
      if (i > 0 && i / per_segment != (i - 5000) / per_segment) (void)(*st)->Flush();
      store::Batch b;
      b.interactions.assign(rows.begin() + i, rows.begin() + std::min(rows.size(), i + 5000));
      std::promise<Status> p;
      auto f = p.get_future();
      // Append refuses (and never calls back) when the memtable is full: the memtable limits
      // below are set so that it never is, and the segments are cut by the Flush above.
      Status appended = (*st)->Append(std::move(b), [&p](Status s) { p.set_value(s); });
      if (!appended.ok() || !f.get().ok()) {
        std::fprintf(stderr, "append: %s\n", appended.ToString().c_str());
        return 1;
      }
    }
    (void)(*st)->Flush();
    Print("journey_rebuild_segments", static_cast<double>((*st)->Stats().segments), "segments");
    std::vector<double> walls, cpus;
    for (int run = 0; run < repeat; ++run) {
      EngineOptions o;
      o.background = false;
      o.metrics = &reg;
      o.rebuild_threads = threads;
      auto e = JourneyEngine::Open(*map, o);
      (*e)->SetIdentity(&identity);
      (*e)->SetStore(st->get());
      auto t = std::chrono::steady_clock::now();
      const double cpu0 = ProcessCpuSeconds();
      Status s = (*e)->Rebuild();
      const double secs = Secs(t);
      const double cpu = ProcessCpuSeconds() - cpu0;
      if (!s.ok()) {
        std::fprintf(stderr, "rebuild: %s\n", s.ToString().c_str());
        return 1;
      }
      walls.push_back(secs);
      cpus.push_back(cpu);
      if (repeat > 1) {
        Print("journey_rebuild_run_wall_s", secs, "s");
        Print("journey_rebuild_run_cpu_s", cpu, "cpu-s");
      }
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    };
    const double secs = median(walls), cpu = median(cpus);
    Print("journey_rebuild_rate", n / secs, "interactions/s");
    Print("journey_rebuild_cpu_s", cpu, "cpu-s");
    Print("journey_rebuild_wall_s", secs, "s");
    // Per CPU-second of all threads: the figure the machine's load does not move.
    Print("journey_rebuild_rate_cpu", n / cpu, "interactions/cpu-s");
    (void)(*st)->Close();
  }
  return 0;
}
