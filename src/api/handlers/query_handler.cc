#include "api/handlers/query_handler.h"

#include <utility>

#include "api/dto/query_dto.h"
#include "api/handlers/query_limits.h"
#include "api/responses.h"
#include "analytics/query_service.h"

namespace cairn::api {

// Both decode on the I/O thread (a bad spec is answered at once) and run the query on the pool.
void QueryHandler::Funnel(const ApiRequest& request, Responder respond) {
  if (services_->analytics == nullptr) return respond(ServiceUnavailable("analytics"));
  auto spec = DecodeFunnelSpec(request.body);
  if (!spec.ok()) return respond(ErrorFromStatus(spec.status()));
  auto ctx = MakeQueryContext(*services_, request);
  RunQuery(*services_, std::move(respond), [services = services_, ctx, spec = std::move(*spec)]() -> ApiResponse {
    const int64_t t0 = ctx->clock()->MonotonicNanos();
    auto result = services->analytics->Funnel(spec, *ctx);
    if (!result.ok() && ctx->cancelled()) return ClientClosedRequest();
    if (!result.ok()) return ErrorFromStatus(result.status(), {}, "POST /v1/query/funnel");
    const double ms = (ctx->clock()->MonotonicNanos() - t0) / 1e6;
    return JsonResponse(200, FunnelResultToJson(spec, *result, ms));
  });
}

void QueryHandler::Retention(const ApiRequest& request, Responder respond) {
  if (services_->analytics == nullptr) return respond(ServiceUnavailable("analytics"));
  auto req = DecodeRetentionRequest(request.body);
  if (!req.ok()) return respond(ErrorFromStatus(req.status()));
  auto ctx = MakeQueryContext(*services_, request);
  RunQuery(*services_, std::move(respond), [services = services_, ctx, req = std::move(*req)]() -> ApiResponse {
    const int64_t t0 = ctx->clock()->MonotonicNanos();
    auto result = services->analytics->Retention(req.spec, *ctx);
    if (!result.ok() && ctx->cancelled()) return ClientClosedRequest();
    if (!result.ok()) return ErrorFromStatus(result.status(), {}, "POST /v1/query/retention");
    const double ms = (ctx->clock()->MonotonicNanos() - t0) / 1e6;
    return JsonResponse(200, RetentionResultToJson(req.spec, *result, req.revenue, ms));
  });
}

}  // namespace cairn::api
