#include "entity/sqlite_db.h"

#include <gtest/gtest.h>

#include "testutil/temp_dir.h"

namespace cairn::entity {
namespace {

class SqliteDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDb::Open(dir_.Sub("t.db"), SqliteOptions{});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)").ok());
  }
  int64_t Count() {
    auto n = db_->QueryInt("SELECT count(*) FROM t");
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : -1;
  }

  testutil::TempDir dir_;
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(SqliteDbTest, OpensInWalMode) {
  auto s = db_->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(s.ok());
  auto row = s->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(s->Text(0), "wal");
  auto sync = db_->QueryInt("PRAGMA synchronous");
  ASSERT_TRUE(sync.ok());
  EXPECT_EQ(*sync, 1);  // NORMAL
}

TEST_F(SqliteDbTest, ErrorsNameTheStatementAndMapCodes) {
  auto bad = db_->Prepare("SELECT nope FROM t");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("SELECT nope FROM t"), std::string_view::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("t.db"), std::string_view::npos);

  ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES ('a', 1)").ok());
  auto ins = db_->Prepare("INSERT INTO t (k, v) VALUES (?1, ?2)");
  ASSERT_TRUE(ins.ok());
  Status dup = ins->Bind(1, std::string_view("a")).Bind(2, int64_t{2}).Run();
  EXPECT_TRUE(dup.Is(Code::kAlreadyExists)) << dup.ToString();
  EXPECT_NE(dup.message().find("INSERT INTO t"), std::string_view::npos);

  Status not_null = db_->Exec("INSERT INTO t VALUES ('b', NULL)");
  EXPECT_TRUE(not_null.Is(Code::kInvalidArgument)) << not_null.ToString();
  EXPECT_TRUE(db_->Exec("THIS IS NOT SQL").Is(Code::kInternal));
}

TEST_F(SqliteDbTest, BindErrorSurfacesAtStep) {
  auto s = db_->Prepare("SELECT v FROM t WHERE k = ?1");
  ASSERT_TRUE(s.ok());
  auto row = s->Bind(7, int64_t{1}).Step();  // no parameter 7
  ASSERT_FALSE(row.ok());
  EXPECT_NE(row.status().message().find("bind #7"), std::string_view::npos) << row.status().ToString();
}

TEST_F(SqliteDbTest, StatementsAreCachedAndCannotBeBorrowedTwice) {
  {
    auto a = db_->Prepare("SELECT v FROM t");
    ASSERT_TRUE(a.ok());
    auto b = db_->Prepare("SELECT v FROM t");
    EXPECT_TRUE(b.status().Is(Code::kInternal));
  }
  // Returned to the cache on destruction, reset with bindings cleared.
  auto c = db_->Prepare("SELECT ?1");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->Bind(1, int64_t{42}).Step().value());
  EXPECT_EQ(c->Int64(0), 42);
  c->Reset();
  ASSERT_TRUE(c->Step().value());
  EXPECT_TRUE(c->IsNull(0));
  EXPECT_TRUE(db_->Prepare("SELECT 1; SELECT 2").status().Is(Code::kInvalidArgument));
  // A view into a longer buffer: only the view is the statement.
  auto view = db_->Prepare(std::string_view("SELECT 7; SELECT 2", 8));
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  ASSERT_TRUE(view->Step().value());
  EXPECT_EQ(view->Int64(0), 7);
}

TEST_F(SqliteDbTest, UnsignedRoundTripsBitForBit) {
  auto ins = db_->Prepare("INSERT INTO t (k, v) VALUES ('big', ?1)");
  ASSERT_TRUE(ins.ok());
  ASSERT_TRUE(ins->BindU64(1, UINT64_MAX - 5).Run().ok());
  auto q = db_->Prepare("SELECT v FROM t WHERE k = 'big'");
  ASSERT_TRUE(q.ok() && q->Step().value());
  EXPECT_EQ(q->U64(0), UINT64_MAX - 5);
}

