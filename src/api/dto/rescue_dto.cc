#include "api/dto/rescue_dto.h"

#include <boost/json.hpp>

#include "api/dto/customer_dto.h"
#include "api/dto/json_writer.h"

namespace cairn::api {

namespace {

void WriteDecision(const rescue::Decision& d, JsonWriter* w) {
  w->BeginObject();
  w->Key("id").Int(d.id);
  w->Key("customer").BeginObject();
  w->Key("id").String(CustomerIdString(d.customer));
  w->Key("ids").BeginArray();
  for (const auto& id : d.customer_ids) w->String(id);
  w->EndArray();
  w->EndObject();
  w->Key("path").String(d.path);
  w->Key("persona").String(d.persona);
  w->Key("reasons").BeginArray();
  for (const auto& r : d.reasons) w->String(r);
  w->EndArray();
  w->Key("valueAtStake").Double(d.value_at_stake);
  w->Key("pRescue").Double(d.p_rescue);
  w->Key("pNone").Double(d.p_none);
  w->Key("cost").Double(d.cost);
  w->Key("expectedGain").Double(d.expected_gain);
  w->Key("rescue").Bool(d.rescue);
  w->Key("status").String(rescue::RescueStatusName(d.status));
  w->Key("rescued").Bool(d.rescued);
  w->Key("explanation").String(d.explanation);
  w->Key("action").String(d.action);
  w->Key("decidedAt").String(FormatIsoMillis(d.decided_at_ms));
  w->Key("window").BeginObject();
  w->Key("start").String(FormatIsoMillis(d.window_start_ms));
  w->Key("end").String(FormatIsoMillis(d.window_end_ms));
  w->EndObject();
  w->Key("closedAt");
  if (d.closed_at_ms != 0) w->String(FormatIsoMillis(d.closed_at_ms));
  else w->Null();
  w->Key("outcomeNote").String(d.outcome_note);
  w->Key("actionRef").String(d.action_ref);
  w->EndObject();
}

Result<boost::json::object> ParseObject(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return boost::json::object();
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec) return InvalidArgument("body: not valid JSON: " + ec.message());
  if (!v.is_object()) return InvalidArgument("body: must be a JSON object");
  return std::move(v.as_object());
}

Result<std::string> OptionalNote(const boost::json::object& o) {
  auto it = o.find("note");
  if (it == o.end() || it->value().is_null()) return std::string();
  if (!it->value().is_string()) return InvalidArgument("note: must be a string");
  std::string note(it->value().as_string());
  if (note.size() > 2000) return InvalidArgument("note: at most 2000 bytes");
  return note;
}

}  // namespace

std::string DecisionToJson(const rescue::Decision& d) {
  JsonWriter w;
  WriteDecision(d, &w);
  return w.Take();
}

std::string DecisionsToJson(const std::vector<rescue::Decision>& list) {
  JsonWriter w;
  w.BeginObject().Key("rescues").BeginArray();
  for (const auto& d : list) WriteDecision(d, &w);
  w.EndArray().EndObject();
  return w.Take();
}

Result<NoteBody> ParseNoteBody(std::string_view body) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body));
  ASSIGN_OR_RETURN(std::string note, OptionalNote(o));
  return NoteBody{std::move(note)};
}

Result<OutcomeBody> ParseOutcomeBody(std::string_view body) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body));
  auto it = o.find("success");
  if (it == o.end()) return InvalidArgument("success: required (true or false)");
  if (!it->value().is_bool()) return InvalidArgument("success: must be true or false");
  ASSIGN_OR_RETURN(std::string note, OptionalNote(o));
  return OutcomeBody{it->value().as_bool(), std::move(note)};
}

}  // namespace cairn::api
