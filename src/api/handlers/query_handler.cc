#include "api/handlers/query_handler.h"

#include "api/dto/query_dto.h"
#include "api/handlers/query_limits.h"
#include "api/responses.h"
#include "analytics/query_service.h"

namespace cairn::api {

void QueryHandler::Funnel(const ApiRequest& request, Responder respond) {
  if (services_->analytics == nullptr) return respond(ServiceUnavailable("analytics"));
  auto spec = DecodeFunnelSpec(request.body);
  if (!spec.ok()) return respond(ErrorFromStatus(spec.status()));
  analytics::QueryContext ctx(services_->analytics_time_limit_ms);
  ApplyQueryLimits(*services_, request, &ctx);
  const int64_t t0 = ctx.clock()->MonotonicNanos();
  auto result = services_->analytics->Funnel(*spec, ctx);
  if (!result.ok() && ctx.cancelled()) return respond(ClientClosedRequest());
  if (!result.ok()) return respond(ErrorFromStatus(result.status(), {}, "POST /v1/query/funnel"));
  const double ms = (ctx.clock()->MonotonicNanos() - t0) / 1e6;
  respond(JsonResponse(200, FunnelResultToJson(*spec, *result, ms)));
}

void QueryHandler::Retention(const ApiRequest& request, Responder respond) {
  if (services_->analytics == nullptr) return respond(ServiceUnavailable("analytics"));
  auto req = DecodeRetentionRequest(request.body);
  if (!req.ok()) return respond(ErrorFromStatus(req.status()));
  analytics::QueryContext ctx(services_->analytics_time_limit_ms);
  ApplyQueryLimits(*services_, request, &ctx);
  const int64_t t0 = ctx.clock()->MonotonicNanos();
  auto result = services_->analytics->Retention(req->spec, ctx);
  if (!result.ok() && ctx.cancelled()) return respond(ClientClosedRequest());
  if (!result.ok()) return respond(ErrorFromStatus(result.status(), {}, "POST /v1/query/retention"));
  const double ms = (ctx.clock()->MonotonicNanos() - t0) / 1e6;
  respond(JsonResponse(200, RetentionResultToJson(req->spec, *result, req->revenue, ms)));
}

}  // namespace cairn::api
