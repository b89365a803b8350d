#pragma once
// SqliteDb: a small RAII wrapper over one SQLite connection, so the rest of entity/ never touches
// the C API's error codes or statement lifetimes.
//
// - Open() applies the house settings: journal_mode=WAL (writable connections), synchronous=NORMAL
//   (or FULL), busy_timeout, extended result codes. SQLite does its own fsync; files opened here
//   are not written through io::Env.
// - Prepare() hands out statements from a per-connection cache keyed by SQL text; a Stmt is
//   borrowed for one use and reset (bindings cleared) when it goes out of scope.
// - Every SQLite error becomes a Status naming the file and the statement:
//     "IOError: profiles.db: step 'INSERT INTO customers ...': disk I/O error (SQLITE_IOERR_WRITE)"
//   Codes map as: CORRUPT/NOTADB → Corruption, FULL → ResourceExhausted, BUSY/LOCKED → Unavailable,
//   IOERR/CANTOPEN/READONLY/PERM → IOError, CONSTRAINT → AlreadyExists (unique/primary key) or
//   InvalidArgument (others), anything else → Internal.
//
// Thread-safety: a SqliteDb and its Stmts are NOT thread-safe; one thread (or one mutex) per
// connection. Use separate connections for concurrent readers (WAL mode lets them read while
// another connection writes).

#include <cstdint>
#include <memory>
#include <string>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/metrics.h"
#include "base/result.h"
#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace cairn::entity {

class SqliteDb;

struct SqliteOptions {
  // Open read-only (SQLITE_OPEN_READONLY); the file must exist. Default false: read-write, created
  // if missing.
  bool read_only = false;
  // synchronous=FULL instead of NORMAL: every commit fsyncs SQLite's WAL. Default false.
  bool full_sync = false;
  // How long a statement waits for another connection's lock before failing with Unavailable.
  // Default 5000 ms.
  int busy_timeout_ms = 5000;
  // SQLite's page cache for this connection. SQLite's default (2 MB) makes a growing database
  // re-read its B-tree pages with pread on every statement. Default 32 MiB (allocated as used).
  size_t cache_bytes = 32u << 20;
  // Counted on every committed write transaction (sqlite3_commit_hook): with full_sync, each is
  // one fsync of the -wal file, so /metrics shows who syncs how often. Default none.
  metrics::Counter* commits = nullptr;
};

// A prepared statement borrowed from SqliteDb's cache. Bind parameters (1-based), then Step() for
// each row or Run() to execute to completion. Column accessors are 0-based and valid only while
// Step() last returned true; text views are valid until the next Step/Reset. Destruction resets
// the statement and clears its bindings. Move-only; must not outlive its SqliteDb.
class Stmt {
 public:
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  ~Stmt();

  // Binding errors (index out of range, out of memory) are remembered and returned by the next
  // Step/Run, so call sites can chain binds without checking each one.
  Stmt& Bind(int index, int64_t v);
  Stmt& BindU64(int index, uint64_t v);  // stored bit-for-bit as int64 (see docs/format/profiles.md)
  Stmt& Bind(int index, std::string_view text);  // copied by SQLite (SQLITE_TRANSIENT)
  Stmt& BindBlob(int index, std::string_view bytes);
  Stmt& BindNull(int index);

  // Advances: true if a row is available, false when done.
  Result<bool> Step();
  // Steps until done, ignoring rows.
  Status Run();
  // Resets for another execution with new bindings (bindings are cleared).
  void Reset();

  bool IsNull(int col) const;
  int64_t Int64(int col) const;
  uint64_t U64(int col) const { return static_cast<uint64_t>(Int64(col)); }
  std::string_view Text(int col) const;  // also for BLOB columns

 private:
  friend class SqliteDb;
  Stmt(const SqliteDb* db, sqlite3_stmt* stmt, bool* in_use) : db_(db), stmt_(stmt), in_use_(in_use) {}
  void NoteBind(int rc, int index);

  const SqliteDb* db_;
  sqlite3_stmt* stmt_;  // null after a move
  bool* in_use_;        // the cache entry's flag, cleared on destruction
  Status bind_error_;
};

class SqliteDb {
 public:
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, const SqliteOptions& options);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements that return no rows (DDL, pragmas, BEGIN/COMMIT).
  Status Exec(std::string_view sql);
  // Borrows the cached statement for `sql`, preparing it on first use. A statement cannot be
  // borrowed twice at once (Internal error): nested use of the same SQL text is a bug.
  Result<Stmt> Prepare(std::string_view sql);
  // Runs a query returning one integer (e.g. "PRAGMA application_id").
  Result<int64_t> QueryInt(std::string_view sql);
  // Erasure (docs/erasure.md): leaves no byte of deleted rows in the file or its -wal. Call
  // SecureDelete() before deleting (freed cells are then zeroed), then Scrub() after committing:
  // VACUUM (rewrites every page, so no free page keeps old bytes) and wal_checkpoint(TRUNCATE)
  // (empties the -wal file, which holds old page images). Unavailable if another connection's
  // open read transaction kept the -wal from being truncated (retry later). Not in a transaction.
  Status SecureDelete() { return Exec("PRAGMA secure_delete=ON"); }
  Status Scrub();

  int64_t last_insert_rowid() const;
  // True between BEGIN and COMMIT/ROLLBACK (SQLite may end a transaction by itself on some errors).
  bool in_transaction() const;
  const std::string& path() const { return path_; }

  // The Status for SQLite result code `rc` from operation `what` ("step", "prepare", ...) on `sql`.
  Status Error(int rc, std::string_view what, std::string_view sql) const;

  // Brings the schema up to date. `application_id` identifies the file kind; `steps[i]` is the SQL
  // taking schema version i to i+1 (steps[0] creates the schema from an empty file, including the
  // `meta` table). Runs all pending steps and the schema_version update in one transaction.
  // FailedPrecondition if the file belongs to another application or is newer than steps.size().
  Status Migrate(uint32_t application_id, const std::vector<std::string_view>& steps);

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  sqlite3* db_;
  std::string path_;
  // Node-based map: Cached addresses are stable while Stmts point at their in_use flags.
  std::unordered_map<std::string, Cached, StringHash, std::equal_to<>> cache_;
};

// Transaction: BEGIN on construction (via Begin), ROLLBACK on destruction unless committed.
class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate };
  // kImmediate takes the write lock at once (writers); kDeferred starts a read snapshot at the
  // first read (readers: every query inside sees the same snapshot).
  static Result<Transaction> Begin(SqliteDb* db, Mode mode);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(SqliteDb* db) : db_(db) {}
  SqliteDb* db_;  // null once committed, rolled back or moved from
};

// Savepoint: a part of an open transaction that is all or nothing by itself (SAVEPOINT, then
// RELEASE on Release(), or ROLLBACK TO + RELEASE on destruction), so one failed step undoes only
// its own writes and the transaction goes on. Must end before its transaction does.
class Savepoint {
 public:
  static Result<Savepoint> Begin(SqliteDb* db);
  Savepoint(Savepoint&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Savepoint& operator=(Savepoint&&) = delete;
  ~Savepoint();
  Status Release();

 private:
  explicit Savepoint(SqliteDb* db) : db_(db) {}
  SqliteDb* db_;  // null once released, rolled back or moved from
};

}  // namespace cairn::entity
