// End-to-end tests of the HTTP edge: the real server on 127.0.0.1:0 with fake core objects and a
// real (Beast, synchronous) HTTP client.

#include "api/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "base/metrics.h"

namespace cairn::api {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using std::chrono::milliseconds;
using Response = http::response<http::string_body>;

constexpr const char* kWriteKeyBasic = "Basic d3JpdGUta2V5Og==";  // base64("write-key:")

// ---------------------------------------------------------------------------------------------
// Fakes

struct SeenRequest {
  ingest::Dialect dialect;
  store::MessageType type;
  std::string body;
  std::string content_encoding;
  std::string header_write_key;
  int64_t received_at_ms;
};

// Answers accepted = body size (so tests can tell answers apart), or what `result_` says; `delay_`
// > 0 answers from a new thread after that delay.
class FakeIngestor : public ingest::Ingestor {
 public:
  using ResultFn = std::function<Result<ingest::IngestOutcome>(const ingest::IngestRequest&)>;
  using DelayFn = std::function<milliseconds(const ingest::IngestRequest&)>;

  ~FakeIngestor() override { JoinAll(); }

  void SetResult(ResultFn fn) {
    std::lock_guard<std::mutex> lock(mu_);
    result_ = std::move(fn);
  }
  void SetDelay(DelayFn fn) {
    std::lock_guard<std::mutex> lock(mu_);
    delay_ = std::move(fn);
  }

  void Ingest(ingest::IngestRequest request, Done done) override {
    std::unique_lock<std::mutex> lock(mu_);
    Result<ingest::IngestOutcome> result = ingest::IngestOutcome{request.body.size(), 0, {}};
    if (result_) result = result_(request);
    milliseconds delay = delay_ ? delay_(request) : milliseconds(0);
    seen_.push_back({request.dialect, request.single_type, request.body, request.content_encoding,
                     request.header_write_key, request.received_at_ms});
    cv_.notify_all();
    if (delay.count() == 0) {
      lock.unlock();
      done(std::move(result));
      return;
    }
    threads_.emplace_back([done = std::move(done), result = std::move(result), delay]() mutable {
      std::this_thread::sleep_for(delay);
      done(std::move(result));
    });
  }

  size_t Count() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_.size();
  }
  SeenRequest Last() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_.back();
  }
  bool WaitForCount(size_t n, milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return seen_.size() >= n; });
  }
  void JoinAll() {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  ResultFn result_;
  DelayFn delay_;
  std::vector<SeenRequest> seen_;
  std::vector<std::thread> threads_;
};

class FakeDirectory : public entity::CustomerDirectory {
 public:
  FakeDirectory() {
    profile_.id = 7;
    profile_.identities = {{"userId", "u1"}, {"email", "a/b@example.com"}};
    profile_.traits = {{"name", "\"Ann\"", 1000}};
    profile_.interaction_count = 2;
  }
  Result<entity::Profile> GetProfile(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    last_id_ = id;
    if (!Known(id)) return NotFound("no customer with identity '" + id + "'");
    return profile_;
  }
  Result<entity::TimelinePage> Timeline(const std::string& id, size_t limit, const std::string& before) override {
    std::lock_guard<std::mutex> lock(mu_);
    last_id_ = id;
    last_limit_ = limit;
    last_before_ = before;
    if (!Known(id)) return NotFound("no customer with identity '" + id + "'");
    if (before == "garbage") return InvalidArgument("before: not a cursor, an ISO-8601 time or ms since epoch");
    entity::TimelinePage page;
    store::Interaction in;
    in.customer = 7;
    in.type = store::MessageType::kTrack;
    in.event = "Signed Up";
    in.payload = R"({"type":"track","event":"Signed Up"})";
    page.interactions.push_back(in);
    page.next_before = "cursor-2";
    return page;
  }
  std::string last_id() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_id_;
  }
  size_t last_limit() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_limit_;
  }
  std::string last_before() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_before_;
  }

 private:
  static bool Known(const std::string& id) { return id == "u1" || id == "a/b@example.com" || id == "c:7"; }
  std::mutex mu_;
  entity::Profile profile_;
  std::string last_id_, last_before_;
  size_t last_limit_ = 0;
};

// ---------------------------------------------------------------------------------------------
// A synchronous HTTP/1.1 client on one connection.

