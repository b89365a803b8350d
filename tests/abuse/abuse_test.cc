// Abusive and slow clients against the real `cairn serve` (docs/reliability.md, "Connections"):
// slowloris headers, 10k idle connections, oversized headers and targets, connection limits, and
// a burst of 100k tiny requests. In every case a well-behaved client must still be answered
// promptly. Raw POSIX sockets play the abusers (they must be able to misbehave); the well-behaved
// client is testutil::HttpClient.

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <map>
#include <mutex>
#include <fstream>
#include <thread>

#include "api/cairn_server.h"
#include "api/raw_socket.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

double MsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count();
}

// The server's resident set, in KiB (0 when unreadable).
size_t RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  return 0;
}

// One well-behaved request on a fresh connection; its latency in ms, or a failure.
::testing::AssertionResult ProbeHealthz(uint16_t port, double* ms, milliseconds timeout = seconds(10)) {
  HttpClient client("127.0.0.1", port, timeout);
  const auto t = SteadyClock::now();
  auto r = client.Get("/healthz");
  *ms = MsSince(t);
  if (!r.ok()) return ::testing::AssertionFailure() << "healthz: " << r.status().ToString();
  if (r->status != 200) return ::testing::AssertionFailure() << "healthz: " << r->status << " " << r->body;
  return ::testing::AssertionSuccess();
}

// Raises this process's RLIMIT_NOFILE soft limit to the hard limit; returns the soft limit.
size_t RaiseFileLimit() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  ::getrlimit(RLIMIT_NOFILE, &rl);
  return static_cast<size_t>(rl.rlim_cur);
}

class Abuse : public ::testing::Test {
 protected:
  // Starts a server with `http_yaml` as its `http:` section (indented mapping lines).
  void StartServer(const std::string& http_yaml = "") {
    const std::string config = tmp_.Sub("cairn.yaml");
    std::ofstream(config) << (http_yaml.empty() ? "" : "http:\n" + http_yaml);
    server_ = std::make_unique<CairnServer>(tmp_.Sub("data"), tmp_.Sub("serve"),
                                            std::vector<std::string>{"--config", config});
    ASSERT_TRUE(server_->Start());
  }
  void TearDown() override {
    if (server_) {
      EXPECT_TRUE(server_->Stop()) << "the server must still stop cleanly after the abuse";
    }
  }

  TempDir tmp_;
  std::unique_ptr<CairnServer> server_;
};

