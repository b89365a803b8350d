// segment_bench [EVENTS]: builds a segment of generated events (default 2,000,000; ~20 events per
// customer, 12 event names with a realistic skew, ms timestamps minutes to days apart, JSON
// payloads of 150-300 bytes) on the real file system and prints one figure per line:
// `name value unit`. Figures: build rate, full-scan decode rates (core and all fixed columns,
// one thread = per core; thread CPU time, so other load on the machine does not count), per-customer read latency, and bytes/event at rest per column group.

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "base/cpu_time.h"
#include "io/env.h"
#include "store/segment_builder.h"
#include "store/segment_reader.h"

namespace cairn::store {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

void Figure(const char* name, double value, const char* unit) { std::printf("%s %.6g %s\n", name, value, unit); }

std::vector<Interaction> Generate(size_t target, uint64_t seed) {
  std::mt19937_64 rng(seed);
  struct Ev {
    const char* name;
    double weight;
    MessageType type;
  };
  static const Ev kEvents[] = {
      {"Page Viewed", 30, MessageType::kPage},   {"Product Viewed", 15, MessageType::kTrack},
      {"Email Opened", 12, MessageType::kTrack}, {"Feature Used", 10, MessageType::kTrack},
      {"Added To Cart", 7, MessageType::kTrack}, {"Email Clicked", 6, MessageType::kTrack},
      {"Signed Up", 4, MessageType::kIdentify},  {"Checkout Started", 4, MessageType::kTrack},
      {"Order Completed", 4, MessageType::kTrack}, {"Support Ticket Opened", 3, MessageType::kTrack},
      {"Survey Responded", 3, MessageType::kTrack}, {"Subscription Renewed", 2, MessageType::kTrack}};
  std::vector<double> weights;
  for (const auto& e : kEvents) weights.push_back(e.weight);
  std::discrete_distribution<int> pick_event(weights.begin(), weights.end());
  static const char* kChannels[] = {"web", "mobile", "email", "support", "payment", "social"};
  static const char* kPlans[] = {"free", "starter", "pro", "enterprise"};
  static const char* kLocales[] = {"en-US", "de-DE", "fr-FR", "ja-JP", "pt-BR"};
  std::uniform_real_distribution<double> unit(0, 1);
  const int64_t year_start = 1704067200000;  // 2024-01-01
  const double log_min = std::log(60'000.0), log_max = std::log(3 * 86'400'000.0);  // 1 min .. 3 days

  std::vector<Interaction> rows;
  rows.reserve(target + 64);
  uint64_t customer = 1000;
  char buf[512];
  while (rows.size() < target) {
    customer += 1 + rng() % 20;
    const int n = 5 + static_cast<int>(rng() % 31);  // 5..35, mean 20
    int64_t ts = year_start + static_cast<int64_t>(rng() % (300ull * 86'400'000));
    const char* plan = kPlans[rng() % 4];
    const char* locale = kLocales[rng() % 5];
    for (int i = 0; i < n; ++i) {
      if (i > 0) ts += static_cast<int64_t>(std::exp(log_min + unit(rng) * (log_max - log_min)));
      const Ev& e = kEvents[pick_event(rng)];
      Interaction r;
      r.customer = customer;
      r.timestamp_ms = ts;
      r.received_at_ms = ts + static_cast<int64_t>(rng() % 2000);
      r.type = e.type;
      r.source = rng() % 10 == 0 ? 2 : 1;
      r.event = e.type == MessageType::kPage ? "Home" : e.name;
      r.channel = e.type == MessageType::kPage ? "web" : kChannels[rng() % 6];
      std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(rng()),
                    static_cast<unsigned>(rng() & 0xffff), static_cast<unsigned>(rng() & 0xfff),
                    static_cast<unsigned>(0x8000 | (rng() & 0x3fff)),
                    static_cast<unsigned long long>(rng() & 0xffffffffffffull));
      r.message_id = buf;
      if (std::string_view(e.name) == "Order Completed") r.revenue = static_cast<double>(500 + rng() % 50000) / 100;
      const int len = std::snprintf(
          buf, sizeof buf,
          R"({"type":"%s","event":"%s","userId":"u%llu","messageId":"%s","properties":{"path":"/p/%llu","sku":"SKU-%05llu","plan":"%s","qty":%llu%s},"context":{"ip":"%llu.%llu.%llu.%llu","locale":"%s","v":"4.%llu"},"ts":%lld})",
          std::string(MessageTypeName(e.type)).c_str(), e.name, static_cast<unsigned long long>(customer),
          r.message_id.c_str(), static_cast<unsigned long long>(rng() % 5000),
          static_cast<unsigned long long>(rng() % 100000), plan, static_cast<unsigned long long>(1 + rng() % 5),
          r.revenue != 0 ? ",\"revenue\":12.5" : "", static_cast<unsigned long long>(rng() % 256),
          static_cast<unsigned long long>(rng() % 256), static_cast<unsigned long long>(rng() % 256),
          static_cast<unsigned long long>(rng() % 256), locale, static_cast<unsigned long long>(rng() % 20),
          static_cast<long long>(ts));
      r.payload.assign(buf, static_cast<size_t>(len));
      rows.push_back(std::move(r));
    }
  }
  // seq: global arrival order (by receipt time), as the store assigns it.
  std::vector<uint32_t> order(rows.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return rows[a].received_at_ms < rows[b].received_at_ms; });
  for (uint32_t k = 0; k < order.size(); ++k) rows[order[k]].seq = 1'000'000'000 + k;
  std::sort(rows.begin(), rows.end(), [](const Interaction& a, const Interaction& b) {
    return std::tie(a.customer, a.timestamp_ms, a.seq) < std::tie(b.customer, b.timestamp_ms, b.seq);
  });
  return rows;
}

