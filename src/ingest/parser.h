#pragma once
// Request parsing: the JSON bodies real collection clients send (../shared/INGEST.md) turned into
// validated, normalised Messages.
//
// Outcome of ParseRequest:
//  - InvalidArgument for a body that is not usable at all — malformed JSON or invalid UTF-8 (the
//    message gives the byte offset and, where known, the path such as `batch[3].properties`), a
//    top level that is not an object, `batch` missing or not an array, a malformed envelope field
//    (writeKey, sentAt/sent_at, context, integrations), more than max_batch_messages messages.
//  - Otherwise OK, with every valid message in `messages` (in request order) and every invalid one
//    in `rejected` with its index and a reason naming the field, e.g.
//      batch[2]: missing userId and anonymousId
//      batch[5].timestamp: not an ISO-8601 time: "yesterday"
//      batch[1]: message is 70312 bytes, over the 65536-byte limit
//    (single messages have no `batch[i]` prefix).
//
// Dialects:
//  - kSegmentBatch  {batch:[...], writeKey?, sentAt?, context?, integrations?} (also /v1/b).
//    Each item needs `type`. Envelope context/integrations are merged into each message one
//    level deep: the message's own keys win, envelope keys it lacks are added.
//  - kSegmentSingle one message; its `type` may be absent (the path gives it) but must agree with
//    `single_type` when present; `writeKey` and `sentAt` may be inside.
//  - kJsonLines     one Segment message (with its `type`) per line, no envelope: what
//    `cairn import` reads from a file. Index i is the body's i-th line (counting blank ones, which
//    are rejected as "empty line"), and each line stands alone: a malformed line is a rejection
//    naming its byte offset within the line (and the path), never a failure of the whole body.
//    At most max_batch_messages lines.
//  - kPostHogBatch  {api_key, batch:[{event, distinct_id, properties, timestamp, uuid}], sent_at}.
//    Items map to Segment shape: `$identify` → identify (userId = distinct_id, anonymousId =
//    properties.$anon_distinct_id, traits = properties.$set over properties.$set_once);
//    `$create_alias` → alias (userId = distinct_id, previousId = properties.alias);
//    `$groupidentify` → group (groupId = $group_key, traits = $group_set plus "$group_type");
//    `$pageview` → page (name = $current_url, else $pathname); any other event → track with
//    userId = distinct_id. Items without `event` may give `type` (identify, alias, group, page,
//    screen, track, capture). The payload is {"type", the derived Segment fields, then every
//    key of the item as sent}; item keys that collide with derived ones get a "$posthog_" prefix.
//
// Field rules (all dialects): userId/anonymousId/previousId/groupId/messageId are strings or
// numbers (numbers keep their text), null or "" meaning absent; every type but alias needs
// userId or anonymousId, alias needs userId and previousId, group needs groupId, track a
// non-empty event. properties/context/traits/integrations must be objects (or null), event/name
// strings; a field of the wrong JSON type rejects the message naming the field. Keys are matched
// as written: a key spelled with \u escapes is kept in the payload but not interpreted.
// writeKey is removed from payloads (a credential is not event data).
//
// Time fields (timestamp, originalTimestamp, sentAt, PostHog timestamp/sent_at) are ISO-8601
// strings (see timestamp.h) or JSON numbers of milliseconds since the epoch (fractions
// truncated). originalTimestamp = the message's originalTimestamp, else its timestamp; sentAt =
// the message's own, else the envelope's; timestamp = receivedAt − (sentAt − originalTimestamp)
// when both are present, else originalTimestamp, else receivedAt. A corrected timestamp more
// than max_future_ms after receivedAt, or (unless historical) more than max_past_ms before it,
// rejects the message.
//
// Threading: a Parser is not thread-safe (it reuses its simdjson parser and scratch buffers
// across calls, which is what makes it fast); hold one per thread. ParseRequest uses a
// thread_local Parser and is safe to call from any thread.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "ingest/ingestor.h"
#include "ingest/message.h"
#include "store/interaction.h"

namespace cairn::ingest {

struct ParseOptions {
  // Largest message accepted, measured on its minified JSON text (whitespace outside strings is
  // not counted; envelope context merged in is not counted). Default 64 KiB.
  size_t max_message_bytes = 64 * 1024;
  // Most messages in one request; more → InvalidArgument. Default 2,500; 1..kMaxBatchMessages.
  size_t max_batch_messages = 2500;
  static constexpr size_t kMaxBatchMessages = 10000;
  // A corrected timestamp later than receivedAt + this is rejected. Default 1 day.
  int64_t max_future_ms = int64_t{24} * 3600 * 1000;
  // A corrected timestamp earlier than receivedAt − this is rejected unless `historical`.
  // Default 20 years (of 365.25 days).
  int64_t max_past_ms = int64_t{20} * 36525 * 24 * 3600 * 10;
  // Imports of old data (IngestRequest::historical): no max_past_ms limit.
  bool historical = false;
};

// InvalidArgument naming the first option out of range.
Status ValidateParseOptions(const ParseOptions& options);

struct ParsedRequest {
  std::string write_key;  // body writeKey (envelope, else the messages'), PostHog api_key; "" if absent
  std::vector<Message> messages;
  std::vector<Rejection> rejected;
};

class Parser {
 public:
  Parser();
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // See the file comment. `single_type` matters for kSegmentSingle only. `received_at_ms` is
  // stamped on every message and anchors the clock-skew rule.
  Result<ParsedRequest> Parse(const ParseOptions& options, Dialect dialect, store::MessageType single_type,
                              std::string_view decoded_body, int64_t received_at_ms);

  // Tests only: false sends every message through the general walk (the fast path must give the
  // same result for every input). Default true.
  void SetFastPathForTesting(bool enabled);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Parser::Parse on a thread_local Parser.
Result<ParsedRequest> ParseRequest(const ParseOptions& options, Dialect dialect, store::MessageType single_type,
                                   std::string_view decoded_body, int64_t received_at_ms);

}  // namespace cairn::ingest
