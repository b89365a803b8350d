#pragma once
// KeyStore: API keys in their own SQLite file (keys.db, docs/format/profiles.md "keys.db").
//
// Keys are primary data — unlike profiles.db they cannot be rebuilt from the event store — hence
// a separate file that `cairn rebuild` never touches. Only a BLAKE2b-256 hash of each key is
// stored; the raw key exists in memory only while a call handles it and is returned exactly once,
// by Create(). Keys are ≥ 128-bit random, so a fast hash is as safe as a password hash here and
// keeps Find() O(1) (the format doc says why).
//
// Roles: a write key authenticates ingestion for one source (its `source` id, assigned at
// creation, one source per write key); an admin key authenticates the admin API.
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

enum class KeyRole : uint8_t { kWrite = 1, kAdmin = 2 };
std::string_view KeyRoleName(KeyRole role);  // "write" | "admin"

struct KeyInfo {
  int64_t id = 0;          // stable id, for List/Revoke
  KeyRole role = KeyRole::kWrite;
  uint32_t source = 0;     // write keys: source id ≥ 1; admin keys: 0
  std::string name;
  int64_t created_at_ms = 0;
  bool revoked = false;
};

class KeyStore {
 public:
  // Opens (creating if missing) the key file at `path` and loads every key into memory.
  // `clock` stamps created_at (null: Clock::Real()); it must outlive the store.
  static Result<std::unique_ptr<KeyStore>> Open(const std::string& path, Clock* clock = nullptr);

  // Generates a new key ("cw_" or "ca_" + 32 base32 characters = 160 random bits), stores its hash
  // and returns it. This is the only time the raw key is available. InvalidArgument for an empty name.
  Result<std::string> Create(KeyRole role, std::string_view name);

  // Registers a key supplied by the operator (flag/env), idempotently: importing a key that is
  // already registered with the same role is OK and changes nothing (its name, source and
  // created_at stay). InvalidArgument if the key is shorter than 16 or longer than 256 bytes or the
  // name is empty; AlreadyExists if it is registered with the other role; FailedPrecondition if it
  // was revoked (a revoked key is never resurrected by configuration).
  Status Import(KeyRole role, std::string_view name, std::string_view key);

  // Revokes key `id`: Find() never returns it again. NotFound for an unknown id; OK if already revoked.
  Status Revoke(int64_t id);

  // The key's info if it is registered and not revoked. Fast: one hash and one map lookup.
  std::optional<KeyInfo> Find(std::string_view key) const;

  // True if no non-revoked key of `role` exists (e.g. to create the first admin key at startup).
  bool Empty(KeyRole role) const;

  // Every key (revoked ones included), by id.
  std::vector<KeyInfo> List() const;

 private:
  KeyStore(std::unique_ptr<SqliteDb> db, Clock* clock) : db_(std::move(db)), clock_(clock) {}
  Status Load();
  // Inserts a new row for `hash`, assigning the source for write keys. Caller holds write_mu_.
  Result<KeyInfo> InsertLocked(KeyRole role, std::string_view name, const std::string& hash);

  std::mutex write_mu_;          // serialises writers
  std::unique_ptr<SqliteDb> db_;  // guarded by write_mu_
  Clock* const clock_;

  mutable std::shared_mutex map_mu_;
  std::unordered_map<std::string, KeyInfo> by_hash_;  // guarded by map_mu_; key: 32-byte hash
};

}  // namespace cairn::entity
