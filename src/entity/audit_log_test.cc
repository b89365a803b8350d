#include "entity/audit_log.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

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

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every byte of the log's files (the database, its -wal and -shm).
std::string AllBytes(const std::string& path) { return ReadFile(path) + ReadFile(path + "-wal") + ReadFile(path + "-shm"); }

// testdata/audit_schema1.sql: five records written by schema 1, three naming one customer by the
// ids a request gave (e-mail, "u:" userId, phone), one naming nobody, one another customer.
const std::vector<std::string> kRawIds = {"vic-mail-7f3a9c1e@example.com", "u:vic-uid-7f3a9c1e", "+4915550173391",
                                          "keeper-0"};

class AuditSchemaOneTest : public AuditLogTest {
 protected:
  // Writes the schema-1 fixture to path_ (a file of its own, not the one SetUp made); checks that
  // its chain is the one this code computes (the fixture's hashes were made outside it).
  void WriteFixture() {
    log_.reset();
    path_ = dir_.Sub("schema1.db");
    auto db = SqliteDb::Open(path_, SqliteOptions{});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec(ReadFile(std::string(CAIRN_ENTITY_TESTDATA) + "/audit_schema1.sql")).ok());
    auto s = (*db)->Prepare("SELECT seq, at_ms, actor_key_id, actor_name, actor_role, session, method, route, customer, "
                            "status, hash FROM audit ORDER BY seq");
    ASSERT_TRUE(s.ok());
    std::string prev(32, '\0');
    while (*s->Step()) {
      AuditRecord r;
      r.seq = s->Int64(0);
      r.at_ms = s->Int64(1);
      r.actor_key_id = s->Int64(2);
      r.actor_name = s->Text(3);
      r.actor_role = s->Text(4);
      r.session = s->Text(5);
      r.method = s->Text(6);
      r.route = s->Text(7);
      r.customer = s->Text(8);
      r.status = static_cast<uint32_t>(s->Int64(9));
      prev = AuditLog::ChainHash(prev, r);
      old_hashes_.push_back(std::string(s->Text(10)));
      ASSERT_EQ(old_hashes_.back(), prev) << "fixture record " << r.seq;
      old_.push_back(std::move(r));
    }
    ASSERT_EQ(old_.size(), 5u);
  }
  int64_t MetaInt(const std::string& key) {
    auto db = SqliteDb::Open(path_, SqliteOptions{});
    auto v = (*db)->QueryInt("SELECT value FROM meta WHERE key = '" + key + "'");
    return v.ok() ? *v : -1;
  }

  std::vector<AuditRecord> old_;
  std::vector<std::string> old_hashes_;
};

