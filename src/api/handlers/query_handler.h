#pragma once
// QueryHandler: POST /v1/query/funnel and POST /v1/query/retention (role checked by the router, docs/access.md). Decodes the JSON
// spec (dto/query_dto.h), makes one call into Services::analytics with a QueryContext carrying
// Services::analytics_time_limit_ms, encodes the result. 400 names the bad field; 503 when the
// hub has no analytics engine.

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class QueryHandler {
 public:
  explicit QueryHandler(const Services* services) : services_(services) {}
  void Funnel(const ApiRequest& request, Responder respond);
  void Retention(const ApiRequest& request, Responder respond);

 private:
  const Services* services_;
};

}  // namespace cairn::api
