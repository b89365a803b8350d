#pragma once
// Access wiring: api::AccessService over the hub's KeyStore (keys.db) and the audit log
// (DIR/audit.db), handed to the HTTP server as Services::access (docs/access.md).

#include <memory>
#include <string>

#include "api/auth.h"
#include "app/hub.h"
#include "base/clock.h"
#include "base/result.h"
#include "entity/audit_log.h"
#include "entity/key_store.h"

namespace cairn::app {

// Opens DIR/audit.db (creating it) and adapts `keys` and the log to api::AccessService.
// `hub` names customers for the log (AuditSubject: its identity resolver) and expands
// `GET /v1/audit?customer=` to every subject of that customer; null: every reference is hashed.
// `keys` and `hub` must outlive the result. Corruption if audit.db is not an audit log.
Result<std::unique_ptr<api::AccessService>> OpenAccessService(entity::KeyStore* keys, const Hub* hub,
                                                              const std::string& data_dir, Clock* clock = nullptr);

// The role names of the two modules, kept apart (entity/ knows nothing of api/).
api::Role ToApiRole(entity::KeyRole role);
entity::KeyRole ToKeyRole(api::Role role);  // CHECKs role != kNone

}  // namespace cairn::app
