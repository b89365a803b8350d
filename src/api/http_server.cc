#include "api/http_server.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <condition_variable>
#include <exception>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/responses.h"
#include "base/logging.h"
#include "base/metrics.h"
#include "base/thread_name.h"

namespace cairn::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

// Initial capacity of a connection's read buffer. Reads are sized by the buffer's free space, so
// this is also the read chunk for headers and pipelined requests. Bodies bypass it.
constexpr size_t kReadBufferReserve = 64 << 10;

// After answering a request whose input was not read completely (an oversize chunked body, a
// malformed request), the connection is half-closed and the client's remaining bytes are read and
// dropped for up to this long before closing: closing with unread data makes the kernel send a
// reset, which can destroy the answer before the client reads it.
constexpr std::chrono::seconds kLingerTimeout(2);

// A connection refused at max_connections gets a canned 503, then lingers like above (so the
// answer is not destroyed by a reset) for at most this long. At most kMaxRejecting such
// connections linger at once; beyond that they are closed at once (the limit must not be
// escapable through the rejection path itself).
constexpr std::chrono::milliseconds kRejectLinger(500);
constexpr int kMaxRejecting = 256;
const std::string& BusyResponse() {
  static const std::string kResponse = [] {
    const std::string body = R"({"error":"too many connections: retry later"})";
    return fmt::format(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
        "Connection: close\r\nContent-Length: {}\r\n\r\n{}",
        body.size(), body);
  }();
  return kResponse;
}

// Descriptors kept for everything but client connections when max_connections is automatic.
constexpr size_t kReservedFds = 512;

size_t AutoMaxConnections() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 16384;
  const size_t soft = static_cast<size_t>(rl.rlim_cur);
  return soft >= 2 * kReservedFds ? soft - kReservedFds : std::max<size_t>(soft / 2, 1);
}

// Why a session exists after Stop(): a `done` may still arrive for it. Responders check the gate
// under its mutex before posting to the connection's strand, and Stop() closes it before the
// io_context stops, so nothing is posted to an io_context that is gone.
struct Gate {
  std::mutex mu;
  bool open = true;  // guarded by mu
};

