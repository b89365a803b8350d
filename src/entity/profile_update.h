#pragma once
// ProfileUpdate: what one WAL batch changes in profiles.db — its seq range, its identity
// operations and its identify and group rows. A track, page, screen or alias row changes no
// profile (its customer and identities arrive as identity operations; first/last seen and the
// interaction count are derived from the event store unless the caller asks for counters), so a
// writer that is given only this does no per-event work and holds no per-event memory.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "store/interaction.h"

namespace cairn::entity {

// An identify or group interaction, as much of it as profiles.db reads.
struct ProfileRow {
  store::CustomerId customer = 0;
  int64_t timestamp_ms = 0;
  uint64_t seq = 0;
  store::MessageType type = store::MessageType::kIdentify;
  std::string payload;
};

// One customer's interactions in a batch: what the customers row's counters add.
struct CustomerSeen {
  store::CustomerId customer = 0;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
  uint64_t count = 0;
};

struct ProfileUpdate {
  uint64_t first_seq = 0;  // the batch's first_seq
  uint64_t end_seq = 0;    // first_seq + the batch's interaction count (== first_seq: ops only)
  int64_t at_ms = 0;       // received_at_ms of the batch's first interaction; 0 if it has none
  std::vector<store::IdentityOp> identity_ops;
  std::vector<ProfileRow> rows;     // the identify and group rows, in seq order
  std::vector<CustomerSeen> seen;   // per customer, ascending by id; empty unless counted

  // Memory held, for the caller's queue bound.
  size_t bytes() const;
};

// The update of `batch`. `count` fills `seen` (one entry per distinct customer of the batch);
// without it the update's size does not depend on the number of track/page rows. Does not check
// the batch (ProfileStore::Apply checks what it is given; ApplyBatches checks whole batches).
ProfileUpdate ProfileUpdateOf(const store::Batch& batch, bool count);

}  // namespace cairn::entity
