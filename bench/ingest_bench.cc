// ingest_bench: HTTP load against a real `cairn serve`, then the cost of what it stored.
//
//   ingest_bench --input FILE.jsonl (--cairn PATH | --url URL --write-key KEY)
//                [--events N] [--batch B] [--connections K] [--rate EVENTS_PER_S]
//                [--warmup W] [--gzip] [--repeat R] [--work-dir DIR] [--label NAME] [--keep]
//
// FILE.jsonl comes from gen_events. Its first N lines are cut into batches of B messages and each
// batch is pre-built into a complete HTTP request (head + `{"batch":[...]}` body) before the clock
// starts, so the client only writes buffers and parses small answers during the run.
//
// --gzip sends each body gzipped (zlib level 6, `Content-Encoding: gzip`), as the RudderStack and
// PostHog SDKs do; `request_body_bytes_per_event` is then the compressed size.
//
// --warmup W sends the file's first W lines (closed loop, not measured) before the N measured
// ones, which then come from the lines after them. A fresh server spends a large share of its
// first few hundred thousand events faulting in fresh memory (on this VM ~4 ms of kernel time per
// 2 MiB huge page), so a short cold run measures the heap filling up rather than the steady state
// of a server that has been running; with a warm-up the measured pass reuses memory the first
// flushes gave back. Every figure below is of the measured pass only; the at-rest figures cover
// all rows.
//
// With --cairn, each repetition starts `cairn serve` itself on a fresh data dir and port 0
// (durability is always on: a 200 means the batch is fdatasync'd in the WAL), runs the load,
// stops it with SIGTERM, then opens the stopped store with store::Store, flushes and compacts it
// into one segment and reads the per-column sizes from the segment footer. With --url only the
// client-side figures (and /metrics deltas) are printed.
//
// Load: K keep-alive connections, one thread each (Boost.Beast over blocking sockets).
//   closed loop (default): each connection sends its next request as soon as the previous answer
//     arrives; measures throughput.
//   --rate R (open loop): request i is due at t0 + i*B/R; a connection picks the next due request,
//     waits until it is due and sends it; latency counts from the DUE time, so a server that
//     falls behind is charged for the queueing it causes (no coordinated omission). Needs enough
//     connections to keep up with R (the figure `offered_late_fraction` shows when it did not).
//   A 429 (back-pressure: WAL behind) or 503 is retried after 5 ms and counted (`retried`); any
//   other non-200 aborts the run.
//
// Output: one figure per line, `<label>_<name> <value> <unit>`, the median over the repetitions.

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "io/env.h"
#include "store/manifest.h"
#include "store/segment_reader.h"
#include "store/store.h"

namespace cairn::bench {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "ingest_bench: %s\n", msg.c_str());
  std::exit(1);
}

struct Options {
  std::string input;
  std::string cairn;
  std::string url;  // http://HOST:PORT
  std::string write_key = "bench-write-key-0123456789abcdef";
  std::string admin_key = "bench-admin-key-0123456789abcdef";
  uint64_t events = 1'000'000;
  uint64_t warmup = 0;  // events sent before the measured pass, not measured
  size_t batch = 100;
  int connections = 8;
  double rate = 0;  // events/s offered; 0 = closed loop
  int repeat = 3;
  std::string work_dir;
  std::string label;
  std::string server_config;  // --server-config FILE: `cairn serve --config FILE` (e.g. journey.enabled: false)
  bool keep = false;
  bool gzip = false;  // --gzip: bodies sent gzipped
};

