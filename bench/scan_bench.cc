// scan_bench: read speed of a filled store (typically right after `cairn import`).
//
//   scan_bench --data DIR [--repeat R] [--customers M] [--seed S] [--label NAME] [--foreach] [--compact]
//
// DIR is a stopped Cairn data dir (DIR/store) or a store dir itself. --compact first merges every
// segment into one (Store::Compact; this rewrites DIR), as the background compaction eventually
// would; without it the store is read as the import left it. Figures, one per line
// `<label>_<name> <value> <unit>`, medians over R passes (files warm in the page cache after the
// first pass, which is not counted):
//   - full scans of the fixed columns through SegmentReader::Scan, in events per CPU-second of the
//     scanning thread (one thread = one core; CPU time, so other load on a shared machine does not
//     inflate it): `core` = customer, timestamp, event, type; `fixed` = every fixed column;
//     `decode` touches one value per block (decode cost only), `consumed` also reads every
//     customer, timestamp and event value once (what a query kernel pays at least);
//   - per-customer reads through the Store façade (Snapshot::ReadCustomers, every column incl. the
//     payload) and through SegmentReader::ReadCustomer with the core columns only, for M customers
//     drawn at random from those present: latency p50/p99 and events/s;
//   - with --foreach, Snapshot::ForEach over everything (full rows, payload included).

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "base/cpu_time.h"
#include "io/env.h"
#include "store/manifest.h"
#include "store/segment_reader.h"
#include "store/store.h"

