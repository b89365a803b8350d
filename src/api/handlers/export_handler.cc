#include "api/handlers/export_handler.h"

#include <fmt/format.h>

#include "api/responses.h"

namespace cairn::api {

void ExportHandler::Get(const ApiRequest& request, const std::string& id, Responder respond) {
  if (!services_->export_customer) return respond(JsonError(503, "export is not available on this server"));
  // Opening resolves the customer and reads the small sections; the interactions are pulled
  // piece by piece by the server as the client reads.
  auto pieces = services_->export_customer(id);
  if (!pieces.ok()) return respond(ErrorFromStatus(pieces.status(), {}, "GET /v1/customers/{id}/export"));
  ApiResponse response;
  response.status = 200;
  response.content_type = "application/json";
  response.SetHeader("Content-Disposition", "attachment; filename=\"cairn-export.json\"");
  response.SetHeader("Cache-Control", "no-store");
  response.next_chunk = std::move(*pieces);
  respond(std::move(response));
}

}  // namespace cairn::api
