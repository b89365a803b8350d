#include "entity/key_store.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "testutil/temp_dir.h"

namespace cairn::entity {
namespace {

std::string ReadFileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

class KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    keys_.reset();
    auto k = KeyStore::Open(path_, &clock_);
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    keys_ = std::move(k).value();
  }
  std::string Create(KeyRole role, const std::string& name) {
    auto k = keys_->Create(role, name);
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return k.ok() ? *k : "";
  }

  testutil::TempDir dir_;
  std::string path_ = dir_.Sub("keys.db");
  FakeClock clock_;
  std::unique_ptr<KeyStore> keys_;
};

TEST_F(KeyStoreTest, CreateReturnsRandomPrefixedKeysThatFind) {
  EXPECT_TRUE(keys_->Empty(KeyRole::kWrite));
  EXPECT_TRUE(keys_->Empty(KeyRole::kAdmin));
  std::string w1 = Create(KeyRole::kWrite, "website");
  std::string w2 = Create(KeyRole::kWrite, "ios app");
  std::string a1 = Create(KeyRole::kAdmin, "ops");
  ASSERT_EQ(w1.size(), 35u);
  EXPECT_EQ(w1.substr(0, 3), "cw_");
  EXPECT_EQ(a1.substr(0, 3), "ca_");
  EXPECT_EQ(w1.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567", 3), std::string::npos) << w1;
  EXPECT_NE(w1, w2);

  auto i1 = keys_->Find(w1);
  auto i2 = keys_->Find(w2);
  auto ia = keys_->Find(a1);
  ASSERT_TRUE(i1 && i2 && ia);
  EXPECT_EQ(i1->role, KeyRole::kWrite);
  EXPECT_EQ(i1->name, "website");
  EXPECT_EQ(i1->created_at_ms, clock_.NowMillis());
  EXPECT_EQ(i1->source, 1u);
  EXPECT_EQ(i2->source, 2u);  // one source per write key
  EXPECT_EQ(ia->role, KeyRole::kAdmin);
  EXPECT_EQ(ia->source, 0u);
  EXPECT_FALSE(keys_->Find("cw_" + std::string(32, 'a')));
  EXPECT_FALSE(keys_->Find(""));
  EXPECT_FALSE(keys_->Find(w1.substr(0, 34)));
  EXPECT_FALSE(keys_->Empty(KeyRole::kWrite));
  EXPECT_FALSE(keys_->Empty(KeyRole::kAdmin));
  EXPECT_TRUE(keys_->Create(KeyRole::kWrite, "").status().Is(Code::kInvalidArgument));
}

TEST_F(KeyStoreTest, ImportIsIdempotentAndChecked) {
  const std::string key = "operator-supplied-admin-key-0123456789";
  ASSERT_TRUE(keys_->Import(KeyRole::kAdmin, "from flag", key).ok());
  clock_.Advance(1000);
  ASSERT_TRUE(keys_->Import(KeyRole::kAdmin, "renamed", key).ok());
  ASSERT_EQ(keys_->List().size(), 1u);
  auto info = keys_->Find(key);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->name, "from flag");  // unchanged by the second import
  EXPECT_EQ(info->created_at_ms, clock_.NowMillis() - 1000);
  EXPECT_FALSE(keys_->Empty(KeyRole::kAdmin));

  EXPECT_TRUE(keys_->Import(KeyRole::kWrite, "w", key).Is(Code::kAlreadyExists));
  EXPECT_TRUE(keys_->Import(KeyRole::kWrite, "w", "short").Is(Code::kInvalidArgument));
  EXPECT_TRUE(keys_->Import(KeyRole::kWrite, "w", std::string(257, 'k')).Is(Code::kInvalidArgument));
  EXPECT_TRUE(keys_->Import(KeyRole::kWrite, "", std::string(20, 'k')).Is(Code::kInvalidArgument));

  const std::string write_key = "imported-write-key-abcdefgh";
  ASSERT_TRUE(keys_->Import(KeyRole::kWrite, "pipeline", write_key).ok());
  EXPECT_EQ(keys_->Find(write_key)->source, 1u);
  EXPECT_EQ(Create(KeyRole::kWrite, "next").size(), 35u);
  EXPECT_EQ(keys_->List().back().source, 2u);
}

