#pragma once
// ActionHandler: the delivery log and dead letters (role checked by the router, docs/access.md).
//   GET  /v1/actions?status=&limit=    newest first (status: pending|sending|delivered|blocked|
//                                      suppressed|dead_letter), limit [1,1000] = 100
//                                      (the dead-letter list: ?status=dead_letter)
//   GET  /v1/actions/{id}              with its gate verdicts and delivery attempts
//   POST /v1/actions/{id}/replay       dead letter → sending (409 otherwise)
// 503 when the hub runs without the dispatcher. Thread-safe.

#include <string>

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class ActionHandler {
 public:
  explicit ActionHandler(const Services* services) : services_(services) {}
  void List(const ApiRequest& request, bool dead_letters_only, Responder respond);  // true: dead letters only
  void Get(const ApiRequest& request, const std::string& id, Responder respond);
  void Replay(const ApiRequest& request, const std::string& id, Responder respond);

 private:
  bool Prepare(const ApiRequest& request, const std::string* id, int64_t* parsed, Responder& respond);
  const Services* services_;
};

}  // namespace cairn::api