std::string LowerFirst(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// A request that is not HTTP (as opposed to a connection that ended or timed out).
bool IsProtocolError(const beast::error_code& ec) {
  static const beast::error_code kHttp = http::error::bad_method;
  return ec.category() == kHttp.category() && ec != http::error::end_of_stream && ec != http::error::partial_message &&
         ec != http::error::need_more && ec != http::error::body_limit;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

class HttpConnection;

struct HttpServer::Impl {
  Impl(const Services& services, HttpServerOptions opts)
      : options(std::move(opts)),
        router(services, RouterOptions{options.enable_test_endpoints, options.clock}),
        registry(services.metrics ? services.metrics : metrics::Registry::Default()),
        connections_total(registry->GetCounter("cairn_http_connections_total", "TCP connections accepted.")),
        open_connections(registry->GetGauge("cairn_http_open_connections", "TCP connections currently open.")),
        rejected_connections(registry->GetCounter("cairn_http_rejected_connections_total",
                                                  "Connections answered 503 at max_connections.")),
        evicted_connections(registry->GetCounter("cairn_http_evicted_idle_connections_total",
                                                 "Idle keep-alive connections closed to make room at max_connections.")),
        header_timeouts(registry->GetCounter("cairn_http_header_timeouts_total",
                                             "Connections closed because a request header took longer than header_timeout.")),
        busy_rejections(registry->GetCounter("cairn_http_body_budget_rejections_total",
                                             "Requests answered 503 because in-flight body bytes were over max_inflight_body_bytes.")) {}

  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void Remove(HttpConnection* session);
  std::vector<std::shared_ptr<HttpConnection>> Snapshot();
  // At max_connections: closes the longest-idle connection if one is idle. False when none is.
  bool EvictIdle();
  void RejectBusy(tcp::socket socket);
  // In-flight body budget (max_inflight_body_bytes): Reserve fails when over it.
  bool ReserveBody(uint64_t bytes);
  void ReleaseBody(uint64_t bytes) { inflight_body_bytes.fetch_sub(bytes); }

  HttpServerOptions options;
  Router router;
  metrics::Registry* registry;
  metrics::Counter* connections_total;
  metrics::Gauge* open_connections;
  metrics::Counter* rejected_connections;
  metrics::Counter* evicted_connections;
  metrics::Counter* header_timeouts;
  metrics::Counter* busy_rejections;
  size_t max_connections = 0;  // in force; set by Start
  std::atomic<uint64_t> inflight_body_bytes{0};
  std::atomic<int> rejecting{0};  // connections lingering after a 503 at max_connections

  std::shared_ptr<Gate> gate = std::make_shared<Gate>();
  std::atomic<bool> draining{false};
  bool started = false;  // Start was called (Start/Stop are not concurrent: contract)
  bool running = false;  // Start succeeded and Stop has not run
  uint16_t bound_port = 0;

  std::mutex mu;
  std::condition_variable sessions_changed;
  // Live connections. Holding them here keeps a session alive while its handler runs (no
  // asynchronous operation holds it then); a session removes itself when it closes.
  std::unordered_map<HttpConnection*, std::shared_ptr<HttpConnection>> sessions;  // guarded by mu

  // Declared last: destroyed first, so handlers still queued in it (which may own sessions) are
  // destroyed while everything above is intact.
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::optional<tcp::acceptor> acceptor;  // used on acceptor_strand only
  std::optional<net::strand<net::io_context::executor_type>> acceptor_strand;
  std::optional<net::steady_timer> accept_retry;
  std::vector<std::thread> threads;
};

// Whether the peer of socket `fd` has gone, without reading from it: an error or hang-up, or end
// of stream (the client closed its end: a FIN reads as 0 bytes). Bytes waiting to be read (a
// pipelined request) mean it is still there. Non-blocking; safe from any thread.
static bool PeerGone(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;  // nothing happened (or EINTR): still there
  if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return true;
  if (!(p.revents & POLLIN)) return false;
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

// One connection. Every member is used on the connection's strand only (closed_ excepted).
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  // The read buffer is allocated when the first request starts to arrive (StartHeader), so a
  // connection that never sends anything costs no heap beyond this object.
  HttpConnection(HttpServer::Impl* server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)), idle_timer_(stream_.get_executor()) {}

  // For EvictIdle (any thread): whether this connection waits for the first byte of a request,
  // and since when (steady clock, ns). A claim clears the flag so no two accepts pick it.
  bool idle() const { return idle_.load(std::memory_order_relaxed); }
  int64_t idle_since_ns() const { return idle_since_ns_.load(std::memory_order_relaxed); }
  bool ClaimIdle() {
    bool expected = true;
    return idle_.compare_exchange_strong(expected, false);
  }

  // Closes the connection if it still waits for a request (EvictIdle); otherwise nothing.
  void EvictIfIdle() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->waiting_ && self->state_ == State::kIdle) {
        self->server_->evicted_connections->Inc();
        self->Close();
      }
    });
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Stop(): close now if waiting for a request that has not started; otherwise finish the
  // current request (its answer says Connection: close).
  void Drain() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->state_ == State::kIdle && self->buffer_.size() == 0) self->Close();
    });
  }

  void ForceClose() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  enum class State { kIdle, kReadingBody, kHandling, kWriting, kClosed };

  void ReadHeader() {
    if (state_ == State::kClosed) return;
    if (server_->draining.load()) return Close();
    state_ = State::kIdle;
    request_ = ApiRequest();
    body_parser_.reset();
    is_head_ = false;
    unread_input_ = false;
    if (buffer_.size() > 0) return StartHeader();  // pipelined: the next request is here already
    WaitForRequest();
  }

  // Keep-alive idle: wait (up to idle_timeout) for the socket to become readable, without a read
  // buffer; the header timer starts only with the first byte.
  void WaitForRequest() {
    waiting_ = true;
    idle_since_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    idle_.store(true, std::memory_order_relaxed);
    idle_timer_.expires_after(server_->options.idle_timeout);
    idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->state_ == State::kClosed || !self->waiting_) return;  // cancelled: data came
      self->Close();
    });
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
      if (self->state_ == State::kClosed) return;
      self->waiting_ = false;
      self->idle_.store(false, std::memory_order_relaxed);
      self->idle_timer_.cancel();
      if (ec || self->server_->draining.load()) return self->Close();
      self->StartHeader();
    });
  }

  void StartHeader() {
    if (buffer_.capacity() < kReadBufferReserve) buffer_.reserve(kReadBufferReserve);
    header_parser_.emplace();
    header_parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    header_parser_->body_limit(boost::none);  // the body size is checked here, not by the parser
    stream_.expires_after(server_->options.header_timeout);
    http::async_read_header(stream_, buffer_, *header_parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (state_ == State::kClosed) return;
    if (ec) {
      unread_input_ = true;
      if (ec == http::error::header_limit) {
        return Answer(server_->router.Malformed(
            431, fmt::format("request header is over the limit of {} bytes", server_->options.max_header_bytes)));
      }
      if (IsProtocolError(ec)) {
        return Answer(server_->router.Malformed(400, fmt::format("malformed HTTP request: {}", ec.message())));
      }
      if (ec == beast::error::timeout) server_->header_timeouts->Inc();
      return Close();  // end of stream, timeout, reset, aborted
    }
    state_ = State::kReadingBody;
    const auto& head = header_parser_->get();
    if (head.target().size() > server_->options.max_target_bytes) {
      unread_input_ = true;
      return Answer(server_->router.Malformed(
          414, fmt::format("request target is over the limit of {} bytes", server_->options.max_target_bytes)));
    }
    version_ = head.version();
    keep_alive_ = header_parser_->keep_alive();
    request_.method = std::string(head.method_string());
    {
      beast::error_code ignored;
      auto peer = stream_.socket().remote_endpoint(ignored);
      if (!ignored) request_.remote = peer.address().to_string();
    }
    is_head_ = head.method() == http::verb::head;
    std::string_view target = head.target();
    size_t q = target.find('?');
    request_.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) request_.query = std::string(target.substr(q + 1));
    for (const auto& field : head) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request_.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    const bool expect_continue = version_ >= 11 && IEquals(request_.Header("expect"), "100-continue");
    const size_t limit = server_->options.max_body_bytes;

    // In-flight body budget: refuse before reading (and allocating) the body. A compressed body is
    // charged at max_body_bytes, not at its wire size: the handler decodes it (up to the ingest
    // limit), and a few KiB of gzip must not buy a MiB of memory past the budget.
    const std::string_view encoding = request_.Header("content-encoding");
    const bool encoded = !encoding.empty() && !IEquals(encoding, "identity");
    uint64_t reserve = header_parser_->chunked() ? limit : header_parser_->content_length().value_or(0);
    if (encoded && reserve > 0 && reserve <= limit) reserve = limit;
    if (reserve > 0 && reserve <= limit) {
      if (!server_->ReserveBody(reserve)) {
        server_->busy_rejections->Inc();
        keep_alive_ = false;
        unread_input_ = true;
        ApiResponse busy = JsonError(503, "server busy: too many request bodies in flight; retry later");
        busy.SetHeader("Retry-After", "1");
        busy.close = true;
        return Answer(std::move(busy));
      }
      reserved_body_ = reserve;
    }

    if (header_parser_->chunked()) {
      // Rare for our clients; the parser decodes the chunks into a string body.
      body_parser_.emplace(std::move(*header_parser_));
      body_parser_->body_limit(limit);
      auto read = [this] {
        stream_.expires_after(server_->options.read_timeout);
        http::async_read(stream_, buffer_, *body_parser_,
                         [self = shared_from_this()](beast::error_code ec, size_t) { self->OnChunkedBody(ec); });
      };
      return expect_continue ? WriteContinue(read) : read();
    }

    const uint64_t length = header_parser_->content_length().value_or(0);
    if (length > limit) {
      if (expect_continue || length > server_->options.max_discard_bytes) {
        // The client has not sent (or we will not read) the body: answer and close.
        keep_alive_ = false;
        unread_input_ = true;
        return RejectOversize();
      }
      discard_remaining_ = length;
      const size_t buffered = std::min<uint64_t>(buffer_.size(), discard_remaining_);
      buffer_.consume(buffered);
      discard_remaining_ -= buffered;
      stream_.expires_after(server_->options.read_timeout);
      return Discard();
    }

    // The fast path: copy what the header read already buffered, read the rest of the body
    // straight into the string.
    request_.body.resize(static_cast<size_t>(length));
    const size_t buffered = std::min<uint64_t>(buffer_.size(), length);
    net::buffer_copy(net::buffer(request_.body.data(), buffered), buffer_.data());
    buffer_.consume(buffered);
    if (buffered == length) return Dispatch();
    auto read = [this, buffered] {
      stream_.expires_after(server_->options.read_timeout);
      net::async_read(stream_, net::buffer(request_.body.data() + buffered, request_.body.size() - buffered),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (self->state_ == State::kClosed) return;
                        if (ec) return self->Close();  // timeout or the client went away mid-body
                        self->Dispatch();
                      });
    };
    expect_continue ? WriteContinue(read) : read();
  }

  void OnChunkedBody(beast::error_code ec) {
    if (state_ == State::kClosed) return;
    if (ec == http::error::body_limit) {
      keep_alive_ = false;  // the rest of the chunked body is unread: the stream cannot resync
      unread_input_ = true;
      return RejectOversize();
    }
    if (ec) {
      if (IsProtocolError(ec)) {
        unread_input_ = true;
        return Answer(server_->router.Malformed(400, fmt::format("malformed chunked body: {}", ec.message())));
      }
      return Close();
    }
    request_.body = std::move(body_parser_->get().body());
    body_parser_.reset();
    Dispatch();
  }

  template <typename Next>
  void WriteContinue(Next next) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(server_->options.write_timeout);
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     [self = shared_from_this(), next](beast::error_code ec, size_t) {
                       if (self->state_ == State::kClosed) return;
                       if (ec) return self->Close();
                       next();
                     });
  }

  // Reads and drops the rest of an oversize body so the next request on this connection parses.
  void Discard() {
    if (discard_remaining_ == 0) return RejectOversize();
    if (discard_buffer_.empty()) discard_buffer_.resize(kReadBufferReserve);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(discard_buffer_.size(), discard_remaining_));
    stream_.async_read_some(net::buffer(discard_buffer_.data(), n),
                            [self = shared_from_this()](beast::error_code ec, size_t got) {
                              if (self->state_ == State::kClosed) return;
                              if (ec) return self->Close();
                              self->discard_remaining_ -= got;
                              self->Discard();
                            });
  }

  void RejectOversize() {
    discard_buffer_ = {};
    state_ = State::kHandling;
    stream_.expires_never();
    server_->router.RejectOversize(request_, server_->options.max_body_bytes, MakeResponder());
  }

  void Dispatch() {
    state_ = State::kHandling;
    stream_.expires_never();  // the handler's time is the handler's business
    request_.client_gone = ClientGoneProbe();
    server_->router.Dispatch(std::move(request_), MakeResponder());
  }

  // ApiRequest::client_gone for the current request: callable from any thread; true once the
  // connection is closed here or the client has gone (PeerGone). The fd is read once, now; after
  // Close() the flag answers before the (possibly reused) descriptor is looked at.
  std::function<bool()> ClientGoneProbe() {
    return [weak = weak_from_this(), fd = stream_.socket().native_handle()] {
      std::shared_ptr<HttpConnection> self = weak.lock();
      if (!self || self->closed_.load(std::memory_order_acquire)) return true;
      return PeerGone(fd);
    };
  }

  // A responder for the current request: callable from any thread, at most once; it posts the
  // answer to this connection's strand unless the server has stopped or the session is gone.
  Responder MakeResponder() {
    auto called = std::make_shared<std::atomic<bool>>(false);
    return [weak = weak_from_this(), gate = server_->gate, called](ApiResponse response) {
      if (called->exchange(true)) return;
      std::lock_guard<std::mutex> lock(gate->mu);
      if (!gate->open) return;
      std::shared_ptr<HttpConnection> self = weak.lock();
      if (!self) return;
      net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->Answer(std::move(response));
      });
    };
  }

  void ReleaseBody() {
    if (reserved_body_ == 0) return;
    server_->ReleaseBody(reserved_body_);
    reserved_body_ = 0;
  }

  void Answer(ApiResponse response) {
    if (state_ == State::kClosed) return;
    ReleaseBody();
    state_ = State::kWriting;
    const bool keep = keep_alive_ && !response.close && !server_->draining.load();
    response_ = {};
    response_.version(version_ == 10 ? 10 : 11);
    response_.result(response.status);
    if (!response.content_type.empty()) response_.set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) response_.set(name, value);
    response_.keep_alive(keep);
    if (response.next_chunk && !is_head_) return AnswerStream(std::move(response.next_chunk), keep);
    const size_t body_size = response.body.size();
    response_.body() = std::move(response.body);
    if (is_head_) {
      response_.body().clear();
      response_.content_length(body_size);
    } else if (response_.result() != http::status::no_content) {
      response_.prepare_payload();
    }
    stream_.expires_after(server_->options.write_timeout);
    http::async_write(stream_, response_, [self = shared_from_this(), keep](beast::error_code ec, size_t) {
      if (self->state_ == State::kClosed) return;
      if (ec) return self->Close();
      if (keep) return self->ReadHeader();
      if (self->unread_input_) return self->Linger();
      self->Close();
    });
  }

  // A streamed answer (ApiResponse::next_chunk): the header from response_ with chunked transfer
  // encoding, then each piece as one chunk (HTTP/1.0: raw, and the connection closes to end it).
  void AnswerStream(std::function<Result<std::string>()> next_chunk, bool keep) {
    next_chunk_ = std::move(next_chunk);
    const bool chunked = version_ != 10;
    if (!chunked) keep = false;
    response_.keep_alive(keep);
    response_.chunked(chunked);
    stream_header_.emplace(std::move(response_.base()));
    stream_header_->chunked(chunked);
    stream_header_->keep_alive(keep);
    response_ = {};
    header_serializer_.emplace(*stream_header_);
    stream_.expires_after(server_->options.write_timeout);
    http::async_write_header(stream_, *header_serializer_, [self = shared_from_this(), keep, chunked](beast::error_code ec, size_t) {
      if (self->state_ == State::kClosed) return;
      if (ec) return self->Close();
      self->WriteNextChunk(keep, chunked);
    });
  }

  void WriteNextChunk(bool keep, bool chunked) {
    Result<std::string> piece = std::string();
    try {
      piece = next_chunk_();
    } catch (const std::exception& e) {
      piece = Internal(fmt::format("streamed answer threw: {}", e.what()));
    }
    if (!piece.ok()) {
      LOG_EVERY_N_SEC(kError, 10, "http: streamed answer failed, connection cut: {}", piece.status().ToString());
      return Close();
    }
    auto done = [self = shared_from_this(), keep, chunked](beast::error_code ec, size_t) {
      if (self->state_ == State::kClosed) return;
      if (ec) return self->Close();
      if (self->chunk_.empty() && self->next_chunk_ == nullptr) {  // the last chunk went out
        self->header_serializer_.reset();
        self->stream_header_.reset();
        if (keep) return self->ReadHeader();
        if (self->unread_input_) return self->Linger();
        return self->Close();
      }
      self->WriteNextChunk(keep, chunked);
    };
    stream_.expires_after(server_->options.write_timeout);
    chunk_ = std::move(*piece);
    if (chunk_.empty()) {
      next_chunk_ = nullptr;
      if (!chunked) return done(beast::error_code{}, 0);
      return net::async_write(stream_, http::make_chunk_last(), std::move(done));
    }
    if (!chunked) return net::async_write(stream_, net::buffer(chunk_), std::move(done));
    net::async_write(stream_, http::make_chunk(net::buffer(chunk_)), std::move(done));
  }

  // See kLingerTimeout.
  void Linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    discard_remaining_ = server_->options.max_discard_bytes;
    stream_.expires_after(kLingerTimeout);
    LingerRead();
  }

  void LingerRead() {
    if (discard_buffer_.empty()) discard_buffer_.resize(kReadBufferReserve);
    stream_.async_read_some(net::buffer(discard_buffer_.data(), discard_buffer_.size()),
                            [self = shared_from_this()](beast::error_code ec, size_t got) {
                              if (self->state_ == State::kClosed) return;
                              if (ec || got >= self->discard_remaining_) return self->Close();  // EOF or timeout
                              self->discard_remaining_ -= got;
                              self->LingerRead();
                            });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    closed_.store(true, std::memory_order_release);
    ReleaseBody();
    waiting_ = false;
    idle_.store(false, std::memory_order_relaxed);
    idle_timer_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
    server_->Remove(this);
  }

  HttpServer::Impl* server_;  // outlives every session that still runs handlers
  beast::tcp_stream stream_;
  net::steady_timer idle_timer_;  // idle_timeout while waiting_
  bool waiting_ = false;          // waiting for the first byte of a request (WaitForRequest)
  std::atomic<bool> idle_{false};              // waiting_, readable from other threads (EvictIdle)
  std::atomic<int64_t> idle_since_ns_{0};
  std::atomic<bool> closed_{false};            // state_ == kClosed, readable from other threads
  uint64_t reserved_body_ = 0;  // bytes of the in-flight body budget held by this request
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> header_parser_;
  std::optional<http::request_parser<http::string_body>> body_parser_;
  http::response<http::string_body> response_;
  // A streamed answer in progress (AnswerStream).
  std::function<Result<std::string>()> next_chunk_;
  std::optional<http::response<http::empty_body>> stream_header_;
  std::optional<http::response_serializer<http::empty_body>> header_serializer_;
  std::string chunk_;  // the piece being written
  ApiRequest request_;
  std::vector<char> discard_buffer_;
  uint64_t discard_remaining_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool is_head_ = false;
  bool unread_input_ = false;  // the current request's input was not consumed: linger on close
  State state_ = State::kIdle;
};

