#include "entity/sqlite_db.h"

#include <algorithm>
#include <sqlite3.h>

#include <fmt/format.h>

#include "base/logging.h"

namespace cairn::entity {

namespace {

// The statement as it appears in error messages: whitespace collapsed, at most ~80 characters,
// enough to recognise it without flooding the log with a whole CREATE TABLE.
std::string ShortSql(std::string_view sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= 80) {
      out += "...";
      break;
    }
  }
  return out;
}

Code CodeFor(int rc) {
  switch (rc & 0xff) {  // primary code; extended codes keep it in the low byte
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Code::kCorruption;
    case SQLITE_FULL:
      return Code::kResourceExhausted;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Code::kUnavailable;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return Code::kIOError;
    case SQLITE_CONSTRAINT:
      return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ? Code::kAlreadyExists
                                                                               : Code::kInvalidArgument;
    default:
      return Code::kInternal;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Stmt

Stmt::Stmt(Stmt&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), in_use_(other.in_use_), bind_error_(std::move(other.bind_error_)) {
  other.stmt_ = nullptr;
  other.in_use_ = nullptr;
}

Stmt::~Stmt() {
  if (!stmt_) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *in_use_ = false;
}

void Stmt::NoteBind(int rc, int index) {
  if (rc != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = db_->Error(rc, fmt::format("bind #{}", index), sqlite3_sql(stmt_));
  }
}

Stmt& Stmt::Bind(int index, int64_t v) {
  NoteBind(sqlite3_bind_int64(stmt_, index, v), index);
  return *this;
}

Stmt& Stmt::BindU64(int index, uint64_t v) { return Bind(index, static_cast<int64_t>(v)); }

Stmt& Stmt::Bind(int index, std::string_view text) {
  NoteBind(sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
  return *this;
}

Stmt& Stmt::BindBlob(int index, std::string_view bytes) {
  NoteBind(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT), index);
  return *this;
}

Stmt& Stmt::BindNull(int index) {
  NoteBind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

Result<bool> Stmt::Step() {
  if (!bind_error_.ok()) return bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(rc, "step", sqlite3_sql(stmt_));
}

Status Stmt::Run() {
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

void Stmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = Status::Ok();
}

bool Stmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

int64_t Stmt::Int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string_view Stmt::Text(int col) const {
  // Per the SQLite docs: fetch the pointer first, then the size.
  const void* p = sqlite3_column_type(stmt_, col) == SQLITE_BLOB
                      ? sqlite3_column_blob(stmt_, col)
                      : static_cast<const void*>(sqlite3_column_text(stmt_, col));
  int n = sqlite3_column_bytes(stmt_, col);
  if (!p || n <= 0) return {};
  return {static_cast<const char*>(p), static_cast<size_t>(n)};
}

// ---------------------------------------------------------------------------------------------
// SqliteDb

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, const SqliteOptions& options) {
  // NOMUTEX: the caller serialises use of a connection (see the header), so SQLite's own
  // per-connection mutex would only cost time.
  int flags = SQLITE_OPEN_NOMUTEX |
              (options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);  // a handle is allocated even on failure (null-safe)
    return Status(CodeFor(rc), fmt::format("{}: open: {} (sqlite code {})", path, msg, rc));
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw, path));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  if (!options.read_only) {
    // journal_mode is persistent in the file; setting it answers the mode actually in force,
    // which is not "wal" on file systems without shared memory: refuse those loudly.
    ASSIGN_OR_RETURN(Stmt mode, db->Prepare("PRAGMA journal_mode=WAL"));
    ASSIGN_OR_RETURN(bool row, mode.Step());
    std::string got = row ? std::string(mode.Text(0)) : "";
    if (got != "wal") {
      return FailedPrecondition(fmt::format("{}: cannot enable WAL journal mode (got '{}')", path, got));
    }
  }
  RETURN_IF_ERROR(db->Exec(options.full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  if (options.commits != nullptr) {
    // Called just before a write transaction commits; 0 lets it commit.
    sqlite3_commit_hook(raw, [](void* counter) {
      static_cast<metrics::Counter*>(counter)->Inc();
      return 0;
    }, options.commits);
  }
  // A negative cache_size is in KiB.
  RETURN_IF_ERROR(db->Exec(fmt::format("PRAGMA cache_size=-{}", std::max<size_t>(options.cache_bytes >> 10, 64))));
  return db;
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, c] : cache_) {
    DCHECK(!c.in_use) << "statement still borrowed at close: " << sql;
    sqlite3_finalize(c.stmt);
  }
  int rc = sqlite3_close(db_);
  if (rc != SQLITE_OK) LOG_ERROR("{}: close failed: {}", path_, sqlite3_errstr(rc));
}

Status SqliteDb::Error(int rc, std::string_view what, std::string_view sql) const {
  // sqlite3_errmsg is more specific than errstr ("UNIQUE constraint failed: api_keys.hash") when
  // it describes this failure; after a failed step it always does.
  const char* msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  return Status(CodeFor(rc), fmt::format("{}: {} '{}': {} (sqlite code {})", path_, what, ShortSql(sql), msg, rc));
}

Status SqliteDb::Exec(std::string_view sql) {
  std::string text(sql);  // sqlite3_exec needs a terminated string
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return Status(CodeFor(rc), fmt::format("{}: exec '{}': {} (sqlite code {})", path_, ShortSql(sql), msg, rc));
}

