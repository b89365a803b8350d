#pragma once
// KeyHandler: API key management (admin; the router checks the role). docs/access.md "Keys".
//   GET    /v1/keys        → {"keys":[{id, role, name, source, created_at, expires_at, revoked}]}
//   POST   /v1/keys        {"role":"analyst","name":"bi-tool","expires_at":"2027-01-01"} →
//                          201 {"key":"cn_…", ...the listing fields}: the raw key, shown this once
//   DELETE /v1/keys/{id}   → {"revoked":id}; 404 unknown id. Revocation is immediate (sessions too).
// 503 when the server has no AccessService. Stateless; thread-safe.

#include <string>

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class KeyHandler {
 public:
  explicit KeyHandler(const Services* services) : services_(services) {}

  void List(const ApiRequest& request, Responder respond);
  void Create(const ApiRequest& request, Responder respond);
  void Revoke(const ApiRequest& request, const std::string& id, Responder respond);

 private:
  const Services* services_;
};

}  // namespace cairn::api
