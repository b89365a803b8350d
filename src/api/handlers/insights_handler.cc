#include "api/handlers/insights_handler.h"

#include <string>

#include "analytics/query_service.h"
#include "api/dto/insights_dto.h"
#include "api/handlers/query_limits.h"
#include "api/responses.h"

namespace cairn::api {
namespace {

// The common shape of the four endpoints (the router has checked the caller): decode on the I/O
// thread, then one call and the encoding on the query pool (RunQuery). `what` names the route in
// logs.
template <typename Parse, typename Query, typename Encode>
void Serve(const Services* services, const ApiRequest& request, Responder respond, const char* what, Parse parse,
           Query query, Encode encode) {
  if (services->analytics == nullptr) return respond(ServiceUnavailable("analytics"));
  auto spec = parse(request.body);
  if (!spec.ok()) return respond(ErrorFromStatus(spec.status()));
  auto ctx = MakeQueryContext(*services, request);
  RunQuery(*services, std::move(respond), [ctx, what, query, encode, spec = std::move(*spec)]() -> ApiResponse {
    const int64_t t0 = ctx->clock()->MonotonicNanos();
    auto result = query(spec, *ctx);
    if (!result.ok() && ctx->cancelled()) return ClientClosedRequest();
    if (!result.ok()) return ErrorFromStatus(result.status(), {}, what);
    const double ms = static_cast<double>(ctx->clock()->MonotonicNanos() - t0) / 1e6;
    std::string body = encode(*result);
    // {"...":...} → {"...":...,"ms":N}: the engine time, as the funnel/retention answers carry it.
    if (body.size() >= 2 && body.back() == '}') {
      body.pop_back();
      body += ",\"ms\":" + std::to_string(static_cast<int64_t>(ms * 1000) / 1000.0) + "}";
    }
    return JsonResponse(200, std::move(body));
  });
}

}  // namespace

void InsightsHandler::Trends(const ApiRequest& request, Responder respond) {
  Serve(services_, request, std::move(respond), "POST /v1/query/trends", ParseTrendsSpec,
        [services = services_](const analytics::TrendsSpec& s, const analytics::QueryContext& c) { return services->analytics->Trends(s, c); },
        TrendsToJson);
}

void InsightsHandler::Lifecycle(const ApiRequest& request, Responder respond) {
  Serve(services_, request, std::move(respond), "POST /v1/query/lifecycle", ParseLifecycleSpec,
        [services = services_](const analytics::LifecycleSpec& s, const analytics::QueryContext& c) {
          return services->analytics->Lifecycle(s, c);
        },
        LifecycleToJson);
}

void InsightsHandler::Stickiness(const ApiRequest& request, Responder respond) {
  Serve(services_, request, std::move(respond), "POST /v1/query/stickiness", ParseStickinessSpec,
        [services = services_](const analytics::StickinessSpec& s, const analytics::QueryContext& c) {
          return services->analytics->Stickiness(s, c);
        },
        StickinessToJson);
}

void InsightsHandler::Paths(const ApiRequest& request, Responder respond) {
  Serve(services_, request, std::move(respond), "POST /v1/query/paths", ParsePathsSpec,
        [services = services_](const analytics::PathsSpec& s, const analytics::QueryContext& c) { return services->analytics->Paths(s, c); },
        PathsToJson);
}

}  // namespace cairn::api
