#include "app/import.h"

#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "app/hub.h"
#include "app/remote_ingestor.h"

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

// The lines of a plain or gzip file.
class FileLines final : public LineSource {
 public:
  FileLines(gzFile in, uint64_t file_size) : in_(in), file_size_(file_size) {}
  bool Next(std::string* line) override {
    line->clear();
    while (true) {  // one whole line, however long
      if (!gzgets(in_, buf_, sizeof buf_)) return !line->empty();
      *line += buf_;
      if (!line->empty() && line->back() == '\n') return true;
    }
  }
  double Fraction() const override {
    return file_size_ ? std::min(1.0, static_cast<double>(gzoffset(in_)) / file_size_) : 0;
  }

 private:
  gzFile in_;
  uint64_t file_size_;
  char buf_[1 << 16];
};

}  // namespace

Result<ImportReport> RunImport(const Config& cfg, const ImportOptions& opt) {
  gzFile in = gzopen(opt.file.c_str(), "rb");  // reads plain files too
  if (!in) return InvalidArgument("cannot open " + opt.file);
  gzbuffer(in, 1 << 20);
  uint64_t file_size = 0;
  if (FILE* f = std::fopen(opt.file.c_str(), "rb")) {
    std::fseek(f, 0, SEEK_END);
    file_size = static_cast<uint64_t>(std::ftell(f));
    std::fclose(f);
  }
  auto lines = std::make_unique<FileLines>(in, file_size);
  auto report = RunImportFrom(cfg, opt, lines.get());
  gzclose(in);
  return report;
}