namespace cairn::bench {
namespace {

using store::CustomerId;
using store::segment::ColumnMask;
using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "scan_bench: %s\n", msg.c_str());
  std::exit(1);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

struct Printer {
  std::string label;
  void operator()(const std::string& name, double v, const char* unit) const {
    std::printf("%s_%s %.6g %s\n", label.c_str(), name.c_str(), v, unit);
    std::fflush(stdout);
  }
};

struct ScanPass {
  double cpu_s = 0;
  double wall_s = 0;
  uint64_t rows = 0;
  uint64_t checksum = 0;
};

// One full scan of every segment with `columns`. With `consume`, every decoded value of the
// customer, timestamp and event columns is read once (a sum), as any consumer would; without,
// one value per block is touched (decode cost only, as segment_bench measures it).
ScanPass Scan(const std::vector<std::unique_ptr<store::SegmentReader>>& segs, ColumnMask columns, bool consume,
              std::vector<CustomerId>* customers_out) {
  ScanPass p;
  store::ScanOptions opt;
  opt.columns = columns;
  const auto w0 = SteadyClock::now();
  const double c0 = ThreadCpuSeconds();
  for (const auto& r : segs) {
    Status s = r->Scan(opt, [&](const store::FixedColumns& c) {
      uint64_t sum = 0;
      if (consume) {
        for (size_t i = 0; i < c.rows; ++i)
          sum += c.customer[i] + static_cast<uint64_t>(c.timestamp_ms[i]) + c.event[i];
      } else if (c.rows > 0) {
        sum = c.customer[c.rows / 2] + c.event[c.rows - 1];
      }
      p.checksum += sum;
      p.rows += c.rows;
      if (customers_out) {
        for (size_t i = 0; i < c.rows; ++i)
          if (customers_out->empty() || customers_out->back() != c.customer[i]) customers_out->push_back(c.customer[i]);
      }
      return Status::Ok();
    });
    if (!s.ok()) Die("scan " + r->path() + ": " + s.ToString());
  }
  p.cpu_s = ThreadCpuSeconds() - c0;
  p.wall_s = std::chrono::duration<double>(SteadyClock::now() - w0).count();
  return p;
}

int Usage() {
  std::fprintf(stderr,
               "usage: scan_bench --data DIR [--repeat R] [--customers M] [--seed S] [--label NAME] [--foreach] "
               "[--compact]\n");
  return 2;
}

int Main(int argc, char** argv) {
  std::string dir;
  int repeat = 5;
  size_t sample = 10000;
  uint64_t seed = 1;
  bool foreach = false;
  bool compact = false;
  Printer fig{"scan"};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--foreach" || a == "--compact") {
      (a == "--foreach" ? foreach : compact) = true;
      continue;
    }
    if (i + 1 >= argc) return Usage();
    const std::string v = argv[++i];
    try {
      if (a == "--data") dir = v;
      else if (a == "--repeat") repeat = std::stoi(v);
      else if (a == "--customers") sample = std::stoul(v);
      else if (a == "--seed") seed = std::stoull(v);
      else if (a == "--label") fig.label = v;
      else return Usage();
    } catch (const std::exception&) {
      std::fprintf(stderr, "scan_bench: bad value for %s: '%s'\n", a.c_str(), v.c_str());
      return 2;
    }
  }
  if (dir.empty() || repeat < 1) return Usage();
  io::Env* env = io::Env::Posix();
  if (env->FileExists(io::JoinPath(dir, "store/MANIFEST"))) dir = io::JoinPath(dir, "store");
  if (!env->FileExists(io::JoinPath(dir, "MANIFEST"))) Die("no MANIFEST in " + dir + " (nothing imported?)");

  // The store façade (for per-customer reads as the engine does them).
  store::StoreOptions so;
  so.background_work = false;
  const auto o0 = SteadyClock::now();
  auto opened = store::Store::Open(env, dir, so);
  if (!opened.ok()) Die("open " + dir + ": " + opened.status().ToString());
  fig("store_open", std::chrono::duration<double, std::milli>(SteadyClock::now() - o0).count(), "ms");
  store::Store& st = **opened;
  if (compact) {
    const auto c0 = SteadyClock::now();
    if (Status s = st.Compact(); !s.ok()) Die("compact: " + s.ToString());
    fig("compact", std::chrono::duration<double>(SteadyClock::now() - c0).count(), "s");
  }
  const store::StoreStats stats = st.Stats();
  if (stats.memtable_rows > 0)
    std::fprintf(stderr, "scan_bench: note: %zu rows are in the memtable (not flushed); scans below read segments only\n",
                 stats.memtable_rows);

  // The segments themselves (for the column scans).
  auto manifest = store::Manifest::Load(env, io::JoinPath(dir, "MANIFEST"));
  if (!manifest.ok()) Die("manifest: " + manifest.status().ToString());
  std::vector<std::unique_ptr<store::SegmentReader>> segs;
  uint64_t rows = 0, bytes = 0;
  for (const auto& m : manifest->segments) {
    auto r = store::SegmentReader::Open(env, io::JoinPath(io::JoinPath(dir, "seg"), store::SegmentFileName(m.file_number)));
    if (!r.ok()) Die(r.status().ToString());
    rows += (*r)->stats().rows;
    bytes += (*r)->stats().file_bytes;
    segs.push_back(std::move(*r));
  }
  if (rows == 0) Die("the store has no rows in segments");
  fig("segments", static_cast<double>(segs.size()), "segments");
  fig("events", static_cast<double>(rows), "events");
  fig("segment_bytes_per_event", static_cast<double>(bytes) / rows, "bytes/event");
  // What a fixed-column scan reads (and checksums) per event, column by column.
  for (size_t c = 0; c < store::segment::kNumColumns; ++c) {
    const store::segment::Column col = store::segment::ColumnAt(c);
    if (!(store::segment::kFixedColumns & (store::ColumnMask{1} << c))) continue;
    uint64_t column_bytes = 0;
    for (const auto& r : segs) column_bytes += r->stats().column_bytes[c];
    fig("column_bytes_per_event_" + std::string(store::segment::ColumnName(col)), static_cast<double>(column_bytes) / rows, "bytes/event");
  }

  // Warm-up pass: pulls the files into the page cache and collects the customer ids.
  std::vector<CustomerId> customers;
  Scan(segs, store::segment::kCoreColumns, true, &customers);
  std::sort(customers.begin(), customers.end());
  customers.erase(std::unique(customers.begin(), customers.end()), customers.end());
  fig("customers", static_cast<double>(customers.size()), "customers");

  const std::pair<const char*, ColumnMask> kMasks[] = {{"core", store::segment::kCoreColumns},
                                                       {"fixed", store::segment::kFixedColumns}};
  for (const auto& [name, mask] : kMasks) {
    for (bool consume : {false, true}) {
      std::vector<double> per_cpu, per_wall;
      for (int i = 0; i < repeat; ++i) {
        ScanPass p = Scan(segs, mask, consume, nullptr);
        per_cpu.push_back(static_cast<double>(p.rows) / p.cpu_s);
        per_wall.push_back(static_cast<double>(p.rows) / p.wall_s);
      }
      const std::string prefix = std::string("full_") + name + (consume ? "_consumed" : "_decode");
      fig(prefix + "_events_per_cpu_s", Median(per_cpu), "events/cpu-s");
      fig(prefix + "_events_per_s_wall", Median(per_wall), "events/s");
    }
  }

  // Per-customer reads.
  std::mt19937_64 rng(seed);
  std::vector<CustomerId> picks(std::min(sample, customers.size()));
  for (auto& c : picks) c = customers[rng() % customers.size()];
  auto snap = st.GetSnapshot();
  {
    std::vector<double> lat_us;
    uint64_t got = 0;
    const auto t0 = SteadyClock::now();
    for (CustomerId c : picks) {
      const auto a = SteadyClock::now();
      auto r = snap->ReadCustomers({c});
      if (!r.ok()) Die("ReadCustomers: " + r.status().ToString());
      lat_us.push_back(std::chrono::duration<double, std::micro>(SteadyClock::now() - a).count());
      got += r->size();
    }
    const double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    fig("customer_read_all_columns_p50", Percentile(lat_us, 0.5), "us");
    fig("customer_read_all_columns_p99", Percentile(lat_us, 0.99), "us");
    fig("customer_read_all_columns_customers_per_s", picks.size() / secs, "customers/s");
    fig("customer_read_all_columns_events_per_s", got / secs, "events/s");
    fig("customer_read_events_per_customer", static_cast<double>(got) / picks.size(), "events");
  }
  {
    std::vector<double> lat_us;
    uint64_t got = 0;
    std::vector<store::Interaction> out;
    const auto t0 = SteadyClock::now();
    for (CustomerId c : picks) {
      out.clear();
      const auto a = SteadyClock::now();
      for (const auto& r : segs) {
        Status s = r->ReadCustomer(c, &out, store::segment::kCoreColumns);
        if (!s.ok()) Die("ReadCustomer: " + s.ToString());
      }
      lat_us.push_back(std::chrono::duration<double, std::micro>(SteadyClock::now() - a).count());
      got += out.size();
    }
    const double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    fig("customer_read_core_p50", Percentile(lat_us, 0.5), "us");
    fig("customer_read_core_p99", Percentile(lat_us, 0.99), "us");
    fig("customer_read_core_events_per_s", got / secs, "events/s");
  }

  if (foreach) {
    uint64_t n = 0, payload = 0;
    const double c0 = ThreadCpuSeconds();
    Status s = snap->ForEach([&](const store::Interaction& r) {
      ++n;
      payload += r.payload.size();
      return true;
    });
    const double cpu = ThreadCpuSeconds() - c0;
    if (!s.ok()) Die("ForEach: " + s.ToString());
    fig("foreach_full_rows_events_per_cpu_s", n / cpu, "events/cpu-s");
    fig("foreach_payload_bytes_per_event", static_cast<double>(payload) / n, "bytes/event");
  }
  snap.reset();
  if (Status s = st.Close(); !s.ok()) Die("close: " + s.ToString());
  return 0;
}

}  // namespace
}  // namespace cairn::bench

int main(int argc, char** argv) { return cairn::bench::Main(argc, argv); }
