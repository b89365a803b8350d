#include "api/handlers/customer_handler.h"

#include <fmt/format.h>

#include <charconv>

#include "api/dto/customer_dto.h"
#include "api/responses.h"
#include "api/url.h"

namespace cairn::api {

void CustomerHandler::GetProfile(const ApiRequest& request, const std::string& id, Responder respond) {
  auto profile = services_->customers->GetProfile(id);
  if (!profile.ok()) return respond(ErrorFromStatus(profile.status(), {}, "GET /v1/customers/{id}"));
  respond(JsonResponse(200, ProfileToJson(*profile)));
}

void CustomerHandler::GetEvents(const ApiRequest& request, const std::string& id, Responder respond) {
  auto params = ParseQuery(request.query);
  if (!params.ok()) return respond(ErrorFromStatus(params.status()));
  size_t limit = kDefaultLimit;
  std::string before;
  for (const auto& [name, value] : *params) {
    if (name == "limit") {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc() || end != value.data() + value.size() || limit < 1 || limit > kMaxLimit) {
        return respond(JsonError(400, fmt::format("limit must be an integer in [1, {}]", kMaxLimit)));
      }
    } else if (name == "before") {
      before = value;
    }
  }
  auto page = services_->customers->Timeline(id, limit, before);
  if (!page.ok()) return respond(ErrorFromStatus(page.status(), {}, "GET /v1/customers/{id}/events"));
  respond(JsonResponse(200, TimelineToJson(*page)));
}

}  // namespace cairn::api