TEST_F(KeyStoreTest, RevokedKeysNeverAuthenticateAgain) {
  std::string w = Create(KeyRole::kWrite, "site");
  auto info = keys_->Find(w);
  ASSERT_TRUE(info);
  ASSERT_TRUE(keys_->Revoke(info->id).ok());
  EXPECT_FALSE(keys_->Find(w));
  EXPECT_TRUE(keys_->Empty(KeyRole::kWrite));
  EXPECT_TRUE(keys_->Revoke(info->id).ok());  // already revoked: fine
  EXPECT_TRUE(keys_->Revoke(999).Is(Code::kNotFound));
  // Configuration cannot resurrect it.
  Status s = keys_->Import(KeyRole::kWrite, "site again", w);
  EXPECT_TRUE(s.Is(Code::kFailedPrecondition)) << s.ToString();
  EXPECT_FALSE(keys_->Find(w));
  ASSERT_EQ(keys_->List().size(), 1u);
  EXPECT_TRUE(keys_->List()[0].revoked);

  Reopen();
  EXPECT_FALSE(keys_->Find(w));
  EXPECT_TRUE(keys_->List()[0].revoked);
}

TEST_F(KeyStoreTest, PersistsAcrossReopenWithoutStoringRawKeys) {
  std::string w = Create(KeyRole::kWrite, "web");
  std::string a = Create(KeyRole::kAdmin, "root");
  const std::string imported = "imported-key-that-must-not-leak";
  ASSERT_TRUE(keys_->Import(KeyRole::kWrite, "etl", imported).ok());
  Reopen();
  auto iw = keys_->Find(w);
  auto ia = keys_->Find(a);
  auto ii = keys_->Find(imported);
  ASSERT_TRUE(iw && ia && ii);
  EXPECT_EQ(iw->name, "web");
  EXPECT_EQ(iw->source, 1u);
  EXPECT_EQ(ia->role, KeyRole::kAdmin);
  EXPECT_EQ(ii->source, 2u);

  // Neither the main file nor SQLite's WAL contains any raw key (nor its random part).
  std::string bytes = ReadFileBytes(path_) + ReadFileBytes(path_ + "-wal");
  ASSERT_GT(bytes.size(), 0u);
  ASSERT_NE(bytes.find("web"), std::string::npos);  // the search itself works on these bytes
  for (const std::string& k : {w, a, imported}) {
    EXPECT_EQ(bytes.find(k), std::string::npos) << k;
    EXPECT_EQ(bytes.find(k.substr(3)), std::string::npos) << k;
  }
}

TEST_F(KeyStoreTest, RefusesAProfilesFile) {
  keys_.reset();
  {
    auto db = SqliteDb::Open(dir_.Sub("p.db"), SqliteOptions{});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA application_id = 1129337414; CREATE TABLE x (y)").ok());
  }
  EXPECT_TRUE(KeyStore::Open(dir_.Sub("p.db"), &clock_).status().Is(Code::kFailedPrecondition));
}

TEST_F(KeyStoreTest, ConcurrentFindsDuringCreates) {
  std::string first = Create(KeyRole::kWrite, "first");
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) ASSERT_TRUE(keys_->Find(first).has_value());
    });
  }
  std::set<std::string> created;
  for (int i = 0; i < 20; ++i) created.insert(Create(KeyRole::kWrite, "k" + std::to_string(i)));
  done = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(created.size(), 20u);
  for (const auto& k : created) EXPECT_TRUE(keys_->Find(k).has_value());
}

}  // namespace
}  // namespace cairn::entity

