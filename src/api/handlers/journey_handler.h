#pragma once
// JourneyHandler: journey map and journey state (role checked by the router, docs/access.md). docs/journey.md "API".
//   GET /v1/journey-map                 → the map in force, as YAML (application/yaml)
//   PUT /v1/journey-map                 body: the YAML map → 200 {"fingerprint","customersRederived"}
//                                       or 400 {"error","errors":[{"line","column","message"}]};
//                                       a bad map never replaces the good one
//   GET /v1/customers/{id}/journey      → state, history, emotion curve, rescue decisions
//   GET /v1/journey/overview            → customers per stage, flows, drop-offs, emotion, value at stake
// 503 when the hub runs without the journey engine. Stateless; thread-safe.

#include <string>

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class JourneyHandler {
 public:
  explicit JourneyHandler(const Services* services) : services_(services) {}
  void GetMap(const ApiRequest& request, Responder respond);
  void PutMap(const ApiRequest& request, Responder respond);
  void GetJourney(const ApiRequest& request, const std::string& id, Responder respond);
  void Overview(const ApiRequest& request, Responder respond);
  // GET /v1/journey/segments: the persona and lifecycle names a segment filter can take.
  void Segments(const ApiRequest& request, Responder respond);

 private:
  bool Prepare(const ApiRequest& request, Responder& respond);
  const Services* services_;
};

}  // namespace cairn::api
