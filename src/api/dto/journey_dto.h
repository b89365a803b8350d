#pragma once
// Journey DTOs (docs/journey.md "API"): journey::CustomerJourney / JourneyOverview / map
// validation errors → JSON. Times are ISO-8601 UTC with milliseconds; durations as "14d".
//
// GET /v1/customers/{id}/journey:
//   {"customer":"c:<n>",
//    "state":{"phase","lifecycle","funnel","emotion":{"label","score"},
//             "value":{"currency","realised","journey","journeyBasis","predictedClv","atStake"},"persona",
//             "views":{"phase"|"lifecycle"|"funnel":{"stage","since","expectedDwell","stuck",
//                      "entered":{stage: time}}},
//             "derailing":[path],"interactions","orders","firstSeen","lastSeen"},
//    "history":[{"at","view","from","to"}],
//    "emotionCurve":[{"at","score","label","cause"}],
//    "decisions":[rescue decision (dto/rescue_dto.h)]}
// GET /v1/journey/overview:
//   {"customers","currency","views":[{"view","stages":[{"name","customers","entered","stuck",
//    "dropOff"}],"transitions":[{"from","to","count"}]}],"emotionByPhase":[{"phase","average",
//    "label","customers"}],"emotions":{label: customers},"valueAtStake":[{"path","customers","value"}]}
// PUT /v1/journey-map errors: {"error":"invalid journey map","errors":[{"line","column","message"}]}

#include <string>
#include <vector>

#include "journey/journey_service.h"

namespace cairn::api {

// `decisions_json`: already-serialised decisions, embedded as the "decisions" array.
std::string JourneyToJson(const journey::CustomerJourney& j, const std::vector<std::string>& decisions_json);
std::string OverviewToJson(const journey::JourneyOverview& o);
// {"personas":[name…],"lifecycle":[stage…]}
std::string SegmentNamesToJson(const journey::SegmentNames& n);
std::string MapErrorsToJson(const std::vector<journey::MapErrorView>& errors);
std::string MapUpdateToJson(const journey::MapUpdate& u);

}  // namespace cairn::api