// A connection refused at max_connections: canned 503, half-close, drain until the client closes
// or kRejectLinger passes, close. Everything runs on the socket's strand.
class RejectedConnection : public std::enable_shared_from_this<RejectedConnection> {
 public:
  RejectedConnection(tcp::socket socket, std::atomic<int>* counter)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), counter_(counter) {}

  void Start() {
    net::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      self->timer_.expires_after(kRejectLinger);
      self->timer_.async_wait([self](beast::error_code ec) {
        if (!ec) self->Finish();
      });
      net::async_write(self->socket_, net::buffer(BusyResponse()), [self](beast::error_code ec, size_t) {
        if (ec) return self->Finish();
        beast::error_code ignored;
        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
        self->Drain();
      });
    });
  }

 private:
  void Drain() {
    socket_.async_read_some(net::buffer(scratch_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Finish();  // EOF, or the timer closed the socket
      self->Drain();
    });
  }

  void Finish() {
    if (done_) return;
    done_ = true;
    beast::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    counter_->fetch_sub(1);
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  std::atomic<int>* counter_;  // HttpServer::Impl::rejecting
  bool done_ = false;
  std::array<char, 4096> scratch_;
};

void HttpServer::Impl::DoAccept() {
  acceptor->async_accept(net::make_strand(ioc), net::bind_executor(*acceptor_strand, [this](beast::error_code ec,
                                                                                          tcp::socket socket) {
                           OnAccept(ec, std::move(socket));
                         }));
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
  if (ec) {
    // E.g. out of file descriptors: back off instead of spinning.
    LOG_EVERY_N_SEC(kWarn, 10, "http: accept failed: {}", ec.message());
    accept_retry->expires_after(std::chrono::milliseconds(100));
    accept_retry->async_wait(net::bind_executor(*acceptor_strand, [this](beast::error_code wait_ec) {
      if (!wait_ec && acceptor->is_open()) DoAccept();
    }));
    return;
  }
  if (draining.load()) {
    beast::error_code ignored;
    socket.close(ignored);
    return;
  }
  beast::error_code ignored;
  size_t open;
  {
    std::lock_guard<std::mutex> lock(mu);
    open = sessions.size();
  }
  // Over the limit: make room by closing the longest-idle connection (it is closed
  // asynchronously, so the limit may be passed by the few connections accepted meanwhile), or
  // refuse this one.
  if (open >= max_connections && !EvictIdle()) {
    RejectBusy(std::move(socket));
    return DoAccept();
  }
  socket.set_option(tcp::no_delay(true), ignored);  // small keep-alive answers must not wait on Nagle
  auto session = std::make_shared<HttpConnection>(this, std::move(socket));
  {
    std::lock_guard<std::mutex> lock(mu);
    sessions.emplace(session.get(), session);
  }
  connections_total->Inc();
  open_connections->Add(1);
  session->Start();
  DoAccept();
}

