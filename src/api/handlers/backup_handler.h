#pragma once
// BackupHandler: an online backup through the API (admin; the router checks the role).
// docs/reliability.md "Backup".
//   POST /v1/admin/backup   body optional: {"name": "nightly-1"} (1-100 of [A-Za-z0-9._-]; default
//                           "cairn-<UTC time>") → 201 {"name","path","files","bytes","sqliteDbs",
//                           "segments","walFiles","elapsedMs"} once the copy is complete and verified
// 400 bad name / body, 409 the name is taken or another backup is running, 503 when the server has
// no backup directory (`backup_dir:` in cairn.yaml). The answer comes from the backup's own thread:
// no I/O thread waits for it. Stateless; thread-safe.

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class BackupHandler {
 public:
  explicit BackupHandler(const Services* services) : services_(services) {}

  void Create(const ApiRequest& request, Responder respond);

 private:
  const Services* services_;
};

}  // namespace cairn::api
