#pragma once
// ConsentHandler: the consent ledger of one customer (docs/consent.md; JSON in dto/consent_dto.h).
//   GET /v1/customers/{id}/consents   → 200 {customer, current: [...], history: [...]}
//   PUT /v1/customers/{id}/consents   → records the statements (all or none), 200 with the new view;
//                                       400 naming the field; 404 for an unknown customer
// The proof of an API statement is the call: "api:<X-Request-Id>" when the client sends one,
// else "api:PUT <path>" (the record keeps the time); who called is in the audit log (docs/access.md).
// 503 when the hub runs without the ledger. The router checks the caller's role. Stateless.

#include <string>

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class ConsentHandler {
 public:
  explicit ConsentHandler(const Services* services) : services_(services) {}
  void Get(const ApiRequest& request, const std::string& id, Responder respond);
  void Put(const ApiRequest& request, const std::string& id, Responder respond);

 private:
  const Services* services_;
};

}  // namespace cairn::api
