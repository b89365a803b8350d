#include "api/url.h"

#include <fmt/format.h>

#include <charconv>

namespace cairn::api {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
      int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return InvalidArgument(fmt::format("malformed percent-encoding at offset {}", i));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view raw_name = part.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    auto name = PercentDecode(raw_name, /*plus_is_space=*/true);
    if (!name.ok()) return name.status().WithContext("query parameter name");
    auto value = PercentDecode(raw_value, /*plus_is_space=*/true);
    if (!value.ok()) return value.status().WithContext(fmt::format("query parameter '{}'", *name));
    out.emplace_back(std::move(name).value(), std::move(value).value());
  }
  return out;
}

Result<std::optional<std::string>> QueryParam(std::string_view query, std::string_view name) {
  ASSIGN_OR_RETURN(auto params, ParseQuery(query));
  for (auto& [n, v] : params) {
    if (n == name) return std::optional<std::string>(std::move(v));
  }
  return std::optional<std::string>();
}

Result<int64_t> ParsePositiveId(std::string_view field, std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1) {
    return InvalidArgument(fmt::format("{}: must be a positive integer, got '{}'", field, text));
  }
  return v;
}

}  // namespace cairn::api
