// Analytics queries over real HTTP against the real `cairn serve` (docs/analytics.md "Time limit
// and cancellation", "Where a query runs"): a query whose client closes its socket stops, one over
// the configured time limit answers 504 naming the limit, a slow query does not delay other
// requests on the same I/O thread, and a full query pool answers 503 + Retry-After; the server
// goes on serving.
//
// The slow query is the test-only slow-down (CAIRN_TEST_QUERY_DELAY_MS with
// --enable-test-endpoints: every chunk check of a query takes that long, still stopping at once
// when cancelled or past its limit), so a query on six interactions runs for a minute unless
// something stops it. The server has ONE I/O thread (config io_threads: 1), ONE query thread and
// room for ONE waiting query (query_threads: 1, query_queue: 1): whatever else is answered while a
// slow query runs was answered by the I/O thread the query would otherwise hold.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "api/cairn_server.h"
#include "api/raw_socket.h"
#include "api/server_suite.h"

namespace cairn::testutil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kFunnel[] = R"({"steps":["Signed Up","Order Completed"],"window":"7d"})";
constexpr char kCancelled[] = "cairn_analytics_queries_cancelled_total";
constexpr char kTimedOut[] = "cairn_analytics_queries_timed_out_total";

class QueryLimits : public ServerSuite {
 protected:
  static void SetUpTestSuite() {
    StartSuite({.config_yaml = "io_threads: 1\nquery_time_limit_ms: 3000\nquery_threads: 1\nquery_queue: 1\n",
                .env = {{"CAIRN_TEST_QUERY_DELAY_MS", "60000"}},
                .extra_args = {"--enable-test-endpoints"},
                .seed = {
                    TrackJson("u1", "Signed Up", "m1", R"("timestamp":"2026-01-05T10:00:00.000Z")"),
                    TrackJson("u1", "Order Completed", "m2", R"("timestamp":"2026-01-05T11:00:00.000Z")"),
                    TrackJson("u2", "Signed Up", "m3", R"("timestamp":"2026-01-05T12:00:00.000Z")"),
                }});
  }
  static void TearDownTestSuite() { StopSuite(); }

  // /metrics as text ("" when it does not answer in time).
  static std::string Metrics(milliseconds timeout) {
    auto r = server_->Client(timeout)->Get("/metrics");
    return r.ok() && r->status == 200 ? r->body : "";
  }
  static double Counter(const std::string& metrics, const std::string& name) {
    const double v = MetricValue(metrics, name);
    return v < 0 ? 0 : v;  // a counter never incremented may be absent
  }
  // A slow query sent on its own connection, its answer not read.
  static int SendSlowFunnel() { return SendWithoutReading(server_->port(), "/v1/query/funnel", kFunnel, kAdminKey); }
  // Waits until the cancelled counter reaches `target` (at most ~20 s); the last /metrics read.
  static std::string WaitForCancelled(double target) {
    std::string m;
    for (int i = 0; i < 200 && Counter(m, kCancelled) < target; ++i) {
      if (i) std::this_thread::sleep_for(milliseconds(100));
      m = Metrics(seconds(20));
    }
    return m;
  }
};

