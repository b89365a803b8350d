#include "analytics/exec/payload_props.h"

#include <charconv>
#include <cmath>

namespace cairn::analytics {
namespace {

bool IsRootKey(std::string_view k) {
  static constexpr std::string_view kRoot[] = {"properties", "context",  "traits",      "event",     "type",
                                               "userId",     "anonymousId", "messageId", "timestamp", "name",
                                               "groupId",    "previousId",  "integrations", "channel"};
  for (auto r : kRoot)
    if (r == k) return true;
  return false;
}

bool ParseNumber(std::string_view s, double* out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(*out);
}

}  // namespace

bool FilterHolds(const PropertyFilter& f, bool present, bool is_number, double number, std::string_view text) {
  using Op = PropertyFilter::Op;
  switch (f.op) {
    case Op::kIsSet: return present;
    case Op::kIsNotSet: return !present;
    case Op::kNeq: {
      if (!present) return true;
      PropertyFilter eq = f;
      eq.op = Op::kEq;
      return !FilterHolds(eq, present, is_number, number, text);
    }
    case Op::kEq:
      if (!present) return false;
      if (f.value_is_number) {
        double v;
        if (is_number) return number == f.value_number;
        return ParseNumber(text, &v) && v == f.value_number;
      }
      return text == f.value_text;
    case Op::kContains: return present && text.find(f.value_text) != std::string_view::npos;
    case Op::kGt:
    case Op::kGte:
    case Op::kLt:
    case Op::kLte: {
      if (!present) return false;
      double v = number;
      if (!is_number && !ParseNumber(text, &v)) return false;
      double w = f.value_number;
      if (!f.value_is_number && !ParseNumber(f.value_text, &w)) return false;
      if (f.op == Op::kGt) return v > w;
      if (f.op == Op::kGte) return v >= w;
      if (f.op == Op::kLt) return v < w;
      return v <= w;
    }
  }
  return false;
}

PayloadReader::Value PayloadReader::Lookup(std::string_view payload, std::string_view path) {
  Value out;
  buffer_ = simdjson::padded_string(payload);
  simdjson::ondemand::document doc;
  if (parser_.iterate(buffer_).get(doc)) return out;
  // First segment decides whether the path starts at the root or under "properties".
  std::string_view first = path.substr(0, path.find('.'));
  simdjson::ondemand::value cur;
  std::string_view rest = path;
  simdjson::ondemand::object root;
  if (doc.get_object().get(root)) return out;
  if (!IsRootKey(first)) {
    if (root.find_field_unordered("properties").get(cur)) return out;
  } else {
    std::string_view key = first;
    rest = rest.size() > key.size() ? rest.substr(key.size() + 1) : std::string_view();
    if (root.find_field_unordered(key).get(cur)) return out;
    if (rest.empty()) goto leaf;
  }
  while (!rest.empty()) {
    const size_t dot = rest.find('.');
    std::string_view key = rest.substr(0, dot);
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    simdjson::ondemand::object obj;
    if (cur.get_object().get(obj)) return out;
    simdjson::ondemand::value next;
    if (obj.find_field_unordered(key).get(next)) return out;
    cur = next;
  }
leaf:
  out.present = true;
  simdjson::ondemand::json_type t;
  if (cur.type().get(t)) return Value{};
  switch (t) {
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      if (cur.get_string().get(s)) return Value{};
      out.text = std::string(s);
      break;
    }
    case simdjson::ondemand::json_type::number: {
      std::string_view raw = cur.raw_json_token();
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n')) raw.remove_suffix(1);
      out.text = std::string(raw);
      double d;
      if (!cur.get_double().get(d)) {
        out.is_number = true;
        out.number = d;
      }
      break;
    }
    default: {
      std::string_view raw;
      if (simdjson::to_json_string(cur).get(raw)) return Value{};
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n')) raw.remove_suffix(1);
      out.text = std::string(raw);
      break;
    }
  }
  return out;
}

std::optional<std::string> PayloadReader::Get(std::string_view payload, std::string_view path) {
  Value v = Lookup(payload, path);
  if (!v.present) return std::nullopt;
  return std::move(v.text);
}

bool PayloadReader::Matches(std::string_view payload, const std::vector<PropertyFilter>& filters) {
  for (const auto& f : filters) {
    Value v = Lookup(payload, f.property);
    if (!FilterHolds(f, v.present, v.is_number, v.number, v.text)) return false;
  }
  return true;
}

}  // namespace cairn::analytics
