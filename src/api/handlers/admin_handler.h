#pragma once
// AdminHandler: operational endpoints for probes and scrapers.
//   GET /healthz  → 200 "ok" while the process serves HTTP (liveness)
//   GET /readyz   → 200 "ready" when Services::ready() is OK, else 503 with the reason (readiness)
//   GET /metrics  → Services::metrics in Prometheus text format (text/plain; version=0.0.4)
// They need no key: they reveal no customer data, and probes/scrapers cannot send one easily.
// The protection is the bind address (127.0.0.1 by default) or the network in front of it; an
// operator exposing the port publicly should block these paths at the proxy.
// Thread-safe.

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class AdminHandler {
 public:
  explicit AdminHandler(const Services* services) : services_(services) {}

  void Healthz(const ApiRequest& request, Responder respond);
  void Readyz(const ApiRequest& request, Responder respond);
  void Metrics(const ApiRequest& request, Responder respond);

 private:
  const Services* services_;
};

}  // namespace cairn::api