bool HttpServer::Impl::EvictIdle() {
  std::shared_ptr<HttpConnection> victim;
  {
    std::lock_guard<std::mutex> lock(mu);
    int64_t oldest = std::numeric_limits<int64_t>::max();
    for (auto& [ptr, session] : sessions) {
      if (session->idle() && session->idle_since_ns() < oldest) {
        oldest = session->idle_since_ns();
        victim = session;
      }
    }
  }
  if (!victim || !victim->ClaimIdle()) return false;
  victim->EvictIfIdle();
  return true;
}

// The refusal is asynchronous (its own strand: the socket's) and bounded in time and number,
// so the acceptor goes straight back to accepting.
void HttpServer::Impl::RejectBusy(tcp::socket socket) {
  rejected_connections->Inc();
  LOG_EVERY_N_SEC(kWarn, 10, "http: {} connections open (max_connections): answering 503", max_connections);
  beast::error_code ignored;
  if (rejecting.fetch_add(1) >= kMaxRejecting) {
    rejecting.fetch_sub(1);
    socket.close(ignored);
    return;
  }
  auto r = std::make_shared<RejectedConnection>(std::move(socket), &rejecting);
  r->Start();
}

bool HttpServer::Impl::ReserveBody(uint64_t bytes) {
  uint64_t cur = inflight_body_bytes.load();
  do {
    if (cur > 0 && cur + bytes > options.max_inflight_body_bytes) return false;
  } while (!inflight_body_bytes.compare_exchange_weak(cur, cur + bytes));
  return true;
}

