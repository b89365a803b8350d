#pragma once
// RescueHandler: the rescue queue (role checked by the router, docs/access.md).
//   GET  /v1/rescues?status=&limit=     ranked by expected gain (status: open|acted|dismissed|
//                                       skipped|succeeded|failed; default all), limit [1,1000] = 100
//   GET  /v1/rescues/{id}
//   POST /v1/rescues/{id}/act           {"note"?} → the path's action goes out (409 unless open)
//   POST /v1/rescues/{id}/dismiss       {"note"?} (409 unless open)
//   POST /v1/rescues/{id}/outcome       {"success": bool, "note"?} (409 if already known)
// 503 when the hub runs without the rescue engine. Thread-safe.

#include <string>

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class RescueHandler {
 public:
  explicit RescueHandler(const Services* services) : services_(services) {}
  void List(const ApiRequest& request, Responder respond);
  void Get(const ApiRequest& request, const std::string& id, Responder respond);
  void Act(const ApiRequest& request, const std::string& id, Responder respond);
  void Dismiss(const ApiRequest& request, const std::string& id, Responder respond);
  void Outcome(const ApiRequest& request, const std::string& id, Responder respond);

 private:
  // Auth + service presence + id parsing; false when `respond` was already called.
  bool Prepare(const ApiRequest& request, const std::string* id, int64_t* parsed, Responder& respond);
  const Services* services_;
};

}  // namespace cairn::api