TEST_F(Abuse, SlowlorisClientsDoNotDelayOthersAndAreClosedAfterTheHeaderTimeout) {
  StartServer("  header_timeout_ms: 1500\n");
  const uint16_t port = server_->port();
  constexpr int kSlow = 300;
  std::vector<int> slow;
  for (int i = 0; i < kSlow; ++i) {
    int fd = Connect(port);
    ASSERT_GE(fd, 0) << "connect " << i;
    slow.push_back(fd);
  }
  const std::string header = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  // Trickle one byte per connection every 100 ms: each connection is always "almost" sending a
  // header, and never finishes one.
  std::atomic<bool> stop{false};
  std::thread trickler([&] {
    size_t i = 0;
    while (!stop.load()) {
      for (int fd : slow) {
        char c = i < header.size() ? header[i] : 'a';
        (void)::send(fd, &c, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      ++i;
      std::this_thread::sleep_for(milliseconds(100));
    }
  });
  // Meanwhile a normal client is served promptly, every time.
  double worst = 0;
  for (int i = 0; i < 20; ++i) {
    double ms = 0;
    EXPECT_TRUE(ProbeHealthz(port, &ms));
    worst = std::max(worst, ms);
    std::this_thread::sleep_for(milliseconds(50));
  }
  std::printf("slowloris: %d trickling connections; worst healthz latency beside them %.1f ms\n", kSlow, worst);
  EXPECT_LT(worst, 2000.0);
  // The trickling connections are closed once header_timeout passes since their first byte.
  int closed = 0;
  const auto t = SteadyClock::now();
  for (int fd : slow) {
    bool was_closed = false;
    ReadUntilClosed(fd, milliseconds(std::max<int64_t>(0, 6000 - static_cast<int64_t>(MsSince(t)))), &was_closed);
    closed += was_closed;
  }
  stop = true;
  trickler.join();
  for (int fd : slow) ::close(fd);
  EXPECT_EQ(closed, kSlow) << "every slowloris connection closed by the server within ~header_timeout";
}

TEST_F(Abuse, TenThousandIdleConnectionsWhileANormalClientIsServed) {
  const size_t limit = RaiseFileLimit();
  // This process holds the client ends, the server its own (it raises its limit the same way).
  const size_t want = 10000;
  const size_t n = std::min(want, limit > 200 ? limit - 200 : 0);
  if (n < want)
    std::printf("idle connections: RLIMIT_NOFILE hard limit is %zu here: using %zu connections, not %zu\n", limit, n, want);
  StartServer();
  const uint16_t port = server_->port();
  const pid_t pid = server_->process()->pid();
  const size_t rss_before = RssKiB(pid);
  std::vector<int> idle;
  idle.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    int fd = Connect(port);
    ASSERT_GE(fd, 0) << "connect " << i << ": " << std::strerror(errno);
    idle.push_back(fd);
  }
  // Let the server accept them all (the listen backlog holds what it has not accepted yet).
  std::this_thread::sleep_for(milliseconds(500));
  double worst = 0;
  for (int i = 0; i < 10; ++i) {
    double ms = 0;
    EXPECT_TRUE(ProbeHealthz(port, &ms));
    worst = std::max(worst, ms);
  }
  // The server holds them all open (none evicted below the limit).
  auto client = server_->Client();
  auto metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  const std::string& m = metrics->body;
  const size_t at = m.find("\ncairn_http_open_connections ");
  ASSERT_NE(at, std::string::npos);
  const double open = std::strtod(m.c_str() + at + 29, nullptr);
  const size_t rss_after = RssKiB(pid);
  std::printf("idle connections: %zu open on the server (gauge %.0f); worst healthz latency %.1f ms; "
              "RSS %zu → %zu KiB (%.2f KiB per idle connection)\n",
              n, open, worst, rss_before, rss_after,
              n ? (static_cast<double>(rss_after) - static_cast<double>(rss_before)) / static_cast<double>(n) : 0.0);
  EXPECT_GE(open, static_cast<double>(n));
  EXPECT_LT(worst, 2000.0);
  // An idle connection costs no read buffer (64 KiB each would be 640 MiB here).
  EXPECT_LT(rss_after, rss_before + n * 16);
  for (int fd : idle) ::close(fd);
}

TEST_F(Abuse, OversizedHeadersAndTargetsAreRefusedAndTheServerStaysUp) {
  StartServer();
  const uint16_t port = server_->port();
  {  // 64 KiB of one header: over the 32 KiB default → 431.
    int fd = Connect(port);
    ASSERT_GE(fd, 0);
    SendAll(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 << 10, 'b') + "\r\n\r\n");
    bool closed = false;
    std::string reply = ReadUntilClosed(fd, seconds(10), &closed);
    EXPECT_EQ(reply.rfind("HTTP/1.1 431", 0), 0u) << reply.substr(0, 200);
    EXPECT_NE(reply.find("32768"), std::string::npos) << "names the limit: " << reply;
    EXPECT_TRUE(closed);
    ::close(fd);
  }
  {  // Many small headers adding up over the limit → 431 too.
    std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 2000; ++i) req += "X-H" + std::to_string(i) + ": vvvvvvvvvvvvvvvvvvvv\r\n";
    int fd = Connect(port);
    ASSERT_GE(fd, 0);
    SendAll(fd, req + "\r\n");
    bool closed = false;
    std::string reply = ReadUntilClosed(fd, seconds(10), &closed);
    EXPECT_EQ(reply.rfind("HTTP/1.1 431", 0), 0u) << reply.substr(0, 200);
    ::close(fd);
  }
  {  // A 16 KiB request target (under the header limit, over the 8 KiB target limit) → 414.
    int fd = Connect(port);
    ASSERT_GE(fd, 0);
    SendAll(fd, "GET /v1/customers/" + std::string(16 << 10, 'x') + " HTTP/1.1\r\nHost: x\r\n\r\n");
    bool closed = false;
    std::string reply = ReadUntilClosed(fd, seconds(10), &closed);
    EXPECT_EQ(reply.rfind("HTTP/1.1 414", 0), 0u) << reply.substr(0, 200);
    EXPECT_NE(reply.find("8192"), std::string::npos) << "names the limit: " << reply;
    ::close(fd);
  }
  double ms = 0;
  EXPECT_TRUE(ProbeHealthz(port, &ms));
}

