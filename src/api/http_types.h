#pragma once
// ApiRequest / ApiResponse: the HTTP message as handlers see it, independent of Beast so that the
// router and handlers stay small and testable without sockets. http_server.cc converts to and
// from Beast messages; the body is moved, never copied.
//
// Responder: how a handler answers. It may be called from any thread, at most once (later calls
// are ignored), synchronously inside the handler or later (e.g. from an Ingestor's `done`).

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace cairn::api {

struct ApiRequest {
  std::string method;  // "GET", "POST", ... as sent (HTTP methods are case-sensitive)
  std::string path;    // the target up to '?', still percent-encoded
  std::string query;   // after '?', still percent-encoded; "" when absent
  // Header names lower-cased; values as sent (leading/trailing whitespace trimmed by the parser).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The client's IP address as text ("127.0.0.1", "::1"); "" when unknown (tests without a
  // socket). Used for per-IP rate limits.
  std::string remote;
  // True once the client has gone (closed or reset its connection), so long work for it can stop
  // (analytics queries: QueryContext's cancel probe). One poll(2) of the socket, reading nothing;
  // callable from any thread, also after the handler returned. Empty without a socket (tests).
  std::function<bool()> client_gone;

  // The first value of header `lower_name` (which must be lower-case), or "" when absent.
  std::string_view Header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return value;
    }
    return {};
  }
  bool HasHeader(std::string_view lower_name) const {
    for (const auto& h : headers) {
      if (h.first == lower_name) return true;
    }
    return false;
  }
};

struct ApiResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, in order
  std::string body;
  // Ask the server to close the connection after this response (e.g. after a request it could
  // not read completely). The server also closes when the client or a shutdown asks for it.
  bool close = false;
  // A streamed body (e.g. an export): when set, `body` is ignored and the server sends the answer
  // with Transfer-Encoding: chunked, calling next_chunk on the connection's strand for each next
  // piece only after the previous one was written (a slow reader slows the producer; nothing
  // piles up). "" ends the body; an error cuts the connection before the last chunk, so the client
  // sees a truncated body, never a complete-looking one. Pieces should be small (~64 KiB) and
  // quick to produce. Called at most until it returns "" or an error; destroyed after the answer.
  std::function<Result<std::string>()> next_chunk;

  void SetHeader(std::string name, std::string value) {
    for (auto& h : headers) {
      if (h.first == name) {
        h.second = std::move(value);
        return;
      }
    }
    headers.emplace_back(std::move(name), std::move(value));
  }
  std::string_view GetHeader(std::string_view name) const {
    for (const auto& h : headers) {
      if (h.first == name) return h.second;
    }
    return {};
  }
};

using Responder = std::function<void(ApiResponse)>;

}  // namespace cairn::api
