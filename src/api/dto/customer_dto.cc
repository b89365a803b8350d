#include "api/dto/customer_dto.h"

#include <fmt/format.h>

namespace cairn::api {

std::string CustomerIdString(store::CustomerId id) { return fmt::format("c:{}", id); }

void WriteInteraction(const store::Interaction& in, JsonWriter* w) {
  w->BeginObject();
  w->Key("type").String(store::MessageTypeName(in.type));
  w->Key("event").String(in.event);
  w->Key("channel").String(in.channel);
  w->Key("timestamp").String(FormatIsoMillis(in.timestamp_ms));
  w->Key("receivedAt").String(FormatIsoMillis(in.received_at_ms));
  w->Key("seq").UInt(in.seq);
  w->Key("messageId").String(in.message_id);
  w->Key("revenue").Double(in.revenue);
  w->Key("customer").String(CustomerIdString(in.customer));
  w->Key("message").Raw(in.payload);
  w->EndObject();
}

std::string ProfileToJson(const entity::Profile& p) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(CustomerIdString(p.id));
  w.Key("identities").BeginArray();
  for (const auto& id : p.identities) {
    w.BeginObject().Key("kind").String(id.kind).Key("value").String(id.value).EndObject();
  }
  w.EndArray();
  w.Key("traits").BeginObject();
  for (const auto& t : p.traits) w.Key(t.key).Raw(t.value_json);
  w.EndObject();
  w.Key("traitsSetAt").BeginObject();
  for (const auto& t : p.traits) w.Key(t.key).String(FormatIsoMillis(t.set_at_ms));
  w.EndObject();
  w.Key("groups").BeginArray();
  for (const auto& g : p.groups) {
    w.BeginObject();
    w.Key("groupId").String(g.group_id);
    w.Key("traits").Raw(g.traits_json);
    w.Key("joinedAt").String(FormatIsoMillis(g.joined_at_ms));
    w.EndObject();
  }
  w.EndArray();
  w.Key("mergedFrom").BeginArray();
  for (store::CustomerId from : p.merged_from) w.String(CustomerIdString(from));
  w.EndArray();
  w.Key("firstSeen").String(FormatIsoMillis(p.first_seen_ms));
  w.Key("lastSeen").String(FormatIsoMillis(p.last_seen_ms));
  w.Key("interactionCount").UInt(p.interaction_count);
  w.EndObject();
  return w.Take();
}

std::string TimelineToJson(const entity::TimelinePage& page) {
  JsonWriter w;
  w.BeginObject();
  w.Key("interactions").BeginArray();
  for (const auto& in : page.interactions) WriteInteraction(in, &w);
  w.EndArray();
  w.Key("nextBefore");
  if (page.next_before) {
    w.String(*page.next_before);
  } else {
    w.Null();
  }
  w.EndObject();
  return w.Take();
}

}  // namespace cairn::api
