#pragma once
// Message: one incoming interaction after parsing and normalisation — every field the core needs
// (identity, de-duplication, event time, journey columns) without reparsing JSON, plus the
// lossless payload that the store keeps.

#include <cstdint>
#include <string>

#include "store/interaction.h"

namespace cairn::ingest {

struct Message {
  store::MessageType type = store::MessageType::kTrack;
  // Identity. Ids sent as JSON numbers are kept as their number text ("42"). "" when absent,
  // null or empty.
  std::string user_id;
  std::string anonymous_id;
  std::string previous_id;  // alias: the id being merged into user_id
  std::string group_id;     // group
  // track: the event name; page/screen: the page/screen name (may be ""); otherwise "".
  std::string event;
  // properties.channel, else context.channel, else "web" for page, "mobile" for screen, else "".
  std::string channel;
  // messageId (Segment) / uuid (PostHog). When absent: "h-" + 16 hex digits of XXH64(payload),
  // so an identical resend of the same message gets the same id.
  std::string message_id;
  // For identity: identify traits.email/phone, else context.traits.email/phone ("" if none).
  std::string email;
  std::string phone;
  // identify / group: the traits object, minified ("" if none). identify falls back to
  // context.traits when it has no top-level traits.
  std::string traits_json;
  // properties.revenue, else properties.total, else properties.value (numbers or numeric
  // strings); 0 when none is present.
  double revenue = 0;
  // Times in ms since the Unix epoch (UTC); 0 when absent. timestamp_ms is the corrected event
  // time (INGEST.md clock-skew rule) and is always set.
  int64_t timestamp_ms = 0;
  int64_t original_timestamp_ms = 0;
  int64_t sent_at_ms = 0;
  int64_t received_at_ms = 0;
  // The message in Segment shape as minified JSON: every key as sent (numbers and strings keep
  // their exact text), batch-level context/integrations merged in, writeKey removed. PostHog
  // items are mapped (see parser.h).
  std::string payload;
};

}  // namespace cairn::ingest
