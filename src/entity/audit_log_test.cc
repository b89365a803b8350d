#include "entity/audit_log.h"

#include <gtest/gtest.h>

#include "testutil/temp_dir.h"

namespace cairn::entity {
namespace {

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    log_.reset();
    auto l = AuditLog::Open(path_, &clock_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    log_ = std::move(l).value();
  }
  AuditRecord Rec(int64_t key, std::string name, std::string customer, std::string method = "GET") {
    AuditRecord r;
    r.actor_key_id = key;
    r.actor_name = std::move(name);
    r.actor_role = "agent";
    r.method = std::move(method);
    r.route = customer.empty() ? "/v1/keys" : "/v1/customers/{id}";
    r.customer = std::move(customer);
    r.status = 200;
    return r;
  }

  testutil::TempDir dir_;
  std::string path_ = dir_.Sub("audit.db");
  FakeClock clock_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, AppendsAssignSeqTimeAndChainAndSurviveReopen) {
  auto a = log_->Append(Rec(3, "alice", "u1"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->seq, 1);
  EXPECT_EQ(a->at_ms, clock_.NowMillis());
  EXPECT_EQ(a->hash, AuditLog::ChainHash(std::string(32, '\0'), *a));
  Reopen();  // the chain continues from the stored head
  clock_.Advance(1000);
  auto b = log_->Append(Rec(4, "bob", "u2"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->seq, 2);
  EXPECT_EQ(b->hash, AuditLog::ChainHash(a->hash, *b));
  auto n = log_->Verify();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2);
}

TEST_F(AuditLogTest, QueryFiltersNewestFirstWithCursor) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(log_->Append(Rec(i % 2 ? 3 : 4, i % 2 ? "alice" : "bob", i < 5 ? "u1" : "u2")).ok());
    clock_.Advance(1000);
  }
  AuditFilter f;
  f.customers = {"u1"};
  auto r = log_->Query(f);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].seq, 5);  // newest first
  EXPECT_EQ((*r)[4].seq, 1);
  f.customers = {"u2", "nobody", "u1"};  // any of several subjects
  r = log_->Query(f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 10u);
  f = {};
  f.actor_key_id = 3;
  f.limit = 2;
  r = log_->Query(f);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].seq, 10);
  EXPECT_EQ((*r)[1].seq, 8);
  f.before_seq = (*r)[1].seq;  // the next page
  r = log_->Query(f);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].seq, 6);
  f = {};
  f.actor_name = "bob";
  f.from_ms = clock_.NowMillis() - 4000;  // records 7..10 are in [now-4s, now)
  r = log_->Query(f);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);  // bob's: seq 7 and 9
  EXPECT_EQ((*r)[0].seq, 9);
  EXPECT_EQ((*r)[1].seq, 7);
}

TEST_F(AuditLogTest, IsAppendOnlyAndTamperingIsEvident) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log_->Append(Rec(3, "alice", "u" + std::to_string(i))).ok());
  log_.reset();
  {
    auto db = SqliteDb::Open(path_, SqliteOptions{});
    ASSERT_TRUE(db.ok());
    // The triggers refuse edits and deletions...
    EXPECT_FALSE((*db)->Exec("UPDATE audit SET customer = 'someone-else' WHERE seq = 2").ok());
    EXPECT_FALSE((*db)->Exec("DELETE FROM audit WHERE seq = 2").ok());
    // ...and someone who drops them changes a record the chain then disowns.
    ASSERT_TRUE((*db)->Exec("DROP TRIGGER audit_no_update").ok());
    ASSERT_TRUE((*db)->Exec("UPDATE audit SET customer = 'someone-else' WHERE seq = 2").ok());
  }
  Reopen();
  auto v = log_->Verify();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kCorruption);
  EXPECT_NE(v.status().message().find("record 2"), std::string::npos) << v.status().ToString();
}

