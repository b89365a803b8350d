#include "api/handlers/erase_handler.h"

#include <boost/json.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include "api/auth.h"
#include "api/dto/json_writer.h"
#include "api/responses.h"
#include "api/url.h"
#include "store/erasure_service.h"

namespace cairn::api {
namespace {

constexpr int64_t kWaitMs = 10'000;  // longer erasures answer 202 and go on in the background

std::string IsoMs(int64_t ms) {
  const auto tp = std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms));
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", tp);
}

std::string ErasureJson(const store::ErasureView& v) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").UInt(v.id);
  w.Key("status").String(v.status);
  w.Key("requestedAt").String(IsoMs(v.requested_at_ms));
  w.Key("completedAt");
  if (v.completed_at_ms) w.String(IsoMs(v.completed_at_ms));
  else w.Null();
  w.Key("requestedBy").String(v.requested_by);
  w.Key("suppress").Bool(v.suppress);
  w.Key("customersErased").UInt(v.customers_erased);
  w.Key("interactionsErased").UInt(v.interactions_erased);
  w.EndObject();
  return w.Take();
}

// {"suppress": bool} from the body (optional) or ?suppress=true|false.
Result<bool> ParseSuppress(const ApiRequest& request) {
  bool suppress = false;
  for (std::string_view q : {std::string_view("suppress=true"), std::string_view("suppress=1")}) {
    std::string_view query = request.query;
    size_t at = query.find(q);
    if (at != std::string_view::npos && (at == 0 || query[at - 1] == '&') &&
        (at + q.size() == query.size() || query[at + q.size()] == '&'))
      suppress = true;
  }
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return suppress;
  boost::system::error_code ec;
  boost::json::value body = boost::json::parse(request.body, ec);
  if (ec || !body.is_object()) return InvalidArgument("body: expected a JSON object like {\"suppress\": true}");
  for (const auto& [key, value] : body.as_object()) {
    if (key == "suppress") {
      if (!value.is_bool()) return InvalidArgument("suppress: expected true or false");
      suppress = value.as_bool();
    } else {
      return InvalidArgument(fmt::format("{}: unknown field (only \"suppress\" is accepted)", std::string_view(key)));
    }
  }
  return suppress;
}

}  // namespace

bool EraseHandler::Prepare(const ApiRequest& request, Responder& respond) {
  Status auth = CheckAdminBearer(request.Header("authorization"), *services_);
  if (!auth.ok()) {
    respond(ErrorFromStatus(auth));
    return false;
  }
  if (!services_->erasure) {
    respond(JsonError(503, "erasure is not available on this hub"));
    return false;
  }
  return true;
}

void EraseHandler::Erase(const ApiRequest& request, const std::string& customer, Responder respond) {
  if (!Prepare(request, respond)) return;
  auto suppress = ParseSuppress(request);
  if (!suppress.ok()) return respond(ErrorFromStatus(suppress.status(), {}, "DELETE /v1/customers/{id}"));
  store::ErasureRequest req;
  req.customer = customer;
  req.suppress = *suppress;
  req.requested_by = "api";
  auto r = services_->erasure->Erase(req, kWaitMs);
  if (!r.ok()) return respond(ErrorFromStatus(r.status(), {}, "DELETE /v1/customers/{id}"));
  ApiResponse response = JsonResponse(r->status == "completed" ? 200 : 202, ErasureJson(*r));
  response.SetHeader("Location", fmt::format("/v1/erasures/{}", r->id));
  respond(std::move(response));
}

void EraseHandler::Get(const ApiRequest& request, const std::string& id, Responder respond) {
  if (!Prepare(request, respond)) return;
  auto n = ParsePositiveId("id", id);
  if (!n.ok()) return respond(ErrorFromStatus(n.status()));
  auto r = services_->erasure->GetErasure(static_cast<uint64_t>(*n));
  if (!r.ok()) return respond(ErrorFromStatus(r.status(), {}, "GET /v1/erasures/{id}"));
  respond(JsonResponse(200, ErasureJson(*r)));
}

}  // namespace cairn::api
