#include "entity/key_store.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <limits>

namespace cairn::entity {

namespace {

constexpr uint32_t kApplicationId = 0x434B4559;  // "CKEY"

// Schema version 1 (docs/format/profiles.md, "keys.db"). Never edit a released step: add a new one.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hash BLOB NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('write', 'admin')),
  source INTEGER NOT NULL,
  name TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
)sql";

// Schema version 2: roles analyst and agent, and an optional expiry. SQLite cannot change a CHECK
// constraint in place, so the table is rebuilt (ids, and so AUTOINCREMENT's high-water mark, kept).
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE api_keys_v2 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hash BLOB NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('write', 'analyst', 'agent', 'admin')),
  source INTEGER NOT NULL,
  name TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  expires_at_ms INTEGER NOT NULL DEFAULT 0
);
INSERT INTO api_keys_v2 (id, hash, role, source, name, created_at_ms, revoked)
  SELECT id, hash, role, source, name, created_at_ms, revoked FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_v2 RENAME TO api_keys;
)sql";

constexpr size_t kRandomBytes = 20;  // 160 bits → exactly 32 base32 characters
constexpr size_t kMinImportedKey = 16;
constexpr size_t kMaxImportedKey = 256;

std::string HashKey(std::string_view key) {
  std::string out(crypto_generichash_BYTES, '\0');  // 32 bytes: BLAKE2b-256
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr, 0);
  return out;
}

// RFC 4648 base32, lowercase, no padding (n must be a multiple of 5 bytes).
std::string Base32(const unsigned char* p, size_t n) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out;
  uint64_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | p[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += kAlphabet[(acc >> bits) & 31];
    }
  }
  return out;
}

std::string_view KeyPrefix(KeyRole role) {
  switch (role) {
    case KeyRole::kWrite: return "cw_";
    case KeyRole::kAnalyst: return "cn_";
    case KeyRole::kAgent: return "cg_";
    case KeyRole::kAdmin: return "ca_";
  }
  return "cx_";
}

}  // namespace

bool ParseKeyRole(std::string_view s, KeyRole* out) {
  if (s == "write") *out = KeyRole::kWrite;
  else if (s == "analyst") *out = KeyRole::kAnalyst;
  else if (s == "agent") *out = KeyRole::kAgent;
  else if (s == "admin") *out = KeyRole::kAdmin;
  else return false;
  return true;
}

std::string_view KeyRoleName(KeyRole role) {
  switch (role) {
    case KeyRole::kWrite: return "write";
    case KeyRole::kAnalyst: return "analyst";
    case KeyRole::kAgent: return "agent";
    case KeyRole::kAdmin: return "admin";
  }
  return "unknown";
}

Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& path, Clock* clock) {
  // Idempotent and thread-safe; needed before randombytes (it picks the RNG implementation).
  if (sodium_init() < 0) return Internal("libsodium initialisation failed");
  SqliteOptions options;
  options.full_sync = true;  // rare writes; a created/revoked key must survive a power cut
  ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, options));
  RETURN_IF_ERROR(db->Migrate(kApplicationId, {kSchemaV1, kSchemaV2}));
  std::unique_ptr<KeyStore> store(new KeyStore(std::move(db), clock ? clock : Clock::Real()));
  RETURN_IF_ERROR(store->Load());
  return store;
}

Status KeyStore::Load() {
  std::lock_guard lock(write_mu_);
  ASSIGN_OR_RETURN(Stmt s, db_->Prepare("SELECT id, hash, role, source, name, created_at_ms, revoked, expires_at_ms FROM api_keys"));
  std::unordered_map<std::string, KeyInfo> loaded;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    KeyInfo info;
    info.id = s.Int64(0);
    std::string hash(s.Text(1));
    if (hash.size() != crypto_generichash_BYTES || !ParseKeyRole(s.Text(2), &info.role) || s.Int64(3) < 0 ||
        s.Int64(3) > std::numeric_limits<uint32_t>::max()) {
      return Corruption(fmt::format("{}: api_keys row id {} is malformed", db_->path(), info.id));
    }
    info.source = static_cast<uint32_t>(s.Int64(3));
    info.name = std::string(s.Text(4));
    info.created_at_ms = s.Int64(5);
    info.revoked = s.Int64(6) != 0;
    info.expires_at_ms = s.Int64(7);
    loaded.emplace(std::move(hash), std::move(info));
  }
  std::unique_lock map_lock(map_mu_);
  by_hash_ = std::move(loaded);
  hash_by_id_.clear();
  for (const auto& [hash, info] : by_hash_) hash_by_id_[info.id] = hash;
  return Status::Ok();
}

Result<KeyInfo> KeyStore::InsertLocked(KeyRole role, std::string_view name, const std::string& hash,
                                       int64_t expires_at_ms) {
  KeyInfo info;
  info.expires_at_ms = expires_at_ms;
  info.role = role;
  info.name = std::string(name);
  info.created_at_ms = clock_->NowMillis();
  if (role == KeyRole::kWrite) {
    ASSIGN_OR_RETURN(int64_t max_source,
                     db_->QueryInt("SELECT coalesce(max(source), 0) FROM api_keys WHERE role = 'write'"));
    if (max_source >= std::numeric_limits<uint32_t>::max()) return ResourceExhausted("no source ids left");
    info.source = static_cast<uint32_t>(max_source + 1);
  }
  ASSIGN_OR_RETURN(Stmt s, db_->Prepare("INSERT INTO api_keys (hash, role, source, name, created_at_ms, revoked, "
                                        "expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)"));
  RETURN_IF_ERROR(s.BindBlob(1, hash)
                      .Bind(2, KeyRoleName(role))
                      .Bind(3, static_cast<int64_t>(info.source))
                      .Bind(4, name)
                      .Bind(5, info.created_at_ms)
                      .Bind(6, expires_at_ms)
                      .Run());
  info.id = db_->last_insert_rowid();
  std::unique_lock map_lock(map_mu_);
  by_hash_[hash] = info;
  hash_by_id_[info.id] = hash;
  return info;
}

