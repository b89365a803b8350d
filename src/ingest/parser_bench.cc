// Micro benchmark of request parsing: 1,000-message Segment batches of ~300-byte track messages
// (the shape analytics-node sends), plus a PostHog batch and gzip decoding of the Segment body.
// Prints one figure per line: name, value, unit. Single thread; rates are per CPU-second of the
// benchmark thread (CLOCK_THREAD_CPUTIME_ID), so other load on the machine does not skew them.
// glibc is told to keep freed memory (as a long-running server's heap does): otherwise each
// freed 1,000-message result is trimmed back to the OS and the next one page-faults it in again,
// and the figure measures the kernel rather than the parser.
//
//   parser_bench [seconds-per-figure, default 2] [only: segment|posthog|gunzip]
//   parser_bench jsonl FILE [max-MB, default 100] [passes, default 1]
//     parses FILE's first max-MB of lines as `cairn import` does (kJsonLines chunks of at most
//     1,000 lines and 512 KiB, historical) `passes` times, and prints events per CPU-second of
//     this thread.

#include <malloc.h>
#include <time.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/cpu_time.h"
#include "ingest/body_decoder.h"
#include "ingest/parser.h"

namespace {

using cairn::ingest::Dialect;

constexpr int64_t kReceivedAt = 1714564800000;  // 2024-05-01T12:00:00Z

std::string SegmentBatch(int n) {
  std::string body = "{\"batch\":[";
  for (int i = 0; i < n; ++i) {
    if (i) body += ',';
    body += fmt::format(
        "{{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"user-{:06}\","
        "\"anonymousId\":\"5b9e8f2a-{:04x}-4c1e-9a51-0b7f3c2d1e0a\",\"messageId\":\"node-{:08x}-a1b2c3d4\","
        "\"timestamp\":\"2024-05-01T11:59:{:02}.{:03}Z\",\"properties\":{{\"revenue\":{}.99,\"currency\":\"EUR\","
        "\"orderId\":\"o-{}\",\"coupon\":null}},\"context\":{{\"library\":{{\"name\":\"analytics-node\","
        "\"version\":\"3.1.0\"}}}},\"integrations\":{{}}}}",
        i, i & 0xffff, i, i % 60, i % 1000, 10 + i % 90, i);
  }
  body += "],\"writeKey\":\"wk_live_abc\",\"sentAt\":\"2024-05-01T11:59:59.900Z\"}";
  return body;
}

std::string PostHogBatch(int n) {
  std::string body = "{\"api_key\":\"phc_abc\",\"batch\":[";
  for (int i = 0; i < n; ++i) {
    if (i) body += ',';
    body += fmt::format(
        "{{\"event\":\"order completed\",\"distinct_id\":\"user-{:06}\",\"properties\":{{\"revenue\":{}.5,"
        "\"$lib\":\"posthog-node\",\"$lib_version\":\"5.7.0\",\"$geoip_disable\":true}},"
        "\"timestamp\":\"2024-05-01T11:59:{:02}.{:03}Z\",\"uuid\":\"0190f3a2-{:04x}-7c3b-8e1f-6a2b9c0d1e2f\","
        "\"type\":\"capture\",\"library\":\"posthog-node\",\"library_version\":\"5.7.0\"}}",
        i, i % 100, i % 60, i % 1000, i & 0xffff);
  }
  body += "],\"sent_at\":\"2024-05-01T11:59:59.900Z\"}";
  return body;
}

std::string Gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// Runs `fn` repeatedly for about `seconds`; returns calls per second.
template <class Fn>
double Rate(double seconds, Fn&& fn) {
  for (int i = 0; i < 3; ++i) fn();  // warm buffers
  int64_t calls = 0;
  const double start = cairn::ThreadCpuSeconds();
  double elapsed = 0;
  do {
    for (int i = 0; i < 10; ++i) fn();
    calls += 10;
    elapsed = cairn::ThreadCpuSeconds() - start;
  } while (elapsed < seconds);
  return static_cast<double>(calls) / elapsed;
}

// The import's chunking (src/app/import.cc): consecutive lines, ≤ 1,000 lines and ≤ 512 KiB.
std::vector<std::string> Chunks(const char* path, size_t max_bytes) {
  std::ifstream in(path);
  std::vector<std::string> chunks;
  std::string line, chunk;
  size_t lines = 0, total = 0;
  while (total < max_bytes && std::getline(in, line)) {
    if (lines > 0 && (lines == 1000 || chunk.size() + line.size() + 1 > 512 * 1024)) {
      chunks.push_back(std::move(chunk));
      chunk.clear();
      lines = 0;
    }
    if (lines > 0) chunk.push_back('\n');
    chunk += line;
    total += line.size() + 1;
    ++lines;
  }
  if (lines > 0) chunks.push_back(std::move(chunk));
  return chunks;
}

int JsonLines(const char* path, size_t max_mb, int passes) {
  const std::vector<std::string> chunks = Chunks(path, max_mb << 20);
  cairn::ingest::ParseOptions options;
  options.historical = true;
  cairn::ingest::Parser parser;
  // gen_events times lie in 2026; received "now" as an import does (they are not in the future).
  const int64_t received_at = static_cast<int64_t>(time(nullptr)) * 1000;
  size_t bytes = 0, messages = 0, rejected = 0;
  for (int i = 0; i < 2 && i < static_cast<int>(chunks.size()); ++i) {  // warm buffers
    (void)parser.Parse(options, Dialect::kJsonLines, cairn::store::MessageType::kTrack, chunks[i], received_at);
  }
  const double start = cairn::ThreadCpuSeconds();
  for (int pass = 0; pass < passes; ++pass)
  for (const std::string& c : chunks) {
    auto r = parser.Parse(options, Dialect::kJsonLines, cairn::store::MessageType::kTrack, c, received_at);
    if (!r.ok()) {
      std::fprintf(stderr, "unexpected: %s\n", r.status().ToString().c_str());
      return 1;
    }
    bytes += c.size();
    messages += r->messages.size();
    rejected += r->rejected.size();
  }
  const double cpu = cairn::ThreadCpuSeconds() - start;
  std::printf("jsonl_lines %zu lines\n", messages + rejected);
  std::printf("jsonl_rejected %zu lines\n", rejected);
  std::printf("jsonl_parse %.0f events/cpu-s\n", static_cast<double>(messages + rejected) / cpu);
  std::printf("jsonl_parse %.1f MB/cpu-s\n", static_cast<double>(bytes) / cpu / 1e6);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 && std::string(argv[1]) == "jsonl") {
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    return JsonLines(argv[2], argc > 3 ? static_cast<size_t>(std::atol(argv[3])) : 100, argc > 4 ? std::atoi(argv[4]) : 1);
  }
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const std::string only = argc > 2 ? argv[2] : "";
  auto want = [&](const char* name) { return only.empty() || only == name; };
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  cairn::ingest::ParseOptions options;
  cairn::ingest::Parser parser;
  constexpr int kMessages = 1000;