void HttpServer::Impl::Remove(HttpConnection* session) {
  std::shared_ptr<HttpConnection> keep;  // destroyed after the lock is released
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = sessions.find(session);
    if (it == sessions.end()) return;
    keep = std::move(it->second);
    sessions.erase(it);
  }
  open_connections->Add(-1);
  sessions_changed.notify_all();
}

std::vector<std::shared_ptr<HttpConnection>> HttpServer::Impl::Snapshot() {
  std::lock_guard<std::mutex> lock(mu);
  std::vector<std::shared_ptr<HttpConnection>> out;
  out.reserve(sessions.size());
  for (auto& [ptr, session] : sessions) out.push_back(session);
  return out;
}

HttpServer::HttpServer(const Services& services, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(services, std::move(options))) {}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

Router& HttpServer::router() { return impl_->router; }

uint16_t HttpServer::port() const { return impl_->bound_port; }

size_t HttpServer::max_connections() const { return impl_->max_connections; }

Status HttpServer::Start() {
  Impl& s = *impl_;
  if (s.started) return FailedPrecondition("http server already started");
  s.started = true;
  const std::string where = s.options.address.find(':') != std::string::npos
                                ? fmt::format("[{}]:{}", s.options.address, s.options.port)
                                : fmt::format("{}:{}", s.options.address, s.options.port);
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(s.options.address, ec);
  if (ec) return InvalidArgument(fmt::format("{}: not an IP address", where));
  tcp::endpoint endpoint(address, s.options.port);

  s.acceptor_strand.emplace(net::make_strand(s.ioc));
  s.acceptor.emplace(*s.acceptor_strand);
  s.accept_retry.emplace(*s.acceptor_strand);
  auto fail = [&](std::string_view step) {
    beast::error_code ignored;
    s.acceptor->close(ignored);
    return IOError(fmt::format("{}: {}{}", where, step, LowerFirst(ec.message())));
  };
  s.acceptor->open(endpoint.protocol(), ec);
  if (ec) return fail("open: ");
  s.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return fail("SO_REUSEADDR: ");
  s.acceptor->bind(endpoint, ec);
  if (ec) return fail("");
  s.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen: ");
  s.bound_port = s.acceptor->local_endpoint(ec).port();
  s.max_connections = s.options.max_connections > 0 ? s.options.max_connections : AutoMaxConnections();

  s.work.emplace(s.ioc.get_executor());
  net::dispatch(*s.acceptor_strand, [&s] { s.DoAccept(); });
  int n = s.options.io_threads > 0 ? s.options.io_threads
                                   : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) {
    s.threads.emplace_back([&s] {
      NameThisThread("http-io");
      // A throwing handler is a bug (the router already catches handler exceptions); keep the
      // thread serving rather than terminating the process.
      while (true) {
        try {
          s.ioc.run();
          return;
        } catch (const std::exception& e) {
          LOG_ERROR("http: I/O thread caught: {}", e.what());
        }
      }
    });
  }
  s.running = true;
  LOG_INFO("http: listening on {} ({} I/O threads, max {} connections)",
           fmt::format("{}:{}", s.options.address, s.bound_port), n, s.max_connections);
  return Status::Ok();
}