TEST_F(QueryLimits, AQueryWhoseClientLeftIsCancelledAndTheServerServesOn) {
  ASSERT_NE(server_, nullptr);
  const std::string before = Metrics(seconds(30));
  ASSERT_FALSE(before.empty());
  const double cancelled0 = Counter(before, kCancelled);

  const int fd = SendSlowFunnel();
  ASSERT_GE(fd, 0) << "connect/send failed";
  // The query is running (it takes a minute unless stopped) on the query pool.
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_FALSE(Readable(fd, milliseconds(0))) << "the query answered already: is it slowed down?";
  const auto closed_at = std::chrono::steady_clock::now();
  ::close(fd);  // the client goes away

  // The query stops well before its minute (and before the 3 s time limit): one cancelled query.
  std::string after = WaitForCancelled(cancelled0 + 1);
  const double waited_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - closed_at).count();
  EXPECT_EQ(Counter(after, kCancelled), cancelled0 + 1) << after;
  EXPECT_LT(waited_s, 2.5) << "the query went on after its client left";
  EXPECT_EQ(Counter(after, kTimedOut), Counter(before, kTimedOut));
  // The query pool counts the cancellation before the I/O thread records the request's 499, so
  // the second can trail the first by a moment (CI at load, 2026-11-24: absent at the first read).
  const std::string k499 = R"(cairn_http_requests_total{route="/v1/query/funnel",code="499"})";
  for (int i = 0; i < 50 && MetricValue(after, k499) < 1; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    after = Metrics(seconds(20));
  }
  EXPECT_EQ(MetricValue(after, k499), 1) << after;

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

TEST_F(QueryLimits, ASlowQueryDoesNotDelayHealthOrIngestOnTheSameIoThread) {
  ASSERT_NE(server_, nullptr);
  const auto sent_at = std::chrono::steady_clock::now();
  const int fd = SendSlowFunnel();  // runs until its 3 s time limit
  ASSERT_GE(fd, 0) << "connect/send failed";
  std::this_thread::sleep_for(milliseconds(300));

  // With the query running, the one I/O thread answers health and an ingest batch at once.
  auto client = server_->Client(seconds(30));
  auto t = std::chrono::steady_clock::now();
  auto h = client->Get("/healthz");
  const double health_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->status, 200u);
  t = std::chrono::steady_clock::now();
  auto b = client->Post("/v1/batch", BatchJson({TrackJson("u4", "Signed Up", "m10")}), WriteAuth());
  const double ingest_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->status, 200u) << b->body;
  // Both came back while the query was still running: its answer has not arrived.
  EXPECT_FALSE(Readable(fd, milliseconds(0))) << "the query ended before health and ingest were answered";
  EXPECT_LT(health_ms, 1000.0);
  EXPECT_LT(ingest_ms, 2000.0);

  // The query itself still ends at its time limit.
  EXPECT_EQ(ReadStatus(fd, seconds(30)), 504u);
  const double took_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent_at).count();
  EXPECT_GE(took_s, 2.9);
  ::close(fd);
}

TEST_F(QueryLimits, AFullQueryPoolAnswers503WithRetryAfter) {
  ASSERT_NE(server_, nullptr);
  const std::string before = Metrics(seconds(30));
  ASSERT_FALSE(before.empty());
  const double cancelled0 = Counter(before, kCancelled);
  // One query runs (query_threads: 1), one waits (query_queue: 1)...
  const int running = SendSlowFunnel();
  ASSERT_GE(running, 0);
  std::this_thread::sleep_for(milliseconds(300));
  const int waiting = SendSlowFunnel();
  ASSERT_GE(waiting, 0);
  std::this_thread::sleep_for(milliseconds(300));
  // ...so a third is refused at once, telling the client when to come back.
  auto client = server_->Client(seconds(30));
  auto r = client->Post("/v1/query/retention", R"({"start_event":"Signed Up"})", AdminAuth());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 503u) << r->body;
  EXPECT_EQ(r->Header("Retry-After"), "1");
  EXPECT_NE(r->body.find("too many analytics queries at once (1 running, 1 waiting)"), std::string::npos) << r->body;
  // Both clients leave: the running query is cancelled, then the waiting one as soon as it starts.
  ::close(running);
  ::close(waiting);
  const std::string after = WaitForCancelled(cancelled0 + 2);
  EXPECT_EQ(Counter(after, kCancelled), cancelled0 + 2) << after;
  // A slot is free again: a query is served (504 at its limit, the slow-down being on).
  r = client->Post("/v1/query/retention", R"({"start_event":"Signed Up"})", AdminAuth());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 504u) << r->body;
}

}  // namespace
}  // namespace cairn::testutil
