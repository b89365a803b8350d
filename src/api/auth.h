#pragma once
// Credentials from the Authorization header.
//
// Ingest routes: `Authorization: Basic base64(writeKey + ":")` (analytics-node, rudder, the
// browser SDK), also accepted without the colon. Only the key is extracted here; whether it is
// valid is decided by the Ingestor, which also sees writeKey/api_key in the body.
//
// Every other protected route: `Authorization: Bearer KEY` (or the dashboard's session cookie,
// api/session.h), checked by the router against the role the route declares (docs/access.md).
// No or unknown key → 401; a valid key whose role is below the route's → 403 naming the role.
//
// This header also holds the access vocabulary the router and app/ share: roles, the access a
// route requires, the authenticated principal, and AccessService — the interface app/ implements
// over entity::KeyStore and entity::AuditLog (api/ links no core library).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace cairn::api {

struct Services;  // api/services.h

// Key roles. write keys only ingest; the others are ordered analyst < agent < admin, each
// allowed everything the lower ones are (docs/access.md has the route table).
enum class Role : uint8_t { kNone = 0, kWrite = 1, kAnalyst = 2, kAgent = 3, kAdmin = 4 };
std::string_view RoleName(Role role);  // "none" | "write" | "analyst" | "agent" | "admin"
// Parses "write" | "analyst" | "agent" | "admin"; false otherwise.
bool ParseRole(std::string_view text, Role* out);

// Who may call a route, declared in the route table (router.cc).
enum class Access : uint8_t {
  kPublic,   // anyone, no credentials (health, metrics, the dashboard's static files, login)
  kIngest,   // ingest routes: the ingest handler checks write keys itself (header or body)
  kAnalyst,  // analyst, agent or admin key
  kAgent,    // agent or admin key
  kAdmin,    // admin key only
};
// The role an Access level needs (kNone for kPublic/kIngest).
Role RequiredRole(Access access);
// True if `role` may call a route requiring `access` (kPublic/kIngest: always true).
bool Allows(Access access, Role role);

// The caller of an authenticated request.
struct Principal {
  int64_t key_id = 0;    // the key's id in keys.db (0: a key configured by test Services)
  std::string key_name;  // the name given at creation
  Role role = Role::kNone;
  uint32_t source = 0;   // write keys: their source id
  // Non-empty when the request came with the dashboard session cookie: a short, non-secret
  // label of the session (for the audit log), never the cookie itself.
  std::string session;
};

// A key as listed by the admin API (never the raw key or its hash).
struct KeyView {
  int64_t id = 0;
  Role role = Role::kNone;
  uint32_t source = 0;        // write keys: the source id (>= 1); others 0
  std::string name;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;  // 0: never expires
  bool revoked = false;
};

// One audit record (docs/access.md, docs/format/audit.md): who, when, what — ids only, never
// request or response bodies.
struct AuditEntry {
  int64_t seq = 0;  // assigned by the log (1, 2, ...); ignored on append
  int64_t at_ms = 0;  // assigned by the log's clock on append
  int64_t actor_key_id = 0;
  std::string actor_name;
  std::string actor_role;  // RoleName
  std::string session;     // Principal::session
  std::string method;      // "GET", "DELETE", ...
  std::string route;       // the route pattern, e.g. "/v1/customers/{id}"
  // The customer the request was about, as AccessService::AuditSubject names it ("c:<id>" or
  // "h:<hash>"; "" if none): never an identity as the request gave it (docs/access.md).
  std::string customer;
  unsigned status = 0;     // the HTTP status answered
  std::string hash_hex;    // the record's chain hash (output only)
};

struct AuditQuery {
  std::optional<int64_t> actor_key_id;    // actor=<number>
  std::optional<std::string> actor_name;  // actor=<name>
  // Any identity of a customer (as in a request path): every record about them, whichever of
  // their ids the request used (AccessService::QueryAudit expands it to their subjects).
  std::optional<std::string> customer;
  int64_t from_ms = INT64_MIN;  // inclusive
  int64_t to_ms = INT64_MAX;    // exclusive
  size_t limit = 100;
  int64_t before_seq = 0;  // cursor: only records with seq < before_seq (0: from the newest)
};

// Keys and audit behind the router. Implemented in app/ (app/access_wiring.h). Thread-safe; must
// outlive the server.
class AccessService {
 public:
  virtual ~AccessService() = default;
  // The principal for a raw key; nullopt if unknown, revoked or expired. Fast (no I/O).
  virtual std::optional<Principal> Authenticate(std::string_view key) const = 0;
  // True if key `id` exists and is neither revoked nor expired (sessions re-check their key).
  virtual bool KeyActive(int64_t id) const = 0;
  virtual std::vector<KeyView> ListKeys() const = 0;
  // Creates a key; returns it with the raw key (shown once). InvalidArgument naming the field.
  virtual Result<std::pair<KeyView, std::string>> CreateKey(Role role, std::string_view name,
                                                            int64_t expires_at_ms) = 0;
  // NotFound for an unknown id; OK if already revoked.
  virtual Status RevokeKey(int64_t id) = 0;
  // How the audit log names the customer a request refers to by `reference` (any identity as
  // the request gave it: "u:…", "e:…", a bare userId, "c:<n>"): "c:<internal id>" of the customer
  // it names at this moment, else "h:<keyed hash>" of the reference; "" for "". Never the
  // reference itself, so an e-mail in a path does not outlive the customer's erasure in the log.
  // Called when the request arrives (an erasure hides the customer before it answers).
  virtual std::string AuditSubject(std::string_view reference) const = 0;
  // Appends one record; an error means it was not recorded.
  virtual Status Audit(const AuditEntry& entry) = 0;
  // Newest first.
  virtual Result<std::vector<AuditEntry>> QueryAudit(const AuditQuery& query) const = 0;
};

// The write key carried by a Basic Authorization header value: "" when the header is absent or
// uses another scheme (the key may then be in the body). Unauthenticated when it is Basic but
// not valid base64. Scheme names are case-insensitive; the key is the part before the first ':'
// (the whole decoded text when there is no colon).
Result<std::string> BasicWriteKey(std::string_view authorization);

// The key of a Bearer Authorization header value: nullopt when the header is absent, empty, or
// of another scheme; "" never (an empty Bearer credential is nullopt too).
std::optional<std::string_view> BearerKey(std::string_view authorization);

// Authenticates a Bearer Authorization header value against `services` (Services::access, or
// the is_admin_key/is_write_key checks when no AccessService is configured): Unauthenticated
// for a missing, malformed or unknown key.
Result<Principal> AuthenticateBearer(std::string_view authorization, const Services& services);

// Checks a Bearer Authorization header value for an admin key (see the file comment). Missing
// checks in `services` count as "no key matches". Kept for callers outside the router.
Status CheckAdminBearer(std::string_view authorization, const Services& services);

// Standard base64 (RFC 4648 §4), padding optional, surrounding whitespace ignored; also accepts
// the URL-safe alphabet. InvalidArgument on anything else.
Result<std::string> Base64Decode(std::string_view in);

}  // namespace cairn::api
