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
#include <condition_variable>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/logging.h"
#include "base/metrics.h"

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

class Session;

struct HttpServer::Impl {
  Impl(const Services& services, HttpServerOptions opts)
      : options(std::move(opts)),
        router(services, RouterOptions{options.enable_test_endpoints, options.clock}),
        registry(services.metrics ? services.metrics : metrics::Registry::Default()),
        connections_total(registry->GetCounter("cairn_http_connections_total", "TCP connections accepted.")),
        open_connections(registry->GetGauge("cairn_http_open_connections", "TCP connections currently open.")) {}

  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void Remove(Session* session);
  std::vector<std::shared_ptr<Session>> Snapshot();

  HttpServerOptions options;
  Router router;
  metrics::Registry* registry;
  metrics::Counter* connections_total;
  metrics::Gauge* open_connections;

  std::shared_ptr<Gate> gate = std::make_shared<Gate>();
  std::atomic<bool> draining{false};
  bool started = false;  // Start was called (Start/Stop are not concurrent: contract)
  bool running = false;  // Start succeeded and Stop has not run
  uint16_t bound_port = 0;

  std::mutex mu;
  std::condition_variable sessions_changed;
  // Live connections. Holding them here keeps a session alive while its handler runs (no
  // asynchronous operation holds it then); a session removes itself when it closes.
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions;  // guarded by mu

  // Declared last: destroyed first, so handlers still queued in it (which may own sessions) are
  // destroyed while everything above is intact.
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::optional<tcp::acceptor> acceptor;  // used on acceptor_strand only
  std::optional<net::strand<net::io_context::executor_type>> acceptor_strand;
  std::optional<net::steady_timer> accept_retry;
  std::vector<std::thread> threads;
};

// One connection. Every member is used on the connection's strand only.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServer::Impl* server, tcp::socket socket) : server_(server), stream_(std::move(socket)) {
    buffer_.reserve(kReadBufferReserve);
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
    header_parser_.emplace();
    header_parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    header_parser_->body_limit(boost::none);  // the body size is checked here, not by the parser
    is_head_ = false;
    unread_input_ = false;
    stream_.expires_after(server_->options.idle_timeout);
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
      return Close();  // end of stream, timeout, reset, aborted
    }
    state_ = State::kReadingBody;
    const auto& head = header_parser_->get();
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
    server_->router.Dispatch(std::move(request_), MakeResponder());
  }

  // A responder for the current request: callable from any thread, at most once; it posts the
  // answer to this connection's strand unless the server has stopped or the session is gone.
  Responder MakeResponder() {
    auto called = std::make_shared<std::atomic<bool>>(false);
    return [weak = weak_from_this(), gate = server_->gate, called](ApiResponse response) {
      if (called->exchange(true)) return;
      std::lock_guard<std::mutex> lock(gate->mu);
      if (!gate->open) return;
      std::shared_ptr<Session> self = weak.lock();
      if (!self) return;
      net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->Answer(std::move(response));
      });
    };
  }

  void Answer(ApiResponse response) {
    if (state_ == State::kClosed) return;
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
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
    server_->Remove(this);
  }

  HttpServer::Impl* server_;  // outlives every session that still runs handlers
  beast::tcp_stream stream_;
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
  socket.set_option(tcp::no_delay(true), ignored);  // small keep-alive answers must not wait on Nagle
  auto session = std::make_shared<Session>(this, std::move(socket));
  {
    std::lock_guard<std::mutex> lock(mu);
    sessions.emplace(session.get(), session);
  }
  connections_total->Inc();
  open_connections->Add(1);
  session->Start();
  DoAccept();
}

void HttpServer::Impl::Remove(Session* session) {
  std::shared_ptr<Session> keep;  // destroyed after the lock is released
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

std::vector<std::shared_ptr<Session>> HttpServer::Impl::Snapshot() {
  std::lock_guard<std::mutex> lock(mu);
  std::vector<std::shared_ptr<Session>> out;
  out.reserve(sessions.size());
  for (auto& [ptr, session] : sessions) out.push_back(session);
  return out;
}

HttpServer::HttpServer(const Services& services, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(services, std::move(options))) {}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

Router& HttpServer::router() { return impl_->router; }

uint16_t HttpServer::port() const { return impl_->bound_port; }

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

  s.work.emplace(s.ioc.get_executor());
  net::dispatch(*s.acceptor_strand, [&s] { s.DoAccept(); });
  int n = s.options.io_threads > 0 ? s.options.io_threads
                                   : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) {
    s.threads.emplace_back([&s] {
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
  LOG_INFO("http: listening on {} ({} I/O threads)", fmt::format("{}:{}", s.options.address, s.bound_port), n);
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
  std::unordered_map<Session*, std::shared_ptr<Session>> rest;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    rest.swap(s.sessions);
  }
  rest.clear();  // closes sockets while the io_context still exists
  LOG_INFO("http: stopped");
}

}  // namespace cairn::api
