#include "app/config.h"

#include "app/consent_wiring.h"
#include "app/rescue_config.h"

#include <CLI/CLI.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <set>

namespace cairn::app {

void AddServeFlags(CLI::App* cmd, CliFlags* f, bool data_required) {
  auto* d = cmd->add_option("--data", f->data, "data directory (created if missing)");
  if (data_required) d->required();
  cmd->add_option("--listen", f->listen, "address to listen on, HOST:PORT (default 127.0.0.1:8080)");
  cmd->add_option("--config", f->config, "YAML config file (see config/cairn.example.yaml)");
  cmd->add_option("--write-key", f->write_keys, "a write key (repeatable); also CAIRN_WRITE_KEYS=k1,k2");
  cmd->add_option("--admin-key", f->admin_key, "the admin key; also CAIRN_ADMIN_KEY");
  cmd->add_flag("--enable-test-endpoints", f->enable_test_endpoints, "enable /v1/admin/test/* (tests only)");
  cmd->add_option("--key-rate-limit", f->key_rate_limit, "requests/s per API key, RPS[:BURST] (0 = off; default 200:1000)");
  cmd->add_option("--ip-rate-limit", f->ip_rate_limit, "requests/s per client IP, RPS[:BURST] (0 = off; default 500:2000)");
}

namespace {

Status ParseListen(const std::string& listen, api::HttpServerOptions* http) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return InvalidArgument("--listen: expected HOST:PORT, got '" + listen + "'");
  unsigned port = 0;
  auto r = std::from_chars(listen.data() + colon + 1, listen.data() + listen.size(), port);
  if (r.ec != std::errc() || r.ptr != listen.data() + listen.size() || port > 65535)
    return InvalidArgument("--listen: bad port in '" + listen + "'");
  http->address = listen.substr(0, colon);
  http->port = static_cast<uint16_t>(port);
  return Status::Ok();
}

std::string Where(const YAML::Node& n) {
  return "line " + std::to_string(n.Mark().line + 1) + ", column " + std::to_string(n.Mark().column + 1);
}

// "RPS" or "RPS:BURST" (BURST defaults to 5 × RPS); "0" disables. For --key/ip-rate-limit.
Status ParseRateFlag(const std::string& flag, const std::string& text, double* per_second, double* burst) {
  size_t colon = text.find(':');
  try {
    size_t used = 0;
    double rps = std::stod(text.substr(0, colon), &used);
    if (used != (colon == std::string::npos ? text.size() : colon) || rps < 0) throw std::invalid_argument("");
    double b = rps * 5;
    if (colon != std::string::npos) {
      b = std::stod(text.substr(colon + 1), &used);
      if (used != text.size() - colon - 1 || b < 1) throw std::invalid_argument("");
    }
    *per_second = rps;
    *burst = std::max(1.0, b);
  } catch (const std::exception&) {
    return InvalidArgument(flag + ": expected RPS or RPS:BURST (numbers, RPS >= 0, BURST >= 1), got '" + text + "'");
  }
  return Status::Ok();
}

// rate_limits: {key_per_second, key_burst, ip_per_second, ip_burst} (docs/access.md).
Status ApplyRateLimitsSection(const YAML::Node& v, api::RateLimitOptions* out) {
  if (!v.IsMap()) return InvalidArgument("config rate_limits (" + Where(v) + "): expected a mapping");
  for (const auto& kv : v) {
    const std::string key = kv.first.as<std::string>();
    double* field = key == "key_per_second" ? &out->key_per_second
                    : key == "key_burst"    ? &out->key_burst
                    : key == "ip_per_second" ? &out->ip_per_second
                    : key == "ip_burst"      ? &out->ip_burst
                                             : nullptr;
    if (field == nullptr) {
      return InvalidArgument("config rate_limits (" + Where(kv.first) + "): unknown key '" + key +
                             "' (expected key_per_second, key_burst, ip_per_second, ip_burst)");
    }
    try {
      *field = kv.second.as<double>();
    } catch (const YAML::Exception&) {
      return InvalidArgument("config rate_limits." + key + " (" + Where(kv.second) + "): expected a number");
    }
    if (*field < 0) return InvalidArgument("config rate_limits." + key + " (" + Where(kv.second) + "): must be >= 0");
  }
  return Status::Ok();
}

template <typename T>
Status ReadScalar(const YAML::Node& n, const std::string& key, T* out) {
  try {
    *out = n.as<T>();
  } catch (const YAML::Exception&) {
    return InvalidArgument("config " + key + " (" + Where(n) + "): expected a " +
                           (std::is_same_v<T, std::string> ? "string" : std::is_same_v<T, bool> ? "boolean (true or false)" : "number"));
  }
  return Status::Ok();
}

// `http:` — connection timeouts and limits (api/http_server.h, docs/reliability.md).
Status ApplyHttpSection(const YAML::Node& section, api::HttpServerOptions* http) {
  if (!section.IsMap()) return InvalidArgument("config http (" + Where(section) + "): expected a mapping");
  for (const auto& kv : section) {
    const std::string key = "http." + kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    int64_t n = 0;
    RETURN_IF_ERROR(ReadScalar(v, key, &n));
    if (n < 0) return InvalidArgument("config " + key + " (" + Where(v) + "): must not be negative");
    const bool is_ms = key.ends_with("_ms");
    if (is_ms && n == 0) return InvalidArgument("config " + key + " (" + Where(v) + "): must be positive");
    if (key == "http.idle_timeout_ms") http->idle_timeout = std::chrono::milliseconds(n);
    else if (key == "http.header_timeout_ms") http->header_timeout = std::chrono::milliseconds(n);
    else if (key == "http.read_timeout_ms") http->read_timeout = std::chrono::milliseconds(n);
    else if (key == "http.write_timeout_ms") http->write_timeout = std::chrono::milliseconds(n);
    else if (key == "http.max_connections") http->max_connections = static_cast<size_t>(n);
    else if (key == "http.max_header_bytes") http->max_header_bytes = static_cast<size_t>(n);
    else if (key == "http.max_target_bytes") http->max_target_bytes = static_cast<size_t>(n);
    else if (key == "http.max_inflight_body_bytes") http->max_inflight_body_bytes = static_cast<size_t>(n);
    else return InvalidArgument("config " + key + " (" + Where(kv.first) + "): unknown key");
  }
  return Status::Ok();
}

// The config file: every key is known; an unknown one is an error (a typo must not be ignored).
Status ApplyFile(const std::string& path, Config* cfg, std::string* listen) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return InvalidArgument("--config: cannot read " + path);
  } catch (const YAML::Exception& e) {
    return InvalidArgument("config " + path + ": line " + std::to_string(e.mark.line + 1) + ", column " +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap()) return InvalidArgument("config " + path + ": the top level must be a mapping");
  for (const auto& kv : root) {
    std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (key == "listen") {
      RETURN_IF_ERROR(ReadScalar(v, key, listen));
    } else if (key == "data") {
      if (cfg->hub.data_dir.empty()) RETURN_IF_ERROR(ReadScalar(v, key, &cfg->hub.data_dir));
    } else if (key == "max_request_bytes") {
      RETURN_IF_ERROR(ReadScalar(v, key, &cfg->hub.pipeline.max_request_bytes));
    } else if (key == "max_message_bytes") {
      RETURN_IF_ERROR(ReadScalar(v, key, &cfg->hub.pipeline.parse.max_message_bytes));
    } else if (key == "max_batch_messages") {
      RETURN_IF_ERROR(ReadScalar(v, key, &cfg->hub.pipeline.parse.max_batch_messages));
    } else if (key == "dedup_capacity") {
      RETURN_IF_ERROR(ReadScalar(v, key, &cfg->hub.pipeline.dedup_capacity));
    } else if (key == "max_identities_per_customer") {
      RETURN_IF_ERROR(ReadScalar(v, key, &cfg->hub.identity.max_identities_per_customer));
    } else if (key == "blocked_id_values") {
      if (!v.IsSequence()) return InvalidArgument("config blocked_id_values (" + Where(v) + "): expected a list of strings");
      cfg->hub.identity.blocked_values.clear();
      for (const auto& item : v) {
        std::string s;
        RETURN_IF_ERROR(ReadScalar(item, key, &s));
        cfg->hub.identity.blocked_values.push_back(s);
      }
    } else if (key == "memtable_flush_bytes") {
      RETURN_IF_ERROR(ReadScalar(v, key, &cfg->hub.store.memtable_flush_bytes));
    } else if (key == "memtable_max_bytes") {  // store/store.h, docs/reliability.md
      RETURN_IF_ERROR(ReadScalar(v, key, &cfg->hub.store.memtable_max_bytes));
    } else if (key == "wal_max_pending_bytes") {
      RETURN_IF_ERROR(ReadScalar(v, key, &cfg->hub.store.wal_max_pending_bytes));
    } else if (key == "journey") {  // docs/journey.md "Turning it off"
      if (!v.IsMap()) return InvalidArgument("config journey (" + Where(v) + "): expected a mapping");
      for (const auto& jkv : v) {
        const std::string jkey = jkv.first.as<std::string>();
        if (jkey != "enabled") return InvalidArgument("config journey." + jkey + " (" + Where(jkv.first) + "): unknown key (expected: enabled)");
        RETURN_IF_ERROR(ReadScalar(jkv.second, "journey.enabled", &cfg->hub.enable_journey));
      }
    } else if (key == "rescue") {
      RETURN_IF_ERROR(ApplyRescueSection(v, &cfg->hub.rescue));
    } else if (key == "actions") {
      RETURN_IF_ERROR(ApplyActionsSection(v, &cfg->hub.rescue));
    } else if (key == "retention") {
      RETURN_IF_ERROR(ApplyRetentionConfig(v, &cfg->hub.store.compaction_filter));  // app/consent_wiring.h
    } else if (key == "cases") {
      RETURN_IF_ERROR(ApplyCasesSection(v, &cfg->hub.cases));  // app/cases_wiring.h
    } else if (key == "value") {
      RETURN_IF_ERROR(ApplyValueSection(v, &cfg->value));  // app/value_cmd.h
    } else if (key == "io_threads") {
      RETURN_IF_ERROR(ReadScalar(v, key, &cfg->http.io_threads));
    } else if (key == "http") {
      RETURN_IF_ERROR(ApplyHttpSection(v, &cfg->http));  // connection limits (docs/reliability.md)
    } else if (key == "rate_limits") {
      RETURN_IF_ERROR(ApplyRateLimitsSection(v, &cfg->rate_limits));
    } else if (key == "backup_dir") {
      RETURN_IF_ERROR(ReadScalar(v, key, &cfg->backup_dir));
    } else if (key == "query_time_limit_ms") {  // docs/analytics.md "Time limit and cancellation"
      RETURN_IF_ERROR(ReadScalar(v, key, &cfg->query_time_limit_ms));
      if (cfg->query_time_limit_ms < 0)
        return InvalidArgument("config query_time_limit_ms (" + Where(v) + "): must be 0 (none) or more");
    } else if (key == "query_warm_at_start") {  // docs/analytics.md "Where a query runs"
      RETURN_IF_ERROR(ReadScalar(v, key, &cfg->query_warm_at_start));
    } else if (key == "query_threads") {  // docs/analytics.md "Where a query runs"
      int64_t n = 0;
      RETURN_IF_ERROR(ReadScalar(v, key, &n));
      if (n < 0 || n > 1024)
        return InvalidArgument("config query_threads (" + Where(v) + "): must be 0 (one per core) to 1024");
      cfg->query_pool.threads = static_cast<unsigned>(n);
    } else if (key == "query_queue") {
      int64_t n = 0;
      RETURN_IF_ERROR(ReadScalar(v, key, &n));
      if (n < 0 || n > 100000)
        return InvalidArgument("config query_queue (" + Where(v) + "): must be 0 to 100000");
      cfg->query_pool.queue = static_cast<size_t>(n);
    } else {
      return InvalidArgument("config " + path + " (" + Where(kv.first) + "): unknown key '" + key + "'");
    }
  }
  return Status::Ok();
}