// Scans `columns` repeatedly for at least `min_seconds`; returns rows/s of the best pass.
double ScanRate(const SegmentReader& r, ColumnMask columns, double min_seconds, uint64_t* checksum) {
  ScanOptions o;
  o.columns = columns;
  double best = 0, total = 0;
  while (total < min_seconds) {
    uint64_t sum = 0;
    const double t0 = ThreadCpuSeconds();
    Status s = r.Scan(o, [&](const FixedColumns& c) {
      // Touch the output so the work cannot be elided: one value per block is enough.
      sum += c.rows + (c.customer.empty() ? 0 : c.customer[c.rows / 2]) +
             (c.event.empty() ? 0 : c.event[c.rows - 1]);
      return Status::Ok();
    });
    const double t1 = ThreadCpuSeconds();
    if (!s.ok()) {
      std::fprintf(stderr, "scan: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    *checksum += sum;
    const double secs = t1 - t0;
    total += secs;
    best = std::max(best, static_cast<double>(r.stats().rows) / secs);
  }
  return best;
}

int Main(int argc, char** argv) {
  const size_t events = argc > 1 ? std::stoull(argv[1]) : 2'000'000;
  // --scan-only: stop after the scan figures (for profiling the scan path).
  const bool scan_only = argc > 2 && std::string(argv[2]) == "--scan-only";
  io::Env* env = io::Env::Posix();
  const std::string path = "/tmp/segment_bench." + std::to_string(getpid()) + ".seg";

  auto rows = Generate(events, 42);
  uint64_t raw_payload = 0;
  for (const auto& r : rows) raw_payload += r.payload.size();

  const auto b0 = Clock::now();
  {
    auto builder = SegmentBuilder::Create(env, path);
    if (!builder.ok()) return 1;
    for (const auto& r : rows) {
      if (Status s = (*builder)->Add(r); !s.ok()) {
        std::fprintf(stderr, "add: %s\n", s.ToString().c_str());
        return 1;
      }
    }
    if (Status s = (*builder)->Finish(); !s.ok()) {
      std::fprintf(stderr, "finish: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const auto b1 = Clock::now();
  auto opened = SegmentReader::Open(env, path);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  const SegmentReader& r = **opened;
  const SegmentStats& st = r.stats();
  const double n = static_cast<double>(st.rows);
  using segment::Bit;
  using segment::Column;
  auto col = [&](Column c) { return static_cast<double>(st.column_bytes[static_cast<size_t>(c)]); };

  Figure("segment_events", n, "events");
  size_t distinct = 0;
  for (size_t i = 0; i < rows.size(); ++i) distinct += i == 0 || rows[i].customer != rows[i - 1].customer;
  Figure("segment_customers", static_cast<double>(distinct), "customers");
  Figure("segment_blocks", static_cast<double>(st.blocks), "blocks");
  Figure("build_rate", n / Seconds(b0, b1), "events/s");

  Figure("bytes_per_event_customer_time_event",
         (col(Column::kCustomer) + col(Column::kTimestamp) + col(Column::kEvent)) / n, "bytes/event");
  for (size_t c = 0; c < segment::kNumColumns; ++c) {
    const std::string name = "bytes_per_event_" + std::string(segment::ColumnName(segment::ColumnAt(c)));
    Figure(name.c_str(), col(segment::ColumnAt(c)) / n, "bytes/event");
  }
  Figure("bytes_per_event_fixed_columns",
         (st.file_bytes - st.footer_bytes - col(Column::kPayload) - col(Column::kMessageId)) / n, "bytes/event");
  Figure("bytes_per_event_properties_payload", col(Column::kPayload) / n, "bytes/event");
  Figure("payload_raw_bytes_per_event", static_cast<double>(raw_payload) / n, "bytes/event");
  Figure("payload_compression_ratio", static_cast<double>(raw_payload) / col(Column::kPayload), "x");
  Figure("bytes_per_event_total", static_cast<double>(st.file_bytes) / n, "bytes/event");
  Figure("footer_bytes", static_cast<double>(st.footer_bytes), "bytes");

  uint64_t sink = 0;
  Figure("scan_core_columns_rate", ScanRate(r, segment::kCoreColumns, 2.0, &sink), "events/s");
  Figure("scan_all_fixed_columns_rate", ScanRate(r, segment::kFixedColumns, 2.0, &sink), "events/s");

  if (scan_only) {
    (void)env->RemoveFile(path);
    return 0;
  }
  // Per-customer reads of random customers (all columns, payload included).
  std::vector<CustomerId> customers;
  {
    std::mt19937_64 rng(7);
    const auto lo = rows.front().customer, hi = rows.back().customer;
    for (int i = 0; i < 20000; ++i) customers.push_back(lo + rng() % (hi - lo + 1));
  }
  for (ColumnMask mask : {segment::kAllColumns, segment::kFixedColumns}) {
    std::vector<double> us;
    size_t found = 0;
    std::vector<Interaction> out;
    for (CustomerId c : customers) {
      out.clear();
      const auto t0 = Clock::now();
      Status s = r.ReadCustomer(c, &out, mask);
      const auto t1 = Clock::now();
      if (!s.ok()) {
        std::fprintf(stderr, "read: %s\n", s.ToString().c_str());
        return 1;
      }
      found += out.size();
      if (!out.empty()) us.push_back(Seconds(t0, t1) * 1e6);
    }
    std::sort(us.begin(), us.end());
    const char* tag = mask == segment::kAllColumns ? "all" : "fixed";
    Figure((std::string("customer_read_") + tag + "_p50").c_str(), us[us.size() / 2], "us");
    Figure((std::string("customer_read_") + tag + "_p99").c_str(), us[us.size() * 99 / 100], "us");
    Figure((std::string("customer_read_") + tag + "_rows_per_customer").c_str(),
           static_cast<double>(found) / static_cast<double>(us.size()), "rows");
  }
  const auto v0 = Clock::now();
  if (Status s = r.Verify(); !s.ok()) {
    std::fprintf(stderr, "verify: %s\n", s.ToString().c_str());
    return 1;
  }
  Figure("verify_rate", n / Seconds(v0, Clock::now()), "events/s");
  std::fprintf(stderr, "(checksum %llu)\n", static_cast<unsigned long long>(sink));
  (void)env->RemoveFile(path);
  return 0;
}

}  // namespace
}  // namespace cairn::store

int main(int argc, char** argv) { return cairn::store::Main(argc, argv); }
