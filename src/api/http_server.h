#pragma once
// HttpServer: the HTTP/1.1 server in front of the Router (Boost.Beast on Asio).
//
// - N I/O threads share one io_context; each connection runs on its own strand.
// - Keep-alive and pipelining-safe: a connection handles one request at a time, in order; the
//   next request is read only after the previous response is written, so pipelined requests are
//   answered in the order sent.
// - Bodies: a Content-Length body is read straight into the request's string (one allocation of
//   the right size, no parser copy, no buffer regrowth: large bodies are the common case for
//   batches); chunked bodies go through the Beast parser over a 64 KiB-reserved flat buffer. Over max_body_bytes, the body is read and discarded (up to
//   max_discard_bytes) and the router answers 413 on PostHog routes, 400 elsewhere, naming the
//   limit; the connection stays usable. `Expect: 100-continue` is honoured.
// - Handlers answer asynchronously from any thread; the answer is posted back to the
//   connection's strand. An answer arriving after Stop() gave up on its connection is dropped.
// - Timeouts (docs/reliability.md): idle (a keep-alive connection waiting for the first byte of
//   its next request), header (first byte → complete request line and headers: a client that
//   trickles its header — slowloris — is closed after it), read (one body), write (one answer).
// - Limits: a connection waiting for its first byte holds no read buffer (10k idle connections
//   cost kernel sockets, not heap). At max_connections, a new connection first evicts the
//   longest-idle keep-alive connection; when none is idle it is answered 503 + Retry-After and
//   closed — the acceptor never blocks. Request target over max_target_bytes → 414; line +
//   headers over max_header_bytes → 431; body bytes held by in-flight requests over
//   max_inflight_body_bytes → 503 + Retry-After without reading the body (memory stays bounded).
//
// Thread-safety: Start and Stop must not race each other, and Stop must not be called from a
// handler (it joins the I/O threads); everything else is internal.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/router.h"
#include "api/services.h"
#include "base/clock.h"
#include "base/status.h"

namespace cairn::api {

struct HttpServerOptions {
  // Address to bind. Default 127.0.0.1: /healthz, /readyz and /metrics need no key, so the bind
  // address is their protection (see handlers/admin_handler.h).
  std::string address = "127.0.0.1";
  // Port to bind; 0 picks a free one (tests), read it back with port(). Default 8080.
  uint16_t port = 8080;
  // I/O threads; 0 means std::thread::hardware_concurrency() (at least 1). Default 0.
  int io_threads = 0;
  // Largest request body accepted, in bytes as received (possibly gzip). Default 1 MiB + 64 KiB:
  // the ingest decoded limit (1 MiB) plus headroom, so a body just over the decoded limit
  // still reaches the Ingestor and gets its precise error.
  size_t max_body_bytes = (1u << 20) + (64u << 10);
  // An oversize body up to this size is read and discarded so the connection stays usable; a
  // larger one gets its answer and the connection is closed. Default 64 MiB.
  size_t max_discard_bytes = 64u << 20;
  // Largest request line + headers. Default 32 KiB (over it: 431 and close).
  size_t max_header_bytes = 32u << 10;
  // Longest request target (path + query) in bytes. Default 8 KiB (over it: 414 and close).
  size_t max_target_bytes = 8u << 10;
  // Keep-alive idle time allowed before the first byte of the next request. Default 60 s.
  std::chrono::milliseconds idle_timeout{60000};
  // Time allowed from a request's first byte to the end of its header. Default 10 s.
  std::chrono::milliseconds header_timeout{10000};
  // Open connections allowed (see Limits above). 0 means automatic: the process's RLIMIT_NOFILE
  // soft limit minus 512 descriptors kept for data files, SQLite and outgoing webhooks (half the
  // limit when it is under 1024). Default 0.
  size_t max_connections = 0;
  // Body bytes of requests being read or handled, over all connections, beyond which a new body
  // is refused with 503 + Retry-After (unread; the connection closes). A body counts its
  // Content-Length; a chunked or compressed one (Content-Encoding other than identity) counts
  // max_body_bytes, the most it may hold once decoded. A single body larger than the budget is
  // still admitted when nothing else is in flight. Default 64 MiB (docs/reliability.md, "Memory
  // under overload").
  size_t max_inflight_body_bytes = 64u << 20;
  // Time allowed to receive one request body. Default 30 s.
  std::chrono::milliseconds read_timeout{30000};
  // Time allowed to send one response. Default 30 s.
  std::chrono::milliseconds write_timeout{30000};
  // Route test-only switches (POST /v1/admin/test/fail-next). Default false.
  bool enable_test_endpoints = false;
  // Clock for received_at and latencies (outlives the server like Services). Default: real clock.
  Clock* clock = Clock::Real();
};

class HttpServer {
 public:
  // `services` is copied; what it points to must outlive the server (including, for the
  // Ingestor, any `done` it calls after Stop() gave up on a request).
  HttpServer(const Services& services, HttpServerOptions options);
  ~HttpServer();  // Stop(0) if still running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. One clear line on failure, e.g.
  // "IOError: 127.0.0.1:8080: address already in use". Call at most once.
  Status Start();

  // The bound port (after a successful Start).
  uint16_t port() const;

  // The connection limit in force (max_connections, or the automatic value) after Start.
  size_t max_connections() const;

  // Stops accepting (the port closes before this returns), closes idle connections, lets
  // in-flight requests finish (their answers are still delivered) for up to `drain_timeout`,
  // then closes whatever is left and joins the I/O threads. Idempotent.
  void Stop(std::chrono::milliseconds drain_timeout = std::chrono::seconds(10));

  Router& router();

 private:
  friend class HttpConnection;  // one connection (http_server.cc)
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::api
