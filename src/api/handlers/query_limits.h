#pragma once
// The limits every analytics request runs under (POST /v1/query/*; docs/analytics.md "Time limit
// and cancellation"): the configured time limit (Services::analytics_time_limit_ms; over it the
// query answers 504 "deadline exceeded: ...", status_to_http.cc), and cancellation when the client
// goes away — the query's context probes the client's socket (ApiRequest::client_gone) between
// chunks, so a query nobody waits for any more stops within one chunk and frees its threads.

#include "analytics/exec/query_context.h"
#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

// A context for `request`: the time limit, the cancel probe, and the test-only slow-down.
inline void ApplyQueryLimits(const Services& services, const ApiRequest& request, analytics::QueryContext* ctx) {
  if (request.client_gone) ctx->SetCancelProbe(request.client_gone);
  if (services.analytics_test_delay_ms > 0) ctx->SetTestDelay(services.analytics_test_delay_ms);
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
