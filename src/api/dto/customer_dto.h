#pragma once
// Customer DTOs: entity::Profile, entity::TimelinePage and store::Interaction → JSON for
// GET /v1/customers/{id} and GET /v1/customers/{id}/events.
//
// Shapes (times as ISO-8601 UTC with milliseconds, "2026-01-01T00:00:00.000Z"; customer ids as
// "c:<number>", the form CustomerDirectory accepts back):
//   Profile:     {"id","identities":[{"kind","value"}],"traits":{key: value},
//                 "traitsSetAt":{key: time},"groups":[{"groupId","traits","joinedAt"}],
//                 "mergedFrom":[id],"firstSeen","lastSeen","interactionCount"}
//   Interaction: {"type","event","channel","timestamp","receivedAt","seq","messageId","revenue",
//                 "customer","message"}; "message" is the stored payload embedded verbatim
//   Timeline:    {"interactions":[Interaction],"nextBefore": cursor | null}
// Trait and group-trait values are already JSON and are embedded verbatim (empty → null).

#include <cstdint>
#include <string>

#include "api/dto/json_writer.h"
#include "entity/customer_directory.h"
#include "base/civil_time.h"
#include "store/interaction.h"

namespace cairn::api {

// Timestamps in API answers: cairn::FormatIsoMillis (base/civil_time.h), "2026-01-01T00:00:00.000Z".
using cairn::FormatIsoMillis;

// "c:<number>".
std::string CustomerIdString(store::CustomerId id);

void WriteInteraction(const store::Interaction& interaction, JsonWriter* w);
std::string ProfileToJson(const entity::Profile& profile);
std::string TimelineToJson(const entity::TimelinePage& page);

}  // namespace cairn::api
