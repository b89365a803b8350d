#include "actions/webhook.h"

#include <fmt/format.h>
#include <sodium.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <chrono>
#include <optional>
#include <type_traits>

#include "actions/tls_context.h"

namespace cairn::actions {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;

namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

std::string Mac(std::string_view secret, int64_t t, std::string_view body) {
  crypto_auth_hmacsha256_state state;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  std::string prefix = fmt::format("{}.", t);
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return Hex(mac, sizeof mac);
}

}  // namespace

std::string SignatureHeader(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  return fmt::format("t={},v1={}", unix_seconds, Mac(secret, unix_seconds, body));
}

bool VerifySignature(std::string_view secret, std::string_view header, std::string_view body, int64_t now_unix_seconds,
                     int64_t tolerance_s) {
  if (!header.starts_with("t=")) return false;
  size_t comma = header.find(",v1=");
  if (comma == std::string_view::npos) return false;
  std::string_view t_text = header.substr(2, comma - 2);
  int64_t t = 0;
  auto [end, ec] = std::from_chars(t_text.data(), t_text.data() + t_text.size(), t);
  if (ec != std::errc() || end != t_text.data() + t_text.size()) return false;
  if (tolerance_s > 0 && (now_unix_seconds - t > tolerance_s || t - now_unix_seconds > tolerance_s)) return false;
  std::string expected = Mac(secret, t, body);
  std::string_view given = header.substr(comma + 4);
  return given.size() == expected.size() && sodium_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  HttpUrl out;
  std::string_view rest;
  if (url.starts_with("https://")) {
    out.tls = true;
    out.port = "443";
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return InvalidArgument(fmt::format("url: must start with http:// or https://, got '{}'", url));
  }
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!out.target.empty() && out.target.front() == '?') out.target.insert(0, "/");
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    out.host = std::string(authority.substr(0, colon));
    out.port = std::string(authority.substr(colon + 1));
    int port = 0;
    auto [end, ec] = std::from_chars(out.port.data(), out.port.data() + out.port.size(), port);
    if (ec != std::errc() || end != out.port.data() + out.port.size() || port < 1 || port > 65535) {
      return InvalidArgument(fmt::format("url: bad port in '{}'", url));
    }
  } else {
    out.host = std::string(authority);
  }
  if (out.host.empty()) return InvalidArgument(fmt::format("url: no host in '{}'", url));
  return out;
}

namespace {

// Everything one exchange needs, alive until ioc.run_for returns (the handlers refer to it).
struct Exchange {
  http::request<http::string_body> req;
  http::response_parser<http::string_body> parser;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point deadline;
  beast::error_code failure;
  std::string stage = "resolve";
};

// After the TCP connection: [TLS handshake →] write → read. The chain ends at the first error;
// every step re-arms the one deadline of the whole exchange.
template <class Stream>
void Talk(Stream& stream, Exchange* x) {
  auto write = [&stream, x] {
    x->stage = "write";
    beast::get_lowest_layer(stream).expires_at(x->deadline);
    http::async_write(stream, x->req, [&stream, x](beast::error_code ec, size_t) {
      if (ec) return void(x->failure = ec);
      x->stage = "read";
      beast::get_lowest_layer(stream).expires_at(x->deadline);
      http::async_read(stream, x->buffer, x->parser, [x](beast::error_code ec2, size_t) {
        if (ec2) x->failure = ec2;
      });
    });
  };
  if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
    x->stage = "tls handshake";
    beast::get_lowest_layer(stream).expires_at(x->deadline);
    stream.async_handshake(ssl::stream_base::client, [x, write](beast::error_code ec) {
      if (ec) return void(x->failure = ec);
      write();
    });
  } else {
    write();
  }
}

