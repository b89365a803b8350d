#include "api/handlers/action_handler.h"

#include <fmt/format.h>

#include <charconv>

#include "api/dto/action_dto.h"
#include "api/responses.h"
#include "api/url.h"

namespace cairn::api {


bool ActionHandler::Prepare(const ApiRequest& request, const std::string* id, int64_t* parsed, Responder& respond) {
  if (services_->actions == nullptr) {
    respond(ServiceUnavailable("actions"));
    return false;
  }
  if (id != nullptr) {
    auto v = ParsePositiveId("id", *id);
    if (!v.ok()) {
      respond(ErrorFromStatus(v.status()));
      return false;
    }
    *parsed = *v;
  }
  return true;
}

void ActionHandler::List(const ApiRequest& request, bool dead_letters_only, Responder respond) {
  if (!Prepare(request, nullptr, nullptr, respond)) return;
  auto params = ParseQuery(request.query);
  if (!params.ok()) return respond(ErrorFromStatus(params.status()));
  std::optional<actions::ActionStatus> status;
  if (dead_letters_only) status = actions::ActionStatus::kDeadLetter;
  size_t limit = 100;
  for (const auto& [name, value] : *params) {
    if (name == "status" && !value.empty() && !dead_letters_only) {
      actions::ActionStatus s;
      if (!actions::ParseActionStatus(value, &s)) {
        return respond(JsonError(400, fmt::format("status: must be one of pending, sending, delivered, blocked, "
                                                  "suppressed, dead_letter; got '{}'", value)));
      }
      status = s;
    } else if (name == "limit") {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc() || end != value.data() + value.size() || limit < 1 || limit > 1000) {
        return respond(JsonError(400, "limit: must be an integer in [1, 1000]"));
      }
    }
  }
  auto list = services_->actions->List(status, limit);
  if (!list.ok()) return respond(ErrorFromStatus(list.status(), {}, "GET /v1/actions"));
  respond(JsonResponse(200, ActionsToJson(*list)));
}

void ActionHandler::Get(const ApiRequest& request, const std::string& id, Responder respond) {
  int64_t n = 0;
  if (!Prepare(request, &id, &n, respond)) return;
  auto a = services_->actions->Get(n);
  if (!a.ok()) return respond(ErrorFromStatus(a.status(), {}, "GET /v1/actions/{id}"));
  auto gates = services_->actions->Gates(n);
  if (!gates.ok()) return respond(ErrorFromStatus(gates.status(), {}, "GET /v1/actions/{id}"));
  auto attempts = services_->actions->Attempts(n);
  if (!attempts.ok()) return respond(ErrorFromStatus(attempts.status(), {}, "GET /v1/actions/{id}"));
  respond(JsonResponse(200, ActionDetailToJson(*a, *gates, *attempts)));
}

void ActionHandler::Replay(const ApiRequest& request, const std::string& id, Responder respond) {
  int64_t n = 0;
  if (!Prepare(request, &id, &n, respond)) return;
  auto a = services_->actions->Replay(n);
  if (!a.ok()) return respond(ErrorFromStatus(a.status(), {}, "POST /v1/actions/{id}/replay"));
  respond(JsonResponse(200, ActionsToJson({*a})));
}

}  // namespace cairn::api
