#pragma once
// Interaction: one customer interaction as the store keeps it — the fixed columns the engine
// reads on every scan, plus the lossless payload (the message's JSON as received, minified).
//
// Batch: the unit of durability. One ingest request (or one import chunk) becomes one Batch,
// written as one WAL record: its interactions and the identity operations their arrival caused
// (new identity → customer links, customer merges). Replaying the WAL applies exactly the
// recorded operations, so identity state never depends on re-deciding anything at recovery.
// The byte layout of an encoded Batch is specified in docs/format/wal.md ("Batch payload").

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace cairn::store {

// Segment Spec message types. Values are stored on disk: never renumber.
enum class MessageType : uint8_t {
  kIdentify = 1,
  kTrack = 2,
  kPage = 3,
  kScreen = 4,
  kGroup = 5,
  kAlias = 6,
};
std::string_view MessageTypeName(MessageType t);
bool ParseMessageType(std::string_view name, MessageType* out);

// Internal customer id. 0 is never a valid customer.
using CustomerId = uint64_t;

struct Interaction {
  CustomerId customer = 0;     // customer at ingest time; merges are applied on read via identity
  int64_t timestamp_ms = 0;    // event time after the clock-skew rule (ms since epoch, UTC)
  int64_t received_at_ms = 0;  // when Cairn received it
  uint64_t seq = 0;            // global arrival order, assigned by the store; breaks timestamp ties
  MessageType type = MessageType::kTrack;
  uint32_t source = 0;         // the write key's source id
  std::string event;           // track: event name; page/screen: name (may be empty)
  std::string channel;         // DOMAIN.md §1 channel (web, email, ...), possibly empty
  std::string message_id;      // messageId / PostHog uuid (de-duplication key with source)
  double revenue = 0;          // properties.revenue|total|value; 0 when absent
  std::string payload;         // the whole message as minified JSON (lossless)

  bool operator==(const Interaction&) const = default;
};

// Identity operations recorded with a batch (see the file comment).
struct IdentityOp {
  enum class Kind : uint8_t {
    kLink = 1,   // identity `key` now belongs to `customer` (new identity, or a new customer)
    kMerge = 2,  // every identity and interaction of `from` belongs to `customer` from now on
  };
  Kind kind = Kind::kLink;
  CustomerId customer = 0;
  CustomerId from = 0;  // kMerge only
  std::string key;      // kLink only: "<kind>:<value>", kind one of u (userId), a (anonymousId), e (email), p (phone)
  bool operator==(const IdentityOp&) const = default;
};

struct Batch {
  uint64_t first_seq = 0;  // seq of interactions[0]; interactions[i].seq == first_seq + i
  std::vector<IdentityOp> identity_ops;
  std::vector<Interaction> interactions;
  bool operator==(const Batch&) const = default;
};

// Appends the encoding of `batch` to *dst (docs/format/wal.md, "Batch payload").
void EncodeBatch(const Batch& batch, std::string* dst);
// Decodes a whole payload; Corruption naming the field on any malformed input.
Result<Batch> DecodeBatch(std::string_view payload);

}  // namespace cairn::store