Status SqliteDb::Scrub() {
  RETURN_IF_ERROR(Exec("PRAGMA secure_delete=ON"));
  RETURN_IF_ERROR(Exec("VACUUM"));
  // The first column of wal_checkpoint's row is 1 when it could not finish (a reader was busy).
  ASSIGN_OR_RETURN(int64_t busy, QueryInt("PRAGMA wal_checkpoint(TRUNCATE)"));
  if (busy != 0) return Unavailable(path_ + ": wal_checkpoint(TRUNCATE) blocked by a reader; retry");
  return Status::Ok();
}

Result<Stmt> SqliteDb::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                                &tail);
    if (rc != SQLITE_OK) return Error(rc, "prepare", sql);
    if (!stmt) return InvalidArgument(fmt::format("{}: prepare '{}': empty statement", path_, ShortSql(sql)));
    // `sql` need not be NUL-terminated: measure the rest from the end of the view, never strlen.
    std::string_view rest = tail ? sql.substr(static_cast<size_t>(tail - sql.data())) : std::string_view();
    if (rest.find_first_not_of(" \n\t\r;") != std::string_view::npos) {
      sqlite3_finalize(stmt);
      return InvalidArgument(fmt::format("{}: prepare '{}': more than one statement", path_, ShortSql(sql)));
    }
    it = cache_.emplace(std::string(sql), Cached{stmt, false}).first;
  }
  if (it->second.in_use) {
    return Internal(fmt::format("{}: statement '{}' is already in use", path_, ShortSql(sql)));
  }
  it->second.in_use = true;
  return Stmt(this, it->second.stmt, &it->second.in_use);
}

Result<int64_t> SqliteDb::QueryInt(std::string_view sql) {
  ASSIGN_OR_RETURN(Stmt s, Prepare(sql));
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFound(fmt::format("{}: '{}' returned no row", path_, ShortSql(sql)));
  return s.Int64(0);
}

int64_t SqliteDb::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

bool SqliteDb::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Status SqliteDb::Migrate(uint32_t application_id, const std::vector<std::string_view>& steps) {
  ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(this, Transaction::Mode::kImmediate));
  ASSIGN_OR_RETURN(int64_t app, QueryInt("PRAGMA application_id"));
  ASSIGN_OR_RETURN(int64_t objects, QueryInt("SELECT count(*) FROM sqlite_master"));
  if (static_cast<uint32_t>(app) != application_id && (app != 0 || objects != 0)) {
    return FailedPrecondition(fmt::format(
        "{}: not a file of this kind (application_id {:#x}, expected {:#x}, {} schema objects)", path_,
        static_cast<uint32_t>(app), application_id, objects));
  }
  int64_t version = 0;
  if (objects != 0) {
    auto v = QueryInt("SELECT value FROM meta WHERE key = 'schema_version'");
    if (!v.ok()) return Corruption(fmt::format("{}: schema_version missing: {}", path_, v.status().ToString()));
    version = *v;
  }
  const auto latest = static_cast<int64_t>(steps.size());
  if (version < 0 || version > latest) {
    return FailedPrecondition(fmt::format("{}: schema version {} is newer than this binary supports ({})", path_,
                                          version, latest));
  }
  if (version == latest) return txn.Commit();
  for (int64_t v = version; v < latest; ++v) {
    Status s = Exec(steps[static_cast<size_t>(v)]);
    if (!s.ok()) return s.WithContext(fmt::format("migration {} -> {}", v, v + 1));
  }
  RETURN_IF_ERROR(Exec(fmt::format("PRAGMA application_id = {}", static_cast<int32_t>(application_id))));
  {
    ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?1) "
                                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
    RETURN_IF_ERROR(s.Bind(1, latest).Run());
  }
  RETURN_IF_ERROR(txn.Commit());
  LOG_INFO("{}: schema at version {} (was {})", path_, latest, version);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Transaction

Result<Transaction> Transaction::Begin(SqliteDb* db, Mode mode) {
  RETURN_IF_ERROR(db->Exec(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"));
  return Transaction(db);
}

Status Transaction::Commit() {
  Status s = db_->Exec("COMMIT");
  // On failure SQLite either kept the transaction open (BUSY) or already rolled it back; the
  // destructor rolls back in the first case.
  if (s.ok()) db_ = nullptr;
  return s;
}

Transaction::~Transaction() {
  if (!db_ || !db_->in_transaction()) return;  // committed, or SQLite already rolled back
  Status s = db_->Exec("ROLLBACK");
  if (!s.ok()) LOG_ERROR("rollback failed: {}", s.ToString());
}

// ---------------------------------------------------------------------------------------------
// Savepoint

Result<Savepoint> Savepoint::Begin(SqliteDb* db) {
  RETURN_IF_ERROR(db->Exec("SAVEPOINT step"));
  return Savepoint(db);
}

Status Savepoint::Release() {
  Status s = db_->Exec("RELEASE step");
  if (s.ok()) db_ = nullptr;
  return s;
}

Savepoint::~Savepoint() {
  // Nested savepoints share the name: ROLLBACK TO / RELEASE act on the innermost, this one.
  if (!db_ || !db_->in_transaction()) return;  // released, or SQLite already rolled everything back
  Status s = db_->Exec("ROLLBACK TO step");
  if (s.ok()) s = db_->Exec("RELEASE step");
  if (!s.ok()) LOG_ERROR("rollback to savepoint failed: {}", s.ToString());
}

}  // namespace cairn::entity
