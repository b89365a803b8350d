#include "api/handlers/audit_handler.h"

#include <fmt/format.h>

#include <charconv>

#include "api/dto/case_dto.h"
#include "api/dto/customer_dto.h"
#include "api/dto/json_writer.h"
#include "api/responses.h"
#include "api/url.h"

namespace cairn::api {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

void AuditHandler::Query(const ApiRequest& request, Responder respond) {
  if (services_->access == nullptr) return respond(ServiceUnavailable("the audit log"));
  auto params = ParseQuery(request.query);
  if (!params.ok()) return respond(ErrorFromStatus(params.status()));
  AuditQuery q;
  for (const auto& [name, value] : *params) {
    if (name == "actor") {
      if (value.empty()) continue;
      if (AllDigits(value)) q.actor_key_id = std::stoll(value);
      else q.actor_name = value;
    } else if (name == "customer") {
      if (!value.empty()) q.customer = value;
    } else if (name == "from" || name == "to") {
      if (value.empty()) continue;
      auto t = ParseTimeParam(name, value);
      if (!t.ok()) return respond(ErrorFromStatus(t.status()));
      (name == "from" ? q.from_ms : q.to_ms) = *t;
    } else if (name == "limit") {
      size_t limit = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc() || end != value.data() + value.size() || limit < 1 || limit > 1000) {
        return respond(JsonError(400, "limit must be an integer in [1, 1000]"));
      }
      q.limit = limit;
    } else if (name == "cursor") {
      if (value.empty()) continue;
      if (!AllDigits(value) || std::stoll(value) < 1) return respond(JsonError(400, "cursor: not a cursor from next_cursor"));
      q.before_seq = std::stoll(value);
    } else {
      return respond(JsonError(400, fmt::format("{}: unknown parameter (expected actor, customer, from, to, limit, cursor)",
                                                name)));
    }
  }
  auto entries = services_->access->QueryAudit(q);
  if (!entries.ok()) return respond(ErrorFromStatus(entries.status(), {}, "GET /v1/audit"));
  JsonWriter w;
  w.BeginObject().Key("entries").BeginArray();
  for (const AuditEntry& e : *entries) {
    w.BeginObject()
        .Key("seq")
        .Int(e.seq)
        .Key("at")
        .String(FormatIsoMillis(e.at_ms))
        .Key("actor")
        .BeginObject()
        .Key("key_id")
        .Int(e.actor_key_id)
        .Key("name")
        .String(e.actor_name)
        .Key("role")
        .String(e.actor_role)
        .Key("session")
        .String(e.session)
        .EndObject()
        .Key("method")
        .String(e.method)
        .Key("route")
        .String(e.route)
        .Key("customer")
        .String(e.customer)
        .Key("status")
        .UInt(e.status)
        .Key("hash")
        .String(e.hash_hex)
        .EndObject();
  }
  w.EndArray().Key("next_cursor");
  if (entries->size() == q.limit && !entries->empty()) w.String(std::to_string(entries->back().seq));
  else w.Null();
  w.EndObject();
  respond(JsonResponse(200, w.Take()));
}

}  // namespace cairn::api
