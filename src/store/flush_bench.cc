// flush_bench: the CPU cost of one memtable flush (Store::Flush: sort, segment build, compression,
// sync, manifest, WAL clean-up), on the real file system, with gen_events rows; with --compact 1,
// also of the compaction of the flushed segments into one.
//
//   flush_bench --input FILE.jsonl [--rows 120000] [--flushes 5] [--codec lz4|zstd|raw] [--zstd LEVEL]
//               [--compact 0|1] [--dir DIR]
//
// FILE.jsonl comes from bench/gen_events (ordered by time, as a collector sees it). Each line
// becomes one row: its anonymousId names the customer (ids assigned in first-seen order, as
// identity resolution does; gen_events sends the anonymousId on every line of a customer), its
// timestamp, type, event or page name, channel, messageId and revenue fill the fixed columns and
// the line itself is the payload. Rows go through Store::Append in batches of 1,000 in file
// order, with their strings allocated in that order, so the memtable holds them where the
// import's would be: arrival order, a customer's rows scattered over the batches. Then Flush()
// runs on this thread and its thread CPU time is taken (the machine is shared: CPU, not wall).
// --rows defaults to ~one default memtable (64 MiB) of gen_events rows.
//
// Prints one figure per line (`name value unit`), medians over the flushes:
//   flush_cpu_ms                 thread CPU of one Flush()
//   flush_rows_per_cpu_s         rows flushed per CPU-second
//   flush_wall_ms                wall time of one Flush()
//   flush_segment_bytes_per_row  size of the flushed segment per row
// and with --compact 1 (Store::Compact(force) of the flushed segments on this thread, once):
//   compaction_cpu_ms            thread CPU of that compaction
//   compaction_rows_per_cpu_s    rows merged per CPU-second
//   rest_bytes_per_row           size of the compacted segment per row
// --codec is the flush's payload codec (StoreOptions::flush_codec, default lz4; message ids are raw
// unless it is zstd), --zstd its level when zstd; compaction always writes zstd at
// StoreOptions::compaction_zstd_level.
// DIR (default: a new directory under /tmp) is removed at the end.

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/cpu_time.h"
#include "io/env.h"
#include "store/store.h"

namespace cairn::store {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "flush_bench: %s\n", what.c_str());
  std::exit(1);
}

// The string value of `"key":"` in line (empty when absent). Enough for gen_events lines.
std::string_view Field(std::string_view line, std::string_view key) {
  std::string pattern = "\"" + std::string(key) + "\":\"";
  size_t at = line.find(pattern);
  if (at == std::string_view::npos) return {};
  at += pattern.size();
  size_t end = line.find('"', at);
  return end == std::string_view::npos ? std::string_view{} : line.substr(at, end - at);
}

// YYYY-MM-DDTHH:MM:SS.mmmZ -> ms since the epoch (days_from_civil, Howard Hinnant).
int64_t ParseTime(std::string_view s) {
  if (s.size() < 23) Die("bad timestamp " + std::string(s));
  auto num = [&](size_t at, size_t n) { return std::stoi(std::string(s.substr(at, n))); };
  int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  return ((days * 24 + num(11, 2)) * 60 + num(14, 2)) * 60'000 + num(17, 2) * 1000 + num(20, 3);
}