std::string Base64(std::string_view in) {
  static const char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

// ---- the server process ---------------------------------------------------------------------

struct Server {
  pid_t pid = -1;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string data_dir;
};

// Starts `cairn serve` on port 0 and reads the bound port from its "cairn: serving" line.
Server StartServer(const Options& o, const std::string& data_dir) {
  int out[2];
  if (pipe(out) != 0) Die("pipe failed");
  const std::string log = data_dir + ".log";
  pid_t pid = fork();
  if (pid < 0) Die("fork failed");
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) dup2(fd, STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    if (o.server_config.empty())
      execl(o.cairn.c_str(), o.cairn.c_str(), "serve", "--data", data_dir.c_str(), "--listen", "127.0.0.1:0",
            "--write-key", o.write_key.c_str(), "--admin-key", o.admin_key.c_str(), static_cast<char*>(nullptr));
    else
      execl(o.cairn.c_str(), o.cairn.c_str(), "serve", "--data", data_dir.c_str(), "--listen", "127.0.0.1:0",
            "--write-key", o.write_key.c_str(), "--admin-key", o.admin_key.c_str(), "--config", o.server_config.c_str(),
            static_cast<char*>(nullptr));
    std::fprintf(stderr, "exec %s: %s\n", o.cairn.c_str(), std::strerror(errno));
    _exit(127);
  }
  close(out[1]);
  Server s;
  s.pid = pid;
  s.data_dir = data_dir;
  std::string text;
  char buf[512];
  while (text.find('\n') == std::string::npos) {
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) {
      std::ifstream f(log);
      std::stringstream ss;
      ss << f.rdbuf();
      Die("cairn serve exited before listening; its stderr:\n" + ss.str());
    }
    text.append(buf, static_cast<size_t>(n));
  }
  // Keep draining stdout in the background so the server never blocks on a full pipe.
  std::thread([fd = out[0]] {
    char b[4096];
    while (read(fd, b, sizeof b) > 0) {
    }
    close(fd);
  }).detach();
  const std::string tag = "serving http://";
  auto at = text.find(tag);
  if (at == std::string::npos) Die("unexpected first line from cairn serve: " + text);
  auto colon = text.find(':', at + tag.size());
  s.host = text.substr(at + tag.size(), colon - at - tag.size());
  s.port = static_cast<uint16_t>(std::atoi(text.c_str() + colon + 1));
  if (s.port == 0) Die("cannot parse the port from: " + text);
  return s;
}

