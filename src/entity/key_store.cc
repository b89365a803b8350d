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

bool ParseRole(std::string_view s, KeyRole* out) {
  if (s == "write") *out = KeyRole::kWrite;
  else if (s == "admin") *out = KeyRole::kAdmin;
  else return false;
  return true;
}

}  // namespace

std::string_view KeyRoleName(KeyRole role) { return role == KeyRole::kAdmin ? "admin" : "write"; }

Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& path, Clock* clock) {
  // Idempotent and thread-safe; needed before randombytes (it picks the RNG implementation).
  if (sodium_init() < 0) return Internal("libsodium initialisation failed");
  SqliteOptions options;
  options.full_sync = true;  // rare writes; a created/revoked key must survive a power cut
  ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, options));
  RETURN_IF_ERROR(db->Migrate(kApplicationId, {kSchemaV1}));
  std::unique_ptr<KeyStore> store(new KeyStore(std::move(db), clock ? clock : Clock::Real()));
  RETURN_IF_ERROR(store->Load());
  return store;
}

Status KeyStore::Load() {
  std::lock_guard lock(write_mu_);
  ASSIGN_OR_RETURN(Stmt s, db_->Prepare("SELECT id, hash, role, source, name, created_at_ms, revoked FROM api_keys"));
  std::unordered_map<std::string, KeyInfo> loaded;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    KeyInfo info;
    info.id = s.Int64(0);
    std::string hash(s.Text(1));
    if (hash.size() != crypto_generichash_BYTES || !ParseRole(s.Text(2), &info.role) || s.Int64(3) < 0 ||
        s.Int64(3) > std::numeric_limits<uint32_t>::max()) {
      return Corruption(fmt::format("{}: api_keys row id {} is malformed", db_->path(), info.id));
    }
    info.source = static_cast<uint32_t>(s.Int64(3));
    info.name = std::string(s.Text(4));
    info.created_at_ms = s.Int64(5);
    info.revoked = s.Int64(6) != 0;
    loaded.emplace(std::move(hash), std::move(info));
  }
  std::unique_lock map_lock(map_mu_);
  by_hash_ = std::move(loaded);
  return Status::Ok();
}

Result<KeyInfo> KeyStore::InsertLocked(KeyRole role, std::string_view name, const std::string& hash) {
  KeyInfo info;
  info.role = role;
  info.name = std::string(name);
  info.created_at_ms = clock_->NowMillis();
  if (role == KeyRole::kWrite) {
    ASSIGN_OR_RETURN(int64_t max_source,
                     db_->QueryInt("SELECT coalesce(max(source), 0) FROM api_keys WHERE role = 'write'"));
    if (max_source >= std::numeric_limits<uint32_t>::max()) return ResourceExhausted("no source ids left");
    info.source = static_cast<uint32_t>(max_source + 1);
  }
  ASSIGN_OR_RETURN(Stmt s, db_->Prepare("INSERT INTO api_keys (hash, role, source, name, created_at_ms, revoked) "
                                        "VALUES (?1, ?2, ?3, ?4, ?5, 0)"));
  RETURN_IF_ERROR(s.BindBlob(1, hash)
                      .Bind(2, KeyRoleName(role))
                      .Bind(3, static_cast<int64_t>(info.source))
                      .Bind(4, name)
                      .Bind(5, info.created_at_ms)
                      .Run());
  info.id = db_->last_insert_rowid();
  std::unique_lock map_lock(map_mu_);
  by_hash_[hash] = info;
  return info;
}

Result<std::string> KeyStore::Create(KeyRole role, std::string_view name) {
  if (name.empty()) return InvalidArgument("key name is empty");
  unsigned char random[kRandomBytes];
  randombytes_buf(random, sizeof(random));
  std::string key = std::string(role == KeyRole::kAdmin ? "ca_" : "cw_") + Base32(random, sizeof(random));
  sodium_memzero(random, sizeof(random));
  std::lock_guard lock(write_mu_);
  // A single INSERT is its own (FULL-synced) transaction; the source id read just before it is
  // safe because write_mu_ serialises every writer of this file.
  auto info = InsertLocked(role, name, HashKey(key));
  if (!info.ok()) return info.status();
  return key;
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
  return InsertLocked(role, name, hash).status();
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
