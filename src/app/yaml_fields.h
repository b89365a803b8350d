#pragma once
// Reading cairn.yaml sections (app/ alone reads config files): the shared field readers of the
// per-module sections (rescue_config.cc, cases_wiring.cc, value_cmd.cc), so every section names
// a bad value the same way: "config <section.key> (line L, column C): <what>".

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/status.h"

namespace cairn::app::yaml_fields {

// InvalidArgument naming the key and where it is in the file.
inline Status Bad(const std::string& key, const YAML::Node& n, std::string_view what) {
  return InvalidArgument(fmt::format("config {} (line {}, column {}): {}", key, n.Mark().line + 1, n.Mark().column + 1, what));
}

// One scalar as T (bool, a number or std::string); a clear error instead of yaml-cpp's exception.
template <typename T>
Status Scalar(const YAML::Node& n, const std::string& key, T* out) {
  try {
    *out = n.as<T>();
  } catch (const YAML::Exception&) {
    if constexpr (std::is_same_v<T, bool>) return Bad(key, n, "expected true or false");
    else if constexpr (std::is_same_v<T, std::string>) return Bad(key, n, "expected a string");
    else return Bad(key, n, "expected a number");
  }
  return Status::Ok();
}

// A list of strings (replaces *out).
inline Status StringList(const YAML::Node& n, const std::string& key, std::vector<std::string>* out) {
  if (!n.IsSequence()) return Bad(key, n, "expected a list of strings");
  out->clear();
  for (const auto& item : n) {
    std::string s;
    RETURN_IF_ERROR(Scalar(item, key, &s));
    out->push_back(s);
  }
  return Status::Ok();
}

// Calls fn(name, "section.name", value) for each key of a mapping; fn answers NotFound for a key
// it does not know, which becomes "unknown key" at that key's position.
template <typename Fn>
Status ForEachKey(const YAML::Node& node, const std::string& section, Fn fn) {
  if (!node.IsMap()) return Bad(section, node, "expected a mapping");
  for (const auto& kv : node) {
    std::string key = section + "." + kv.first.as<std::string>();
    Status s = fn(kv.first.as<std::string>(), key, kv.second);
    if (s.Is(Code::kNotFound)) return Bad(key, kv.first, "unknown key");
    RETURN_IF_ERROR(s);
  }
  return Status::Ok();
}

}  // namespace cairn::app::yaml_fields
