#include "testutil/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <optional>

namespace cairn::testutil {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

std::string Base64Encode(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (size_t rest = in.size() - i) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (rest == 2) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string BasicAuth(std::string_view user, std::string_view password) {
  std::string credentials(user);
  credentials += ':';
  credentials += password;
  return "Basic " + Base64Encode(credentials);
}

// Every operation is asynchronous and driven by running the io_context to completion, so the
// tcp_stream's expiry (the request's deadline) applies to connect, write and read alike.
struct HttpClient::Impl {
  std::string host;
  uint16_t port;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void Run() {
    ioc.restart();
    ioc.run();
  }

  void Close() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
      stream.reset();
    }
    buffer.clear();
  }

  Status Connect(std::chrono::milliseconds timeout) {
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return IOError("resolve " + host + ": " + ec.message());
    stream.emplace(ioc);
    stream->expires_after(timeout);
    stream->async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    Run();
    if (ec) {
      Close();
      return IOError("connect " + host + ":" + std::to_string(port) + ": " + ec.message());
    }
    return Status::Ok();
  }
};

HttpClient::HttpClient(std::string host, uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()), timeout_(timeout) {
  impl_->host = std::move(host);
  impl_->port = port;
}

HttpClient::~HttpClient() { impl_->Close(); }

void HttpClient::Close() { impl_->Close(); }

bool HttpClient::connected() const { return impl_->stream.has_value(); }

Result<HttpResponse> HttpClient::Request(std::string_view method, std::string_view target, const HttpHeaders& headers,
                                         std::string_view body) {
  if (!impl_->stream) {
    Status s = impl_->Connect(timeout_);
    if (!s.ok()) return s;
  }
  beast::tcp_stream& stream = *impl_->stream;
  stream.expires_after(timeout_);

  http::request<http::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(beast::string_view(target.data(), target.size()));
  req.version(11);
  bool has_host = false;
  for (const auto& [k, v] : headers) {
    has_host |= EqualsIgnoreCase(k, "host");
    req.insert(k, v);
  }
  if (!has_host) req.set(http::field::host, impl_->host + ":" + std::to_string(impl_->port));
  req.body() = std::string(body);
  req.prepare_payload();
  if (body.empty() && method != "GET" && method != "HEAD") req.content_length(0);

  beast::error_code write_ec;
  http::async_write(stream, req, [&](beast::error_code e, size_t) { write_ec = e; });
  impl_->Run();

  // Read even after a failed write: a server may answer (e.g. "body too large") and close before
  // the whole body was sent, and that answer is what the test wants to see.
  http::response_parser<http::string_body> parser;
  parser.body_limit(uint64_t{1} << 30);
  parser.header_limit(1u << 20);
  beast::error_code read_ec;
  http::async_read(stream, impl_->buffer, parser, [&](beast::error_code e, size_t) { read_ec = e; });
  impl_->Run();
  if (read_ec) {
    impl_->Close();
    std::string what = write_ec ? "write: " + write_ec.message() + "; read: " : "read: ";
    return IOError(std::string(method) + " " + std::string(target) + ": " + what + read_ec.message());
  }

  http::response<http::string_body> res = parser.release();
  HttpResponse out;
  out.status = res.result_int();
  for (const auto& field : res) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = std::move(res.body());
  out.keep_alive = res.keep_alive() && !write_ec;
  if (!out.keep_alive) impl_->Close();
  return out;
}

}  // namespace cairn::testutil
