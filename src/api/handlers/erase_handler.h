#pragma once
// EraseHandler: a customer's erasure (admin). docs/erasure.md "Surfaces".
//   DELETE /v1/customers/{id}   body optional {"suppress": true} (or ?suppress=true) →
//                               200 {erasure} when it completed within 10 s, else 202 (pending,
//                               it goes on and survives a restart); 404 for an unknown customer
//   GET    /v1/erasures/{id}    → 200 {erasure}; 404 for an unknown id
// 503 when the hub runs without the eraser. Stateless.

#include <string>

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class EraseHandler {
 public:
  explicit EraseHandler(const Services* services) : services_(services) {}
  void Erase(const ApiRequest& request, const std::string& customer, Responder respond);
  void Get(const ApiRequest& request, const std::string& id, Responder respond);

 private:
  bool Prepare(const ApiRequest& request, Responder& respond);
  const Services* services_;
};

}  // namespace cairn::api