namespace cairn::entity {
namespace {

TEST_F(KeyStoreTest, RolesHaveTheirOwnPrefixesAndRoundTrip) {
  for (KeyRole role : {KeyRole::kWrite, KeyRole::kAnalyst, KeyRole::kAgent, KeyRole::kAdmin}) {
    std::string key = Create(role, std::string(KeyRoleName(role)));
    auto info = keys_->Find(key);
    ASSERT_TRUE(info.has_value()) << KeyRoleName(role);
    EXPECT_EQ(info->role, role);
    KeyRole parsed;
    ASSERT_TRUE(ParseKeyRole(KeyRoleName(role), &parsed));
    EXPECT_EQ(parsed, role);
  }
  EXPECT_TRUE(Create(KeyRole::kAnalyst, "a").starts_with("cn_"));
  EXPECT_TRUE(Create(KeyRole::kAgent, "g").starts_with("cg_"));
  Reopen();  // roles survive the file
  std::set<std::string> roles;
  for (const KeyInfo& k : keys_->List()) roles.insert(std::string(KeyRoleName(k.role)));
  EXPECT_EQ(roles, (std::set<std::string>{"write", "analyst", "agent", "admin"}));
}

TEST_F(KeyStoreTest, ExpiredKeysStopAuthenticating) {
  const int64_t now = clock_.NowMillis();
  auto past = keys_->CreateKey(KeyRole::kAnalyst, "past", now);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.status().code(), Code::kInvalidArgument);
  auto created = keys_->CreateKey(KeyRole::kAnalyst, "bi", now + 60'000);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->info.expires_at_ms, now + 60'000);
  EXPECT_TRUE(keys_->Find(created->key).has_value());
  EXPECT_TRUE(keys_->FindActiveById(created->info.id).has_value());
  clock_.Advance(60'000);
  EXPECT_FALSE(keys_->Find(created->key).has_value());
  EXPECT_FALSE(keys_->FindActiveById(created->info.id).has_value());
  Reopen();
  EXPECT_FALSE(keys_->Find(created->key).has_value());
  ASSERT_EQ(keys_->List().size(), 1u);
  EXPECT_EQ(keys_->List()[0].expires_at_ms, now + 60'000);
}

TEST_F(KeyStoreTest, MigratesAVersion1FileKeepingKeysAndIds) {
  keys_.reset();
  std::string v1 = dir_.Sub("v1.db");
  {
    // A schema-1 file as session 2's binary wrote it (docs/format/profiles.md).
    auto db = SqliteDb::Open(v1, SqliteOptions{});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec(R"sql(
PRAGMA application_id = 1129006425;
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE api_keys (id INTEGER PRIMARY KEY AUTOINCREMENT, hash BLOB NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('write', 'admin')), source INTEGER NOT NULL, name TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
INSERT INTO meta VALUES ('schema_version', 1);
)sql").ok());
    // One admin key, id 7, as Import would have stored it.
    const std::string legacy = "ak-legacy-0123456789abcdef";
    std::string hash(crypto_generichash_BYTES, '\0');
    crypto_generichash(reinterpret_cast<unsigned char*>(hash.data()), hash.size(),
                       reinterpret_cast<const unsigned char*>(legacy.data()), legacy.size(), nullptr, 0);
    auto s = (*db)->Prepare("INSERT INTO api_keys VALUES (7, ?1, 'admin', 0, 'admin', 5, 0)");
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(s->BindBlob(1, hash).Run().ok());
  }
  auto k = KeyStore::Open(v1, &clock_);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  auto legacy = (*k)->Find("ak-legacy-0123456789abcdef");
  ASSERT_TRUE(legacy.has_value());
  EXPECT_EQ(legacy->id, 7);
  EXPECT_EQ(legacy->role, KeyRole::kAdmin);
  EXPECT_EQ(legacy->expires_at_ms, 0);
  auto a = (*k)->CreateKey(KeyRole::kAgent, "agent");  // a role schema 1's CHECK refused
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->info.id, 8);  // ids continue after the migration
  EXPECT_TRUE((*k)->Find(a->key).has_value());
}

}  // namespace
}  // namespace cairn::entity