Result<ImportReport> RunImportFrom(const Config& cfg, const ImportOptions& opt, LineSource* lines) {
  // The destination: a running server (--url), or the data dir opened here.
  std::unique_ptr<RemoteIngestor> remote;
  std::unique_ptr<Hub> hub;
  ingest::Ingestor* ingestor = nullptr;
  std::optional<uint32_t> source;
  if (!opt.url.empty()) {
    ASSIGN_OR_RETURN(remote, RemoteIngestor::Create(opt.url, opt.write_key));
    ingestor = remote.get();
  } else {
    HubOptions hub_options = cfg.hub;
    hub_options.create_keys_if_none = false;
    if (!opt.write_key.empty()) hub_options.write_keys = {opt.write_key};
    auto opened = Hub::Open(hub_options);
    if (!opened.ok()) return opened.status().WithContext("opening " + cfg.hub.data_dir);
    hub = std::move(*opened);
    source = 0;  // the built-in "import" source, unless a write key names one
    if (!opt.write_key.empty()) {
      auto info = hub->keys()->Find(opt.write_key);
      if (!info) return Internal("write key was registered but is not found");
      source = info->source;
    }
    ingestor = hub->pipeline();
  }

  ImportReport report;
  std::mutex mu;  // guards report and errors from done callbacks
  std::vector<std::string> errors;
  std::deque<std::pair<std::vector<std::string>, uint64_t>> retry;  // guarded by mu
  InFlight inflight(8);
  const bool tty = opt.progress && ::isatty(STDERR_FILENO);
  auto start = Clock::now();
  auto last_progress = start;

  // Sends consecutive lines [first_line, first_line + lines.size()) as one batch.
  auto submit = [&](std::vector<std::string> lines, uint64_t first_line, auto& self) -> void {
    std::string body = "{\"batch\":[\n";
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) body += ",\n";
      body += lines[i];
    }
    body += "\n]}";
    ingest::IngestRequest req;
    req.dialect = ingest::Dialect::kSegmentBatch;
    req.body = std::move(body);
    req.received_at_ms = cairn::Clock::Real()->NowMillis();
    req.historical = true;
    req.trusted_source = source;
    inflight.Acquire();
    auto shared_lines = std::make_shared<std::vector<std::string>>(std::move(lines));
    ingestor->Ingest(std::move(req), [&, shared_lines, first_line](Result<ingest::IngestOutcome> r) {
      // `done` may run on the store's WAL thread: work to resend goes to `retry`, which the main
      // loop drains (sending from here could block that thread on the in-flight limit). The slot
      // is released only after the outcome is recorded, so WaitAll() sees every retry queued.
      size_t n = shared_lines->size();
      {
        std::lock_guard l(mu);
        if (r.ok()) {
          report.accepted += r->accepted;
          report.duplicates += r->duplicates;
          for (const auto& rej : r->rejected) {
            ++report.bad_lines;
            errors.push_back("line " + std::to_string(first_line + rej.index) + ": " + rej.error);
          }
        } else if (r.status().code() == Code::kUnavailable) {
          // Back-pressure (store or profiles behind): send the same lines again shortly.
          retry.push_back({std::move(*shared_lines), first_line});
        } else if (r.status().code() == Code::kInvalidArgument && n > 1) {
          // A malformed line spoils the whole batch's JSON: find it by sending lines one by one.
          for (size_t i = 0; i < n; ++i) retry.push_back({{(*shared_lines)[i]}, first_line + i});
        } else {
          report.bad_lines += n;
          if (n == 1) errors.push_back("line " + std::to_string(first_line) + ": " + std::string(r.status().message()));
          else errors.push_back("lines " + std::to_string(first_line) + "-" + std::to_string(first_line + n - 1) + ": " + r.status().ToString());
        }
      }
      inflight.Release();
    });
  };

  // Resends what came back for another try: one round of what is queued now, or, with `wait`,
  // rounds until nothing is in flight or queued. Back-pressure paces the rounds.
  auto drain_retries = [&](bool wait) {
    while (true) {
      std::deque<std::pair<std::vector<std::string>, uint64_t>> round;
      {
        std::lock_guard l(mu);
        round.swap(retry);
      }
      if (!round.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      for (auto& [lines, first] : round) submit(std::move(lines), first, submit);
      if (!wait) return;
      inflight.WaitAll();
      std::lock_guard l(mu);
      if (retry.empty()) return;
    }
  };
  std::vector<std::string> batch;
  uint64_t first_line = 1;  // line number of batch[0]
  std::string line;
  auto flush_batch = [&] {
    if (batch.empty()) return;
    size_t n = batch.size();
    submit(std::move(batch), first_line, submit);
    batch.clear();
    first_line += n;
  };
  while (lines->Next(&line)) {
    ++report.lines;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) {
      // Blank lines are skipped. A batch covers consecutive lines (rejections are reported as
      // first_line + index), so a blank line ends the current batch.
      flush_batch();
      ++first_line;
      continue;
    }
    batch.push_back(line);
    if (batch.size() == opt.batch_lines) {
      flush_batch();
      drain_retries(/*wait=*/false);
    }
    auto now = Clock::now();
    if (opt.progress && now - last_progress > std::chrono::milliseconds(tty ? 200 : 5000)) {
      last_progress = now;
      double secs = std::chrono::duration<double>(now - start).count();
      double rate = report.lines / std::max(secs, 1e-9);
      double done_frac = lines->Fraction();
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
  flush_batch();
  drain_retries(/*wait=*/true);
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (tty) std::fprintf(stderr, "\n");
  for (size_t i = 0; i < errors.size() && i < 100; ++i) std::fprintf(stderr, "import: %s\n", errors[i].c_str());
  if (errors.size() > 100) std::fprintf(stderr, "import: ... and %zu more errors\n", errors.size() - 100);
  std::fprintf(stderr, "import: %lu lines, %lu accepted (%lu already present), %lu bad, %.1fs (%s lines/s)\n",
               static_cast<unsigned long>(report.lines), static_cast<unsigned long>(report.accepted),
               static_cast<unsigned long>(report.duplicates), static_cast<unsigned long>(report.bad_lines),
               report.seconds, Human(report.lines / std::max(report.seconds, 1e-9)).c_str());
  if (hub) {
    RETURN_IF_ERROR(hub->store()->Flush());
    RETURN_IF_ERROR(hub->Close());
  }
  return report;
}

}  // namespace cairn::app
