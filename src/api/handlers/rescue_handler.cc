#include "api/handlers/rescue_handler.h"

#include <fmt/format.h>

#include <charconv>

#include "api/dto/page_filter.h"
#include "api/dto/rescue_dto.h"
#include "api/responses.h"
#include "api/url.h"

namespace cairn::api {

bool RescueHandler::Prepare(const ApiRequest& request, const std::string* id, int64_t* parsed, Responder& respond) {
  if (services_->rescues == nullptr) {
    respond(ServiceUnavailable("the rescue engine"));
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

void RescueHandler::List(const ApiRequest& request, Responder respond) {
  if (!Prepare(request, nullptr, nullptr, respond)) return;
  auto params = ParseQuery(request.query);
  if (!params.ok()) return respond(ErrorFromStatus(params.status()));
  rescue::ListQuery query;
  for (const auto& [name, value] : *params) {
    if (name == "status" && !value.empty()) {
      rescue::RescueStatus s;
      if (!rescue::ParseRescueStatus(value, &s)) {
        return respond(JsonError(400, fmt::format("status: must be one of open, acted, dismissed, skipped, succeeded, "
                                                  "failed; got '{}'", value)));
      }
      query.status = s;
    } else if (name == "limit") {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), query.limit);
      if (ec != std::errc() || end != value.data() + value.size() || query.limit < 1 || query.limit > 1000) {
        return respond(JsonError(400, "limit: must be an integer in [1, 1000]"));
      }
    }
  }
  // The page filters (api/dto/page_filter.h): decided within the range's days, about the segment's
  // customers.
  auto page = DecodePageFilter(request.query);
  if (!page.ok()) return respond(ErrorFromStatus(page.status()));
  constexpr int64_t kDayMs = 86'400'000;
  if (page->from_day) query.decided_from_ms = *page->from_day * kDayMs;
  if (page->to_day) query.decided_to_ms = (*page->to_day + 1) * kDayMs;
  auto members = SegmentMembers(*services_, page->segment);
  if (!members.ok()) return respond(ErrorFromStatus(members.status(), {}, "GET /v1/rescues"));
  if (*members) query.customers = &**members;
  auto list = services_->rescues->List(query);
  if (!list.ok()) return respond(ErrorFromStatus(list.status(), {}, "GET /v1/rescues"));
  respond(JsonResponse(200, DecisionsToJson(*list)));
}

void RescueHandler::Get(const ApiRequest& request, const std::string& id, Responder respond) {
  int64_t n = 0;
  if (!Prepare(request, &id, &n, respond)) return;
  auto d = services_->rescues->Get(n);
  if (!d.ok()) return respond(ErrorFromStatus(d.status(), {}, "GET /v1/rescues/{id}"));
  respond(JsonResponse(200, DecisionToJson(*d)));
}

void RescueHandler::Act(const ApiRequest& request, const std::string& id, Responder respond) {
  int64_t n = 0;
  if (!Prepare(request, &id, &n, respond)) return;
  auto body = ParseNoteBody(request.body);
  if (!body.ok()) return respond(ErrorFromStatus(body.status()));
  auto d = services_->rescues->Act(n, body->note);
  if (!d.ok()) return respond(ErrorFromStatus(d.status(), {}, "POST /v1/rescues/{id}/act"));
  respond(JsonResponse(200, DecisionToJson(*d)));
}

void RescueHandler::Dismiss(const ApiRequest& request, const std::string& id, Responder respond) {
  int64_t n = 0;
  if (!Prepare(request, &id, &n, respond)) return;
  auto body = ParseNoteBody(request.body);
  if (!body.ok()) return respond(ErrorFromStatus(body.status()));
  auto d = services_->rescues->Dismiss(n, body->note);
  if (!d.ok()) return respond(ErrorFromStatus(d.status(), {}, "POST /v1/rescues/{id}/dismiss"));
  respond(JsonResponse(200, DecisionToJson(*d)));
}

void RescueHandler::Outcome(const ApiRequest& request, const std::string& id, Responder respond) {
  int64_t n = 0;
  if (!Prepare(request, &id, &n, respond)) return;
  auto body = ParseOutcomeBody(request.body);
  if (!body.ok()) return respond(ErrorFromStatus(body.status()));
  auto d = services_->rescues->RecordOutcome(n, body->success, body->note);
  if (!d.ok()) return respond(ErrorFromStatus(d.status(), {}, "POST /v1/rescues/{id}/outcome"));
  respond(JsonResponse(200, DecisionToJson(*d)));
}

}  // namespace cairn::api
