#pragma once
// Webhook delivery primitives: the signature and one HTTP POST with a deadline.
//
// Signature (Stripe-style, so receivers can reuse known verification code):
//   X-Cairn-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
// The timestamp inside the signed string lets a receiver refuse replays older than its tolerance.
// Each delivery also carries Idempotency-Key (the same on every retry and replay of one action),
// X-Cairn-Action-Id and X-Cairn-Attempt.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace cairn::actions {

// "t=...,v1=..." for `body` signed with `secret` at `unix_seconds`.
std::string SignatureHeader(std::string_view secret, int64_t unix_seconds, std::string_view body);
// Verifies a header against `body`; `tolerance_s` bounds |now − t| (0 = no time check).
// Constant-time comparison of the MAC.
bool VerifySignature(std::string_view secret, std::string_view header, std::string_view body, int64_t now_unix_seconds,
                     int64_t tolerance_s);

struct HttpUrl {
  std::string host;
  std::string port = "80";   // 443 for https
  std::string target = "/";
  bool tls = false;          // https://
};
// http[s]://host[:port][/path][?query]; InvalidArgument naming what is wrong otherwise.
Result<HttpUrl> ParseHttpUrl(std::string_view url);

class TlsContext;

struct HttpAnswer {
  int status = 0;     // 0 = no HTTP answer (connect/read error, timeout): see error
  std::string error;  // "" when an HTTP answer arrived
  std::string body;   // the answer's body (truncated to 4 KiB)
};

// POSTs `body` (application/json) with `headers`; the whole exchange (resolve, connect, write,
// read; for https also the TLS handshake) must finish within `timeout_ms`. An https url needs
// `tls` (the CAs to trust, tls_context.h); the receiver's certificate is verified against it and
// the url's host, and a refused certificate is an error naming the reason ("certificate of
// HOST rejected: self-signed certificate (trusting …)"). Never throws. Thread-safe (`tls` is
// shared read-only).
HttpAnswer PostJson(const HttpUrl& url, const std::vector<std::pair<std::string, std::string>>& headers,
                    std::string_view body, int64_t timeout_ms, const TlsContext* tls = nullptr);

}  // namespace cairn::actions
