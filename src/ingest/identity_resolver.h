#pragma once
// IdentityResolver: which customer an interaction belongs to.
//
// A customer is known by identity keys: userId ("u:"), anonymousId ("a:"), email ("e:", lower-
// cased) and phone ("p:", digits and a leading +). Resolve() maps a message's keys to one customer,
// creating it or linking new keys as needed, and merges customers when a message ties identities
// of two known customers together (identify with both ids, alias previousId → userId).
// Every change it makes is returned as store::IdentityOps, recorded in the WAL with the batch, so
// Apply() of the same ops in the same order rebuilds the same state at recovery.
//
// Guard rails (so a hard-coded test id cannot merge thousands of customers):
// - blocked id values (`null`, `undefined`, `0`, `anonymous`, empty, ...) are never used as keys;
// - a customer never gets a second userId through identify: linking or merging that would put two
//   different userIds on one customer is refused (alias, or a message with a previousId, is the
//   explicit way to do that);
// - a customer holds at most `max_identities_per_customer` keys; links and merges past the cap
//   are refused.
// Refusals are counted (cairn_identity_merges_refused_total{reason}) and logged, rate-limited; the
// message is still accepted and attributed to the best customer found.
//
// Merged customers: the surviving customer is the one holding the userId (for alias: the userId's
// customer). Find() maps any customer id to its survivor; Members() lists every id merged into it,
// so a reader can collect interactions stored under the old ids.
//
// Thread-safety: Resolve/Apply take an exclusive lock (a Batch holds one for many Resolves);
// Find/FindMany/Lookup/Members a shared one.

#include <cstdint>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "base/metrics.h"
#include "base/result.h"
#include "ingest/identity_key.h"
#include "store/interaction.h"

namespace cairn::ingest {

struct IdentityOptions {
  // Id values that never identify anyone (compared case-insensitively, after trimming).
  // Default: "", "null", "undefined", "nil", "none", "0", "-1", "anonymous", "unknown", "guest",
  // "test", "[object object]", "n/a", "00000000-0000-0000-0000-000000000000".
  std::vector<std::string> blocked_values;
  // Most identity keys one customer may hold. Default 100.
  size_t max_identities_per_customer = 100;
};
IdentityOptions DefaultIdentityOptions();

// The identity-bearing fields of one message.
struct IdentityInput {
  store::MessageType type = store::MessageType::kTrack;
  std::string_view user_id, anonymous_id, previous_id, email, phone;
};

class IdentityResolver {
 public:
  explicit IdentityResolver(IdentityOptions options, metrics::Registry* metrics = nullptr);

  // Asked for each normalised key of a message (see MakeKey) before it is resolved; true refuses
  // the message (erasure's suppression list). Must be quick: it runs under the resolver's lock.
  using KeyFilter = std::function<bool(std::string_view key)>;

  // Resolves one message, appending the identity changes it makes to *ops. Returns the customer
  // the message belongs to, InvalidArgument when no usable id remains (all blocked), or, when
  // `refuse` is given and refuses one of the message's keys ("u:" and "a:" for a previousId),
  // PermissionDenied with nothing changed.
  Result<store::CustomerId> Resolve(const IdentityInput& in, std::vector<store::IdentityOp>* ops,
                                    const KeyFilter* refuse = nullptr);

  // The exclusive lock held across many Resolve calls: a batch of messages takes it once instead
  // of once per message. Readers (Find*, Lookup, Members) wait until the Batch is destroyed, so
  // hold it for one batch's resolution only, never across I/O or a wait for another thread.
  class Batch {
   public:
    explicit Batch(IdentityResolver* r) : r_(r), lock_(r->mu_) {}
    // As IdentityResolver::Resolve, under this batch's lock.
    Result<store::CustomerId> Resolve(const IdentityInput& in, std::vector<store::IdentityOp>* ops,
                                      const KeyFilter* refuse = nullptr) {
      return r_->ResolveLocked(in, ops, refuse);
    }

   private:
    IdentityResolver* r_;
    std::unique_lock<std::shared_mutex> lock_;
  };

  // Replays recorded ops (recovery, or loading a checkpoint). Ops must be applied in the order
  // they were produced. Corruption if an op is inconsistent with the state (unknown customer).
  Status Apply(const store::IdentityOp& op);

  // The surviving customer for any customer id (itself if never merged); 0 if unknown.
  store::CustomerId Find(store::CustomerId id) const;
  // Find(), but an id the resolver does not know is its own customer: what a reader grouping
  // stored rows by customer uses, so that rows stored without identities (gen_store's benchmark
  // stores) are not all filed under one "customer 0".
  store::CustomerId FindOrSelf(store::CustomerId id) const;
  // Find() of each of `ids` into roots[i], under one lock: for a reader resolving many customers
  // at once (the journey rebuild, a block of customers at a time), one lock instead of one each.
  void FindMany(std::span<const store::CustomerId> ids, store::CustomerId* roots) const;
  // The customer holding an identity: `key` is "u:<id>", "a:<id>", "e:<email>", "p:<phone>", or
  // "c:<number>" for an internal id. 0 if none.
  store::CustomerId Lookup(std::string_view key) const;
  // Every id whose survivor is `root` (including root), ascending.
  std::vector<store::CustomerId> Members(store::CustomerId root) const;
  // Identity keys of a customer (survivor), in link order.
  std::vector<std::string> Keys(store::CustomerId root) const;

