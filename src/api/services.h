#pragma once
// Services: the core objects the HTTP layer calls. app/ builds them and hands them to the server;
// api/ never constructs core objects itself. Every pointer outlives the server.

#include <functional>
#include <string_view>

#include "base/metrics.h"
#include "base/status.h"
#include "entity/customer_directory.h"
#include "ingest/ingestor.h"

namespace cairn::api {

struct Services {
  ingest::Ingestor* ingestor = nullptr;
  entity::CustomerDirectory* customers = nullptr;
  // Key checks for `Authorization: Bearer KEY` on non-ingest endpoints: an admin key is allowed;
  // a valid write key gets 403; anything else 401. Thread-safe.
  std::function<bool(std::string_view key)> is_admin_key;
  std::function<bool(std::string_view key)> is_write_key;
  metrics::Registry* metrics = nullptr;
  // /readyz: OK when the store is open and accepting; else the reason (503).
  std::function<Status()> ready;
};

}  // namespace cairn::api