template <class Stream>
void Connect(Stream& stream, asio::ip::tcp::resolver& resolver, const HttpUrl& url, Exchange* x) {
  resolver.async_resolve(url.host, url.port,
                         [&stream, x](beast::error_code ec, asio::ip::tcp::resolver::results_type results) {
    if (ec) return void(x->failure = ec);
    x->stage = "connect";
    beast::get_lowest_layer(stream).expires_at(x->deadline);
    beast::get_lowest_layer(stream).async_connect(results, [&stream, x](beast::error_code ec2, const auto&) {
      if (ec2) return void(x->failure = ec2);
      Talk(stream, x);
    });
  });
}

// Names the receiver to check the certificate against (subjectAltName DNS name or IP address)
// and, for DNS names only (RFC 6066 forbids IP literals there), sends it as SNI so a receiver
// hosting several names presents the right certificate.
Status PrepareTls(SSL* ssl, const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  const bool is_ip = !ec;
  if (is_ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1) {
      return InvalidArgument(fmt::format("tls: cannot verify against IP address '{}'", host));
    }
  } else {
    if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1 || SSL_set1_host(ssl, host.c_str()) != 1) {
      return InvalidArgument(fmt::format("tls: cannot verify against host name '{}'", host));
    }
  }
  return Status::Ok();
}

}  // namespace

HttpAnswer PostJson(const HttpUrl& url, const std::vector<std::pair<std::string, std::string>>& headers,
                    std::string_view body, int64_t timeout_ms, const TlsContext* tls) {
  if (url.tls && tls == nullptr) return {0, "https url without a TLS context", {}};
  HttpAnswer answer;
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    Exchange x;
    x.req = {http::verb::post, url.target, 11};
    x.req.set(http::field::host, url.host + ":" + url.port);
    x.req.set(http::field::user_agent, "cairn-webhooks/1");
    x.req.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : headers) x.req.set(name, value);
    x.req.body() = std::string(body);
    x.req.prepare_payload();
    x.parser.body_limit(1 << 20);
    x.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);

    // One chain of async steps on a private io_context: tcp_stream deadlines apply to async
    // operations only, and the chain ends at the first error.
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
    if (url.tls) {
      secure.emplace(ioc, tls->native());
      if (Status s = PrepareTls(secure->native_handle(), url.host); !s.ok()) return {0, std::string(s.message()), {}};
      Connect(*secure, resolver, url, &x);
    } else {
      plain.emplace(ioc);
      Connect(*plain, resolver, url, &x);
    }
    auto& lowest = url.tls ? beast::get_lowest_layer(*secure) : *plain;
    ioc.run_for(std::chrono::milliseconds(timeout_ms + 1000));  // the resolver has no deadline of its own
    if (!ioc.stopped()) {
      lowest.close();
      return {0, fmt::format("timed out after {} ms during {}", timeout_ms, x.stage), {}};
    }
    if (x.failure) {
      if (x.failure == beast::error::timeout) {
        return {0, fmt::format("timed out after {} ms during {}", timeout_ms, x.stage), {}};
      }
      // A refused certificate: say why (expired, self-signed, wrong host, unknown CA) and what
      // it was checked against, so the operator knows whether to fix the receiver or ca_file.
      if (url.tls && x.stage == "tls handshake") {
        const long verify = SSL_get_verify_result(secure->native_handle());
        if (verify != X509_V_OK) {
          return {0,
                  fmt::format("tls handshake failed: certificate of {} rejected: {} (trusting {})", url.host,
                              X509_verify_cert_error_string(verify), tls->trust_description()),
                  {}};
        }
      }
      return {0, fmt::format("{} failed: {}", x.stage, x.failure.message()), {}};
    }
    auto& res = x.parser.get();
    answer.status = static_cast<int>(res.result_int());
    answer.body = res.body().substr(0, 4096);
    beast::error_code ignored;
    // The answer is complete (Content-Length or chunked end): no TLS close_notify exchange is
    // needed to trust it, so the connection is simply closed.
    lowest.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  } catch (const std::exception& e) {
    answer = {0, fmt::format("http client error: {}", e.what()), {}};
  }
  return answer;
}

}  // namespace cairn::actions