Result<std::string> KeyStore::Create(KeyRole role, std::string_view name) {
  ASSIGN_OR_RETURN(CreatedKey created, CreateKey(role, name));
  return std::move(created.key);
}

Result<CreatedKey> KeyStore::CreateKey(KeyRole role, std::string_view name, int64_t expires_at_ms) {
  if (name.empty()) return InvalidArgument("name: key name is empty");
  if (expires_at_ms != 0 && expires_at_ms <= clock_->NowMillis()) {
    return InvalidArgument("expires_at: must be in the future");
  }
  unsigned char random[kRandomBytes];
  randombytes_buf(random, sizeof(random));
  CreatedKey out;
  out.key = std::string(KeyPrefix(role)) + Base32(random, sizeof(random));
  sodium_memzero(random, sizeof(random));
  std::lock_guard lock(write_mu_);
  // A single INSERT is its own (FULL-synced) transaction; the source id read just before it is
  // safe because write_mu_ serialises every writer of this file.
  ASSIGN_OR_RETURN(out.info, InsertLocked(role, name, HashKey(out.key), expires_at_ms));
  return out;
}

Status KeyStore::Import(KeyRole role, std::string_view name, std::string_view key) {
  if (name.empty()) return InvalidArgument("key name is empty");
  if (key.size() < kMinImportedKey || key.size() > kMaxImportedKey) {
    return InvalidArgument(fmt::format("imported key '{}' must be {} to {} bytes long, got {}", name,
                                       kMinImportedKey, kMaxImportedKey, key.size()));
  }
  const std::string hash = HashKey(key);
  std::lock_guard lock(write_mu_);
  {
    std::shared_lock map_lock(map_mu_);
    auto it = by_hash_.find(hash);
    if (it != by_hash_.end()) {
      const KeyInfo& have = it->second;
      if (have.revoked) {
        return FailedPrecondition(fmt::format("imported key '{}' was revoked (as key id {}); configure a new key",
                                              name, have.id));
      }
      if (have.role != role) {
        return AlreadyExists(fmt::format("imported key '{}' is already registered as an {} key (id {})", name,
                                         KeyRoleName(have.role), have.id));
      }
      return Status::Ok();
    }
  }
  return InsertLocked(role, name, hash, 0).status();
}

Status KeyStore::Revoke(int64_t id) {
  std::lock_guard lock(write_mu_);
  std::string hash;
  {
    ASSIGN_OR_RETURN(Stmt s, db_->Prepare("SELECT hash FROM api_keys WHERE id = ?1"));
    ASSIGN_OR_RETURN(bool row, s.Bind(1, id).Step());
    if (!row) return NotFound(fmt::format("no API key with id {}", id));
    hash = std::string(s.Text(0));
  }
  {
    ASSIGN_OR_RETURN(Stmt s, db_->Prepare("UPDATE api_keys SET revoked = 1 WHERE id = ?1"));
    RETURN_IF_ERROR(s.Bind(1, id).Run());
  }
  std::unique_lock map_lock(map_mu_);
  auto it = by_hash_.find(hash);
  if (it != by_hash_.end()) it->second.revoked = true;
  return Status::Ok();
}

std::optional<KeyInfo> KeyStore::Find(std::string_view key) const {
  // Hash outside the lock; the map compares hashes, so lookup timing reveals nothing about keys.
  const std::string hash = HashKey(key);
  std::shared_lock lock(map_mu_);
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end() || it->second.revoked) return std::nullopt;
  if (it->second.expires_at_ms != 0 && clock_->NowMillis() >= it->second.expires_at_ms) return std::nullopt;
  return it->second;
}

std::optional<KeyInfo> KeyStore::FindActiveById(int64_t id) const {
  std::shared_lock lock(map_mu_);
  auto h = hash_by_id_.find(id);
  if (h == hash_by_id_.end()) return std::nullopt;
  auto it = by_hash_.find(h->second);
  if (it == by_hash_.end() || it->second.revoked) return std::nullopt;
  if (it->second.expires_at_ms != 0 && clock_->NowMillis() >= it->second.expires_at_ms) return std::nullopt;
  return it->second;
}

bool KeyStore::Empty(KeyRole role) const {
  std::shared_lock lock(map_mu_);
  return std::none_of(by_hash_.begin(), by_hash_.end(),
                      [&](const auto& kv) { return kv.second.role == role && !kv.second.revoked; });
}

std::vector<KeyInfo> KeyStore::List() const {
  std::vector<KeyInfo> out;
  {
    std::shared_lock lock(map_mu_);
    out.reserve(by_hash_.size());
    for (const auto& [hash, info] : by_hash_) out.push_back(info);
  }
  std::sort(out.begin(), out.end(), [](const KeyInfo& a, const KeyInfo& b) { return a.id < b.id; });
  return out;
}

}  // namespace cairn::entity
