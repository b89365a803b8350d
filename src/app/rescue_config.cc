#include "app/rescue_config.h"

#include <fmt/format.h>

#include <charconv>

#include "app/yaml_fields.h"

namespace cairn::app {

namespace {

using yaml_fields::Bad;
using yaml_fields::ForEachKey;
using yaml_fields::Scalar;

// "250ms", "5s", "10m", "2h", "7d" → ms.
Status Duration(const YAML::Node& n, const std::string& key, int64_t* out) {
  std::string s;
  RETURN_IF_ERROR(Scalar(n, key, &s));
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  std::string_view unit(end, s.data() + s.size() - end);
  int64_t mult = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : unit == "h" ? 3600000 : unit == "d" ? 86400000 : 0;
  if (ec != std::errc() || v < 0 || mult == 0) return Bad(key, n, fmt::format("expected a duration like 30s, 5m or 7d, got '{}'", s));
  *out = v * mult;
  return Status::Ok();
}

// "21:00" → minutes after midnight.
Status TimeOfDay(const YAML::Node& n, const std::string& key, int* out) {
  std::string s;
  RETURN_IF_ERROR(Scalar(n, key, &s));
  int h = -1, m = -1;
  if (s.size() == 5 && s[2] == ':') {
    std::from_chars(s.data(), s.data() + 2, h);
    std::from_chars(s.data() + 3, s.data() + 5, m);
  }
  if (h < 0 || h > 23 || m < 0 || m > 59) return Bad(key, n, fmt::format("expected a time of day like 21:00, got '{}'", s));
  *out = h * 60 + m;
  return Status::Ok();
}

const Status kUnknown = NotFound("");

}  // namespace

Status ApplyRescueSection(const YAML::Node& node, rescue::RescueConfig* c) {
  return ForEachKey(node, "rescue", [&](const std::string& name, const std::string& key, const YAML::Node& v) -> Status {
    if (name == "budget_per_period") return Scalar(v, key, &c->budget_per_period);
    if (name == "budget_period") return Duration(v, key, &c->budget_period_ms);
    if (name == "auto_act") return Scalar(v, key, &c->auto_act);
    if (name == "post_purchase") return Scalar(v, key, &c->post_purchase);
    if (name == "outcome_check_interval") return Duration(v, key, &c->expiry_interval_ms);
    return kUnknown;
  });
}

Status ApplyActionsSection(const YAML::Node& node, rescue::RescueConfig* c) {
  return ForEachKey(node, "actions", [&](const std::string& name, const std::string& key, const YAML::Node& v) -> Status {
    if (name == "webhook") {
      return ForEachKey(v, key, [&](const std::string& n, const std::string& k, const YAML::Node& x) -> Status {
        if (n == "url") return Scalar(x, k, &c->webhook.url);
        if (n == "secret") return Scalar(x, k, &c->webhook.secret);
        if (n == "timeout") return Duration(x, k, &c->webhook.timeout_ms);
        if (n == "ca_file") return Scalar(x, k, &c->webhook.ca_file);
        return kUnknown;
      });
    }
    if (name == "retry") {
      return ForEachKey(v, key, [&](const std::string& n, const std::string& k, const YAML::Node& x) -> Status {
        if (n == "max_attempts") return Scalar(x, k, &c->retry.max_attempts);
        if (n == "initial_backoff") return Duration(x, k, &c->retry.initial_backoff_ms);
        if (n == "multiplier") return Scalar(x, k, &c->retry.multiplier);
        if (n == "max_backoff") return Duration(x, k, &c->retry.max_backoff_ms);
        return kUnknown;
      });
    }
    if (name == "quiet_hours") {
      return ForEachKey(v, key, [&](const std::string& n, const std::string& k, const YAML::Node& x) -> Status {
        if (n == "enabled") return Scalar(x, k, &c->quiet.enabled);
        if (n == "start") return TimeOfDay(x, k, &c->quiet.start_minute);
        if (n == "end") return TimeOfDay(x, k, &c->quiet.end_minute);
        if (n == "default_time_zone") return Scalar(x, k, &c->quiet.default_time_zone);
        if (n == "exempt_purposes") return yaml_fields::StringList(x, k, &c->quiet.exempt_purposes);
        return kUnknown;
      });
    }
    if (name == "frequency_cap") {
      return ForEachKey(v, key, [&](const std::string& n, const std::string& k, const YAML::Node& x) -> Status {
        if (n == "max_actions") return Scalar(x, k, &c->cap.max_actions);
        if (n == "window") return Duration(x, k, &c->cap.window_ms);
        if (n == "arbitration_delay") return Duration(x, k, &c->cap.arbitration_delay_ms);
        return kUnknown;
      });
    }
    if (name == "consent") {
      return ForEachKey(v, key, [&](const std::string& n, const std::string& k, const YAML::Node& x) -> Status {
        if (n == "require_grant") return yaml_fields::StringList(x, k, &c->consent.require_grant);
        return kUnknown;
      });
    }
    return kUnknown;
  });
}

}  // namespace cairn::app
