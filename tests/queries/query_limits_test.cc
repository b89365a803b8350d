// Analytics queries over real HTTP against the real `cairn serve` (docs/analytics.md "Time limit
// and cancellation"): a query whose client closes its socket stops, and one over the configured
// time limit answers 504 naming the limit; either way the server goes on serving.
//
// The slow query is the test-only slow-down (CAIRN_TEST_QUERY_DELAY_MS with
// --enable-test-endpoints: every chunk check of a query takes that long, still stopping at once
// when cancelled or past its limit), so a query on six interactions runs for a minute unless
// something stops it. The server has ONE I/O thread (config io_threads: 1) and queries run on
// it: while the slow query runs, nothing else on the port is answered, so /metrics answering at
// all after the client left is itself proof that the query stopped.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "api/cairn_server.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kFunnel[] = R"({"steps":["Signed Up","Order Completed"],"window":"7d"})";
constexpr char kCancelled[] = "cairn_analytics_queries_cancelled_total";
constexpr char kTimedOut[] = "cairn_analytics_queries_timed_out_total";

// Sends one POST on a fresh connection and returns the socket without reading the answer.
int SendWithoutReading(uint16_t port, const std::string& path, const std::string& body) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  const std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                          std::string(kAdminKey) + "\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return -1;
  }
  return fd;
}

class QueryLimits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    std::ofstream(tmp_->Sub("cairn.yaml")) << "io_threads: 1\nquery_time_limit_ms: 3000\n";
    ::setenv("CAIRN_TEST_QUERY_DELAY_MS", "60000", 1);
    server_ = new CairnServer(tmp_->Sub("data"), tmp_->Sub("serve"),
                              {"--config", tmp_->Sub("cairn.yaml"), "--enable-test-endpoints"});
    ASSERT_TRUE(server_->Start());
    ::unsetenv("CAIRN_TEST_QUERY_DELAY_MS");
    std::vector<std::string> m = {
        TrackJson("u1", "Signed Up", "m1", R"("timestamp":"2026-01-05T10:00:00.000Z")"),
        TrackJson("u1", "Order Completed", "m2", R"("timestamp":"2026-01-05T11:00:00.000Z")"),
        TrackJson("u2", "Signed Up", "m3", R"("timestamp":"2026-01-05T12:00:00.000Z")"),
    };
    auto r = server_->Client()->Post("/v1/batch", BatchJson(m), WriteAuth());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 200u) << r->body;
  }
  static void TearDownTestSuite() {
    if (server_) EXPECT_TRUE(server_->Stop());
    delete server_;
    delete tmp_;
    server_ = nullptr;
    tmp_ = nullptr;
  }

  // /metrics as text ("" when it does not answer in time).
  static std::string Metrics(milliseconds timeout) {
    auto r = server_->Client(timeout)->Get("/metrics");
    return r.ok() && r->status == 200 ? r->body : "";
  }
  static double Counter(const std::string& metrics, const std::string& name) {
    const double v = MetricValue(metrics, name);
    return v < 0 ? 0 : v;  // a counter never incremented may be absent
  }

  static TempDir* tmp_;
  static CairnServer* server_;
};
TempDir* QueryLimits::tmp_ = nullptr;
CairnServer* QueryLimits::server_ = nullptr;

TEST_F(QueryLimits, AQueryWhoseClientLeftIsCancelledAndTheServerServesOn) {
  ASSERT_NE(server_, nullptr);
  const std::string before = Metrics(seconds(30));
  ASSERT_FALSE(before.empty());
  const double cancelled0 = Counter(before, kCancelled);

  const int fd = SendWithoutReading(server_->port(), "/v1/query/funnel", kFunnel);
  ASSERT_GE(fd, 0) << "connect/send failed";
  // The query is running (it takes a minute unless stopped): the only I/O thread is busy with it.
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(Metrics(milliseconds(300)), "") << "the server answered while the query ran: is it running?";
  const auto closed_at = std::chrono::steady_clock::now();
  ::close(fd);  // the client goes away

  // /metrics answers again well before the query's minute (and before the 3 s time limit), and
  // counts one cancelled query.
  std::string after;
  for (int i = 0; i < 100 && Counter(after, kCancelled) <= cancelled0; ++i) after = Metrics(seconds(20));
  const double waited_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - closed_at).count();
  EXPECT_EQ(Counter(after, kCancelled), cancelled0 + 1) << after;
  EXPECT_LT(waited_s, 2.5) << "the query went on after its client left";
  EXPECT_EQ(Counter(after, kTimedOut), Counter(before, kTimedOut));
  EXPECT_EQ(MetricValue(after, R"(cairn_http_requests_total{route="/v1/query/funnel",code="499"})"), 1) << after;

  // The server serves on: health, ingest, and the customers API.
  auto client = server_->Client(seconds(30));
  auto h = client->Get("/healthz");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->status, 200u);
  auto b = client->Post("/v1/batch", BatchJson({TrackJson("u3", "Signed Up", "m9")}), WriteAuth());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->status, 200u) << b->body;
}

TEST_F(QueryLimits, AQueryOverItsTimeLimitAnswers504NamingTheLimit) {
  ASSERT_NE(server_, nullptr);
  const std::string before = Metrics(seconds(30));
  ASSERT_FALSE(before.empty());
  auto client = server_->Client(seconds(60));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = client->Post("/v1/query/retention", R"({"start_event":"Signed Up"})", AdminAuth());
  const double took_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 504u) << r->body;
  EXPECT_NE(r->body.find("deadline exceeded: the query ran past its time limit of 3000 ms"), std::string::npos)
      << r->body;
  EXPECT_GE(took_s, 2.9);
  EXPECT_LT(took_s, 20.0) << "the time limit did not stop the query";
  const std::string after = Metrics(seconds(30));
  EXPECT_EQ(Counter(after, kTimedOut), Counter(before, kTimedOut) + 1) << after;
  EXPECT_EQ(Counter(after, kCancelled), Counter(before, kCancelled));
  // The same connection goes on: a 504 is an answer, not a failure of the server.
  auto h = client->Get("/healthz");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->status, 200u);
}

}  // namespace
}  // namespace cairn::testutil