std::vector<std::string> SplitCommas(const char* s) {
  std::vector<std::string> out;
  std::string cur;
  for (const char* p = s; *p; ++p) {
    if (*p == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += *p;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

Result<Config> BuildConfig(const CliFlags& f) {
  Config cfg;
  cfg.hub.data_dir = f.data;
  std::string listen = "127.0.0.1:8080";
  if (!f.config.empty()) RETURN_IF_ERROR(ApplyFile(f.config, &cfg, &listen));
  if (!f.listen.empty()) listen = f.listen;
  RETURN_IF_ERROR(ParseListen(listen, &cfg.http));
  cfg.hub.write_keys = f.write_keys;
  if (cfg.hub.write_keys.empty())
    if (const char* env = std::getenv("CAIRN_WRITE_KEYS")) cfg.hub.write_keys = SplitCommas(env);
  cfg.hub.admin_key = f.admin_key;
  if (cfg.hub.admin_key.empty())
    if (const char* env = std::getenv("CAIRN_ADMIN_KEY")) cfg.hub.admin_key = env;
  cfg.http.enable_test_endpoints = f.enable_test_endpoints;
  if (f.enable_test_endpoints)
    if (const char* env = std::getenv("CAIRN_TEST_QUERY_DELAY_MS")) cfg.query_test_delay_ms = std::atoll(env);
  if (!f.key_rate_limit.empty())
    RETURN_IF_ERROR(ParseRateFlag("--key-rate-limit", f.key_rate_limit, &cfg.rate_limits.key_per_second,
                                  &cfg.rate_limits.key_burst));
  if (!f.ip_rate_limit.empty())
    RETURN_IF_ERROR(ParseRateFlag("--ip-rate-limit", f.ip_rate_limit, &cfg.rate_limits.ip_per_second,
                                  &cfg.rate_limits.ip_burst));
  cfg.http.max_body_bytes = cfg.hub.pipeline.max_request_bytes + (64u << 10);
  if (cfg.hub.pipeline.parse.max_message_bytes > cfg.hub.pipeline.max_request_bytes)
    return InvalidArgument("config: max_message_bytes is larger than max_request_bytes");
  return cfg;
}

}  // namespace cairn::app
