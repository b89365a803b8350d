#include "actions/webhook.h"

#include <fmt/format.h>
#include <sodium.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>

namespace cairn::actions {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;

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
  if (url.starts_with("https://")) return InvalidArgument(fmt::format("url: https is not supported yet: '{}'", url));
  if (!url.starts_with("http://")) return InvalidArgument(fmt::format("url: must start with http://, got '{}'", url));
  std::string_view rest = url.substr(7);
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  HttpUrl out;
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

HttpAnswer PostJson(const HttpUrl& url, const std::vector<std::pair<std::string, std::string>>& headers,
                    std::string_view body, int64_t timeout_ms) {
  HttpAnswer answer;
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    beast::flat_buffer buffer;
    http::request<http::string_body> req{http::verb::post, url.target, 11};
    req.set(http::field::host, url.host + ":" + url.port);
    req.set(http::field::user_agent, "cairn-webhooks/1");
    req.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = std::string(body);
    req.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    beast::error_code failure;
    std::string stage = "resolve";

    // One chain of async steps on a private io_context: tcp_stream deadlines apply to async
    // operations only, and the chain ends at the first error.
    resolver.async_resolve(url.host, url.port, [&](beast::error_code ec, asio::ip::tcp::resolver::results_type results) {
      if (ec) return void(failure = ec);
      stage = "connect";
      stream.expires_at(deadline);
      stream.async_connect(results, [&](beast::error_code ec2, const auto&) {
        if (ec2) return void(failure = ec2);
        stage = "write";
        stream.expires_at(deadline);
        http::async_write(stream, req, [&](beast::error_code ec3, size_t) {
          if (ec3) return void(failure = ec3);
          stage = "read";
          stream.expires_at(deadline);
          http::async_read(stream, buffer, parser, [&](beast::error_code ec4, size_t) {
            if (ec4) return void(failure = ec4);
          });
        });
      });
    });
    ioc.run_for(std::chrono::milliseconds(timeout_ms + 1000));  // the resolver has no deadline of its own
    if (!ioc.stopped()) {
      stream.close();
      return {0, fmt::format("timed out after {} ms during {}", timeout_ms, stage), {}};
    }
    if (failure) {
      if (failure == beast::error::timeout) return {0, fmt::format("timed out after {} ms during {}", timeout_ms, stage), {}};
      return {0, fmt::format("{} failed: {}", stage, failure.message()), {}};
    }
    auto& res = parser.get();
    answer.status = static_cast<int>(res.result_int());
    answer.body = res.body().substr(0, 4096);
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  } catch (const std::exception& e) {
    answer = {0, fmt::format("http client error: {}", e.what()), {}};
  }
  return answer;
}

}  // namespace cairn::actions
