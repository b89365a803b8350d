#pragma once
// SegmentIndex: every canonical customer's segment key — persona and lifecycle stage, as the
// indices CustomerState holds — kept current as the states change, so that a segment's members
// come out ascending in one sequential pass over 10 bytes a customer (JourneyEngine::Members, the
// page filter of the dashboard and of analytics queries), instead of a pass over every journey
// state (~300 B each, scattered over the heap) and a sort of the result.
//
// Layout: a base sorted by customer (ids and keys in two arrays) and an overlay of the changes
// made since the base was last merged (a hash map; an erasure is a tombstone). The overlay is
// merged into the base once it holds more than 1/16 of the base (and at least 4096 entries), so
// an update costs amortised O(1) hash work and ~16 element moves; Members costs
// O(customers + overlay · log overlay).
//
// Thread-safety: none; the owner (JourneyEngine) guards it with its own mutex.

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/interaction.h"

namespace cairn::journey {

class SegmentIndex {
 public:
  struct Key {
    uint8_t persona = 0;    // CustomerState::persona: 0 the default persona, i + 1 rule i
    uint8_t lifecycle = 0;  // CustomerState::stage of the lifecycle view
    bool operator==(const Key&) const = default;
  };
  // Which keys a segment keeps: persona[k.persona] && lifecycle[k.lifecycle].
  struct Match {
    std::array<bool, 256> persona{};
    std::array<bool, 256> lifecycle{};
  };

  // The customer's key is now `k` (added if new).
  void Set(store::CustomerId customer, Key k);
  // The customer is gone (merged away, erased); no-op if unknown.
  void Erase(store::CustomerId customer);
  // Replaces everything with `all` (any order; one entry per customer).
  void Reset(std::vector<std::pair<store::CustomerId, Key>> all);

  // The customers whose key `m` keeps, ascending.
  std::vector<store::CustomerId> Members(const Match& m) const;
  size_t size() const { return size_; }

 private:
  void MergeOverlay();

  std::vector<store::CustomerId> ids_;  // base: ascending
  std::vector<Key> keys_;               // base: keys_[i] is ids_[i]'s
  std::unordered_map<store::CustomerId, std::optional<Key>> overlay_;  // nullopt: erased
  size_t size_ = 0;                     // customers in base ∪ overlay, less the erased
};

}  // namespace cairn::journey