class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    socket_.set_option(tcp::no_delay(true));  // as Node's HTTP agent does; else delayed ACKs dominate timings
  }

  Response Send(http::verb method, std::string target, std::string body = "",
                std::vector<std::pair<std::string, std::string>> headers = {}, bool chunked = false) {
    WriteRequest(method, std::move(target), std::move(body), std::move(headers), chunked);
    beast::error_code ec;
    Response r = Read(&ec);
    EXPECT_FALSE(ec) << ec.message();
    return r;
  }

  void WriteRequest(http::verb method, std::string target, std::string body,
                    std::vector<std::pair<std::string, std::string>> headers, bool chunked = false) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (auto& [n, v] : headers) req.set(n, v);
    req.body() = std::move(body);
    if (chunked) {
      req.chunked(true);
    } else {
      req.prepare_payload();
    }
    http::write(socket_, req);
  }

  Response Read(beast::error_code* ec) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(socket_, buffer_, parser, *ec);
    return parser.release();
  }

  void WriteRaw(std::string_view bytes) { net::write(socket_, net::buffer(bytes.data(), bytes.size())); }

  // True when the server closed the connection (a read gets end of stream or a reset).
  bool PeerClosed() {
    char c;
    beast::error_code ec;
    socket_.read_some(net::buffer(&c, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset;
  }

  tcp::socket& socket() { return socket_; }
  beast::flat_buffer& buffer() { return buffer_; }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

json::value Json(const Response& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body(), ec);
  EXPECT_FALSE(ec) << "not JSON: " << r.body();
  return v;
}

std::string Header(const Response& r, http::field f) { return std::string(r[f]); }

// ---------------------------------------------------------------------------------------------

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Restart(TestOptions()); }

  static HttpServerOptions TestOptions() {
    HttpServerOptions o;
    o.port = 0;
    o.io_threads = 2;
    o.enable_test_endpoints = true;
    return o;
  }

  void Restart(HttpServerOptions options) {
    if (server_) server_->Stop(milliseconds(1000));
    server_.reset();
    Services s;
    s.ingestor = &ingestor_;
    s.customers = &directory_;
    s.metrics = &registry_;
    s.is_admin_key = [](std::string_view k) { return k == "admin-key"; };
    s.is_write_key = [](std::string_view k) { return k == "write-key"; };
    s.ready = [this]() { return ready_.load() ? Status::Ok() : Unavailable("store is replaying the WAL"); };
    server_ = std::make_unique<HttpServer>(s, options);
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  uint64_t Connections() { return registry_.GetCounter("cairn_http_connections_total", "")->Value(); }

  // Declaration order matters: the server is destroyed first, the fakes (which may still call
  // `done`) after it, the registry last.
  metrics::Registry registry_;
  FakeIngestor ingestor_;
  FakeDirectory directory_;
  std::atomic<bool> ready_{true};
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(HttpServerTest, KeepAliveReusesOneConnection) {
  Client c(port_);
  for (int i = 0; i < 60; ++i) {
    Response r = i % 3 == 0   ? c.Send(http::verb::get, "/healthz")
                 : i % 3 == 1 ? c.Send(http::verb::post, "/v1/batch", "{\"batch\":[]}", {{"Authorization", kWriteKeyBasic}})
                              : c.Send(http::verb::get, "/v1/customers/u1", "", {{"Authorization", "Bearer admin-key"}});
    ASSERT_EQ(r.result_int(), 200u) << i << ": " << r.body();
    ASSERT_TRUE(r.keep_alive());
  }
  EXPECT_EQ(Connections(), 1u);
  EXPECT_EQ(ingestor_.Count(), 20u);
}

TEST_F(HttpServerTest, EveryIngestRouteWithAndWithoutTrailingSlash) {
  using ingest::Dialect;
  using store::MessageType;
  struct Case {
    std::string path;
    Dialect dialect;
    MessageType type;
  };
  std::vector<Case> cases = {{"/v1/batch", Dialect::kSegmentBatch, MessageType::kTrack},
                             {"/v1/b", Dialect::kSegmentBatch, MessageType::kTrack},
                             {"/batch", Dialect::kPostHogBatch, MessageType::kTrack},
                             {"/e", Dialect::kPostHogBatch, MessageType::kTrack},
                             {"/capture", Dialect::kPostHogBatch, MessageType::kTrack}};
  const std::pair<std::string, MessageType> singles[] = {{"identify", MessageType::kIdentify}, {"track", MessageType::kTrack},
                                                         {"page", MessageType::kPage},         {"screen", MessageType::kScreen},
                                                         {"group", MessageType::kGroup},       {"alias", MessageType::kAlias}};
  for (const auto& [name, type] : singles) {
    cases.push_back({"/v1/" + name, Dialect::kSegmentSingle, type});
    cases.push_back({"/v1/" + name.substr(0, 1), Dialect::kSegmentSingle, type});
  }
  Client c(port_);
  const int64_t before = Clock::Real()->NowMillis();
  for (const Case& k : cases) {
    for (const std::string& path : {k.path, k.path + "/"}) {
      Response r = c.Send(http::verb::post, path, "body of " + path,
                          {{"Authorization", kWriteKeyBasic}, {"Content-Type", "text/plain"}});
      ASSERT_EQ(r.result_int(), 200u) << path << ": " << r.body();
      SeenRequest seen = ingestor_.Last();
      EXPECT_EQ(seen.body, "body of " + path);
      EXPECT_EQ(seen.dialect, k.dialect) << path;
      if (k.dialect == Dialect::kSegmentSingle) {
        EXPECT_EQ(seen.type, k.type) << path;
      }
      EXPECT_EQ(seen.header_write_key, "write-key");
      EXPECT_GE(seen.received_at_ms, before);
      EXPECT_LE(seen.received_at_ms, Clock::Real()->NowMillis());
    }
  }
  EXPECT_EQ(ingestor_.Count(), cases.size() * 2);
}

TEST_F(HttpServerTest, IngestPassesEncodingAndKeyForms) {
  Client c(port_);
  ASSERT_EQ(c.Send(http::verb::post, "/v1/batch", "\x1f\x8b...", {{"Content-Encoding", "gzip"}}).result_int(), 200u);
  EXPECT_EQ(ingestor_.Last().content_encoding, "gzip");
  EXPECT_EQ(ingestor_.Last().header_write_key, "");  // no header: the Ingestor looks in the body
  ASSERT_EQ(c.Send(http::verb::post, "/v1/t", "{}", {{"Authorization", "Basic d3JpdGUta2V5"}}).result_int(), 200u);
  EXPECT_EQ(ingestor_.Last().header_write_key, "write-key");  // base64 without the colon
  ASSERT_EQ(c.Send(http::verb::post, "/v1/t", "{}", {{"Authorization", "Bearer whatever"}}).result_int(), 200u);
  EXPECT_EQ(ingestor_.Last().header_write_key, "");
  const size_t seen = ingestor_.Count();
  Response bad = c.Send(http::verb::post, "/v1/t", "{}", {{"Authorization", "Basic %%%"}});
  EXPECT_EQ(bad.result_int(), 401u);
  EXPECT_EQ(Json(bad).at("success").as_bool(), false);
  EXPECT_EQ(ingestor_.Count(), seen);  // never reached the Ingestor
}

TEST_F(HttpServerTest, SuccessBodyCarriesCounts) {
  ingestor_.SetResult([](const ingest::IngestRequest&) {
    ingest::IngestOutcome o;
    o.accepted = 3;
    o.duplicates = 1;
    o.rejected = {{2, "batch[2].userId: required"}};
    return o;
  });
  Client c(port_);
  Response r = c.Send(http::verb::post, "/v1/batch", "{}");
  ASSERT_EQ(r.result_int(), 200u);
  EXPECT_EQ(Header(r, http::field::content_type), "application/json");
  json::value v = Json(r);
  EXPECT_EQ(v.at("success").as_bool(), true);
  EXPECT_EQ(v.at("accepted").to_number<int>(), 3);
  EXPECT_EQ(v.at("duplicates").to_number<int>(), 1);
  EXPECT_EQ(v.at("rejected").at(0).at("index").to_number<int>(), 2);
  EXPECT_EQ(v.at("rejected").at(0).at("error").as_string(), "batch[2].userId: required");
}

TEST_F(HttpServerTest, IngestErrorsAreMapped) {
  struct Case {
    Status status;
    std::string path;
    unsigned http;
    std::string retry_after;
  };
  const Case cases[] = {
      {InvalidArgument("batch: expected an array"), "/v1/batch", 400, ""},
      {Unauthenticated("unknown write key"), "/v1/batch", 401, ""},
      {ResourceExhausted("decoded body over the limit of 1048576 bytes"), "/v1/batch", 400, ""},
      {ResourceExhausted("decoded body over the limit of 1048576 bytes"), "/batch/", 413, ""},
      {Unavailable("back-pressure: store behind"), "/v1/batch", 429, "1"},
      {Unavailable("disk full on /srv/secret"), "/v1/batch", 503, "5"},
      {IOError("/srv/secret/wal: EIO"), "/v1/batch", 500, ""},
  };
  Client c(port_);
  for (const Case& k : cases) {
    ingestor_.SetResult([&](const ingest::IngestRequest&) -> Result<ingest::IngestOutcome> { return k.status; });
    Response r = c.Send(http::verb::post, k.path, "{}");
    EXPECT_EQ(r.result_int(), k.http) << k.status.ToString();
    EXPECT_EQ(Header(r, http::field::retry_after), k.retry_after) << k.status.ToString();
    json::value v = Json(r);
    EXPECT_EQ(v.at("success").as_bool(), false);
    std::string error(v.at("error").as_string());
    if (k.http < 500 && k.http != 429) {
      EXPECT_EQ(error, k.status.message());
    } else {
      EXPECT_EQ(error.find("/srv/secret"), std::string::npos) << "detail leaked: " << error;
    }
  }
}

TEST_F(HttpServerTest, CorsPreflightAndOriginOnResponses) {
  Client c(port_);
  Response pre = c.Send(http::verb::options, "/v1/batch",
                        "", {{"Origin", "https://shop.example"},
                             {"Access-Control-Request-Method", "POST"},
                             {"Access-Control-Request-Headers", "authorization,content-type,x-custom"}});
  EXPECT_EQ(pre.result_int(), 204u);
  EXPECT_EQ(Header(pre, http::field::access_control_allow_origin), "https://shop.example");
  EXPECT_EQ(Header(pre, http::field::access_control_allow_methods), "POST, OPTIONS");
  std::string allow = Header(pre, http::field::access_control_allow_headers);
  for (const char* h : {"authorization", "content-type", "content-encoding", "x-retry-count", "x-custom"}) {
    EXPECT_NE(allow.find(h), std::string::npos) << h << " missing in " << allow;
  }
  EXPECT_FALSE(Header(pre, http::field::access_control_max_age).empty());

  // Short forms and unknown /v1 paths preflight too; without an Origin the answer is "*".
  Response pre2 = c.Send(http::verb::options, "/v1/t/");
  EXPECT_EQ(pre2.result_int(), 204u);
  EXPECT_EQ(Header(pre2, http::field::access_control_allow_origin), "*");

  Response post = c.Send(http::verb::post, "/v1/t", "{}", {{"Origin", "https://shop.example"}});
  EXPECT_EQ(post.result_int(), 200u);
  EXPECT_EQ(Header(post, http::field::access_control_allow_origin), "https://shop.example");

  ingestor_.SetResult([](const ingest::IngestRequest&) -> Result<ingest::IngestOutcome> {
    return InvalidArgument("bad");
  });
  Response err = c.Send(http::verb::post, "/v1/batch", "{}", {{"Origin", "https://shop.example"}});
  EXPECT_EQ(err.result_int(), 400u);
  EXPECT_EQ(Header(err, http::field::access_control_allow_origin), "https://shop.example");
  Response missing = c.Send(http::verb::post, "/v1/nope", "{}");
  EXPECT_EQ(missing.result_int(), 404u);
  EXPECT_EQ(Header(missing, http::field::access_control_allow_origin), "*");

  Response health = c.Send(http::verb::get, "/healthz", "", {{"Origin", "https://shop.example"}});
  EXPECT_EQ(Header(health, http::field::access_control_allow_origin), "");  // not a CORS path
  EXPECT_EQ(c.Send(http::verb::options, "/healthz").result_int(), 405u);
}

TEST_F(HttpServerTest, CustomerEndpointsNeedAnAdminBearerKey) {
  Client c(port_);
  EXPECT_EQ(c.Send(http::verb::get, "/v1/customers/u1").result_int(), 401u);
  EXPECT_EQ(c.Send(http::verb::get, "/v1/customers/u1", "", {{"Authorization", "Bearer nope"}}).result_int(), 401u);
  EXPECT_EQ(c.Send(http::verb::get, "/v1/customers/u1", "", {{"Authorization", kWriteKeyBasic}}).result_int(), 401u);
  Response forbidden = c.Send(http::verb::get, "/v1/customers/u1/events", "", {{"Authorization", "Bearer write-key"}});
  EXPECT_EQ(forbidden.result_int(), 403u);
  EXPECT_EQ(Json(forbidden).at("success").as_bool(), false);

  const std::vector<std::pair<std::string, std::string>> admin = {{"Authorization", "Bearer admin-key"}};
  Response p = c.Send(http::verb::get, "/v1/customers/a%2Fb%40example.com/", "", admin);
  ASSERT_EQ(p.result_int(), 200u) << p.body();
  EXPECT_EQ(directory_.last_id(), "a/b@example.com");  // percent-decoded, %2F not a separator
  json::value v = Json(p);
  EXPECT_EQ(v.at("id").as_string(), "c:7");
  EXPECT_EQ(v.at("traits").at("name").as_string(), "Ann");

  Response missing = c.Send(http::verb::get, "/v1/customers/nobody", "", admin);
  EXPECT_EQ(missing.result_int(), 404u);
  EXPECT_NE(Json(missing).at("error").as_string().find("nobody"), std::string::npos);
}

TEST_F(HttpServerTest, CustomerEvents) {
  Client c(port_);
  const std::vector<std::pair<std::string, std::string>> admin = {{"Authorization", "Bearer admin-key"}};
  Response r = c.Send(http::verb::get, "/v1/customers/u1/events?limit=20&before=2026-01-01T00%3A00%3A00Z", "", admin);
  ASSERT_EQ(r.result_int(), 200u) << r.body();
  EXPECT_EQ(directory_.last_limit(), 20u);
  EXPECT_EQ(directory_.last_before(), "2026-01-01T00:00:00Z");
  json::value v = Json(r);
  EXPECT_EQ(v.at("interactions").at(0).at("event").as_string(), "Signed Up");
  EXPECT_EQ(v.at("interactions").at(0).at("message").at("type").as_string(), "track");
  EXPECT_EQ(v.at("nextBefore").as_string(), "cursor-2");

  ASSERT_EQ(c.Send(http::verb::get, "/v1/customers/u1/events/", "", admin).result_int(), 200u);
  EXPECT_EQ(directory_.last_limit(), 50u);  // the default
  EXPECT_EQ(directory_.last_before(), "");

  for (const char* bad : {"0", "1001", "ten", "-1", "5x", ""}) {
    Response e = c.Send(http::verb::get, std::string("/v1/customers/u1/events?limit=") + bad, "", admin);
    EXPECT_EQ(e.result_int(), 400u) << bad;
    EXPECT_NE(Json(e).at("error").as_string().find("limit"), std::string::npos) << bad;
  }
  Response e = c.Send(http::verb::get, "/v1/customers/u1/events?before=garbage", "", admin);
  EXPECT_EQ(e.result_int(), 400u);
  EXPECT_NE(Json(e).at("error").as_string().find("before"), std::string::npos);
}

TEST_F(HttpServerTest, NotFoundAndMethodNotAllowed) {
  Client c(port_);
  Response r = c.Send(http::verb::get, "/v1/nope");
  EXPECT_EQ(r.result_int(), 404u);
  EXPECT_EQ(Json(r).at("success").as_bool(), false);
  Response m = c.Send(http::verb::get, "/v1/batch/");
  EXPECT_EQ(m.result_int(), 405u);
  EXPECT_EQ(Header(m, http::field::allow), "POST");
  EXPECT_EQ(c.Send(http::verb::post, "/healthz").result_int(), 405u);
  EXPECT_EQ(c.Send(http::verb::get, "/v1/customers/").result_int(), 404u);  // empty id
  EXPECT_EQ(c.Send(http::verb::get, "/v1/customers/%zz", "", {{"Authorization", "Bearer admin-key"}}).result_int(),
            400u);
  EXPECT_EQ(c.Send(http::verb::get, "/v1//batch").result_int(), 404u);
}

TEST_F(HttpServerTest, HealthReadyMetrics) {
  Client c(port_);
  Response h = c.Send(http::verb::get, "/healthz");
  EXPECT_EQ(h.result_int(), 200u);
  EXPECT_EQ(h.body(), "ok\n");
  EXPECT_EQ(c.Send(http::verb::get, "/readyz").result_int(), 200u);
  ready_ = false;
  Response nr = c.Send(http::verb::get, "/readyz/");
  EXPECT_EQ(nr.result_int(), 503u);
  EXPECT_NE(nr.body().find("replaying"), std::string::npos);

  ASSERT_EQ(c.Send(http::verb::post, "/v1/batch", std::string(1000, 'x')).result_int(), 200u);
  c.Send(http::verb::get, "/v1/nope");
  Response m = c.Send(http::verb::get, "/metrics");
  ASSERT_EQ(m.result_int(), 200u);
  EXPECT_TRUE(Header(m, http::field::content_type).starts_with("text/plain; version=0.0.4"));
  const std::string& text = m.body();
  for (const char* want : {"cairn_http_requests_total{route=\"/v1/batch\",code=\"200\"} 1",
                           "cairn_http_requests_total{route=\"/healthz\",code=\"200\"} 1",
                           "cairn_http_requests_total{route=\"/readyz\",code=\"503\"} 1",
                           "cairn_http_requests_total{route=\"unmatched\",code=\"404\"} 1",
                           "cairn_http_request_seconds_count{route=\"/v1/batch\"} 1",
                           "cairn_http_request_bytes_sum", "cairn_ingest_batch_messages_count 1",
                           "cairn_ingest_batch_messages_sum 1000", "cairn_http_connections_total 1"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << " not in\n" << text;
  }
}

TEST_F(HttpServerTest, OversizeBodyIs413ForPostHog400ElsewhereAndTheConnectionSurvives) {
  HttpServerOptions o = TestOptions();
  o.max_body_bytes = 64 << 10;
  Restart(o);
  Client c(port_);
  const std::string big(100000, 'x');
  Response ph = c.Send(http::verb::post, "/batch/", big, {{"Origin", "https://app.example"}});
  EXPECT_EQ(ph.result_int(), 413u);
  EXPECT_NE(Json(ph).at("error").as_string().find("65536"), std::string::npos) << ph.body();
  EXPECT_EQ(Header(ph, http::field::access_control_allow_origin), "https://app.example");
  EXPECT_TRUE(ph.keep_alive());
  Response seg = c.Send(http::verb::post, "/v1/batch", big);
  EXPECT_EQ(seg.result_int(), 400u);
  EXPECT_NE(Json(seg).at("error").as_string().find("65536"), std::string::npos);
  // Exactly at the limit is fine, and the same connection still serves.
  Response ok = c.Send(http::verb::post, "/v1/batch", std::string(64 << 10, 'y'));
  EXPECT_EQ(ok.result_int(), 200u);
  EXPECT_EQ(Json(ok).at("accepted").to_number<size_t>(), size_t{64 << 10});
  EXPECT_EQ(ingestor_.Count(), 1u);  // the oversize bodies never reached the Ingestor
  EXPECT_EQ(Connections(), 1u);

  // Chunked: the limit is found mid-body; the answer arrives, then the connection closes.
  Client chunked(port_);
  Response ch = chunked.Send(http::verb::post, "/batch", big, {}, /*chunked=*/true);
  EXPECT_EQ(ch.result_int(), 413u);
  EXPECT_FALSE(ch.keep_alive());
  EXPECT_TRUE(chunked.PeerClosed());

  Client after(port_);
  EXPECT_EQ(after.Send(http::verb::get, "/healthz").result_int(), 200u);
}

TEST_F(HttpServerTest, ChunkedBodyAndExpectContinue) {
  Client c(port_);
  ASSERT_EQ(c.Send(http::verb::post, "/v1/batch", "chunked body", {}, /*chunked=*/true).result_int(), 200u);
  EXPECT_EQ(ingestor_.Last().body, "chunked body");

  c.WriteRaw("POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  std::string got;
  size_t n = net::read_until(c.socket(), net::dynamic_buffer(got), "\r\n\r\n");
  EXPECT_EQ(got.substr(0, n), "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_EQ(got.size(), n);  // nothing else yet
  c.WriteRaw("hello");
  beast::error_code ec;
  Response r = c.Read(&ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(ingestor_.Last().body, "hello");
}

TEST_F(HttpServerTest, MalformedRequestGets400AndClose) {
  Client c(port_);
  c.WriteRaw("THIS IS NOT HTTP\r\n\r\n");
  beast::error_code ec;
  Response r = c.Read(&ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(r.result_int(), 400u);
  EXPECT_FALSE(r.keep_alive());
  EXPECT_TRUE(c.PeerClosed());
}

TEST_F(HttpServerTest, OversizeHeaderGets431AndClose) {
  Client c(port_);
  c.WriteRequest(http::verb::get, "/healthz", "", {{"X-Big", std::string(40 << 10, 'h')}});
  beast::error_code ec;
  Response r = c.Read(&ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(r.result_int(), 431u);
  EXPECT_TRUE(c.PeerClosed());
}

TEST_F(HttpServerTest, IdleConnectionsTimeOut) {
  HttpServerOptions o = TestOptions();
  o.idle_timeout = milliseconds(200);
  Restart(o);
  Client c(port_);
  ASSERT_EQ(c.Send(http::verb::get, "/healthz").result_int(), 200u);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.PeerClosed());  // blocks until the server gives up on the idle connection
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(150));
}

TEST_F(HttpServerTest, Http10ClosesAfterTheAnswer) {
  Client c(port_);
  c.WriteRaw("GET /healthz HTTP/1.0\r\n\r\n");
  beast::error_code ec;
  Response r = c.Read(&ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(r.version(), 10u);
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_TRUE(c.PeerClosed());
}

TEST_F(HttpServerTest, AsyncDoneFromAnotherThread) {
  ingestor_.SetDelay([](const ingest::IngestRequest&) { return milliseconds(200); });
  Client c(port_);
  auto t0 = std::chrono::steady_clock::now();
  Response r = c.Send(http::verb::post, "/v1/batch", "abc");
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(Json(r).at("accepted").to_number<int>(), 3);
  EXPECT_GE(elapsed, milliseconds(190));
  // The connection is reusable after an asynchronous answer.
  EXPECT_EQ(c.Send(http::verb::post, "/v1/batch", "abcd").result_int(), 200u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  // The first request is slow, the second fast: answers must still come back in request order.
  ingestor_.SetDelay([](const ingest::IngestRequest& r) { return r.body == "slow" ? milliseconds(200) : milliseconds(0); });
  Client c(port_);
  c.WriteRaw(
      "POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nslow"
      "POST /v1/t HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok"
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  beast::error_code ec;
  Response a = c.Read(&ec);
  ASSERT_FALSE(ec);
  Response b = c.Read(&ec);
  ASSERT_FALSE(ec);
  Response h = c.Read(&ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(Json(a).at("accepted").to_number<int>(), 4);
  EXPECT_EQ(Json(b).at("accepted").to_number<int>(), 2);
  EXPECT_EQ(h.body(), "ok\n");
}

TEST_F(HttpServerTest, LargeBodyRoundTripsFast) {
  std::string body = "{\"batch\":[";
  while (body.size() < 600 * 1000) body += R"({"type":"track","event":"Viewed","userId":"u1","properties":{"i":12345}},)";
  body.back() = ']';
  body += "}";
  Client c(port_);
  constexpr int kRounds = 10;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) {
    Response r = c.Send(http::verb::post, "/v1/batch", body);
    ASSERT_EQ(r.result_int(), 200u);
  }
  auto fixed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / kRounds;
  EXPECT_EQ(ingestor_.Last().body, body);
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) {
    ASSERT_EQ(c.Send(http::verb::post, "/v1/batch", body, {}, /*chunked=*/true).result_int(), 200u);
  }
  auto chunked = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / kRounds;
  EXPECT_EQ(ingestor_.Last().body, body);
  std::printf("%zu-byte body round trip: %.2f ms with Content-Length, %.2f ms chunked\n", body.size(), fixed, chunked);
}

// max_inflight_body_bytes (docs/reliability.md, "Memory under overload"): while one body is held by
// its handler, a second that would exceed the budget is refused 503 + Retry-After before it is
// read; a compressed body is charged at max_body_bytes (what it may decode to), so even a tiny gzip
// body is refused where a plain one of the same size is admitted; once the first is answered the
// refused one goes through.
TEST_F(HttpServerTest, InFlightBodyBudgetRefusesWith503AndChargesCompressedBodiesTheirDecodedLimit) {
  HttpServerOptions o = TestOptions();
  o.max_inflight_body_bytes = 100000;
  Restart(o);
  const std::string big(60000, 'x');
  ingestor_.SetDelay([&](const ingest::IngestRequest& r) { return r.body.size() == big.size() ? milliseconds(1500) : milliseconds(0); });
  Response held;
  std::thread holder([&] {
    Client a(port_);
    held = a.Send(http::verb::post, "/v1/batch", big);
  });
  ASSERT_TRUE(ingestor_.WaitForCount(1, milliseconds(10000)));  // the 60 kB body is in its handler
  {
    Client b(port_);
    Response r = b.Send(http::verb::post, "/v1/batch", big);
    EXPECT_EQ(r.result_int(), 503u) << r.body();
    EXPECT_EQ(Header(r, http::field::retry_after), "1");
    EXPECT_NE(r.body().find("too many request bodies in flight"), std::string::npos) << r.body();
  }
  {
    Client c(port_);
    Response r = c.Send(http::verb::post, "/v1/batch", std::string(100, 'z'), {{"Content-Encoding", "gzip"}});
    EXPECT_EQ(r.result_int(), 503u) << "a 100-byte gzip body may decode to max_body_bytes: " << r.body();
  }
  {
    Client d(port_);
    EXPECT_EQ(d.Send(http::verb::post, "/v1/batch", std::string(100, 'z')).result_int(), 200u);
  }
  holder.join();
  EXPECT_EQ(held.result_int(), 200u);
  Client e(port_);
  EXPECT_EQ(e.Send(http::verb::post, "/v1/batch", big).result_int(), 200u) << "the budget is released with the answer";
  EXPECT_EQ(ingestor_.Count(), 3u) << "refused bodies never reached the Ingestor";
}

TEST_F(HttpServerTest, FailNextSwitch) {
  Client c(port_);
  EXPECT_EQ(c.Send(http::verb::post, "/v1/admin/test/fail-next?count=2").result_int(), 401u);
  EXPECT_EQ(c.Send(http::verb::post, "/v1/admin/test/fail-next?count=2", "", {{"Authorization", "Bearer write-key"}})
                .result_int(),
            403u);
  EXPECT_EQ(c.Send(http::verb::post, "/v1/admin/test/fail-next?count=x", "", {{"Authorization", "Bearer admin-key"}})
                .result_int(),
            400u);
  ASSERT_EQ(c.Send(http::verb::post, "/v1/admin/test/fail-next?count=2", "", {{"Authorization", "Bearer admin-key"}})
                .result_int(),
            200u);
  for (int i = 0; i < 2; ++i) {
    Response r = c.Send(http::verb::post, "/v1/batch", "{}", {{"X-Retry-Count", std::to_string(i)}});
    EXPECT_EQ(r.result_int(), 503u);
    EXPECT_EQ(Header(r, http::field::retry_after), "1");
  }
  EXPECT_EQ(ingestor_.Count(), 0u);  // failed before reaching the Ingestor
  EXPECT_EQ(c.Send(http::verb::post, "/v1/batch", "{}").result_int(), 200u);

  // Not routed unless enabled.
  HttpServerOptions o = TestOptions();
  o.enable_test_endpoints = false;
  Restart(o);
  Client d(port_);
  EXPECT_EQ(d.Send(http::verb::post, "/v1/admin/test/fail-next", "", {{"Authorization", "Bearer admin-key"}}).result_int(),
            404u);
}

TEST_F(HttpServerTest, GracefulStopFinishesInFlightRequests) {
  ingestor_.SetDelay([](const ingest::IngestRequest&) { return milliseconds(300); });
  Client idle(port_);
  ASSERT_EQ(idle.Send(http::verb::get, "/healthz").result_int(), 200u);

  Response in_flight;
  beast::error_code in_flight_ec;
  std::thread client([&] {
    Client c(port_);
    c.WriteRequest(http::verb::post, "/v1/batch", "in flight", {});
    in_flight = c.Read(&in_flight_ec);
  });
  ASSERT_TRUE(ingestor_.WaitForCount(1, milliseconds(5000)));
  auto t0 = std::chrono::steady_clock::now();
  server_->Stop(milliseconds(5000));
  auto stop_took = std::chrono::steady_clock::now() - t0;
  client.join();
  ASSERT_FALSE(in_flight_ec) << in_flight_ec.message();
  EXPECT_EQ(in_flight.result_int(), 200u);
  EXPECT_EQ(Json(in_flight).at("accepted").to_number<int>(), 9);
  EXPECT_FALSE(in_flight.keep_alive());  // told to go elsewhere next time
  EXPECT_LT(stop_took, milliseconds(3000));
  EXPECT_TRUE(idle.PeerClosed());

  net::io_context ioc;
  tcp::socket s(ioc);
  beast::error_code ec;
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
  EXPECT_TRUE(ec) << "the port still accepts connections after Stop()";
}

TEST_F(HttpServerTest, StopGivesUpAfterTheDrainTimeoutAndLateAnswersAreDropped) {
  ingestor_.SetDelay([](const ingest::IngestRequest&) { return milliseconds(800); });
  beast::error_code ec;
  std::thread client([&] {
    Client c(port_);
    c.WriteRequest(http::verb::post, "/v1/batch", "{}", {});
    c.Read(&ec);
  });
  ASSERT_TRUE(ingestor_.WaitForCount(1, milliseconds(5000)));
  auto t0 = std::chrono::steady_clock::now();
  server_->Stop(milliseconds(50));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(700));
  client.join();
  EXPECT_TRUE(ec);  // the connection was closed without an answer
  server_.reset();      // the server is gone before the Ingestor calls `done`
  ingestor_.JoinAll();  // `done` runs now: it must be dropped safely (ASan watches)
}

TEST_F(HttpServerTest, StartReportsBindErrorsInOneLine) {
  Services s;
  s.ingestor = &ingestor_;
  s.customers = &directory_;
  s.metrics = &registry_;
  HttpServerOptions o = TestOptions();
  o.port = port_;  // taken by the fixture's server
  HttpServer second(s, o);
  Status st = second.Start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.ToString(), "IOError: 127.0.0.1:" + std::to_string(port_) + ": address already in use");
  second.Stop();  // harmless after a failed Start

  o.address = "not-an-address";
  HttpServer third(s, o);
  Status bad = third.Start();
  EXPECT_EQ(bad.code(), Code::kInvalidArgument);
  EXPECT_NE(bad.ToString().find("not-an-address"), std::string::npos);
}

TEST_F(HttpServerTest, ManyConcurrentClients) {
  ingestor_.SetDelay([](const ingest::IngestRequest& r) { return r.body.size() % 2 ? milliseconds(5) : milliseconds(0); });
  constexpr int kClients = 8, kRequests = 40;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      Client c(port_);
      for (int i = 0; i < kRequests; ++i) {
        std::string body(static_cast<size_t>(t * 100 + i), 'z');
        Response r = c.Send(http::verb::post, "/v1/batch", body);
        if (r.result_int() == 200 && Json(r).at("accepted").to_number<size_t>() == body.size()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
}

}  // namespace
}  // namespace cairn::api
