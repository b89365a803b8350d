#include "api/dto/journey_dto.h"

#include "api/dto/customer_dto.h"
#include "api/dto/json_writer.h"

namespace cairn::api {
namespace {

void Time(JsonWriter* w, int64_t ms) {
  if (ms == 0) w->Null();
  else w->String(FormatIsoMillis(ms));
}

std::string Duration(int64_t ms) {
  static constexpr std::pair<int64_t, const char*> kUnits[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
  for (const auto& [u, name] : kUnits)
    if (ms % u == 0) return std::to_string(ms / u) + name;
  return std::to_string(ms) + "ms";
}

void View(JsonWriter* w, const journey::ViewState& v) {
  w->Key(v.view).BeginObject();
  w->Key("stage").String(v.stage);
  w->Key("since");
  Time(w, v.since_ms);
  w->Key("expectedDwell");
  if (v.dwell_ms) w->String(Duration(v.dwell_ms));
  else w->Null();
  w->Key("stuck").Bool(v.stuck);
  w->Key("entered").BeginObject();
  for (const auto& s : v.stages) {
    w->Key(s.name);
    Time(w, s.entered_ms);
  }
  w->EndObject();
  w->EndObject();
}

}  // namespace

std::string JourneyToJson(const journey::CustomerJourney& j, const std::vector<std::string>& decisions_json) {
  JsonWriter w;
  w.BeginObject();
  w.Key("customer").String(CustomerIdString(j.customer));
  w.Key("state").BeginObject();
  w.Key("phase").String(j.phase.stage);
  w.Key("lifecycle").String(j.lifecycle.stage);
  w.Key("funnel").String(j.funnel.stage);
  w.Key("emotion").BeginObject().Key("label").String(j.emotion_label).Key("score").Double(j.emotion_score).EndObject();
  w.Key("value").BeginObject();
  w.Key("currency").String(j.currency);
  w.Key("realised").Double(j.realised_value);
  w.Key("journey").Double(j.journey_value);
  w.Key("journeyBasis").String(j.journey_value_basis);
  w.Key("predictedClv").Double(j.predicted_clv);
  w.Key("atStake").Double(j.value_at_stake);
  w.EndObject();
  w.Key("persona");
  if (j.persona.empty()) w.Null();
  else w.String(j.persona);
  w.Key("views").BeginObject();
  View(&w, j.phase);
  View(&w, j.lifecycle);
  View(&w, j.funnel);
  w.EndObject();
  w.Key("derailing").BeginArray();
  for (const auto& d : j.derailing) w.String(d);
  w.EndArray();
  w.Key("interactions").UInt(j.interactions);
  w.Key("orders").UInt(j.orders);
  w.Key("firstSeen");
  Time(&w, j.first_ms);
  w.Key("lastSeen");
  Time(&w, j.last_ms);
  w.EndObject();
  w.Key("history").BeginArray();
  for (const auto& t : j.history) {
    w.BeginObject();
    w.Key("at");
    Time(&w, t.at_ms);
    w.Key("view").String(t.view).Key("from").String(t.from).Key("to").String(t.to);
    w.EndObject();
  }
  w.EndArray();
  w.Key("emotionCurve").BeginArray();
  for (const auto& p : j.emotion_curve) {
    w.BeginObject();
    w.Key("at");
    Time(&w, p.at_ms);
    w.Key("score").Double(p.score).Key("label").String(p.label).Key("cause").String(p.cause);
    w.EndObject();
  }
  w.EndArray();
  w.Key("decisions").BeginArray();
  for (const auto& d : decisions_json) w.Raw(d);
  w.EndArray();
  w.EndObject();
  return w.Take();
}

std::string OverviewToJson(const journey::JourneyOverview& o) {
  JsonWriter w;
  w.BeginObject();
  w.Key("customers").UInt(o.customers);
  w.Key("currency").String(o.currency);
  w.Key("views").BeginArray();
  for (const auto& v : o.views) {
    w.BeginObject().Key("view").String(v.view);
    w.Key("stages").BeginArray();
    for (const auto& s : v.stages) {
      w.BeginObject().Key("name").String(s.name).Key("customers").UInt(s.customers).Key("entered").UInt(s.entered);
      w.Key("stuck").UInt(s.stuck).Key("dropOff").UInt(s.drop_off).EndObject();
    }
    w.EndArray();
    w.Key("transitions").BeginArray();
    for (const auto& t : v.transitions) w.BeginObject().Key("from").String(t.from).Key("to").String(t.to).Key("count").UInt(t.count).EndObject();
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("emotionByPhase").BeginArray();
  for (const auto& p : o.emotion_by_phase)
    w.BeginObject().Key("phase").String(p.phase).Key("average").Double(p.average).Key("label").String(p.label).Key("customers").UInt(p.customers).EndObject();
  w.EndArray();
  w.Key("emotions").BeginObject();
  for (const auto& [label, n] : o.emotion_labels) w.Key(label).UInt(n);
  w.EndObject();
  w.Key("valueAtStake").BeginArray();
  for (const auto& p : o.at_stake)
    w.BeginObject().Key("path").String(p.path).Key("customers").UInt(p.customers).Key("value").Double(p.value_at_stake).EndObject();
  w.EndArray();
  w.Key("personas").BeginArray();
  for (const auto& [name, n] : o.personas) w.BeginObject().Key("name").String(name).Key("customers").UInt(n).EndObject();
  w.EndArray();
  w.EndObject();
  return w.Take();
}

std::string SegmentNamesToJson(const journey::SegmentNames& n) {
  JsonWriter w;
  w.BeginObject();
  w.Key("personas").BeginArray();
  for (const auto& name : n.personas) w.String(name);
  w.EndArray();
  w.Key("lifecycle").BeginArray();
  for (const auto& name : n.lifecycle) w.String(name);
  w.EndArray();
  w.EndObject();
  return w.Take();
}

std::string MapErrorsToJson(const std::vector<journey::MapErrorView>& errors) {
  JsonWriter w;
  w.BeginObject();
  w.Key("error").String("invalid journey map");
  w.Key("errors").BeginArray();
  for (const auto& e : errors)
    w.BeginObject().Key("line").Int(e.line).Key("column").Int(e.column).Key("message").String(e.message).EndObject();
  w.EndArray();
  w.EndObject();
  return w.Take();
}

std::string MapUpdateToJson(const journey::MapUpdate& u) {
  JsonWriter w;
  w.BeginObject().Key("fingerprint").UInt(u.fingerprint).Key("customersRederived").UInt(u.customers_rederived).EndObject();
  return w.Take();
}

}  // namespace cairn::api
