#pragma once
// InsightsHandler: POST /v1/query/{trends,lifecycle,stickiness,paths} (role checked by the router, docs/access.md). Decodes the
// JSON spec (dto/insights_dto.h), makes one call into Services::analytics with a QueryContext
// carrying Services::analytics_time_limit_ms, encodes the result (plus "ms", the engine time).
// 400 names the bad field; 503 when the hub has no analytics engine. Stateless.

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class InsightsHandler {
 public:
  explicit InsightsHandler(const Services* services) : services_(services) {}
  void Trends(const ApiRequest& request, Responder respond);
  void Lifecycle(const ApiRequest& request, Responder respond);
  void Stickiness(const ApiRequest& request, Responder respond);
  void Paths(const ApiRequest& request, Responder respond);

 private:
  const Services* services_;
};

}  // namespace cairn::api