TEST_F(SqliteDbTest, TransactionRollsBackUnlessCommitted) {
  {
    auto txn = Transaction::Begin(db_.get(), Transaction::Mode::kImmediate);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES ('x', 1)").ok());
    EXPECT_TRUE(db_->in_transaction());
  }
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_EQ(Count(), 0);
  {
    auto txn = Transaction::Begin(db_.get(), Transaction::Mode::kImmediate);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES ('x', 1)").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_EQ(Count(), 1);
}

// A savepoint undoes only its own writes; the transaction around it goes on and commits the rest.
TEST_F(SqliteDbTest, SavepointUndoesOnlyItsOwnWritesUnlessReleased) {
  auto txn = Transaction::Begin(db_.get(), Transaction::Mode::kImmediate);
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES ('a', 1)").ok());
  {
    auto undone = Savepoint::Begin(db_.get());
    ASSERT_TRUE(undone.ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES ('b', 2)").ok());
    {
      auto inner = Savepoint::Begin(db_.get());  // nested: released into the outer one
      ASSERT_TRUE(inner.ok());
      ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES ('c', 3)").ok());
      ASSERT_TRUE(inner->Release().ok());
    }
  }  // not released: b and c are gone
  EXPECT_TRUE(db_->in_transaction());
  {
    auto kept = Savepoint::Begin(db_.get());
    ASSERT_TRUE(kept.ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES ('d', 4)").ok());
    ASSERT_TRUE(kept->Release().ok());
  }
  ASSERT_TRUE(txn->Commit().ok());
  EXPECT_EQ(Count(), 2);
  auto keys = db_->QueryInt("SELECT sum(v) FROM t");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, 1 + 4);
}

// SqliteOptions::commits counts committed write transactions: one for a transaction of many
// statements, one per autocommitted statement, none for a rollback or a read.
TEST(SqliteDbCommitsTest, CountsCommittedWriteTransactions) {
  testutil::TempDir dir;
  metrics::Counter commits;
  SqliteOptions o;
  o.commits = &commits;
  auto db = SqliteDb::Open(dir.Sub("c.db"), o);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (v INTEGER)").ok());
  const uint64_t before = commits.Value();
  EXPECT_GE(before, 1u);
  {
    auto txn = Transaction::Begin(db->get(), Transaction::Mode::kImmediate);
    ASSERT_TRUE(txn.ok());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES (1)").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_EQ(commits.Value(), before + 1);
  ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES (2)").ok());
  ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES (3)").ok());
  EXPECT_EQ(commits.Value(), before + 3);
  {
    auto txn = Transaction::Begin(db->get(), Transaction::Mode::kImmediate);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES (4)").ok());
  }  // rolled back
  ASSERT_TRUE((*db)->QueryInt("SELECT count(*) FROM t").ok());
  EXPECT_EQ(commits.Value(), before + 3);
}

TEST_F(SqliteDbTest, MigrateCreatesUpgradesAndRefusesNewerOrForeignFiles) {
  const uint32_t app = 0x54455354;
  std::vector<std::string_view> v1 = {
      "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE a (x INTEGER)"};
  std::string path = dir_.Sub("m.db");
  {
    auto db = SqliteDb::Open(path, SqliteOptions{});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Migrate(app, v1).ok());
    ASSERT_TRUE((*db)->Migrate(app, v1).ok());  // already current: no-op
    EXPECT_EQ((*db)->QueryInt("SELECT value FROM meta WHERE key = 'schema_version'").value(), 1);
    // v2 adds a table; a failing step rolls back everything, version unchanged.
    std::vector<std::string_view> broken = {v1[0], "CREATE TABLE b (y INTEGER); SELECT nonsense FROM nowhere"};
    Status s = (*db)->Migrate(app, broken);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("migration 1 -> 2"), std::string_view::npos) << s.ToString();
    EXPECT_EQ((*db)->QueryInt("SELECT count(*) FROM sqlite_master WHERE name = 'b'").value(), 0);
    std::vector<std::string_view> v2 = {v1[0], "CREATE TABLE b (y INTEGER)"};
    ASSERT_TRUE((*db)->Migrate(app, v2).ok());
    EXPECT_EQ((*db)->QueryInt("SELECT value FROM meta WHERE key = 'schema_version'").value(), 2);
    // An older binary (knowing only v1) refuses the file.
    Status newer = (*db)->Migrate(app, v1);
    EXPECT_TRUE(newer.Is(Code::kFailedPrecondition)) << newer.ToString();
    // Another kind of Cairn file.
    EXPECT_TRUE((*db)->Migrate(app + 1, v1).Is(Code::kFailedPrecondition));
  }
  // A non-empty database that is not ours (application_id 0 with tables): refused, untouched.
  Status foreign = db_->Migrate(app, v1);
  EXPECT_TRUE(foreign.Is(Code::kFailedPrecondition)) << foreign.ToString();
  EXPECT_EQ(db_->QueryInt("SELECT count(*) FROM sqlite_master WHERE name = 'meta'").value(), 0);
}

TEST(SqliteDbOpenTest, ReadOnlyOpenOfMissingFileFails) {
  testutil::TempDir dir;
  SqliteOptions o;
  o.read_only = true;
  auto db = SqliteDb::Open(dir.Sub("missing.db"), o);
  ASSERT_FALSE(db.ok());
  EXPECT_TRUE(db.status().Is(Code::kIOError)) << db.status().ToString();
  EXPECT_NE(db.status().message().find("missing.db"), std::string_view::npos);
}

}  // namespace
}  // namespace cairn::entity