  const std::string segment = SegmentBatch(kMessages);
  size_t accepted = 0;
  double rate = 0;
  if (want("segment")) {
  rate = Rate(seconds, [&] {
    auto r = parser.Parse(options, Dialect::kSegmentBatch, cairn::store::MessageType::kTrack, segment, kReceivedAt);
    if (!r.ok() || r->messages.size() != kMessages) {
      std::fprintf(stderr, "unexpected: %s\n", r.ok() ? r->rejected[0].error.c_str() : r.status().ToString().c_str());
      std::exit(1);
    }
    accepted += r->messages.size();
  });
  std::printf("segment_track_message_bytes %.0f bytes\n", static_cast<double>(segment.size()) / kMessages);
  std::printf("segment_batch_parse %.0f messages/s\n", rate * kMessages);
  std::printf("segment_batch_parse %.1f MB/s\n", rate * static_cast<double>(segment.size()) / 1e6);
  }

  const std::string posthog = PostHogBatch(kMessages);
  if (want("posthog")) {
  rate = Rate(seconds, [&] {
    auto r = parser.Parse(options, Dialect::kPostHogBatch, cairn::store::MessageType::kTrack, posthog, kReceivedAt);
    if (!r.ok() || r->messages.size() != kMessages) std::exit(1);
  });
  std::printf("posthog_batch_parse %.0f messages/s\n", rate * kMessages);
  }

  const std::string gz = Gzip(segment);
  if (want("gunzip")) {
  rate = Rate(seconds, [&] {
    auto r = cairn::ingest::DecodeBody(gz, "gzip", 16 << 20);
    if (!r.ok()) std::exit(1);
  });
  std::printf("gunzip_segment_batch %.0f messages/s\n", rate * kMessages);
  std::printf("gunzip_segment_batch %.1f MB/s\n", rate * static_cast<double>(segment.size()) / 1e6);
  }
  return want("segment") && accepted == 0;
}
