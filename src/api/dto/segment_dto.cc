#include "api/dto/segment_dto.h"

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "api/url.h"

namespace cairn::api {
namespace json = boost::json;

namespace {

constexpr size_t kMaxName = 200;

Status Check(std::string_view field, const std::string& value) {
  if (value.size() > kMaxName) return InvalidArgument(std::string(field) + ": longer than 200 bytes");
  return Status::Ok();
}

}  // namespace

Result<analytics::Segment> DecodeSegment(const json::value& v) {
  analytics::Segment s;
  if (v.is_null()) return s;
  if (!v.is_object()) return InvalidArgument("segment: expected an object {\"persona\",\"lifecycle\",\"channel\"}");
  for (const auto& kv : v.as_object()) {
    const std::string field = "segment." + std::string(kv.key());
    std::string* out = kv.key() == "persona"     ? &s.persona
                       : kv.key() == "lifecycle" ? &s.lifecycle
                       : kv.key() == "channel"   ? &s.channel
                                                 : nullptr;
    if (out == nullptr) return InvalidArgument(field + ": unknown field (expected persona, lifecycle or channel)");
    if (kv.value().is_null()) continue;
    if (!kv.value().is_string()) return InvalidArgument(field + ": must be a string");
    *out = std::string(kv.value().as_string());
    RETURN_IF_ERROR(Check(field, *out));
  }
  return s;
}

Result<analytics::Segment> DecodeSegmentQuery(std::string_view query) {
  analytics::Segment s;
  for (auto [name, out] : {std::pair<const char*, std::string*>{"persona", &s.persona},
                           {"lifecycle", &s.lifecycle},
                           {"channel", &s.channel}}) {
    ASSIGN_OR_RETURN(std::optional<std::string> v, QueryParam(query, name));
    if (v) {
      *out = std::move(*v);
      RETURN_IF_ERROR(Check(name, *out));
    }
  }
  return s;
}

}  // namespace cairn::api
