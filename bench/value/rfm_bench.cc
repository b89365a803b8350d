// value_rfm_bench: RFM summaries from 100M interactions stored as real segment files
// (docs/format/segment.md, written by store::SegmentBuilder into an in-memory Env, so the files
// are read as from the page cache), the path a compacted store takes.
//   Data: 100M rows over 2.86M customers (35 rows each on average, 1–69), 13 event names in a
//   realistic skew with "Order Completed" at ~4% of rows carrying revenue, spread over 2 years;
//   customers split into `segments` files by id range, as compaction leaves them.
//   Timed (3 runs; the median is printed last), path `stream` (default): the segments' footers are
//   opened and ordered by customer range (they must not overlap), split into `threads` contiguous
//   groups of about equal rows, and one SummarySlab is sized from the block index (per block at most
//   min(rows, last - first + 1) customers) and allocated once; each thread scans its group's columns
//   the purchase rule needs (customer, timestamp, event, type, revenue — no seq, channel, source,
//   received_at, payload) through a value::RfmStream, which summarises each customer as soon as the
//   next starts, straight into its slice; the slices are then moved together (SummarySlab::Close).
//   Path `collect` (the previous one, for comparison): each thread gathers every purchase into its
//   own value::PurchaseColumns, then the parts are summarised (PurchaseColumns::SummariesOf).
//   Calibration = the last day either way.
// Prints one figure per line: `name value unit`.
// Usage: value_rfm_bench [rows=100000000] [threads=2] [segments=8] [path=stream|collect]

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/cpu_time.h"
#include "io/mem_env.h"
#include "store/interaction.h"
#include "store/segment_builder.h"
#include "store/segment_reader.h"
#include "value/purchase_columns.h"
#include "value/rfm_stream.h"
#include "value/rfm.h"

using namespace cairn;
using namespace cairn::value;
using store::segment::Bit;
using store::segment::Column;

namespace {

// Kernel CPU seconds and minor page faults of the process so far (first touches of fresh memory
// are a large share of a pass that builds ~200 MB of vectors).
std::pair<double, long> SysAndFaults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return {static_cast<double>(u.ru_stime.tv_sec) + static_cast<double>(u.ru_stime.tv_usec) * 1e-6, u.ru_minflt};
}
double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

const std::vector<std::string> kEvents = {"Page Viewed", "Product Viewed", "Added To Cart", "Order Completed",
                                          "Email Opened", "Email Clicked", "Signed Up", "Feature Used",
                                          "Checkout Started", "Search", "Support Ticket Opened",
                                          "Subscription Renewed", "Survey Responded"};

