#include "api/dto/customer_dto.h"

#include <fmt/format.h>

namespace cairn::api {
namespace {

// Days since 1970-01-01 → civil date (H. Hinnant's algorithm; exact for the whole int64 range we
// can meet, no locale, no gmtime_r).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2 ? 1 : 0);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

}  // namespace

std::string FormatIsoMillis(int64_t ms) {
  const int64_t days = FloorDiv(ms, 86400000);
  const int64_t ms_of_day = ms - days * 86400000;
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  const int64_t secs = ms_of_day / 1000;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", year, month, day, secs / 3600, (secs / 60) % 60,
                     secs % 60, ms_of_day % 1000);
}

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
