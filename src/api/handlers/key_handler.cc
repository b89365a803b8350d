#include "api/handlers/key_handler.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "api/dto/case_dto.h"
#include "api/dto/customer_dto.h"
#include "api/dto/json_writer.h"
#include "api/responses.h"
#include "api/url.h"

namespace cairn::api {
namespace {

void WriteKey(const KeyView& k, JsonWriter* w) {
  w->Key("id").Int(k.id).Key("role").String(RoleName(k.role)).Key("name").String(k.name);
  if (k.role == Role::kWrite) w->Key("source").UInt(k.source);
  w->Key("created_at").String(FormatIsoMillis(k.created_at_ms)).Key("expires_at");
  if (k.expires_at_ms > 0) w->String(FormatIsoMillis(k.expires_at_ms));
  else w->Null();
  w->Key("revoked").Bool(k.revoked);
}

}  // namespace

void KeyHandler::List(const ApiRequest&, Responder respond) {
  if (services_->access == nullptr) return respond(ServiceUnavailable("key management"));
  JsonWriter w;
  w.BeginObject().Key("keys").BeginArray();
  for (const KeyView& k : services_->access->ListKeys()) {
    w.BeginObject();
    WriteKey(k, &w);
    w.EndObject();
  }
  w.EndArray().EndObject();
  respond(JsonResponse(200, w.Take()));
}

void KeyHandler::Create(const ApiRequest& request, Responder respond) {
  if (services_->access == nullptr) return respond(ServiceUnavailable("key management"));
  boost::system::error_code ec;
  boost::json::value body = boost::json::parse(request.body, ec);
  if (ec || !body.is_object()) return respond(JsonError(400, "body: expected a JSON object {\"role\",\"name\"}"));
  const auto& o = body.as_object();
  Role role = Role::kNone;
  const boost::json::value* v = o.if_contains("role");
  if (v == nullptr || !v->is_string() || !ParseRole(std::string_view(v->as_string()), &role)) {
    return respond(JsonError(400, "role: required, one of write, analyst, agent, admin"));
  }
  v = o.if_contains("name");
  if (v == nullptr || !v->is_string() || v->as_string().empty() || v->as_string().size() > 200) {
    return respond(JsonError(400, "name: required, a string of 1 to 200 characters"));
  }
  std::string name(v->as_string());
  int64_t expires_at_ms = 0;
  v = o.if_contains("expires_at");
  if (v != nullptr && !v->is_null()) {
    if (!v->is_string()) return respond(JsonError(400, "expires_at: expected an ISO-8601 time or null"));
    auto t = ParseTimeParam("expires_at", std::string_view(v->as_string()));
    if (!t.ok()) return respond(ErrorFromStatus(t.status()));
    expires_at_ms = *t;
  }
  for (const auto& kv : o) {
    if (kv.key() != "role" && kv.key() != "name" && kv.key() != "expires_at") {
      return respond(JsonError(400, fmt::format("{}: unknown field (expected role, name, expires_at)",
                                                std::string_view(kv.key()))));
    }
  }
  auto created = services_->access->CreateKey(role, name, expires_at_ms);
  if (!created.ok()) return respond(ErrorFromStatus(created.status(), {}, "POST /v1/keys"));
  JsonWriter w;
  w.BeginObject().Key("key").String(created->second);
  WriteKey(created->first, &w);
  w.EndObject();
  ApiResponse response = JsonResponse(201, w.Take());
  response.SetHeader("Cache-Control", "no-store");
  respond(std::move(response));
}

void KeyHandler::Revoke(const ApiRequest&, const std::string& id, Responder respond) {
  if (services_->access == nullptr) return respond(ServiceUnavailable("key management"));
  auto parsed = ParsePositiveId("id", id);
  if (!parsed.ok()) return respond(ErrorFromStatus(parsed.status()));
  Status s = services_->access->RevokeKey(*parsed);
  if (!s.ok()) return respond(ErrorFromStatus(s, {}, "DELETE /v1/keys/{id}"));
  respond(JsonResponse(200, fmt::format(R"({{"revoked":{}}})", *parsed)));
}

}  // namespace cairn::api