  // Normalised key for a raw value, or "" if the value is blocked. kind is 'u','a','e','p'.
  std::string MakeKey(char kind, std::string_view value) const;

  size_t customer_count() const;
  store::CustomerId next_customer_id() const;

  // Erasure (docs/erasure.md): forgets the customer `root` and every id merged into it — their
  // keys (email, phone, ids) leave by_key_, so Lookup/Resolve no longer find them, and Find() of
  // any of those ids returns 0. A later message with one of the keys creates a new customer.
  // Returns the ids forgotten (ascending; empty if root is unknown). The caller also removes the
  // ops of these ids from wherever Apply() replays them (profiles.db), or they come back.
  std::vector<store::CustomerId> Erase(store::CustomerId root);
  // New customers get ids >= `next` (so an erased id is never given to someone else after a
  // restart rebuilt the resolver without it).
  void EnsureNextId(store::CustomerId next);

 private:
  // A surviving customer's identities (merged-in ids have none: theirs moved to the survivor).
  struct CustomerState {
    std::vector<std::string> keys;      // every key linked to this customer
    std::vector<store::CustomerId> members;  // ids merged in (incl. itself)
    std::string user_key;               // the "u:" key if any
  };

  // Hashes IdentityKey and std::string_view alike, so lookups need no key object.
  struct KeyHash {
    using is_transparent = void;
    using is_avalanching = std::true_type;  // XXH3: no extra mixing needed
    size_t operator()(std::string_view s) const;
    size_t operator()(const IdentityKey& k) const { return (*this)(k.view()); }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(const IdentityKey& a, const IdentityKey& b) const { return a == b; }
    bool operator()(std::string_view a, const IdentityKey& b) const { return a == b.view(); }
    bool operator()(const IdentityKey& a, std::string_view b) const { return a.view() == b; }
  };
  // Writes the normalised key for `value` into *key (reusing its capacity); false if blocked.
  bool BuildKey(char kind, std::string_view value, std::string* key) const;

  Result<store::CustomerId> ResolveLocked(const IdentityInput& in, std::vector<store::IdentityOp>* ops,
                                          const KeyFilter* refuse);
  store::CustomerId FindLocked(store::CustomerId id) const;
  store::CustomerId RootOfLocked(std::string_view key) const;
  // Creates `id` as its own survivor if unknown.
  void AddCustomerLocked(store::CustomerId id);
  void LinkLocked(const std::string& key, store::CustomerId c, std::vector<store::IdentityOp>* ops);
  // Merges `from` into `into` (both survivors) if the guard rails allow; returns false if refused.
  bool MergeLocked(store::CustomerId into, store::CustomerId from, bool explicit_alias,
                   std::vector<store::IdentityOp>* ops);
  store::CustomerId NewCustomerLocked();
  void Refuse(const char* reason, std::string_view detail);

  const IdentityOptions options_;
  bool IsBlocked(std::string_view trimmed) const;

  std::vector<std::string> blocked_;  // lower-cased, trimmed, sorted, unique

  mutable std::shared_mutex mu_;
  // Open addressing with the keys inline (IdentityKey): Resolve's lookups (3-6 per message)
  // allocate nothing, and one that finds its key reads one 64-byte entry.
  boost::unordered_flat_map<IdentityKey, store::CustomerId, KeyHash, KeyEq> by_key_;  // guarded by mu_
  std::string scratch_[5], prev_user_, prev_anon_;  // guarded by mu_: Resolve's keys, reused
  // parent_[id]: the customer `id` was merged into (== id for survivors), 0 for an id never
  // created or erased. Dense by id (ids are handed out in order from 1), so Find is one load per
  // step instead of a node-map probe. 8 bytes per id ever created.
  std::vector<store::CustomerId> parent_;  // guarded by mu_
  size_t known_ids_ = 0;                   // guarded by mu_: ids with parent_[id] != 0
  std::unordered_map<store::CustomerId, CustomerState> customers_;  // guarded by mu_: survivors only
  store::CustomerId next_id_ = 1;                                // guarded by mu_

  metrics::Counter* merges_ = nullptr;
  metrics::Counter* refused_two_users_ = nullptr;
  metrics::Counter* refused_cap_ = nullptr;
  metrics::Counter* blocked_ids_ = nullptr;
};

}  // namespace cairn::ingest
