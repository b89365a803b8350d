#pragma once
// ValueHandler: customer value (role checked by the router, docs/access.md). docs/value.md "API"; JSON in dto/value_dto.h.
//   POST /v1/value/fit               → refit now on every interaction; 200 {fit} (409 when there
//                                      are no purchases yet or the model did not converge)
//   GET  /v1/customers/{id}/value    → RFM, P(alive), predicted purchases, spend, CLV
//   GET  /v1/value/summary           → CLV distribution, P(alive) bands, parameters, diagnostics
//   GET  /v1/value/personas          → discovered personas: names, descriptions, sizes, centroids
// 503 when the hub runs without the value engine; 409 before the first fit. Stateless.

#include <string>

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class ValueHandler {
 public:
  explicit ValueHandler(const Services* services) : services_(services) {}
  void Fit(const ApiRequest& request, Responder respond);
  void GetCustomer(const ApiRequest& request, const std::string& id, Responder respond);
  void Summary(const ApiRequest& request, Responder respond);
  void Personas(const ApiRequest& request, Responder respond);

 private:
  bool Prepare(const ApiRequest& request, Responder& respond);
  const Services* services_;
};

}  // namespace cairn::api
