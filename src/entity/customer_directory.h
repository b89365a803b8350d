#pragma once
// CustomerDirectory: read access to customers for the API — the profile (traits, identities,
// groups, counters) and the timeline of interactions — looked up by any of the customer's
// identities (userId, anonymousId, email, phone) or the internal id ("c:<number>").
// Implementations are thread-safe and see every interaction that was acknowledged.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/interaction.h"

namespace cairn::entity {

struct Identity {
  std::string kind;   // "userId" | "anonymousId" | "email" | "phone"
  std::string value;
};

struct Trait {
  std::string key;
  std::string value_json;  // the JSON value as sent (string, number, object, ...)
  int64_t set_at_ms = 0;   // event time of the identify that last set it (last write wins)
};

struct GroupMembership {
  std::string group_id;
  std::string traits_json;  // the group's traits, merged over time (JSON object)
  int64_t joined_at_ms = 0;
};

struct Profile {
  store::CustomerId id = 0;
  std::vector<Identity> identities;
  std::vector<Trait> traits;
  std::vector<GroupMembership> groups;
  std::vector<store::CustomerId> merged_from;  // customers merged into this one
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
  uint64_t interaction_count = 0;
};

// A page of the timeline, newest first (by event time, then arrival).
struct TimelinePage {
  std::vector<store::Interaction> interactions;
  std::optional<std::string> next_before;  // cursor for the next (older) page; absent at the end
};

class CustomerDirectory {
 public:
  virtual ~CustomerDirectory() = default;
  // NotFound when no customer has that identity.
  virtual Result<Profile> GetProfile(const std::string& any_identity) = 0;
  // `before`: empty for the newest page, else a cursor from next_before, an ISO-8601 time or ms
  // since epoch (InvalidArgument if it is none of these). limit in [1, 1000].
  virtual Result<TimelinePage> Timeline(const std::string& any_identity, size_t limit, const std::string& before) = 0;
};

}  // namespace cairn::entity
