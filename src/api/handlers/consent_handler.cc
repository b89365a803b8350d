#include "api/handlers/consent_handler.h"

#include "api/dto/consent_dto.h"
#include "api/responses.h"
#include "entity/consent_service.h"

namespace cairn::api {

void ConsentHandler::Get(const ApiRequest& request, const std::string& id, Responder respond) {
  if (services_->consents == nullptr) return respond(JsonError(503, "the consent ledger is not available on this server"));
  auto view = services_->consents->GetConsents(id);
  if (!view.ok()) return respond(ErrorFromStatus(view.status(), {}, "GET /v1/customers/{id}/consents"));
  respond(JsonResponse(200, ConsentViewToJson(*view)));
}

void ConsentHandler::Put(const ApiRequest& request, const std::string& id, Responder respond) {
  if (services_->consents == nullptr) return respond(JsonError(503, "the consent ledger is not available on this server"));
  auto inputs = ParseConsentInputs(request.body);
  if (!inputs.ok()) return respond(ErrorFromStatus(inputs.status()));
  entity::ConsentCaller caller;
  caller.request_id = std::string(request.Header("x-request-id").substr(0, 128));
  if (caller.request_id.empty()) caller.request_id = "PUT " + request.path;
  auto view = services_->consents->PutConsents(id, *inputs, caller);
  if (!view.ok()) return respond(ErrorFromStatus(view.status(), {}, "PUT /v1/customers/{id}/consents"));
  respond(JsonResponse(200, ConsentViewToJson(*view)));
}

}  // namespace cairn::api
