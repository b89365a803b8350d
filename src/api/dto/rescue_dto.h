#pragma once
// Rescue DTOs (GET/POST /v1/rescues...). A decision as JSON:
//   {"id","customer":{"id":"c:7","ids":["userId:alice",...]},"path","persona","reasons":[...],
//    "valueAtStake","pRescue","pNone","cost","expectedGain","rescue","status","rescued",
//    "explanation","action","decidedAt","window":{"start","end"},"closedAt": time | null,
//    "outcomeNote","actionRef"}
// Queue: {"rescues":[decision...]}. Times ISO-8601 UTC with milliseconds.
// Request bodies: act/dismiss {"note"?: string}; outcome {"success": bool, "note"?: string}.

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "rescue/rescue_service.h"

namespace cairn::api {

std::string DecisionToJson(const rescue::Decision& d);
std::string DecisionsToJson(const std::vector<rescue::Decision>& list);

struct NoteBody {
  std::string note;
};
struct OutcomeBody {
  bool success = false;
  std::string note;
};
// InvalidArgument naming the field. An empty body is an empty object for NoteBody.
Result<NoteBody> ParseNoteBody(std::string_view body);
Result<OutcomeBody> ParseOutcomeBody(std::string_view body);

}  // namespace cairn::api