TEST_F(Abuse, AtMaxConnectionsIdleOnesAreEvictedAndBusyOnesRefusedWith503Fast) {
  StartServer("  max_connections: 50\n  header_timeout_ms: 3000\n");
  const uint16_t port = server_->port();
  // 50 idle connections fill the server; a normal client still gets in (the oldest idle one is
  // evicted for it).
  std::vector<int> idle;
  for (int i = 0; i < 50; ++i) idle.push_back(Connect(port));
  std::this_thread::sleep_for(milliseconds(300));
  double ms = 0;
  EXPECT_TRUE(ProbeHealthz(port, &ms));
  int evicted = 0;
  for (int fd : idle) {
    bool closed = false;
    ReadUntilClosed(fd, milliseconds(20), &closed);
    evicted += closed;
    ::close(fd);
  }
  EXPECT_GE(evicted, 1) << "the oldest idle connection made room";
  std::this_thread::sleep_for(milliseconds(300));

  // 50 connections in the middle of a header are not idle: the 51st is answered 503 at once.
  std::vector<int> busy;
  for (int i = 0; i < 50; ++i) {
    int fd = Connect(port);
    ASSERT_GE(fd, 0);
    SendAll(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n");  // header never finished
    busy.push_back(fd);
  }
  std::this_thread::sleep_for(milliseconds(300));
  const auto t = SteadyClock::now();
  int fd = Connect(port);
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  bool closed = false;
  std::string reply = ReadUntilClosed(fd, seconds(5), &closed);
  const double refused_ms = MsSince(t);
  ::close(fd);
  EXPECT_EQ(reply.rfind("HTTP/1.1 503", 0), 0u) << reply;
  EXPECT_NE(reply.find("Retry-After: 1"), std::string::npos) << reply;
  EXPECT_TRUE(closed);
  EXPECT_LT(refused_ms, 1000.0);
  std::printf("max_connections: over the limit answered 503 in %.1f ms\n", refused_ms);
  // Once the header timeout frees them, normal clients are served again.
  for (int b : busy) ::close(b);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_TRUE(ProbeHealthz(port, &ms));
}

// 100k tiny requests pipelined over a few keep-alive connections (health checks, unauthenticated
// ingest → 401, unknown routes → 404): another client's latency stays bounded and the server's
// memory does not grow with the burst.
TEST_F(Abuse, BurstOfHundredThousandTinyRequestsKeepsOthersServedAndMemoryBounded) {
  StartServer();
  const uint16_t port = server_->port();
  const pid_t pid = server_->process()->pid();
  // CI sends 20,000 (the ASan build on a shared machine answers ~550/s here); CAIRN_BURST_REQUESTS
  // =100000 for the full burst by hand (docs/reliability.md has its figures).
  constexpr int kConnections = 4;
  const char* env_total = std::getenv("CAIRN_BURST_REQUESTS");
  const int kPerConnection = (env_total ? std::atoi(env_total) : 20000) / kConnections;
  const std::string kinds[] = {
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
      "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
  };
  const size_t rss_before = RssKiB(pid);
  std::atomic<bool> done{false};
  std::atomic<size_t> peak_rss{rss_before};
  std::vector<double> probe_ms;
  std::thread prober([&] {
    while (!done.load()) {
      double ms = 0;
      EXPECT_TRUE(ProbeHealthz(port, &ms));
      probe_ms.push_back(ms);
      size_t rss = RssKiB(pid);
      if (rss > peak_rss.load()) peak_rss = rss;
      std::this_thread::sleep_for(milliseconds(20));
    }
  });
  const auto t = SteadyClock::now();
  std::atomic<size_t> answered{0};
  std::vector<std::thread> workers;
  for (int c = 0; c < kConnections; ++c) {
    workers.emplace_back([&, c] {
      int fd = Connect(port);
      ASSERT_GE(fd, 0);
      std::thread writer([&, fd] {
        std::string chunk;
        for (int i = 0; i < kPerConnection; ++i) {
          chunk += kinds[(i + c) % 3];
          if (chunk.size() > 32768) {
            if (!SendAll(fd, chunk)) return;
            chunk.clear();
          }
        }
        SendAll(fd, chunk);
      });
      // Count answers by their status lines ("HTTP/1.1 " starts every answer; JSON bodies
      // here never contain it).
      size_t got = 0;
      std::string carry;
      char buf[65536];
      const std::string marker = "HTTP/1.1 ";
      while (got < static_cast<size_t>(kPerConnection)) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 30000) <= 0) break;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        carry.append(buf, static_cast<size_t>(n));
        size_t pos = 0, last = 0;
        while ((pos = carry.find(marker, pos)) != std::string::npos) {
          ++got;
          pos += marker.size();
          last = pos;
        }
        // Keep only what could still be the start of a marker split across reads.
        const size_t keep_from = carry.size() >= marker.size() ? carry.size() - (marker.size() - 1) : 0;
        carry.erase(0, std::max(last, keep_from));
      }
      writer.join();
      ::close(fd);
      answered += got;
    });
  }
  for (auto& w : workers) w.join();
  const double burst_ms = MsSince(t);
  done = true;
  prober.join();
  std::sort(probe_ms.begin(), probe_ms.end());
  const double p50 = probe_ms.empty() ? 0 : probe_ms[probe_ms.size() / 2];
  const double worst = probe_ms.empty() ? 0 : probe_ms.back();
  const size_t rss_after = RssKiB(pid);
  std::printf("burst: %zu of %d requests answered in %.0f ms (%.0f/s) over %d connections; other client: %zu probes, "
              "p50 %.1f ms, max %.1f ms; server RSS %zu → peak %zu → %zu KiB\n",
              answered.load(), kConnections * kPerConnection, burst_ms, answered.load() * 1000.0 / burst_ms,
              kConnections, probe_ms.size(), p50, worst, rss_before, peak_rss.load(), rss_after);
  EXPECT_EQ(answered.load(), static_cast<size_t>(kConnections * kPerConnection));
  EXPECT_FALSE(probe_ms.empty());
  EXPECT_LT(worst, 2000.0) << "another client waited too long beside the burst";
  // Memory: bounded by the connection count, not the request count. Generous for the ASan build:
  // its allocator quarantine alone keeps up to 256 MiB of freed memory resident.
  EXPECT_LT(peak_rss.load(), rss_before + (384u << 10));
}

