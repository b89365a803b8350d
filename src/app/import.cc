#include "app/import.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "app/file_lines.h"
#include "app/hub.h"
#include "app/remote_ingestor.h"
#include "base/thread_name.h"

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
  ASSIGN_OR_RETURN(auto lines, FileLines::Open(opt.file));
  return RunImportFrom(cfg, opt, lines.get());
}

namespace {

// Consecutive lines of the input, [first_line, first_line + lines), as JSON Lines text.
struct Chunk {
  uint64_t seq = 0;  // order of commit
  uint64_t first_line = 0;
  size_t lines = 0;
  std::string text;  // lines joined by '\n' (a line never holds a raw newline)
};

// The chunk as a Segment batch body, for a running server (POST /v1/batch).
std::string BatchBody(const std::string& text) {
  std::string body = "{\"batch\":[\n";
  body.reserve(text.size() + 32);
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    if (start != 0) body += ",\n";
    body.append(text, start, nl - start);
    start = nl + 1;
  }
  body += "\n]}";
  return body;
}

// Hands out commit turns in chunk order, so parsing on several threads keeps the file's order
// (identity merges and de-duplication then see lines exactly as a single thread would).
class Turns {
 public:
  void Wait(uint64_t seq) {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return next_ == seq; });
  }
  void Done() {
    {
      std::lock_guard l(mu_);
      ++next_;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_ = 0;
};

// A bounded queue of chunks from the reading thread to the workers.
class ChunkQueue {
 public:
  explicit ChunkQueue(size_t max) : max_(max) {}
  void Push(Chunk c) {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return q_.size() < max_; });
    q_.push_back(std::move(c));
    cv_.notify_all();
  }
  void Close() {
    std::lock_guard l(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  bool Pop(Chunk* c) {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return false;
    *c = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> q_;
  bool closed_ = false;
  const size_t max_;
};

}  // namespace

Result<ImportReport> RunImportFrom(const Config& cfg, const ImportOptions& opt, LineSource* lines) {
  // The destination: a running server (--url), or the data dir opened here.
  std::unique_ptr<RemoteIngestor> remote;
  std::unique_ptr<Hub> hub;
  std::optional<uint32_t> source;
  if (!opt.url.empty()) {
    ASSIGN_OR_RETURN(remote, RemoteIngestor::Create(opt.url, opt.write_key));
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
  }
  // Chunks stay under the request limits the pipeline (or the server) enforces.
  const size_t chunk_lines = std::max<size_t>(1, std::min(opt.batch_lines, cfg.hub.pipeline.parse.max_batch_messages));
  const size_t chunk_bytes = cfg.hub.pipeline.max_request_bytes / 2;
  // A running server takes one request at a time (RemoteIngestor); locally, lines are parsed on
  // `threads` workers and committed in order.
  const int workers = remote ? 1 : std::max(1, opt.threads);

  ImportReport report;
  std::mutex mu;  // guards report, errors and retry (done callbacks run on the WAL thread)
  std::vector<std::string> errors;
  std::deque<Chunk> retry;
  InFlight inflight(8);
  Turns turns;
  const bool tty = opt.progress && ::isatty(STDERR_FILENO);
  auto start = Clock::now();
  auto last_progress = start;

  // The outcome of one chunk. Work to resend goes to `retry`, which the main thread drains at the
  // end (resending from here, possibly the WAL thread, could block it on the in-flight limit).
  auto record = [&](const Chunk& c, const Result<ingest::IngestOutcome>& r) {
    std::lock_guard l(mu);
    if (r.ok()) {
      report.accepted += r->accepted;
      report.duplicates += r->duplicates;
      for (const auto& rej : r->rejected) {
        ++report.bad_lines;
        errors.push_back("line " + std::to_string(c.first_line + rej.index) + ": " + rej.error);
      }
    } else if (r.status().code() == Code::kUnavailable) {
      ++report.resent;
      retry.push_back(c);  // back-pressure or a failed sync: nothing of it was kept
    } else if (remote && r.status().code() == Code::kInvalidArgument && c.lines > 1) {
      // A malformed line spoils a whole batch body: find it by sending the lines one by one.
      size_t begin = 0;
      for (size_t i = 0; i < c.lines; ++i) {
        size_t nl = c.text.find('\n', begin);
        if (nl == std::string::npos) nl = c.text.size();
        retry.push_back(Chunk{0, c.first_line + i, 1, c.text.substr(begin, nl - begin)});
        begin = nl + 1;
      }
    } else {
      report.bad_lines += c.lines;
      if (c.lines == 1) errors.push_back("line " + std::to_string(c.first_line) + ": " + std::string(r.status().message()));
      else errors.push_back("lines " + std::to_string(c.first_line) + "-" + std::to_string(c.first_line + c.lines - 1) + ": " + r.status().ToString());
    }
  };

  // Sends one chunk. With `ordered`, it commits in its seq's turn (parsing happens before).
  auto send = [&](Chunk c, bool ordered) {
    ingest::IngestRequest req;
    req.received_at_ms = cairn::Clock::Real()->NowMillis();
    req.historical = true;
    req.trusted_source = source;
    auto shared = std::make_shared<Chunk>();
    if (remote) {
      req.dialect = ingest::Dialect::kSegmentBatch;
      req.body = BatchBody(c.text);
      *shared = std::move(c);
      if (ordered) turns.Wait(shared->seq);
      inflight.Acquire();
      remote->Ingest(std::move(req), [&, shared](Result<ingest::IngestOutcome> r) {
        record(*shared, r);
        inflight.Release();
      });
      if (ordered) turns.Done();
      return;
    }
    req.dialect = ingest::Dialect::kJsonLines;
    // The chunk is kept for a resend: Prepare hands its text back instead of the worker copying
    // 0.5 MB per chunk first (14% of a worker's CPU). A text that begins like gzip would come back
    // gunzipped, so that one is copied.
    const bool copy = c.text.size() >= 2 && c.text[0] == '\x1f' && c.text[1] == '\x8b';
    req.body = copy ? c.text : std::move(c.text);
    *shared = std::move(c);
    auto prepared = hub->pipeline()->Prepare(std::move(req), copy ? nullptr : &shared->text);
    if (ordered) turns.Wait(shared->seq);
    if (!prepared.ok()) {
      record(*shared, prepared.status());
    } else {
      // Wait for the store instead of having the batch refused and parsed again (a refusal after
      // a minute's wait, or at close, takes the resend path).
      auto wait_start = Clock::now();
      for (int i = 0; i < 60 && !hub->store()->WaitForRoom(std::chrono::seconds(1)); ++i) {
      }
      const double waited = std::chrono::duration<double>(Clock::now() - wait_start).count();
      if (waited > 1e-3) {
        std::lock_guard l(mu);
        report.store_wait_seconds += waited;
      }
      inflight.Acquire();
      hub->pipeline()->Commit(std::move(*prepared), [&, shared](Result<ingest::IngestOutcome> r) {
        record(*shared, r);
        inflight.Release();
      });
    }
    if (ordered) turns.Done();
  };

  ChunkQueue queue(2 * static_cast<size_t>(workers));
  std::vector<std::thread> threads;
  for (int i = 0; i < workers; ++i) {
    threads.emplace_back([&] {
      NameThisThread("import-parse");
      Chunk c;
      while (queue.Pop(&c)) send(std::move(c), /*ordered=*/true);
    });
  }

  Chunk chunk;
  uint64_t next_seq = 0;
  uint64_t line_no = 0;
  auto flush_chunk = [&] {
    if (chunk.lines == 0) return;
    chunk.seq = next_seq++;
    queue.Push(std::move(chunk));
    chunk = Chunk{};
  };
  std::string line;
  while (lines->Next(&line)) {
    ++line_no;
    ++report.lines;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) {
      // Blank lines are skipped. A chunk covers consecutive lines (rejections are reported as
      // first_line + index), so a blank line ends the current chunk.
      flush_chunk();
      continue;
    }
    if (chunk.lines > 0 && chunk.text.size() + line.size() + 1 > chunk_bytes) flush_chunk();
    if (chunk.lines == 0) {
      chunk.first_line = line_no;
      chunk.text.reserve(std::min(chunk_bytes, line.size() * chunk_lines + chunk_lines));
    } else {
      chunk.text.push_back('\n');
    }
    chunk.text += line;
    if (++chunk.lines == chunk_lines) flush_chunk();
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
  flush_chunk();
  queue.Close();
  for (auto& t : threads) t.join();
  // What came back for another try goes again, in rounds, until nothing is queued or in flight.
  while (true) {
    inflight.WaitAll();
    std::deque<Chunk> round;
    {
      std::lock_guard l(mu);
      round.swap(retry);
    }
    if (round.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (auto& c : round) send(std::move(c), /*ordered=*/false);
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (tty) std::fprintf(stderr, "\n");
  for (size_t i = 0; i < errors.size() && i < 100; ++i) std::fprintf(stderr, "import: %s\n", errors[i].c_str());
  if (errors.size() > 100) std::fprintf(stderr, "import: ... and %zu more errors\n", errors.size() - 100);
  std::fprintf(stderr, "import: %lu lines, %lu accepted (%lu already present), %lu bad, %.1fs (%s lines/s)\n",
               static_cast<unsigned long>(report.lines), static_cast<unsigned long>(report.accepted),
               static_cast<unsigned long>(report.duplicates), static_cast<unsigned long>(report.bad_lines),
               report.seconds, Human(report.lines / std::max(report.seconds, 1e-9)).c_str());
  if (report.store_wait_seconds >= 0.1 || report.resent > 0) {
    std::fprintf(stderr, "import: %.1fs waiting for the store to flush, %lu chunks sent again\n",
                 report.store_wait_seconds, static_cast<unsigned long>(report.resent));
  }
  if (hub) {
    RETURN_IF_ERROR(hub->store()->Flush());
    RETURN_IF_ERROR(hub->Close());
  }
  // A damaged or unreadable file stops the import where the damage starts; what came before it
  // is stored (and a re-import of a repaired file skips it as duplicates).
  if (Status read = lines->status(); !read.ok()) {
    return read.WithContext("import stopped after line " + std::to_string(report.lines) + " (" +
                            std::to_string(report.accepted) + " accepted)");
  }
  return report;
}

}  // namespace cairn::app
