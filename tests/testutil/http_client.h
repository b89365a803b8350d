#pragma once
// HttpClient: a small synchronous HTTP/1.1 client (Boost.Beast) for tests against a running
// server. One object is one keep-alive connection, opened on the first request and reopened on
// the next request after the server (or an error) closed it.
//
//   HttpClient c("127.0.0.1", port);
//   auto r = c.Request("POST", "/v1/batch", {{"Authorization", BasicAuth(key)}}, body);
//   if (r.ok() && r->status == 200) ...
//
// A failed request (connect, write, read, timeout) returns a non-OK Status and closes the
// connection; it is never retried, so the caller knows exactly which requests the server
// answered (the crash test relies on this). `Content-Length` is always sent; `Host` is added
// unless given.
//
// Thread-safety: none; one connection per thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace cairn::testutil {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  unsigned status = 0;
  HttpHeaders headers;
  std::string body;
  bool keep_alive = true;  // false when the server said it will close the connection

  // The first header named `name` (case-insensitive), or "" when absent.
  std::string Header(std::string_view name) const;
};

class HttpClient {
 public:
  // `timeout` bounds each request as a whole (connect, write, read).
  HttpClient(std::string host, uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpResponse> Request(std::string_view method, std::string_view target, const HttpHeaders& headers = {},
                               std::string_view body = {});

  // Shorthands.
  Result<HttpResponse> Get(std::string_view target, const HttpHeaders& headers = {}) {
    return Request("GET", target, headers);
  }
  Result<HttpResponse> Post(std::string_view target, std::string_view body, const HttpHeaders& headers = {}) {
    return Request("POST", target, headers, body);
  }

  // Closes the connection (the next request opens a new one).
  void Close();
  bool connected() const;
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::chrono::milliseconds timeout_;
};

// "Basic base64(user:password)" for an Authorization header; BasicAuth(key) = the Segment form
// "key:" with an empty password.
std::string BasicAuth(std::string_view user, std::string_view password = "");
std::string Base64Encode(std::string_view in);

}  // namespace cairn::testutil