// Sustained ingest overload (docs/reliability.md, "Memory under overload"; ctest
// cairn_abuse_overload_test, label slow: ~60 s under ASan): 12 connections send
// ~430 KiB batches back to back for 20 s against a server whose queues are set small (in-flight
// bodies 4 MiB, memtable 4 MiB flush / 8 MiB cap, WAL queue 8 MiB), so every bound is hit many
// times over. The server answers 2xx while it keeps up and 429/503 + Retry-After when it does not;
// its RSS stays under the documented bound for these settings; after a kill -9 and restart every
// acknowledged message is there exactly once. Under ASan the server runs with a small allocator quarantine (else ASan's own 256 MiB of
// freed memory would be all the test saw).
TEST_F(Abuse, SustainedIngestOverloadKeepsMemoryBoundedAndLosesNothingAcknowledged) {
  {
    std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
    ::setenv("ASAN_OPTIONS", (asan + (asan.empty() ? "" : ":") + "quarantine_size_mb=16").c_str(), 1);
    const std::string config = tmp_.Sub("cairn.yaml");
    std::ofstream(config) << "memtable_flush_bytes: 4194304\nmemtable_max_bytes: 8388608\n"
                             "wal_max_pending_bytes: 8388608\ndedup_capacity: 262144\n"
                             "http:\n  max_inflight_body_bytes: 4194304\n";
    server_ = std::make_unique<CairnServer>(tmp_.Sub("data"), tmp_.Sub("serve"),
                                            std::vector<std::string>{"--config", config});
    const bool started = server_->Start();
    if (asan.empty()) ::unsetenv("ASAN_OPTIONS");
    else ::setenv("ASAN_OPTIONS", asan.c_str(), 1);
    ASSERT_TRUE(started);
  }
  const uint16_t port = server_->port();
  const pid_t pid = server_->process()->pid();
  constexpr int kClients = 12;
  constexpr int kCustomers = 40;
  const char* env_seconds = std::getenv("CAIRN_OVERLOAD_SECONDS");
  const auto duration = seconds(env_seconds ? std::atoi(env_seconds) : 20);
  const size_t rss_before = RssKiB(pid);
  std::atomic<bool> stop{false};
  std::atomic<size_t> ok{0}, throttled{0}, no_retry_after{0}, other{0};
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> acked;  // customer → acknowledged messageIds
  std::string first_other;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client("127.0.0.1", port, seconds(60));
      const std::string pad(900, 'o');
      for (int n = 0; !stop.load(); ++n) {
        std::vector<std::string> messages, ids;
        for (int j = 0; j < 400; ++j) {  // ~430 KiB per batch
          ids.push_back("ov-" + std::to_string(c) + "-" + std::to_string(n) + "-" + std::to_string(j));
          messages.push_back(TrackJson("overload-" + std::to_string((c * 7 + j) % kCustomers), "Overload", ids.back(),
                                       R"("properties":{"pad":")" + pad + "\"}"));
        }
        auto r = client.Post("/v1/batch", BatchJson(messages), WriteAuth());
        if (r.ok() && r->status == 200) {
          ++ok;
          std::lock_guard lock(mu);
          for (int j = 0; j < 400; ++j)
            acked["overload-" + std::to_string((c * 7 + j) % kCustomers)].push_back(ids[static_cast<size_t>(j)]);
        } else if (r.ok() && (r->status == 429 || r->status == 503)) {
          ++throttled;
          if (r->Header("Retry-After").empty()) ++no_retry_after;
        } else {
          ++other;
          std::lock_guard lock(mu);
          if (first_other.empty()) first_other = r.ok() ? std::to_string(r->status) + " " + r->body : r.status().ToString();
        }
      }
    });
  }
  std::vector<size_t> rss;  // one sample per 500 ms
  const auto t = SteadyClock::now();
  while (SteadyClock::now() - t < duration) {
    std::this_thread::sleep_for(milliseconds(500));
    rss.push_back(RssKiB(pid));
  }
  stop = true;
  for (auto& th : clients) th.join();
  const size_t peak = *std::max_element(rss.begin(), rss.end());
  const size_t first_half = *std::max_element(rss.begin(), rss.begin() + rss.size() / 2);
  const size_t second_half = *std::max_element(rss.begin() + rss.size() / 2, rss.end());
  std::string series;
  for (size_t i = 1; i < rss.size(); i += 2) series += " " + std::to_string(rss[i] >> 10);
  std::printf("overload: %d clients × ~430 KiB batches for %lld s: %zu accepted, %zu throttled (429/503), %zu other; "
              "server RSS %zu MiB before, peak %zu MiB (first half %zu, second half %zu); per second (MiB):%s\n",
              kClients, static_cast<long long>(duration.count()), ok.load(), throttled.load(), other.load(),
              rss_before >> 10, peak >> 10, first_half >> 10, second_half >> 10, series.c_str());
  EXPECT_EQ(other.load(), 0u) << "every request answered 200, 429 or 503; first other: " << first_other;
  EXPECT_GT(ok.load(), 0u);
  EXPECT_GT(throttled.load(), 0u) << "the overload never hit a bound: the test proves nothing";
  EXPECT_EQ(no_retry_after.load(), 0u) << "every 429/503 carries Retry-After";
  // The bound docs/reliability.md states ("What bounds RSS"), for this test's settings, term by term.
  // The stored row here is ~1.1 KiB (900 bytes of padding, ids, event, times).
  constexpr size_t kMiB = 1u << 20, kRowBytes = 1100, kBlockRows = 4096, kPageRows = 512, kMaxSegments = 12;
  constexpr size_t kQueues = 4 * 4 * kMiB       // request bodies in flight: raw, decoded, parsed, batch
                             + 2 * 8 * kMiB     // WAL queue: payload and rows
                             + 2 * 12 * kMiB    // memtable 8 MiB + 4 MiB being flushed: rows and vector growth
                             + 64 * kMiB;       // profile writer queue (app/hub.h)
  constexpr size_t kDedup = 262144 * 32;        // dedup_capacity × 24 B, × 4/3 during its last doubling
  constexpr size_t kCompaction = (kMaxSegments + 1) * (kPageRows * kRowBytes + 128 * 1024)  // a page per input
                                 + 3 * kBlockRows * (kRowBytes + 128);  // the block being built and its encoding
  constexpr size_t kRederive = (kMaxSegments + 3) * kPageRows * kRowBytes;  // Snapshot::kVisitPageRows per source
  constexpr size_t kSlack = 96 * kMiB;  // SQLite page caches, journey state of 40 customers, allocator
  constexpr size_t kBoundKiB = (kQueues + kDedup + kCompaction + kRederive + kSlack) >> 10;
  std::printf("overload: stated bound idle + %zu MiB\n", kBoundKiB >> 10);
  EXPECT_LT(peak, rss_before + kBoundKiB) << "RSS must stay within the stated bound under overload";
  // Not asserted: that the second half's peak stays near the first half's. Under ASan the plateau
  // is reached only after ~17 s (memtable, WAL queue and caches filling to their bounds), too late
  // for a 20 s CI run to compare halves; CAIRN_OVERLOAD_SECONDS=60 by hand shows it level off
  // (docs/reliability.md "Memory under overload" has the figures).

  // Nothing acknowledged is lost: kill -9, restart, every acknowledged message exactly once.
  server_->Crash();
  ASSERT_TRUE(server_->Start());
  auto client = server_->Client();
  size_t checked = 0;
  for (const auto& [customer, ids] : acked) {
    auto counts = MessageIdCounts(*client, customer);
    for (const auto& id : ids) {
      EXPECT_EQ(counts[id], 1) << customer << " " << id;
      if (counts[id] != 1) return;  // one failure says it; do not print thousands
    }
    checked += ids.size();
  }
  EXPECT_EQ(checked, ok.load() * 400);
}

}  // namespace
}  // namespace cairn::testutil
