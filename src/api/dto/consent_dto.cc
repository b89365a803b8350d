#include "api/dto/consent_dto.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <ctime>

#include "api/dto/json_writer.h"

namespace cairn::api {
namespace json = boost::json;

namespace {

Status Bad(std::string_view field, std::string_view what) { return InvalidArgument(fmt::format("{}: {}", field, what)); }

// "2026-11-22T14:00:00.000Z" (api/ links no core time library: plain gmtime_r).
std::string Iso(int64_t ms) {
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int millis = static_cast<int>(ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

Status GetString(const json::object& o, std::string_view field, std::string_view key, bool required, std::string* out) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) {
    return required ? Bad(fmt::format("{}.{}", field, key), "required") : Status::Ok();
  }
  if (!it->value().is_string()) return Bad(fmt::format("{}.{}", field, key), "must be a string");
  *out = std::string(it->value().as_string());
  return Status::Ok();
}

void WriteRecord(JsonWriter& w, const entity::ConsentRecord& r) {
  w.BeginObject();
  w.Key("purpose").String(r.purpose);
  w.Key("channel").String(r.channel);
  w.Key("state").String(entity::ConsentStateName(r.state));
  w.Key("lawful_basis").String(r.lawful_basis);
  w.Key("source").String(r.source);
  w.Key("at").String(Iso(r.at_ms));
  w.Key("recorded_at").String(Iso(r.recorded_at_ms));
  w.Key("expires_at");
  if (r.expires_at_ms) w.String(Iso(*r.expires_at_ms));
  else w.Null();
  w.Key("proof").String(r.proof);
  if (r.seq != 0) w.Key("seq").UInt(r.seq);
  w.Key("customer").String(fmt::format("c:{}", r.customer));
  if (!r.note.empty()) w.Key("note").String(r.note);
  w.EndObject();
}

}  // namespace

Result<std::vector<entity::ConsentInput>> ParseConsentInputs(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Bad("body", fmt::format("not valid JSON ({})", ec.message()));
  const json::array* list = nullptr;
  if (v.is_array()) {
    list = &v.as_array();
  } else if (v.is_object()) {
    for (const auto& kv : v.as_object()) {
      if (kv.key() != "consents") return Bad(kv.key(), "unknown field (expected \"consents\")");
    }
    auto it = v.as_object().find("consents");
    if (it == v.as_object().end()) return Bad("consents", "required");
    if (!it->value().is_array()) return Bad("consents", "must be an array");
    list = &it->value().as_array();
  } else {
    return Bad("body", "must be a JSON object {\"consents\": [...]} or an array");
  }
  if (list->empty()) return Bad("consents", "must hold at least one statement");
  if (list->size() > kMaxConsentInputs) return Bad("consents", fmt::format("at most {} statements per request", kMaxConsentInputs));
  std::vector<entity::ConsentInput> out;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string field = fmt::format("consents[{}]", i);
    if (!(*list)[i].is_object()) return Bad(field, "must be an object");
    const json::object& o = (*list)[i].as_object();
    for (const auto& kv : o) {
      static constexpr std::string_view kKnown[] = {"purpose", "channel", "state", "lawful_basis", "expires_at", "note"};
      bool known = false;
      for (auto k : kKnown) known = known || kv.key() == k;
      if (!known) return Bad(fmt::format("{}.{}", field, std::string_view(kv.key())), "unknown field");
    }
    entity::ConsentInput in;
    RETURN_IF_ERROR(GetString(o, field, "purpose", true, &in.purpose));
    if (in.purpose.empty() || in.purpose.size() > 64) return Bad(field + ".purpose", "must be 1..64 characters");
    RETURN_IF_ERROR(GetString(o, field, "channel", false, &in.channel));
    if (in.channel.empty() || in.channel.size() > 64) return Bad(field + ".channel", "must be 1..64 characters (\"*\" = every channel)");
    std::string state;
    RETURN_IF_ERROR(GetString(o, field, "state", true, &state));
    if (!entity::ParseConsentState(state, &in.state)) {
      return Bad(field + ".state", fmt::format("'{}' is not one of granted, denied, withdrawn", state));
    }
    RETURN_IF_ERROR(GetString(o, field, "lawful_basis", false, &in.lawful_basis));
    if (in.lawful_basis.empty()) return Bad(field + ".lawful_basis", "must not be empty");
    auto exp = o.find("expires_at");
    if (exp != o.end() && !exp->value().is_null()) {
      if (exp->value().is_string()) in.expires_at = std::string(exp->value().as_string());
      else if (exp->value().is_int64()) in.expires_at = std::to_string(exp->value().as_int64());
      else if (exp->value().is_uint64()) in.expires_at = std::to_string(exp->value().as_uint64());
      else return Bad(field + ".expires_at", "must be an ISO-8601 string or epoch milliseconds");
    }
    RETURN_IF_ERROR(GetString(o, field, "note", false, &in.note));
    out.push_back(std::move(in));
  }
  return out;
}

std::string ConsentViewToJson(const entity::ConsentView& view) {
  JsonWriter w;
  w.BeginObject();
  w.Key("customer").String(fmt::format("c:{}", view.customer));
  w.Key("current").BeginArray();
  for (const auto& c : view.current) {
    w.BeginObject();
    w.Key("purpose").String(c.purpose);
    w.Key("channel").String(c.channel);
    // An expired statement leaves the state unknown; the record that expired is still shown.
    w.Key("state").String(c.expired ? "unknown" : entity::ConsentStateName(c.record.state));
    w.Key("expired").Bool(c.expired);
    w.Key("record");
    WriteRecord(w, c.record);
    w.EndObject();
  }
  w.EndArray();
  w.Key("history").BeginArray();
  for (const auto& r : view.history) WriteRecord(w, r);
  w.EndArray();
  w.EndObject();
  return w.Take();
}

}  // namespace cairn::api
