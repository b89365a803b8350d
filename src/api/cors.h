#pragma once
// CORS for browser collection (the Segment browser SDK, posthog-js). The Basic Authorization
// header makes every browser POST "non-simple", so the browser first sends a preflight OPTIONS;
// without a 2xx answer and Access-Control-Allow-Origin on the POST response itself, no event is
// ever delivered.
//
// Scope: /v1 and everything under it, plus the PostHog ingest paths (/batch, /e, /capture), which
// posthog-js calls cross-origin. Keys travel in a header, never in cookies, so echoing any Origin
// grants a foreign page nothing it does not already hold; credentials are not allowed.

#include <string_view>

#include "api/http_types.h"

namespace cairn::api {

inline constexpr std::string_view kCorsAllowMethods = "POST, OPTIONS";
inline constexpr std::string_view kCorsAllowHeaders = "authorization, content-type, content-encoding, x-retry-count";
inline constexpr int kCorsMaxAgeSeconds = 86400;

// True when `path` (percent-encoded, as received) is CORS-enabled (see the file comment).
bool IsCorsPath(std::string_view path);

// Access-Control-Allow-Origin: the request's Origin echoed (with Vary: Origin), else "*".
void AddCorsOrigin(const ApiRequest& request, ApiResponse* response);

// The 204 answer to a preflight OPTIONS: allow-origin, -methods, -headers (the fixed list plus
// whatever Access-Control-Request-Headers asked for, when it is a plain token list), max-age.
ApiResponse PreflightResponse(const ApiRequest& request);

}  // namespace cairn::api