void StopServer(Server* s) {
  if (s->pid <= 0) return;
  kill(s->pid, SIGTERM);
  int status = 0;
  waitpid(s->pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    std::fprintf(stderr, "ingest_bench: warning: cairn serve exited with status %d\n", status);
  s->pid = -1;
}

// utime + stime from a /proc .../stat file, in seconds; its comm (the name in parentheses) to
// *name when given.
double StatCpuSeconds(const std::string& path, std::string* name = nullptr) {
  std::ifstream f(path);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto lp = s.find('('), rp = s.rfind(')');
  if (lp == std::string::npos || rp == std::string::npos) Die("cannot read " + path);
  if (name) *name = s.substr(lp + 1, rp - lp - 1);
  std::istringstream in(s.substr(rp + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// utime + stime of the whole process (all threads), in seconds.
double ProcessCpuSeconds(pid_t pid) { return StatCpuSeconds("/proc/" + std::to_string(pid) + "/stat"); }

// utime + stime of the process's live threads, summed by thread name (the server names each
// thread: wal-commit, store-flush, http-io...). Threads that ended are not counted.
std::map<std::string, double> ThreadCpuSeconds(pid_t pid) {
  std::map<std::string, double> by_name;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::string name;
    const std::string stat = task.path().string() + "/stat";
    if (!std::filesystem::exists(stat)) continue;  // the thread ended meanwhile
    const double cpu = StatCpuSeconds(stat, &name);
    by_name[name] += cpu;
  }
  return by_name;
}

// A "Vm...:   N kB" line of /proc/PID/status, in bytes.
double ProcStatusBytes(pid_t pid, const std::string& key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) * 1024.0;
  return 0;
}

// ---- HTTP ---------------------------------------------------------------------------------------

class Connection {
 public:
  Connection(const std::string& host, uint16_t port) : socket_(ioc_) {
    tcp::resolver resolver(ioc_);
    boost::system::error_code ec;
    net::connect(socket_, resolver.resolve(host, std::to_string(port)), ec);
    if (ec) Die("connect " + host + ":" + std::to_string(port) + ": " + ec.message());
    socket_.set_option(tcp::no_delay(true));
  }
  // Writes a complete pre-built request and reads the answer. Returns the status code.
  int RoundTrip(std::string_view request, std::string* body) {
    boost::system::error_code ec;
    net::write(socket_, net::buffer(request.data(), request.size()), ec);
    if (ec) Die("write: " + ec.message());
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res, ec);
    if (ec) Die("read: " + ec.message());
    *body = std::move(res.body());
    return static_cast<int>(res.result_int());
  }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

std::string Get(const std::string& host, uint16_t port, const std::string& target) {
  Connection c(host, port);
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  std::string body;
  int code = c.RoundTrip(req, &body);
  if (code != 200) Die("GET " + target + ": HTTP " + std::to_string(code));
  return body;
}

// Sum of every sample of a metric family's counter/gauge (all label sets).
double Metric(const std::string& text, const std::string& name) {
  double sum = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
    char next = line[name.size()];
    if (next != ' ' && next != '{') continue;
    auto sp = line.rfind(' ');
    sum += std::stod(line.substr(sp + 1));
  }
  return sum;
}

// ---- load -----------------------------------------------------------------------------------------

struct Requests {
  std::vector<std::string> wire;  // complete HTTP requests
  std::vector<uint32_t> messages;
  uint64_t events = 0;
  uint64_t body_bytes = 0;
};

std::string GzipBody(const std::string& in) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) Die("deflateInit2");
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) Die("deflate");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// The next `count` non-empty lines of `in`, cut into requests of o.batch messages.
Requests BuildRequests(const Options& o, std::istream& in, uint64_t count, const std::string& host) {
  Requests r;
  const std::string auth = "Authorization: Basic " + Base64(o.write_key + ":") + "\r\n";
  std::string line, body;
  size_t n = 0;
  auto finish = [&] {
    body += "\n]}";
    if (o.gzip) body = GzipBody(body);
    r.body_bytes += body.size();
    r.wire.push_back("POST /v1/batch HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\n" +
                     (o.gzip ? "Content-Encoding: gzip\r\n" : "") + auth +
                     "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    r.messages.push_back(static_cast<uint32_t>(n));
    r.events += n;
    n = 0;
  };
  while (r.events + n < count && std::getline(in, line)) {
    if (line.empty()) continue;
    if (n == 0) body = "{\"batch\":[\n";
    else body += ",\n";
    body += line;
    if (++n == o.batch) finish();
  }
  if (n > 0) finish();
  if (r.events < count)
    std::fprintf(stderr, "ingest_bench: warning: %s ran out of lines (%llu of %llu)\n", o.input.c_str(),
                 static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(count));
  return r;
}

struct LoadResult {
  double seconds = 0;
  uint64_t accepted = 0;
  uint64_t retries = 0;  // 429/503 answers retried
  uint64_t late = 0;  // open loop: requests sent more than 1 ms after they were due
  std::vector<double> latency_ms;
  double client_cpu_s = 0;
};

double SelfCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

uint64_t ParseAccepted(const std::string& body) {
  auto at = body.find("\"accepted\":");
  if (at == std::string::npos) Die("answer without \"accepted\": " + body);
  return std::strtoull(body.c_str() + at + 11, nullptr, 10);
}

// `rate` 0 is the closed loop, else the open loop at `rate` events/s.
LoadResult RunLoad(const Options& o, const Requests& reqs, double rate, const std::string& host, uint16_t port) {
  std::vector<std::unique_ptr<Connection>> conns;
  for (int i = 0; i < o.connections; ++i) conns.push_back(std::make_unique<Connection>(host, port));
  std::atomic<size_t> next{0};
  std::mutex mu;
  LoadResult res;
  const double cpu0 = SelfCpuSeconds();
  const auto t0 = SteadyClock::now() + std::chrono::milliseconds(5);
  const double interval_s = rate > 0 ? static_cast<double>(o.batch) / rate : 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < o.connections; ++t) {
    threads.emplace_back([&, t] {
      Connection& c = *conns[t];
      std::vector<double> lat;
      uint64_t accepted = 0, retries = 0, late = 0;
      std::string body;
      std::this_thread::sleep_until(t0);
      for (size_t i; (i = next.fetch_add(1)) < reqs.wire.size();) {
        SteadyClock::time_point due = SteadyClock::now();
        if (interval_s > 0) {
          due = t0 + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(i * interval_s));
          std::this_thread::sleep_until(due);
          if (SteadyClock::now() - due > std::chrono::milliseconds(1)) ++late;
        }
        int code;
        while ((code = c.RoundTrip(reqs.wire[i], &body)) == 503 || code == 429) {
          ++retries;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        const auto done = SteadyClock::now();
        if (code != 200) Die("POST /v1/batch: HTTP " + std::to_string(code) + ": " + body.substr(0, 300));
        const uint64_t a = ParseAccepted(body);
        if (a != reqs.messages[i]) Die("request " + std::to_string(i) + " accepted " + std::to_string(a) + " of " +
                                       std::to_string(reqs.messages[i]) + ": " + body.substr(0, 300));
        accepted += a;
        lat.push_back(std::chrono::duration<double, std::milli>(done - due).count());
      }
      std::lock_guard l(mu);
      res.latency_ms.insert(res.latency_ms.end(), lat.begin(), lat.end());
      res.accepted += accepted;
      res.retries += retries;
      res.late += late;
    });
  }
  for (auto& t : threads) t.join();
  res.seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  res.client_cpu_s = SelfCpuSeconds() - cpu0;
  std::sort(res.latency_ms.begin(), res.latency_ms.end());
  return res;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

// ---- at rest ----------------------------------------------------------------------------------------

struct AtRest {
  uint64_t rows = 0;
  uint64_t file_bytes = 0;
  std::array<uint64_t, store::segment::kNumColumns> column_bytes{};
  size_t segments = 0;
};

// Opens the stopped store, flushes the memtable (recovered from the WAL) and compacts every
// segment into one, then sums the per-column chunk sizes from the segment footers.
AtRest CompactAndMeasure(const std::string& store_dir) {
  io::Env* env = io::Env::Posix();
  store::StoreOptions so;
  so.background_work = false;
  {
    auto st = store::Store::Open(env, store_dir, so);
    if (!st.ok()) Die("opening " + store_dir + ": " + st.status().ToString());
    if (Status s = (*st)->Flush(); !s.ok()) Die("flush: " + s.ToString());
    if (Status s = (*st)->Compact(); !s.ok()) Die("compact: " + s.ToString());
    if (Status s = (*st)->Close(); !s.ok()) Die("close: " + s.ToString());
  }
  auto m = store::Manifest::Load(env, io::JoinPath(store_dir, "MANIFEST"));
  if (!m.ok()) Die("manifest: " + m.status().ToString());
  AtRest r;
  for (const auto& seg : m->segments) {
    auto reader = store::SegmentReader::Open(env, io::JoinPath(io::JoinPath(store_dir, "seg"),
                                                               store::SegmentFileName(seg.file_number)));
    if (!reader.ok()) Die("segment: " + reader.status().ToString());
    const auto& st = (*reader)->stats();
    r.rows += st.rows;
    r.file_bytes += st.file_bytes;
    for (size_t c = 0; c < st.column_bytes.size(); ++c) r.column_bytes[c] += st.column_bytes[c];
    ++r.segments;
  }
  return r;
}

// ---- figures ------------------------------------------------------------------------------------------

struct Figures {
  std::vector<std::string> order;
  std::map<std::string, std::pair<std::vector<double>, std::string>> values;
  void Add(const std::string& name, double v, const std::string& unit) {
    auto [it, fresh] = values.try_emplace(name);
    if (fresh) order.push_back(name);
    it->second.first.push_back(v);
    it->second.second = unit;
  }
  void Print(const std::string& label) const {
    for (const auto& name : order) {
      auto v = values.at(name).first;
      std::sort(v.begin(), v.end());
      const double med = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
      std::printf("%s_%s %.6g %s\n", label.c_str(), name.c_str(), med, values.at(name).second.c_str());
    }
    std::fflush(stdout);
  }
};

void RunOnce(const Options& o, const Requests& warm, const Requests& reqs, int rep, Figures* fig) {
  Server server;
  std::string data_dir;
  if (!o.cairn.empty()) {
    data_dir = o.work_dir + "/run" + std::to_string(rep);
    std::filesystem::remove_all(data_dir);
    server = StartServer(o, data_dir);
  } else {
    auto hp = o.url.substr(o.url.find("://") + 3);
    auto colon = hp.rfind(':');
    server.host = hp.substr(0, colon);
    server.port = static_cast<uint16_t>(std::atoi(hp.c_str() + colon + 1));
  }
  Get(server.host, server.port, "/readyz");  // dies unless 200
  if (!warm.wire.empty()) {
    LoadResult w = RunLoad(o, warm, 0, server.host, server.port);
    if (w.accepted != warm.events) Die("warm-up: " + std::to_string(w.accepted) + " accepted");
  }
  const std::string m0 = Get(server.host, server.port, "/metrics");
  const double cpu0 = server.pid > 0 ? ProcessCpuSeconds(server.pid) : 0;
  const auto threads0 = server.pid > 0 ? ThreadCpuSeconds(server.pid) : std::map<std::string, double>{};
  LoadResult load = RunLoad(o, reqs, o.rate, server.host, server.port);
  const double cpu1 = server.pid > 0 ? ProcessCpuSeconds(server.pid) : 0;
  const auto threads1 = server.pid > 0 ? ThreadCpuSeconds(server.pid) : std::map<std::string, double>{};
  const std::string m1 = Get(server.host, server.port, "/metrics");
  const double hwm = server.pid > 0 ? ProcStatusBytes(server.pid, "VmHWM") : 0;
  auto delta = [&](const char* name) { return Metric(m1, name) - Metric(m0, name); };

  const double ev = static_cast<double>(load.accepted);
  fig->Add("events", ev, "events");
  fig->Add("events_per_s", ev / load.seconds, "events/s");
  if (o.rate > 0) {
    fig->Add("offered_rate", o.rate, "events/s");
    fig->Add("offered_late_fraction", static_cast<double>(load.late) / reqs.wire.size(), "fraction");
  }
  fig->Add("requests_per_s", reqs.wire.size() / load.seconds, "requests/s");
  fig->Add("latency_p50", Percentile(load.latency_ms, 0.50), "ms");
  fig->Add("latency_p99", Percentile(load.latency_ms, 0.99), "ms");
  fig->Add("latency_max", load.latency_ms.empty() ? 0 : load.latency_ms.back(), "ms");
  fig->Add("retried", static_cast<double>(load.retries), "requests");
  if (server.pid > 0) {
    const double cpu = cpu1 - cpu0;
    fig->Add("server_cpu_s_per_million_events", cpu / ev * 1e6, "cpu-s");
    fig->Add("events_per_server_cpu_s", ev / cpu, "events/cpu-s");
    fig->Add("server_cpu_utilisation", cpu / load.seconds, "cores");
    fig->Add("server_peak_rss", hwm / (1 << 20), "MiB");
    // Where the server's CPU went, by thread name (the rest: threads started or ended meanwhile).
    for (const auto& [name, after] : threads1) {
      auto before = threads0.find(name);
      const double used = after - (before == threads0.end() ? 0 : before->second);
      if (used <= 0) continue;
      std::string key = name;
      std::replace(key.begin(), key.end(), '-', '_');
      fig->Add("server_cpu_s_per_million_events_" + key, used / ev * 1e6, "cpu-s");
    }
  }
  fig->Add("client_cpu_s_per_million_events", load.client_cpu_s / ev * 1e6, "cpu-s");
  const double syncs = delta("cairn_wal_syncs_total");
  fig->Add("wal_syncs_per_s", syncs / load.seconds, "syncs/s");
  fig->Add("events_per_wal_sync", syncs > 0 ? ev / syncs : 0, "events");
  fig->Add("wal_bytes_per_event", delta("cairn_wal_bytes_total") / ev, "bytes/event");
  fig->Add("request_body_bytes_per_event", static_cast<double>(reqs.body_bytes) / reqs.events, "bytes/event");
  fig->Add("store_flushes", delta("cairn_store_flushes_total"), "flushes");
  fig->Add("store_compactions", delta("cairn_store_compactions_total"), "compactions");

  if (server.pid > 0) {
    StopServer(&server);
    AtRest r = CompactAndMeasure(data_dir + "/store");
    if (r.rows != load.accepted + warm.events)
      std::fprintf(stderr, "ingest_bench: warning: %llu rows at rest, %llu accepted\n",
                   static_cast<unsigned long long>(r.rows),
                   static_cast<unsigned long long>(load.accepted + warm.events));
    using store::segment::Column;
    auto col = [&](Column c) { return static_cast<double>(r.column_bytes[static_cast<size_t>(c)]); };
    const double rows = static_cast<double>(r.rows);
    const double cte = col(Column::kCustomer) + col(Column::kTimestamp) + col(Column::kEvent);
    const double other = col(Column::kType) + col(Column::kChannel) + col(Column::kSource) + col(Column::kSeq) +
                         col(Column::kReceivedAt) + col(Column::kRevenue);
    fig->Add("rest_bytes_per_event_customer_time_event", cte / rows, "bytes/event");
    fig->Add("rest_bytes_per_event_customer", col(Column::kCustomer) / rows, "bytes/event");
    fig->Add("rest_bytes_per_event_timestamp", col(Column::kTimestamp) / rows, "bytes/event");
    fig->Add("rest_bytes_per_event_event", col(Column::kEvent) / rows, "bytes/event");
    fig->Add("rest_bytes_per_event_other_fixed", other / rows, "bytes/event");
    fig->Add("rest_bytes_per_event_message_id", col(Column::kMessageId) / rows, "bytes/event");
    fig->Add("rest_bytes_per_event_payload", col(Column::kPayload) / rows, "bytes/event");
    fig->Add("rest_bytes_per_event_total", static_cast<double>(r.file_bytes) / rows, "bytes/event");
    fig->Add("rest_segments", static_cast<double>(r.segments), "segments");
    if (!o.keep) {
      std::filesystem::remove_all(data_dir);
      std::filesystem::remove(data_dir + ".log");
    }
  }
}

int Usage() {
  std::fprintf(stderr,
               "usage: ingest_bench --input FILE.jsonl (--cairn PATH | --url URL [--write-key KEY])\n"
               "                    [--events N] [--batch B] [--connections K] [--rate EVENTS_PER_S]\n"
               "                    [--warmup W] [--gzip] [--repeat R] [--work-dir DIR] [--label NAME]\n"
               "                    [--server-config FILE] [--keep]\n");
  return 2;
}

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--keep" || a == "--gzip") {
      (a == "--keep" ? o.keep : o.gzip) = true;
      continue;
    }
    if (i + 1 >= argc) return Usage();
    const std::string v = argv[++i];
    try {
      if (a == "--input") o.input = v;
      else if (a == "--cairn") o.cairn = v;
      else if (a == "--url") o.url = v;
      else if (a == "--write-key") o.write_key = v;
      else if (a == "--events") o.events = std::stoull(v);
      else if (a == "--warmup") o.warmup = std::stoull(v);
      else if (a == "--batch") o.batch = std::stoul(v);
      else if (a == "--connections") o.connections = std::stoi(v);
      else if (a == "--rate") o.rate = std::stod(v);
      else if (a == "--repeat") o.repeat = std::stoi(v);
      else if (a == "--work-dir") o.work_dir = v;
      else if (a == "--label") o.label = v;
      else if (a == "--server-config") o.server_config = v;
      else return Usage();
    } catch (const std::exception&) {
      std::fprintf(stderr, "ingest_bench: bad value for %s: '%s'\n", a.c_str(), v.c_str());
      return 2;
    }
  }
  if (o.input.empty() || o.cairn.empty() == o.url.empty() || o.batch < 1 || o.connections < 1 || o.repeat < 1 ||
      o.rate < 0)
    return Usage();
  if (o.work_dir.empty()) o.work_dir = "/tmp/cairn-ingest-bench." + std::to_string(getpid());
  if (!o.cairn.empty()) std::filesystem::create_directories(o.work_dir);
  if (o.label.empty()) {
    o.label = "ingest_b" + std::to_string(o.batch);
    if (o.rate > 0) o.label += "_rate" + std::to_string(static_cast<uint64_t>(o.rate / 1000)) + "k";
    if (o.gzip) o.label += "_gzip";
  }
  signal(SIGPIPE, SIG_IGN);
  std::ifstream in(o.input);
  if (!in) Die("cannot open " + o.input);
  const Requests warm = BuildRequests(o, in, o.warmup, "127.0.0.1");
  const Requests reqs = BuildRequests(o, in, o.events, "127.0.0.1");
  std::fprintf(stderr, "ingest_bench: %s: %llu events in %zu requests of %zu, %d connections%s, after a warm-up of %llu\n",
               o.label.c_str(), static_cast<unsigned long long>(reqs.events), reqs.wire.size(), o.batch,
               o.connections,
               o.rate > 0 ? (", offered " + std::to_string(static_cast<uint64_t>(o.rate)) + " events/s").c_str() : "",
               static_cast<unsigned long long>(warm.events));
  Figures fig;
  for (int rep = 0; rep < o.repeat; ++rep) RunOnce(o, warm, reqs, rep, &fig);
  fig.Print(o.label);
  if (!o.keep && !o.cairn.empty()) std::filesystem::remove_all(o.work_dir);
  return 0;
}

}  // namespace
}  // namespace cairn::bench

int main(int argc, char** argv) { return cairn::bench::Main(argc, argv); }