// Writes `rows` rows into `segments` files seg-<k> of `env`; returns the customer count.
uint64_t Generate(io::Env* env, uint64_t rows, int segments) {
  std::mt19937_64 rng(7);
  std::discrete_distribution<int> pick({30, 18, 8, 4, 10, 4, 2, 10, 4, 6, 2, 1, 1});
  constexpr int64_t kStart = 1704067200000;  // 2024-01-01
  constexpr int64_t kSpan = 730LL * 86'400'000;
  const uint64_t per_segment = (rows + static_cast<uint64_t>(segments) - 1) / static_cast<uint64_t>(segments);
  uint64_t done = 0, c = 0, seq = 0;
  int k = 0;
  std::unique_ptr<store::SegmentBuilder> builder;
  store::Interaction in;
  auto check = [](const Status& s) {
    if (!s.ok()) {
      std::fprintf(stderr, "value_rfm_bench: %s\n", s.ToString().c_str());
      std::exit(1);
    }
  };
  while (done < rows) {
    if (!builder || (builder->rows() >= per_segment && k < segments)) {  // a new file at a customer boundary
      if (builder) check(builder->Finish());
      auto b = store::SegmentBuilder::Create(env, "seg-" + std::to_string(k++));
      check(b.status());
      builder = std::move(*b);
    }
    ++c;
    const uint64_t n = std::min<uint64_t>(rows - done, 1 + rng() % 69);
    int64_t t = kStart + static_cast<int64_t>(rng() % static_cast<uint64_t>(kSpan / 2));
    for (uint64_t i = 0; i < n; ++i) {
      t += 1 + static_cast<int64_t>(rng() % (86'400'000ULL * 10));
      const int e = pick(rng);
      in.customer = c;
      in.timestamp_ms = t;
      in.received_at_ms = t + 150;
      in.seq = ++seq;
      in.event = kEvents[static_cast<size_t>(e)];
      in.type = e == 0 ? store::MessageType::kPage : store::MessageType::kTrack;
      in.channel = e == 4 || e == 5 ? "email" : "web";
      in.revenue = e == 3 ? 10.0 + static_cast<double>(rng() % 9000) / 100 : 0.0;
      check(builder->Add(in));
    }
    done += n;
  }
  check(builder->Finish());
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000'000;
  const unsigned threads = argc > 2 ? static_cast<unsigned>(std::max(1, std::atoi(argv[2]))) : 2;
  const int segments = argc > 3 ? std::max(1, std::atoi(argv[3])) : 8;
  const bool stream = argc <= 4 || std::string(argv[4]) != "collect";
  io::MemEnv env;
  auto g0 = std::chrono::steady_clock::now();
  const uint64_t customers = Generate(&env, rows, segments);
  std::vector<std::string> paths;
  for (int k = 0; env.FileExists("seg-" + std::to_string(k)); ++k) paths.push_back("seg-" + std::to_string(k));
  std::printf("rfm_rows %llu rows\nrfm_customers %llu customers\nrfm_segments %zu files\nrfm_generate_wall %.2f s\n",
              static_cast<unsigned long long>(rows), static_cast<unsigned long long>(customers), paths.size(),
              Since(g0));
  PurchaseRule rule;  // Order Completed, or any revenue > 0
  RfmOptions opt;
  opt.calibration_end_day = opt.holdout_end_day = (1704067200000 + 800LL * 86'400'000) / 86'400'000;
  const store::segment::ColumnMask columns = Bit(Column::kCustomer) | Bit(Column::kTimestamp) |
                                             Bit(Column::kEvent) | Bit(Column::kType) | Bit(Column::kRevenue);

  std::vector<double> walls, cpus;
  for (int rep = 0; rep < 3; ++rep) {
    const double c0 = ProcessCpuSeconds();
    const auto [sys0, faults0] = SysAndFaults();
    auto t0 = std::chrono::steady_clock::now();
    double scan = 0, scan_cpu = 0;
    size_t summarised = 0;
    int64_t purchases = 0;
    std::string error;
    if (stream) {
      // The segments' footers give each file's customer range and, per block, at most
      // min(rows, last - first + 1) customers: the slab is sized by that bound, once.
      std::vector<std::unique_ptr<store::SegmentReader>> readers;
      for (const auto& p : paths) {
        auto r = store::SegmentReader::Open(&env, p);
        if (!r.ok()) {
          std::fprintf(stderr, "value_rfm_bench: %s\n", r.status().ToString().c_str());
          return 1;
        }
        readers.push_back(std::move(*r));
      }
      std::sort(readers.begin(), readers.end(), [](const auto& a, const auto& b) {
        return a->block(0).first_customer < b->block(0).first_customer;
      });
      for (size_t s = 1; s < readers.size(); ++s)
        if (readers[s]->block(0).first_customer <= readers[s - 1]->block(readers[s - 1]->block_count() - 1).last_customer) {
          std::fprintf(stderr, "value_rfm_bench: segments overlap in customers; run with path=collect\n");
          return 1;
        }
      std::vector<uint64_t> bound(readers.size(), 0), rows_in(readers.size(), 0);
      for (size_t s = 0; s < readers.size(); ++s)
        for (size_t b = 0; b < readers[s]->block_count(); ++b) {
          const auto& blk = readers[s]->block(b);
          bound[s] += std::min<uint64_t>(blk.rows, blk.last_customer - blk.first_customer + 1);
          rows_in[s] += blk.rows;
        }
      // Contiguous groups of segments of about equal rows, one per thread.
      std::vector<size_t> group_end;
      uint64_t total_rows = 0, acc = 0;
      for (uint64_t r : rows_in) total_rows += r;
      for (size_t s = 0; s < readers.size(); ++s) {
        acc += rows_in[s];
        if (acc * threads >= total_rows * (group_end.size() + 1) || s + 1 == readers.size()) group_end.push_back(s + 1);
      }
      std::vector<SummarySlab::Slice> slices(group_end.size());
      size_t capacity = 0;
      for (size_t g = 0, s = 0; g < group_end.size(); ++g) {
        slices[g].offset = capacity;
        for (; s < group_end[g]; ++s) capacity += bound[s];
      }
      SummarySlab slab(capacity);
      std::vector<Status> errors(group_end.size());
      std::vector<int64_t> taken(group_end.size(), 0);
      std::vector<std::thread> pool;
      for (size_t g = 0; g < group_end.size(); ++g)
        pool.emplace_back([&, g] {
          const size_t from = g == 0 ? 0 : group_end[g - 1], to = group_end[g];
          const size_t cap = (g + 1 < slices.size() ? slices[g + 1].offset : capacity) - slices[g].offset;
          RfmStream stream(rule, opt, slab.ids() + slices[g].offset, slab.rows() + slices[g].offset, cap);
          store::ScanOptions scan;
          scan.columns = columns;
          for (size_t s = from; s < to && errors[g].ok(); ++s) {
            stream.BeginSegment(readers[s]->events());
            errors[g] = readers[s]->Scan(scan, [&](const store::FixedColumns& b) {
              return stream.Add({b.customer, b.timestamp_ms, b.event, b.type, b.revenue});
            });
          }
          if (errors[g].ok()) errors[g] = stream.Finish();
          slices[g].count = stream.size();
          taken[g] = stream.purchases();
        });
      for (auto& t : pool) t.join();
      for (const Status& s : errors)
        if (!s.ok()) error = s.ToString();
      scan = Since(t0);
      scan_cpu = ProcessCpuSeconds() - c0;
      slab.Close(slices);
      summarised = slab.size();
      for (int64_t t : taken) purchases += t;
    } else {
      std::vector<PurchaseColumns> parts(threads, PurchaseColumns(rule));
      std::vector<Status> errors(threads);
      std::vector<std::thread> pool;
      for (unsigned k = 0; k < threads; ++k)
        pool.emplace_back([&, k] {
          const size_t from = paths.size() * k / threads, to = paths.size() * (k + 1) / threads;
          store::ScanOptions scan;
          scan.columns = columns;
          for (size_t s = from; s < to && errors[k].ok(); ++s) {
            auto reader = store::SegmentReader::Open(&env, paths[s]);
            if (!reader.ok()) {
              errors[k] = reader.status();
              break;
            }
            parts[k].BeginSegment((*reader)->events());
            errors[k] = (*reader)->Scan(scan, [&](const store::FixedColumns& b) {
              parts[k].Add({b.customer, b.timestamp_ms, b.event, b.type, b.revenue});
              return Status::Ok();
            });
          }
        });
      for (auto& t : pool) t.join();
      for (const Status& s : errors)
        if (!s.ok()) error = s.ToString();
      scan = Since(t0);
      scan_cpu = ProcessCpuSeconds() - c0;
      auto result = PurchaseColumns::SummariesOf(parts, opt, {}, static_cast<int>(threads));
      summarised = result.ids.size();
      purchases = result.purchases;
    }
    if (!error.empty()) {
      std::fprintf(stderr, "value_rfm_bench: %s\n", error.c_str());
      return 1;
    }
    const double wall = Since(t0), cpu = ProcessCpuSeconds() - c0;
    const auto [sys1, faults1] = SysAndFaults();
    std::printf("rfm_run%d_wall %.3f s\nrfm_run%d_cpu %.3f s\nrfm_run%d_scan_wall %.3f s\nrfm_run%d_scan_cpu %.3f s\n"
                "rfm_run%d_kernel_cpu %.3f s\nrfm_run%d_page_faults %ld count\n",
                rep + 1, wall, rep + 1, cpu, rep + 1, scan, rep + 1, scan_cpu, rep + 1, sys1 - sys0, rep + 1,
                faults1 - faults0);
    if (rep == 0)
      std::printf("rfm_purchases %lld rows\nrfm_summarised_customers %zu customers\n",
                  static_cast<long long>(purchases), summarised);
    walls.push_back(wall);
    cpus.push_back(cpu);
  }
  std::sort(walls.begin(), walls.end());
  std::sort(cpus.begin(), cpus.end());
  std::printf("rfm_path %s\n", stream ? "stream" : "collect");
  std::printf("rfm_summary_100m_wall_median %.3f s\nrfm_summary_100m_cpu_median %.3f s\n", walls[1], cpus[1]);
  return 0;
}
