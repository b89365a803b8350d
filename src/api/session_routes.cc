// The router's own routes: the dashboard login session (POST/GET/DELETE /v1/session) and the
// route table (GET /v1/routes). They live beside the session store because they are about the
// caller's credentials rather than any core module. Contract: docs/access.md "Dashboard login".

#include <fmt/format.h>

#include <boost/json.hpp>

#include "api/dto/customer_dto.h"
#include "api/dto/json_writer.h"
#include "api/responses.h"
#include "api/router.h"
#include "base/logging.h"

namespace cairn::api {
namespace {

std::string SessionBody(const LoginSession& s) {
  JsonWriter w;
  w.BeginObject()
      .Key("role")
      .String(RoleName(s.principal.role))
      .Key("name")
      .String(s.principal.key_name)
      .Key("csrf")
      .String(s.csrf)
      .Key("expires_at")
      .String(FormatIsoMillis(s.expires_at_ms))
      .EndObject();
  return w.Take();
}

std::string_view AccessName(Access a) {
  switch (a) {
    case Access::kPublic: return "public";
    case Access::kIngest: return "write";
    case Access::kAnalyst: return "analyst";
    case Access::kAgent: return "agent";
    case Access::kAdmin: return "admin";
  }
  return "admin";
}

}  // namespace

void Router::Login(const ApiRequest& request, Responder respond) const {
  boost::system::error_code ec;
  boost::json::value body = boost::json::parse(request.body, ec);
  if (ec || !body.is_object()) return respond(JsonError(400, "body: expected a JSON object {\"key\":\"...\"}"));
  const boost::json::value* key = body.as_object().if_contains("key");
  if (key == nullptr || !key->is_string() || key->as_string().empty()) {
    return respond(JsonError(400, "key: required, a non-empty string"));
  }
  const std::string header = "Bearer " + std::string(key->as_string());
  auto principal = AuthenticateBearer(header, services_);
  if (!principal.ok()) return respond(JsonError(401, "unknown, revoked or expired key"));
  if (principal->role == Role::kWrite) {
    return respond(JsonError(403, "a write key cannot open a dashboard session; use an analyst, agent or admin key"));
  }
  auto [token, session] = sessions_.Create(*std::move(principal));
  if (services_.access != nullptr) {
    AuditEntry e;
    e.actor_key_id = session.principal.key_id;
    e.actor_name = session.principal.key_name;
    e.actor_role = std::string(RoleName(session.principal.role));
    e.session = session.principal.session;
    e.method = "POST";
    e.route = "/v1/session";
    e.status = 200;
    Status s = services_.access->Audit(e);
    if (!s.ok()) LOG_EVERY_N_SEC(kError, 10, "audit log: cannot record a login: {}", s.ToString());
  }
  ApiResponse response = JsonResponse(200, SessionBody(session));
  response.SetHeader("Set-Cookie", fmt::format("{}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}", kSessionCookie,
                                               token, kSessionMaxAgeSeconds));
  response.SetHeader("Cache-Control", "no-store");
  respond(std::move(response));
}

void Router::CurrentSession(const ApiRequest& request, Responder respond) const {
  std::string_view token = CookieValue(request.Header("cookie"), kSessionCookie);
  std::optional<LoginSession> session = sessions_.Find(token);
  if (!session || (services_.access != nullptr && !services_.access->KeyActive(session->principal.key_id))) {
    return respond(JsonError(401, "no session: log in with POST /v1/session"));
  }
  ApiResponse response = JsonResponse(200, SessionBody(*session));
  response.SetHeader("Cache-Control", "no-store");
  respond(std::move(response));
}

void Router::Logout(const ApiRequest& request, Responder respond) const {
  std::string_view token = CookieValue(request.Header("cookie"), kSessionCookie);
  std::optional<LoginSession> session = sessions_.Find(token);
  if (session) {
    // Like every other change made with the cookie, logging out needs the CSRF token: a forged
    // cross-site request must not be able to end (or probe) a session.
    if (!SecureEquals(request.Header("x-csrf-token"), session->csrf)) {
      return respond(JsonError(403, "missing or wrong CSRF token (send the X-CSRF-Token header from POST /v1/session)"));
    }
    sessions_.Remove(token);
  }
  // Idempotent: without a live session there is nothing to end, and the cookie is cleared anyway.
  ApiResponse response = JsonResponse(200, R"({"success":true})");
  response.SetHeader("Set-Cookie",
                     fmt::format("{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0", kSessionCookie));
  respond(std::move(response));
}

void Router::ListRoutes(Responder respond) const {
  JsonWriter w;
  w.BeginObject().Key("routes").BeginArray();
  for (const RouteInfo& r : Routes()) {
    w.BeginObject()
        .Key("method")
        .String(r.method)
        .Key("pattern")
        .String(r.pattern)
        .Key("access")
        .String(AccessName(r.access))
        .Key("personal")
        .Bool((r.flags & kPersonal) != 0)
        .EndObject();
  }
  w.EndArray().EndObject();
  respond(JsonResponse(200, w.Take()));
}

}  // namespace cairn::api