Interaction RowOf(const std::string& line, std::unordered_map<std::string, CustomerId>* customers) {
  Interaction r;
  std::string_view anon = Field(line, "anonymousId");
  if (anon.empty()) anon = Field(line, "userId");
  auto [it, inserted] = customers->try_emplace(std::string(anon), customers->size() + 1);
  r.customer = it->second;
  r.timestamp_ms = ParseTime(Field(line, "timestamp"));
  r.received_at_ms = r.timestamp_ms + 150;
  if (!ParseMessageType(Field(line, "type"), &r.type)) Die("bad type in " + line);
  r.source = 1;
  r.event = r.type == MessageType::kTrack ? Field(line, "event") : Field(line, "name");
  r.channel = Field(line, "channel");
  r.message_id = Field(line, "messageId");
  if (size_t at = line.find("\"revenue\":"); at != std::string::npos) r.revenue = std::atof(line.c_str() + at + 10);
  r.payload = line;
  return r;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int Main(int argc, char** argv) {
  std::string input, dir;
  size_t rows_per_flush = 120'000, flushes = 5;
  int zstd = StoreOptions{}.flush_zstd_level;
  column::FrameCodec codec = StoreOptions{}.flush_codec;
  bool compact = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) {
      Die("usage: flush_bench --input FILE [--rows N] [--flushes F] [--codec lz4|zstd|raw] [--zstd L] "
          "[--compact 0|1] [--dir DIR]");
    }
    std::string v = argv[++i];
    if (a == "--input") input = v;
    else if (a == "--rows") rows_per_flush = std::stoull(v);
    else if (a == "--flushes") flushes = std::stoull(v);
    else if (a == "--zstd") zstd = std::stoi(v);
    else if (a == "--compact") compact = v == "1";
    else if (a == "--codec") {
      if (v == "lz4") codec = column::FrameCodec::kLz4;
      else if (v == "zstd") codec = column::FrameCodec::kZstd;
      else if (v == "raw") codec = column::FrameCodec::kRaw;
      else Die("--codec: lz4, zstd or raw");
    }
    else if (a == "--dir") dir = v;
    else Die("unknown flag " + a);
  }
  if (input.empty()) Die("--input FILE (from gen_events) is required");
  const bool own_dir = dir.empty();
  if (own_dir) dir = "/tmp/flush_bench." + std::to_string(getpid());
  std::filesystem::remove_all(dir);

  io::Env* env = io::Env::Posix();
  StoreOptions o;
  o.background_work = false;
  o.memtable_flush_bytes = size_t{1} << 40;  // only the explicit flushes below
  o.memtable_max_bytes = size_t{1} << 40;
  o.flush_zstd_level = zstd;
  o.flush_codec = codec;
  auto opened = Store::Open(env, dir, o, {});
  if (!opened.ok()) Die(opened.status().ToString());
  Store& store = **opened;

  std::ifstream in(input);
  if (!in) Die("cannot read " + input);
  std::unordered_map<std::string, CustomerId> customers;
  std::vector<double> cpu_ms, wall_ms, bytes_per_row;
  std::string line;
  uint64_t segment_bytes_before = 0;
  for (size_t f = 0; f < flushes; ++f) {
    // Append one memtable's worth in batches of 1,000, waiting for each to be durable.
    std::mutex mu;
    std::condition_variable cv;
    size_t pending = 0;
    size_t appended = 0;
    while (appended < rows_per_flush) {
      Batch b;
      while (b.interactions.size() < 1000 && appended < rows_per_flush && std::getline(in, line)) {
        b.interactions.push_back(RowOf(line, &customers));
        ++appended;
      }
      if (b.interactions.empty()) Die("input too short for " + std::to_string(flushes) + " flushes");
      {
        std::lock_guard l(mu);
        ++pending;
      }
      Status s = store.Append(std::move(b), [&](Status st) {
        if (!st.ok()) Die(st.ToString());
        std::lock_guard l(mu);
        --pending;
        cv.notify_all();
      });
      if (!s.ok()) Die(s.ToString());
    }
    {
      std::unique_lock l(mu);
      cv.wait(l, [&] { return pending == 0; });
    }
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = ThreadCpuSeconds();
    if (Status s = store.Flush(); !s.ok()) Die(s.ToString());
    const double c1 = ThreadCpuSeconds();
    const auto w1 = std::chrono::steady_clock::now();
    const uint64_t seg = store.Stats().segment_bytes;
    cpu_ms.push_back((c1 - c0) * 1e3);
    wall_ms.push_back(std::chrono::duration<double>(w1 - w0).count() * 1e3);
    bytes_per_row.push_back(static_cast<double>(seg - segment_bytes_before) / static_cast<double>(appended));
    segment_bytes_before = seg;
    std::fprintf(stderr, "flush %zu: %zu rows, %.1f ms CPU, %.1f ms wall, %.1f bytes/row\n", f, appended,
                 cpu_ms.back(), wall_ms.back(), bytes_per_row.back());
  }
  double compaction_cpu_ms = 0, rest_bytes_per_row = 0;
  if (compact) {
    const double c0 = ThreadCpuSeconds();
    if (Status s = store.Compact({}, /*force=*/true); !s.ok()) Die(s.ToString());
    compaction_cpu_ms = (ThreadCpuSeconds() - c0) * 1e3;
    rest_bytes_per_row = static_cast<double>(store.Stats().segment_bytes) / static_cast<double>(rows_per_flush * flushes);
    std::fprintf(stderr, "compaction: %.1f ms CPU, %.1f bytes/row\n", compaction_cpu_ms, rest_bytes_per_row);
  }
  (void)store.Close();
  opened->reset();
  if (own_dir) std::filesystem::remove_all(dir);

  const double cpu = Median(cpu_ms);
  std::printf("flush_rows %zu rows\n", rows_per_flush);
  std::printf("flush_cpu_ms %.1f ms\n", cpu);
  std::printf("flush_rows_per_cpu_s %.0f rows/s\n", static_cast<double>(rows_per_flush) / (cpu / 1e3));
  std::printf("flush_wall_ms %.1f ms\n", Median(wall_ms));
  std::printf("flush_segment_bytes_per_row %.1f bytes/row\n", Median(bytes_per_row));
  if (compact) {
    std::printf("compaction_cpu_ms %.1f ms\n", compaction_cpu_ms);
    std::printf("compaction_rows_per_cpu_s %.0f rows/s\n",
                static_cast<double>(rows_per_flush * flushes) / (compaction_cpu_ms / 1e3));
    std::printf("rest_bytes_per_row %.1f bytes/row\n", rest_bytes_per_row);
  }
  return 0;
}

}  // namespace
}  // namespace cairn::store

int main(int argc, char** argv) { return cairn::store::Main(argc, argv); }
