#include "api/handlers/admin_handler.h"

#include "api/responses.h"
#include "base/logging.h"

namespace cairn::api {

void AdminHandler::Healthz(const ApiRequest&, Responder respond) { respond(TextResponse(200, "ok\n")); }

void AdminHandler::Readyz(const ApiRequest&, Responder respond) {
  Status ready = services_->ready ? services_->ready() : Status::Ok();
  if (ready.ok()) return respond(TextResponse(200, "ready\n"));
  // Operators read this (a load balancer only looks at the code): the reason is the useful part.
  LOG_EVERY_N_SEC(kWarn, 30, "/readyz: not ready: {}", ready.ToString());
  ApiResponse r = TextResponse(503, "not ready: " + std::string(ready.message()) + "\n");
  r.SetHeader("Retry-After", "5");
  respond(std::move(r));
}

void AdminHandler::Metrics(const ApiRequest&, Responder respond) {
  respond(TextResponse(200, services_->metrics->RenderPrometheus(), "text/plain; version=0.0.4; charset=utf-8"));
}

}  // namespace cairn::api
