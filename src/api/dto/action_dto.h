#pragma once
// Action DTOs (GET /v1/actions..., POST /v1/actions/{id}/replay). An action as JSON:
//   {"id","idempotencyKey","name","customer":{"id":"c:7","key":"userId:alice"},"audience":"customer"|"staff",
//    "purpose","channel",
//    "critical","expectedGain","customerValue","timeZone","source","status","createdAt",
//    "notBefore","nextAttempt","attempts","lastError","deliveredAt": time | null,"endpoint",
//    "data": <payload object>}
// With detail (GET /v1/actions/{id}): also "gates":[{"at","gate","verdict","detail"}] and
// "deliveries":[{"attempt","at","httpStatus","error","durationMs"}].
// List: {"actions":[action...]}.

#include <string>
#include <vector>

#include "actions/action_service.h"

namespace cairn::api {

std::string ActionsToJson(const std::vector<actions::ActionRecord>& list);
std::string ActionDetailToJson(const actions::ActionRecord& a, const std::vector<actions::GateEntry>& gates,
                               const std::vector<actions::DeliveryAttempt>& attempts);

}  // namespace cairn::api
