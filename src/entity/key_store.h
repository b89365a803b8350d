#pragma once
// KeyStore: API keys in their own SQLite file (keys.db, docs/format/profiles.md "keys.db").
//
// Keys are primary data — unlike profiles.db they cannot be rebuilt from the event store — hence
// a separate file that `cairn rebuild` never touches. Only a BLAKE2b-256 hash of each key is
// stored; the raw key exists in memory only while a call handles it and is returned exactly once,
// by Create(). Keys are ≥ 128-bit random, so a fast hash is as safe as a password hash here and
// keeps Find() O(1) (the format doc says why).
//
// Roles (docs/access.md): a write key authenticates ingestion for one source (its `source` id,
// assigned at creation, one source per write key); analyst, agent and admin keys authenticate
// the API with increasing rights (the route table in api/router.cc says which role each needs).
// A key may carry an expiry: from then on Find() no longer returns it.
//
// Thread-safety: every method is thread-safe. Find()/Empty()/List() read an in-memory map under a
// shared lock (no SQL on the request path); Create/Import/Revoke write SQLite under a mutex and
// then update the map under an exclusive lock, so a change is visible to Find() when they return.
// Writes commit with synchronous=FULL: a created or revoked key is durable when the call returns.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "entity/sqlite_db.h"

namespace cairn::entity {

// Values are stable (not stored: keys.db stores the name).
enum class KeyRole : uint8_t { kWrite = 1, kAdmin = 2, kAnalyst = 3, kAgent = 4 };
std::string_view KeyRoleName(KeyRole role);  // "write" | "admin" | "analyst" | "agent"
bool ParseKeyRole(std::string_view name, KeyRole* out);

struct KeyInfo {
  int64_t id = 0;          // stable id, for List/Revoke
  KeyRole role = KeyRole::kWrite;
  uint32_t source = 0;     // write keys: source id ≥ 1; admin keys: 0
  std::string name;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;  // 0: never
  bool revoked = false;
};

struct CreatedKey {
  KeyInfo info;
  std::string key;  // the raw key: shown once, never stored
};

class KeyStore {
 public:
  // Opens (creating if missing) the key file at `path` and loads every key into memory.
  // `clock` stamps created_at (null: Clock::Real()); it must outlive the store.
  static Result<std::unique_ptr<KeyStore>> Open(const std::string& path, Clock* clock = nullptr);

  // Generates a new key (prefix "cw_" write, "cn_" analyst, "cg_" agent, "ca_" admin, then 32
  // base32 characters = 160 random bits), stores its hash and returns it. This is the only time
  // the raw key is available. InvalidArgument for an empty name or an expiry not after now.
  Result<std::string> Create(KeyRole role, std::string_view name);
  Result<CreatedKey> CreateKey(KeyRole role, std::string_view name, int64_t expires_at_ms = 0);

  // Registers a key supplied by the operator (flag/env), idempotently: importing a key that is
  // already registered with the same role is OK and changes nothing (its name, source and
  // created_at stay). InvalidArgument if the key is shorter than 16 or longer than 256 bytes or the
  // name is empty; AlreadyExists if it is registered with the other role; FailedPrecondition if it
  // was revoked (a revoked key is never resurrected by configuration).
  Status Import(KeyRole role, std::string_view name, std::string_view key);

  // Revokes key `id`: Find() never returns it again. NotFound for an unknown id; OK if already revoked.
  Status Revoke(int64_t id);

  // The key's info if it is registered, not revoked and not expired. Fast: one hash and one map lookup.
  std::optional<KeyInfo> Find(std::string_view key) const;
  // Key `id`'s info if it exists, is not revoked and not expired (sessions re-check their key).
  std::optional<KeyInfo> FindActiveById(int64_t id) const;

  // True if no non-revoked key of `role` exists (e.g. to create the first admin key at startup).
  bool Empty(KeyRole role) const;

  // Every key (revoked ones included), by id.
  std::vector<KeyInfo> List() const;

 private:
  KeyStore(std::unique_ptr<SqliteDb> db, Clock* clock) : db_(std::move(db)), clock_(clock) {}
  Status Load();
  // Inserts a new row for `hash`, assigning the source for write keys. Caller holds write_mu_.
  Result<KeyInfo> InsertLocked(KeyRole role, std::string_view name, const std::string& hash, int64_t expires_at_ms);

  std::mutex write_mu_;          // serialises writers
  std::unique_ptr<SqliteDb> db_;  // guarded by write_mu_
  Clock* const clock_;

  mutable std::shared_mutex map_mu_;
  std::unordered_map<std::string, KeyInfo> by_hash_;  // guarded by map_mu_; key: 32-byte hash
  std::unordered_map<int64_t, std::string> hash_by_id_;  // guarded by map_mu_
};

}  // namespace cairn::entity
