#include "api/handlers/journey_handler.h"

#include "api/dto/journey_dto.h"
#include "api/dto/rescue_dto.h"
#include "api/dto/segment_dto.h"
#include "api/responses.h"
#include "journey/journey_service.h"
#include "rescue/rescue_service.h"

namespace cairn::api {

bool JourneyHandler::Prepare(const ApiRequest& request, Responder& respond) {
  if (!services_->journey) {
    respond(ServiceUnavailable("the journey engine"));
    return false;
  }
  return true;
}

void JourneyHandler::GetMap(const ApiRequest& request, Responder respond) {
  if (!Prepare(request, respond)) return;
  respond(TextResponse(200, services_->journey->MapYaml(), "application/yaml; charset=utf-8"));
}

void JourneyHandler::PutMap(const ApiRequest& request, Responder respond) {
  if (!Prepare(request, respond)) return;
  if (request.body.empty()) return respond(JsonError(400, "body: expected the journey map as YAML"));
  std::vector<journey::MapErrorView> errors;
  auto r = services_->journey->PutMap(request.body, &errors);
  if (!r.ok()) {
    if (!errors.empty()) return respond(JsonResponse(400, MapErrorsToJson(errors)));
    return respond(ErrorFromStatus(r.status(), {}, "PUT /v1/journey-map"));
  }
  respond(JsonResponse(200, MapUpdateToJson(*r)));
}

void JourneyHandler::GetJourney(const ApiRequest& request, const std::string& id, Responder respond) {
  if (!Prepare(request, respond)) return;
  auto j = services_->journey->GetJourney(id);
  if (!j.ok()) return respond(ErrorFromStatus(j.status(), {}, "GET /v1/customers/{id}/journey"));
  std::vector<std::string> decisions;
  if (services_->rescues) {
    auto list = services_->rescues->ListForCustomer(j->customer);
    if (list.ok())
      for (const auto& d : *list) decisions.push_back(DecisionToJson(d));
  }
  respond(JsonResponse(200, JourneyToJson(*j, decisions)));
}

void JourneyHandler::Overview(const ApiRequest& request, Responder respond) {
  if (!Prepare(request, respond)) return;
  auto segment = DecodeSegmentQuery(request.query);
  if (!segment.ok()) return respond(ErrorFromStatus(segment.status()));
  if (!segment->channel.empty())
    return respond(ErrorFromStatus(InvalidArgument(
        "channel: the journey overview is filtered by persona and lifecycle only (the acquisition channel is "
        "an analytics segment: POST /v1/query/*)")));
  auto o = services_->journey->Overview({segment->persona, segment->lifecycle});
  if (!o.ok()) return respond(ErrorFromStatus(o.status(), {}, "GET /v1/journey/overview"));
  respond(JsonResponse(200, OverviewToJson(*o)));
}

void JourneyHandler::Segments(const ApiRequest& request, Responder respond) {
  if (!Prepare(request, respond)) return;
  respond(JsonResponse(200, SegmentNamesToJson(services_->journey->Segments())));
}

}  // namespace cairn::api
