#include "app/import.h"

#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "app/hub.h"

namespace cairn::app {
namespace {

using Clock = std::chrono::steady_clock;

// Waits for a bounded number of batches in flight, so group commit can share syncs while memory
// stays bounded.
class InFlight {
 public:
  explicit InFlight(int max) : max_(max) {}
  void Acquire() {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return n_ < max_; });
    ++n_;
  }
  void Release() {
    {
      std::lock_guard l(mu_);
      --n_;
    }
    cv_.notify_all();
  }
  void WaitAll() {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return n_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
  const int max_;
};

std::string Human(double v) {
  char buf[32];
  if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

}  // namespace

Result<ImportReport> RunImport(const Config& cfg, const ImportOptions& opt) {
  if (!opt.url.empty())
    return FailedPrecondition("import --url is not supported yet: stop the server and import with --data DIR");
  gzFile in = gzopen(opt.file.c_str(), "rb");  // reads plain files too
  if (!in) return InvalidArgument("cannot open " + opt.file);
  gzbuffer(in, 1 << 20);
  uint64_t file_size = 0;
  if (FILE* f = std::fopen(opt.file.c_str(), "rb")) {
    std::fseek(f, 0, SEEK_END);
    file_size = static_cast<uint64_t>(std::ftell(f));
    std::fclose(f);
  }

  HubOptions hub_options = cfg.hub;
  hub_options.create_keys_if_none = false;
  if (!opt.write_key.empty()) hub_options.write_keys = {opt.write_key};
  auto hub = Hub::Open(hub_options);
  if (!hub.ok()) {
    gzclose(in);
    return hub.status().WithContext("opening " + cfg.hub.data_dir);
  }
  std::optional<uint32_t> source = 0;
  if (!opt.write_key.empty()) {
    auto info = (*hub)->keys()->Find(opt.write_key);
    if (!info) return Internal("write key was registered but is not found");
    source = info->source;
  }
  ingest::Ingestor* ingestor = (*hub)->pipeline();

  ImportReport report;
  std::mutex mu;  // guards report and errors from done callbacks
  std::vector<std::string> errors;
  InFlight inflight(8);
  const bool tty = opt.progress && ::isatty(STDERR_FILENO);
  auto start = Clock::now();
  auto last_progress = start;

  auto submit = [&](std::string body, uint64_t first_line, size_t n, auto& self) -> void {
    ingest::IngestRequest req;
    req.dialect = ingest::Dialect::kSegmentBatch;
    req.body = body;
    req.received_at_ms = cairn::Clock::Real()->NowMillis();
    req.historical = true;
    req.trusted_source = source;
    inflight.Acquire();
    ingestor->Ingest(std::move(req), [&, body = std::move(body), first_line, n](Result<ingest::IngestOutcome> r) mutable {
      if (r.ok()) {
        std::lock_guard l(mu);
        report.accepted += r->accepted;
        report.duplicates += r->duplicates;
        for (const auto& rej : r->rejected) {
          ++report.bad_lines;
          errors.push_back("line " + std::to_string(first_line + rej.index) + ": " + rej.error);
        }
        inflight.Release();
        return;
      }
      if (r.status().code() == Code::kInvalidArgument && n > 1) {
        // A malformed line spoils the whole batch's JSON: find it by importing the lines one by one.
        inflight.Release();
        size_t begin = body.find('[') + 1;
        for (size_t i = 0; i < n; ++i) {
          size_t end = body.find('\n', begin);
          std::string line = body.substr(begin, end - begin);
          if (!line.empty() && line.back() == ',') line.pop_back();
          self("{\"batch\":[\n" + line + "\n]}", first_line + i, 1, self);
          begin = end + 1;
        }
        return;
      }
      std::lock_guard l(mu);
      if (n == 1 && r.status().code() == Code::kInvalidArgument) {
        ++report.bad_lines;
        errors.push_back("line " + std::to_string(first_line) + ": " + std::string(r.status().message()));
      } else {
        errors.push_back("lines " + std::to_string(first_line) + "-" + std::to_string(first_line + n - 1) + ": " +
                         r.status().ToString());
        report.bad_lines += n;
      }
      inflight.Release();
    });
  };

  std::string body = "{\"batch\":[\n";
  size_t in_batch = 0;
  uint64_t first_line = 1;
  std::string line;
  char buf[1 << 16];
  bool eof = false;
  while (!eof) {
    line.clear();
    // Read one whole line, however long.
    while (true) {
      if (!gzgets(in, buf, sizeof buf)) {
        eof = true;
        break;
      }
      line += buf;
      if (!line.empty() && line.back() == '\n') break;
    }
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (!eof || !line.empty()) ++report.lines;
    bool blank = line.find_first_not_of(" \t") == std::string::npos;
    if (!blank) {
      if (in_batch) body += ",\n";
      body += line;
      ++in_batch;
    } else if (!eof) {
      // Blank lines are skipped. A batch must cover consecutive lines (rejections are reported as
      // first_line + index), so a blank line ends the current batch.
      if (in_batch > 0) {
        body += "\n]}";
        submit(std::move(body), first_line, in_batch, submit);
        first_line += in_batch;
        body = "{\"batch\":[\n";
        in_batch = 0;
      }
      ++first_line;
      continue;
    }
    if (in_batch == opt.batch_lines || (eof && in_batch > 0)) {
      body += "\n]}";
      submit(std::move(body), first_line, in_batch, submit);
      first_line += in_batch;
      body = "{\"batch\":[\n";
      in_batch = 0;
    }
    auto now = Clock::now();
    if (opt.progress && now - last_progress > std::chrono::milliseconds(tty ? 200 : 5000)) {
      last_progress = now;
      double secs = std::chrono::duration<double>(now - start).count();
      double rate = report.lines / std::max(secs, 1e-9);
      double done_frac = file_size ? static_cast<double>(gzoffset(in)) / file_size : 0;
      double eta = done_frac > 0 ? secs / done_frac - secs : 0;
      if (tty) {
        int width = 30, filled = static_cast<int>(done_frac * width);
        std::fprintf(stderr, "\r[%s%s] %3.0f%%  %s lines  %s/s  ETA %.0fs   ", std::string(filled, '#').c_str(),
                     std::string(width - filled, '.').c_str(), done_frac * 100, Human(report.lines).c_str(),
                     Human(rate).c_str(), eta);
      } else {
        std::fprintf(stderr, "import: %s lines, %s lines/s, %.0f%%, ETA %.0fs\n", Human(report.lines).c_str(),
                     Human(rate).c_str(), done_frac * 100, eta);
      }
    }
  }
  gzclose(in);
  inflight.WaitAll();
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (tty) std::fprintf(stderr, "\n");
  for (size_t i = 0; i < errors.size() && i < 100; ++i) std::fprintf(stderr, "import: %s\n", errors[i].c_str());
  if (errors.size() > 100) std::fprintf(stderr, "import: ... and %zu more errors\n", errors.size() - 100);
  std::fprintf(stderr, "import: %lu lines, %lu accepted (%lu already present), %lu bad, %.1fs (%s lines/s)\n",
               static_cast<unsigned long>(report.lines), static_cast<unsigned long>(report.accepted),
               static_cast<unsigned long>(report.duplicates), static_cast<unsigned long>(report.bad_lines),
               report.seconds, Human(report.lines / std::max(report.seconds, 1e-9)).c_str());
  RETURN_IF_ERROR((*hub)->store()->Flush());
  RETURN_IF_ERROR((*hub)->Close());
  return report;
}

}  // namespace cairn::app
