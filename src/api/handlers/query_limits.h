#pragma once
// The limits every analytics request runs under (POST /v1/query/*; docs/analytics.md "Time limit
// and cancellation"): the configured time limit (Services::analytics_time_limit_ms; over it the
// query answers 504 "deadline exceeded: ...", status_to_http.cc), and cancellation when the client
// goes away — the query's context probes the client's socket (ApiRequest::client_gone) between
// chunks, so a query nobody waits for any more stops within one chunk and frees its threads —
// and the query pool (Services::query_pool, api/query_pool.h): queries run there, off the HTTP
// I/O thread, and a full pool answers 503 + Retry-After.

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "analytics/exec/query_context.h"
#include "api/http_types.h"
#include "api/query_pool.h"
#include "api/responses.h"
#include "api/services.h"

namespace cairn::api {

// A context for `request`: the time limit, the cancel probe, and the test-only slow-down. Made
// on the I/O thread when the request arrives, so time spent waiting in the pool's queue counts
// against the time limit, and a client that leaves while its query waits cancels it.
inline std::shared_ptr<analytics::QueryContext> MakeQueryContext(const Services& services, const ApiRequest& request) {
  auto ctx = std::make_shared<analytics::QueryContext>(services.analytics_time_limit_ms);
  if (request.client_gone) ctx->SetCancelProbe(request.client_gone);
  if (services.analytics_test_delay_ms > 0) ctx->SetTestDelay(services.analytics_test_delay_ms);
  return ctx;
}

// The answer when the pool is full: 503 + Retry-After 1 (a queued query takes seconds at most
// on the data sizes this serves; the client retries the same query once a slot frees).
inline ApiResponse QueryPoolFull(const QueryPool& pool) {
  ApiResponse r = JsonError(503, "too many analytics queries at once (" + std::to_string(pool.threads()) +
                                     " running, " + std::to_string(pool.queue_limit()) +
                                     " waiting): retry later");
  r.SetHeader("Retry-After", "1");
  return r;
}

// Runs `query` (which computes the whole answer) on the query pool and answers with its result;
// inline when the server has no pool (tests of handlers without one). `query` owns everything it
// needs: it runs after the handler returned, on another thread.
inline void RunQuery(const Services& services, Responder respond, std::function<ApiResponse()> query) {
  if (services.query_pool == nullptr) return respond(query());
  auto shared = std::make_shared<Responder>(std::move(respond));
  if (!services.query_pool->TrySubmit([shared, query = std::move(query)] { (*shared)(query()); }))
    (*shared)(QueryPoolFull(*services.query_pool));
}

// The answer to a query cancelled because its client went away. Nobody reads it; the status is
// nginx's 499 "client closed request", so cairn_http_requests_total{code="499"} counts them, and
// the connection is closed.
inline ApiResponse ClientClosedRequest() {
  ApiResponse r;
  r.status = 499;
  r.body = R"({"success":false,"error":"client closed request: the query was cancelled"})";
  r.close = true;
  return r;
}

}  // namespace cairn::api
