#pragma once
// Config: flags, environment and the YAML config file → the Options structs the core takes.
// app/ is the only place that reads any of these. Precedence: flag > environment > file > default.

#include <string>
#include <vector>

#include "api/http_server.h"
#include "api/query_pool.h"
#include "app/hub.h"
#include "app/value_cmd.h"
#include "base/result.h"

namespace CLI {
class App;
}

namespace cairn::app {

struct CliFlags {
  std::string data;                     // --data DIR
  std::string listen;                   // --listen HOST:PORT (default 127.0.0.1:8080)
  std::string config;                   // --config FILE (YAML)
  std::vector<std::string> write_keys;  // --write-key KEY (repeatable); also CAIRN_WRITE_KEYS=k1,k2
  std::string admin_key;                // --admin-key KEY; also CAIRN_ADMIN_KEY
  bool enable_test_endpoints = false;   // --enable-test-endpoints (client retry tests only)
  std::string key_rate_limit;           // --key-rate-limit RPS[:BURST] (0 = off); docs/access.md
  std::string ip_rate_limit;            // --ip-rate-limit RPS[:BURST] (0 = off); docs/access.md
};

struct Config {
  HubOptions hub;
  api::HttpServerOptions http;
  // Per-key and per-IP request limits (config `rate_limits:`, flags --key-rate-limit /
  // --ip-rate-limit); defaults in api/rate_limit.h. docs/access.md.
  api::RateLimitOptions rate_limits;
  // Customer value: model, horizon, discount, refit interval, personas, offers (config `value:`;
  // docs/value.md "Settings").
  ValueSettings value;
  // Where POST /v1/admin/backup writes its backups, one directory each (config `backup_dir:`;
  // created if missing, its parent must exist). Default "": backups over the API are off (503);
  // `cairn backup` works either way. docs/reliability.md "Backup".
  std::string backup_dir;
  // Time limit of one analytics query over HTTP, in ms; past it the query answers 504 (config
  // `query_time_limit_ms`; 0 = none). Default 30 s. docs/analytics.md "Time limit and cancellation".
  int64_t query_time_limit_ms = 30'000;
  // Build the analytics index on a background thread (at lower CPU priority) as soon as the
  // server serves, so the first query or dashboard view does not wait for a full scan (config
  // `query_warm_at_start`). Default true. docs/analytics.md "Where a query runs".
  bool query_warm_at_start = true;
  // Test-only slow-down of analytics queries (api::Services::analytics_test_delay_ms): read from
  // CAIRN_TEST_QUERY_DELAY_MS, and only with --enable-test-endpoints. Default 0.
  int64_t query_test_delay_ms = 0;
  // The pool analytics queries run on, off the HTTP I/O threads (config `query_threads`, default
  // 0 = one per core; `query_queue`, default 16 waiting; beyond: 503 + Retry-After).
  // docs/analytics.md "Where a query runs".
  api::QueryPoolOptions query_pool;
};

void AddServeFlags(CLI::App* cmd, CliFlags* flags, bool data_required);

// InvalidArgument naming the flag, variable or config key (with line and column) that is wrong.
Result<Config> BuildConfig(const CliFlags& flags);

}  // namespace cairn::app
