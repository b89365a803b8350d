#include "api/dto/action_dto.h"

#include "api/dto/customer_dto.h"
#include "api/dto/json_writer.h"

namespace cairn::api {

namespace {

void WriteTime(JsonWriter* w, int64_t ms) {
  if (ms != 0) w->String(FormatIsoMillis(ms));
  else w->Null();
}

void WriteFields(const actions::ActionRecord& a, JsonWriter* w) {
  const auto& r = a.request;
  w->Key("id").Int(a.id);
  w->Key("idempotencyKey").String(r.idempotency_key);
  w->Key("name").String(r.name);
  w->Key("customer").BeginObject();
  w->Key("id").String(CustomerIdString(r.customer));
  w->Key("key").String(r.customer_key);
  w->EndObject();
  w->Key("audience").String(actions::AudienceName(r.audience));
  w->Key("purpose").String(r.purpose);
  w->Key("channel").String(r.channel);
  w->Key("critical").String(r.critical);
  w->Key("expectedGain").Double(r.expected_gain);
  w->Key("customerValue").Double(r.customer_value);
  w->Key("timeZone").String(r.time_zone);
  w->Key("source").String(r.source_ref);
  w->Key("status").String(actions::ActionStatusName(a.status));
  w->Key("createdAt").String(FormatIsoMillis(a.created_at_ms));
  w->Key("notBefore");
  WriteTime(w, a.not_before_ms);
  w->Key("nextAttempt");
  WriteTime(w, a.status == actions::ActionStatus::kSending ? a.next_attempt_ms : 0);
  w->Key("attempts").Int(a.attempts);
  w->Key("lastError").String(a.last_error);
  w->Key("deliveredAt");
  WriteTime(w, a.delivered_at_ms);
  w->Key("endpoint").String(a.endpoint);
  w->Key("data").Raw(r.payload_json);  // validated as a JSON object on submit
}

}  // namespace

std::string ActionsToJson(const std::vector<actions::ActionRecord>& list) {
  JsonWriter w;
  w.BeginObject().Key("actions").BeginArray();
  for (const auto& a : list) {
    w.BeginObject();
    WriteFields(a, &w);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

std::string ActionDetailToJson(const actions::ActionRecord& a, const std::vector<actions::GateEntry>& gates,
                               const std::vector<actions::DeliveryAttempt>& attempts) {
  JsonWriter w;
  w.BeginObject();
  WriteFields(a, &w);
  w.Key("gates").BeginArray();
  for (const auto& g : gates) {
    w.BeginObject();
    w.Key("at").String(FormatIsoMillis(g.at_ms));
    w.Key("gate").String(g.gate);
    w.Key("verdict").String(g.verdict);
    w.Key("detail").String(g.detail);
    w.EndObject();
  }
  w.EndArray();
  w.Key("deliveries").BeginArray();
  for (const auto& d : attempts) {
    w.BeginObject();
    w.Key("attempt").Int(d.attempt);
    w.Key("at").String(FormatIsoMillis(d.at_ms));
    w.Key("httpStatus").Int(d.http_status);
    w.Key("error").String(d.error);
    w.Key("durationMs").Int(d.duration_ms);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

}  // namespace cairn::api