void HttpServer::Stop(std::chrono::milliseconds drain_timeout) {
  Impl& s = *impl_;
  if (!s.running) return;
  s.running = false;
  s.draining.store(true);

  // 1. Stop accepting; the listening socket is closed when this returns.
  std::promise<void> closed;
  net::dispatch(*s.acceptor_strand, [&s, &closed] {
    beast::error_code ignored;
    s.acceptor->close(ignored);
    s.accept_retry->cancel();
    closed.set_value();
  });
  closed.get_future().wait();

  // 2. Idle connections close now; busy ones after their current answer.
  for (auto& session : s.Snapshot()) session->Drain();
  const auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    s.sessions_changed.wait_until(lock, deadline, [&s] { return s.sessions.empty(); });
  }

  // 3. Whatever is left is abandoned: close it, and drop answers that arrive later.
  auto left = s.Snapshot();
  if (!left.empty()) {
    LOG_WARN("http: drain timeout: closing {} connections still open", left.size());
    for (auto& session : left) session->ForceClose();
    left.clear();
    std::unique_lock<std::mutex> lock(s.mu);
    s.sessions_changed.wait_for(lock, std::chrono::seconds(1), [&s] { return s.sessions.empty(); });
  }
  {
    std::lock_guard<std::mutex> lock(s.gate->mu);
    s.gate->open = false;
  }
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  std::unordered_map<HttpConnection*, std::shared_ptr<HttpConnection>> rest;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    rest.swap(s.sessions);
  }
  rest.clear();  // closes sockets while the io_context still exists
  LOG_INFO("http: stopped");
}

}  // namespace cairn::api