// Schema 3: a log written by schema 1 opens with every record that named a customer by a raw id
// rewritten to the keyed subject hash of that id (findable as before, by the hash of the id as
// given), the chain recomputed so it verifies and appends continue it, the old head kept in
// `rechain`, and no byte of any raw id left in the file or its -wal.
TEST_F(AuditSchemaOneTest, SchemaOneRecordsAreRewrittenToSubjectsAndRechained) {
  ASSERT_NO_FATAL_FAILURE(WriteFixture());
  // Positive control: the scanner sees the raw ids in the schema-1 file.
  for (const auto& id : kRawIds) EXPECT_NE(AllBytes(path_).find(id), std::string::npos) << id;
  Reopen();
  auto n = log_->Verify();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 5);
  AuditFilter all;
  all.limit = 10;
  auto records = log_->Query(all);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 5u);
  for (const AuditRecord& r : *records) {
    const AuditRecord& was = old_[static_cast<size_t>(r.seq - 1)];
    // Only `customer` (and the hashes) changed; who/when/what stay as they were.
    EXPECT_EQ(r.at_ms, was.at_ms);
    EXPECT_EQ(r.actor_name, was.actor_name);
    EXPECT_EQ(r.session, was.session);
    EXPECT_EQ(r.route, was.route);
    EXPECT_EQ(r.status, was.status);
    EXPECT_EQ(r.customer, was.customer.empty() ? "" : log_->SubjectHash(was.customer)) << r.seq;
    EXPECT_NE(r.hash, old_hashes_[static_cast<size_t>(r.seq - 1)]) << "record " << r.seq << " re-chained";
  }
  // Found by the subject of the id as the request gave it, as records written by schema 2 are.
  AuditFilter by_phone;
  by_phone.customers = {log_->SubjectHash("+4915550173391")};
  auto found = log_->Query(by_phone);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].seq, 4);
  // Appends continue the new chain; the log stays append-only.
  ASSERT_TRUE(log_->Append(Rec(3, "alice", "c:7")).ok());
  n = log_->Verify();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 6);
  const std::string head = (*records)[0].hash;
  log_.reset();
  for (const auto& id : kRawIds) EXPECT_EQ(AllBytes(path_).find(id), std::string::npos) << id << " left in the file";
  EXPECT_EQ(MetaInt("schema_version"), 3);
  EXPECT_EQ(MetaInt("raw_ids"), 0);
  {
    auto db = SqliteDb::Open(path_, SqliteOptions{});
    ASSERT_TRUE(db.ok());
    EXPECT_FALSE((*db)->Exec("UPDATE audit SET status = 500 WHERE seq = 1").ok()) << "the update trigger is back";
    auto r = (*db)->Prepare("SELECT rewritten, from_seq, through_seq, old_head, new_head FROM rechain");
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(*r->Step());
    EXPECT_EQ(r->Int64(0), 4);
    EXPECT_EQ(r->Int64(1), 1);
    EXPECT_EQ(r->Int64(2), 5);
    EXPECT_EQ(r->Text(3), old_hashes_.back()) << "the pre-upgrade head, for operators who pinned it";
    EXPECT_EQ(r->Text(4), head);
  }
  // Idempotent: a second open rewrites nothing (the chain and the appended record stay).
  Reopen();
  n = log_->Verify();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 6);
}

// A log already at schema 2 (schema-1 records, then records naming subjects): only the records
// before subjects_from_seq are rewritten; later ones keep their subjects.
TEST_F(AuditSchemaOneTest, OnlyRecordsWrittenBeforeSchemaTwoAreRewritten) {
  ASSERT_NO_FATAL_FAILURE(WriteFixture());
  {
    auto db = SqliteDb::Open(path_, SqliteOptions{});
    ASSERT_TRUE(db.ok());
    // Schema 2 as released, then a record written under it (subject "c:12"), chained on.
    ASSERT_TRUE((*db)->Exec(R"sql(
CREATE TABLE secret (id INTEGER PRIMARY KEY CHECK (id = 1), key BLOB NOT NULL);
INSERT INTO meta (key, value) SELECT 'subjects_from_seq', COALESCE(MAX(seq), 0) + 1 FROM audit;
UPDATE meta SET value = 2 WHERE key = 'schema_version';
INSERT INTO secret (id, key) VALUES (1, zeroblob(32));
)sql").ok());
    AuditRecord r = Rec(4, "bob", "c:12");
    r.seq = 6;
    r.at_ms = 9000;
    r.hash = AuditLog::ChainHash(old_hashes_.back(), r);
    auto ins = (*db)->Prepare("INSERT INTO audit VALUES (6, 9000, 4, 'bob', 'agent', '', 'GET', '/v1/customers/{id}', "
                              "'c:12', 200, ?1)");
    ASSERT_TRUE(ins.ok());
    ASSERT_TRUE(ins->BindBlob(1, r.hash).Run().ok());
  }
  Reopen();
  auto n = log_->Verify();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 6);
  AuditFilter f;
  f.customers = {"c:12"};
  auto later = log_->Query(f);
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].seq, 6);
  f.customers = {log_->SubjectHash("keeper-0")};
  auto old = log_->Query(f);
  ASSERT_TRUE(old.ok());
  ASSERT_EQ(old->size(), 1u);
  EXPECT_EQ((*old)[0].seq, 5);
  log_.reset();
  for (const auto& id : kRawIds) EXPECT_EQ(AllBytes(path_).find(id), std::string::npos) << id;
  // The key made under schema 2 (here all zeros) hashed them: it is never replaced.
  auto db = SqliteDb::Open(path_, SqliteOptions{});
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(*(*db)->QueryInt("SELECT key = zeroblob(32) FROM secret WHERE id = 1"), 1);
}

}  // namespace
}  // namespace cairn::entity
