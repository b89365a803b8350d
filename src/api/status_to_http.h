#pragma once
// The ONE mapping from a core Status to an HTTP answer. It keeps the client-safe message apart
// from the logged one: 4xx answers carry the core's message (it names the field and what is
// wrong, which is what a client needs); 5xx answers carry a generic message and the detail is
// only logged (rate-limited), because it may name files, disks or internals.
//
//   OK                      → 200
//   InvalidArgument         → 400
//   ResourceExhausted       → 400 (a size cap); 413 where the caller says so (PostHog halves its
//                             batch on 413 and drops it on 400)
//   Unauthenticated         → 401   (clients drop, never retry: auth is never 5xx/429)
//   PermissionDenied        → 403
//   NotFound                → 404
//   AlreadyExists           → 409
//   FailedPrecondition      → 409
//   Unavailable             → 503 + Retry-After, or 429 + Retry-After for rate back-pressure
//   ResourceExhausted whose message starts with kDeadlinePrefix ("deadline exceeded": a query's
//                             time limit, analytics/exec/query_context.h) → 504
//   Corruption/IOError/Internal (and anything unknown) → 500, generic message
// Never 501/505/511 (clients treat them as permanent) and never 3xx.
//
// How 429 is told apart from 503: Status carries no sub-code, so back-pressure is an Unavailable
// status whose message starts with kBackPressurePrefix ("back-pressure"), e.g.
// Unavailable("back-pressure: store is 2.1 s behind"). Clients honour Retry-After on 429 and slow
// down; 503 means "transiently broken" (shutting down, disk full) and every client retries it.

#include <string>
#include <string_view>

#include "base/status.h"

namespace cairn::api {

inline constexpr std::string_view kBackPressurePrefix = "back-pressure";
inline constexpr std::string_view kDeadlinePrefix = "deadline exceeded";

struct StatusMapOptions {
  // Answer ResourceExhausted with 413 instead of 400 (the PostHog routes). Default false.
  bool resource_exhausted_as_413 = false;
  // Retry-After seconds for 429 (back-pressure). Default 1.
  int back_pressure_retry_after_s = 1;
  // Retry-After seconds for 503. Default 5.
  int unavailable_retry_after_s = 5;
};

struct HttpError {
  unsigned status = 500;
  std::string message;          // safe to send to the client
  int retry_after_seconds = 0;  // > 0: send `Retry-After: <n>`
};

// Maps a non-OK status; logs the detail of 5xx answers (rate-limited). `what` names the request
// for the log line (e.g. "POST /v1/batch"). An OK status maps to 200 with an empty message.
HttpError StatusToHttp(const Status& status, const StatusMapOptions& options = {}, std::string_view what = "");

}  // namespace cairn::api
