#include "api/handlers/value_handler.h"

#include "api/dto/page_filter.h"
#include "api/dto/value_dto.h"
#include "api/responses.h"
#include "value/value_service.h"

namespace cairn::api {

bool ValueHandler::Prepare(const ApiRequest& request, Responder& respond) {
  if (!services_->value) {
    respond(ServiceUnavailable("the value engine"));
    return false;
  }
  return true;
}

void ValueHandler::Fit(const ApiRequest& request, Responder respond) {
  if (!Prepare(request, respond)) return;
  auto r = services_->value->Fit();
  if (!r.ok()) return respond(ErrorFromStatus(r.status(), {}, "POST /v1/value/fit"));
  respond(JsonResponse(200, ValueFitToJson(*r)));
}

void ValueHandler::GetCustomer(const ApiRequest& request, const std::string& id, Responder respond) {
  if (!Prepare(request, respond)) return;
  auto r = services_->value->GetCustomer(id);
  if (!r.ok()) return respond(ErrorFromStatus(r.status(), {}, "GET /v1/customers/{id}/value"));
  respond(JsonResponse(200, CustomerValueToJson(*r)));
}

void ValueHandler::Personas(const ApiRequest& request, Responder respond) {
  if (!Prepare(request, respond)) return;
  auto r = services_->value->Personas();
  if (!r.ok()) return respond(ErrorFromStatus(r.status(), {}, "GET /v1/value/personas"));
  respond(JsonResponse(200, PersonasToJson(*r)));
}

void ValueHandler::Summary(const ApiRequest& request, Responder respond) {
  if (!Prepare(request, respond)) return;
  // The page filters: the segment narrows the customers; a range does not apply (the summary is
  // as of the last fit) and is refused by name rather than silently ignored.
  auto page = DecodePageFilter(request.query);
  if (!page.ok()) return respond(ErrorFromStatus(page.status()));
  if (page->from_day || page->to_day)
    return respond(JsonError(400, "from/to: the value summary is as of the last fit; it takes a segment, not a range"));
  auto members = SegmentMembers(*services_, page->segment);
  if (!members.ok()) return respond(ErrorFromStatus(members.status(), {}, "GET /v1/value/summary"));
  auto r = *members ? services_->value->SummaryOf(**members) : services_->value->Summary();
  if (!r.ok()) return respond(ErrorFromStatus(r.status(), {}, "GET /v1/value/summary"));
  respond(JsonResponse(200, ValueSummaryToJson(*r)));
}

}  // namespace cairn::api