TEST_F(AuditLogTest, RemovedRecordsAreEvident) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log_->Append(Rec(3, "alice", "u")).ok());
  log_.reset();
  {
    auto db = SqliteDb::Open(path_, SqliteOptions{});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("DROP TRIGGER audit_no_delete").ok());
    ASSERT_TRUE((*db)->Exec("DELETE FROM audit WHERE seq = 2").ok());
  }
  Reopen();
  auto v = log_->Verify();
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("missing"), std::string::npos) << v.status().ToString();
}

TEST_F(AuditLogTest, SubjectHashIsKeyedStableAcrossReopenAndHidesTheReference) {
  const std::string h = log_->SubjectHash("e:alice@example.com");
  ASSERT_EQ(h.size(), 2 + 2 * AuditLog::kSubjectHashBytes);
  EXPECT_EQ(h.substr(0, 2), "h:");
  EXPECT_EQ(h.find("alice"), std::string::npos);
  EXPECT_NE(h, log_->SubjectHash("e:bob@example.com"));
  EXPECT_NE(h, log_->SubjectHash("alice@example.com"));  // the reference exactly as given
  Reopen();
  EXPECT_EQ(log_->SubjectHash("e:alice@example.com"), h);  // the key is stored, not remade
  // Another log has another key: its hashes cannot be matched against this one's.
  testutil::TempDir other_dir;
  auto other = AuditLog::Open(other_dir.Sub("audit.db"), &clock_);
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)->SubjectHash("e:alice@example.com"), h);
}

// A log written by schema 1 (records holding the ids as requested) opens at schema 2: its chain
// still verifies, appends continue it, and meta says from which record subjects are used.
TEST_F(AuditLogTest, SchemaOneLogMigratesAndKeepsItsChain) {
  log_.reset();
  path_ = dir_.Sub("schema1.db");  // a file of its own (not the one SetUp made)
  AuditRecord old = Rec(3, "alice", "alice@example.com");
  old.seq = 1;
  old.at_ms = 1000;
  old.hash = AuditLog::ChainHash(std::string(32, '\0'), old);
  {
    auto db = SqliteDb::Open(path_, SqliteOptions{});
    ASSERT_TRUE(db.ok());
    // Schema 1 exactly as released (docs/format/audit.md).
    ASSERT_TRUE((*db)->Exec(R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE audit (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, actor_key_id INTEGER NOT NULL,
  actor_name TEXT NOT NULL, actor_role TEXT NOT NULL, session TEXT NOT NULL, method TEXT NOT NULL,
  route TEXT NOT NULL, customer TEXT NOT NULL, status INTEGER NOT NULL, hash BLOB NOT NULL);
CREATE INDEX audit_customer ON audit (customer, seq);
CREATE INDEX audit_actor ON audit (actor_key_id, seq);
CREATE INDEX audit_at ON audit (at_ms);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
INSERT INTO meta (key, value) VALUES ('schema_version', 1);
PRAGMA application_id = 1128355140;
)sql").ok());
    auto ins = (*db)->Prepare(
        "INSERT INTO audit VALUES (1, 1000, 3, 'alice', 'agent', '', 'GET', '/v1/customers/{id}', "
        "'alice@example.com', 200, ?1)");
    ASSERT_TRUE(ins.ok());
    ASSERT_TRUE(ins->BindBlob(1, old.hash).Run().ok());
  }
  Reopen();
  ASSERT_TRUE(log_->Append(Rec(3, "alice", log_->SubjectHash("x"))).ok());
  auto n = log_->Verify();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2);
  log_.reset();
  auto db = SqliteDb::Open(path_, SqliteOptions{});
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(*(*db)->QueryInt("SELECT value FROM meta WHERE key = 'schema_version'"), 2);
  EXPECT_EQ(*(*db)->QueryInt("SELECT value FROM meta WHERE key = 'subjects_from_seq'"), 2);
  EXPECT_EQ(*(*db)->QueryInt("SELECT length(key) FROM secret WHERE id = 1"), 32);
}

}  // namespace
}  // namespace cairn::entity
