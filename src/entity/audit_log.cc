#include "entity/audit_log.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>

#include "base/logging.h"

namespace cairn::entity {
namespace {

constexpr uint32_t kApplicationId = 0x43415544;  // "CAUD"

// Schema version 1 (docs/format/audit.md). Never edit a released step: add a new one.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  actor_key_id INTEGER NOT NULL,
  actor_name TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  session TEXT NOT NULL,
  method TEXT NOT NULL,
  route TEXT NOT NULL,
  customer TEXT NOT NULL,
  status INTEGER NOT NULL,
  hash BLOB NOT NULL
);
CREATE INDEX audit_customer ON audit (customer, seq);
CREATE INDEX audit_actor ON audit (actor_key_id, seq);
CREATE INDEX audit_at ON audit (at_ms);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
)sql";

// Schema version 2: records name customers by audit subject ("c:<id>" / "h:<keyed hash>"), never
// by the id a request gave. The key of the hash; the first record written that way.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE secret (id INTEGER PRIMARY KEY CHECK (id = 1), key BLOB NOT NULL);
INSERT INTO meta (key, value) SELECT 'subjects_from_seq', COALESCE(MAX(seq), 0) + 1 FROM audit;
)sql";

// Schema version 3: records written by schema 1 (seq < meta.subjects_from_seq) still held the ids
// as requested. The step only marks them; Open rewrites them in code (the rewrite needs the subject
// key and re-chains) — PseudonymiseSchemaOneRecords, crash-safe through meta.raw_ids.
constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE rechain (
  at_ms INTEGER NOT NULL,
  rewritten INTEGER NOT NULL,
  from_seq INTEGER NOT NULL,
  through_seq INTEGER NOT NULL,
  old_head BLOB NOT NULL,
  new_head BLOB NOT NULL
);
INSERT INTO meta (key, value) VALUES ('raw_ids', 1);
)sql";

// meta.raw_ids (schema 3): 1 = schema-1 records may still hold raw ids; 2 = rewritten, the file
// still to be scrubbed (old bytes may sit in free pages and the -wal); 0 = done.
constexpr int64_t kRawIdsPresent = 1;
constexpr int64_t kRawIdsScrub = 2;

constexpr std::string_view kColumns =
    "seq, at_ms, actor_key_id, actor_name, actor_role, session, method, route, customer, status, hash";

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutStr(std::string* out, const std::string& s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

AuditRecord ReadRow(const Stmt& s) {
  AuditRecord r;
  r.seq = s.Int64(0);
  r.at_ms = s.Int64(1);
  r.actor_key_id = s.Int64(2);
  r.actor_name = std::string(s.Text(3));
  r.actor_role = std::string(s.Text(4));
  r.session = std::string(s.Text(5));
  r.method = std::string(s.Text(6));
  r.route = std::string(s.Text(7));
  r.customer = std::string(s.Text(8));
  r.status = static_cast<uint32_t>(s.Int64(9));
  r.hash = std::string(s.Text(10));
  return r;
}

}  // namespace

std::string AuditLog::ChainHash(const std::string& prev, const AuditRecord& r) {
  std::string msg;
  msg.reserve(128 + r.actor_name.size() + r.route.size() + r.customer.size());
  msg.append(prev);
  PutU64(&msg, static_cast<uint64_t>(r.seq));
  PutU64(&msg, static_cast<uint64_t>(r.at_ms));
  PutU64(&msg, static_cast<uint64_t>(r.actor_key_id));
  PutStr(&msg, r.actor_name);
  PutStr(&msg, r.actor_role);
  PutStr(&msg, r.session);
  PutStr(&msg, r.method);
  PutStr(&msg, r.route);
  PutStr(&msg, r.customer);
  PutU32(&msg, r.status);
  std::string out(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), nullptr, 0);
  return out;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path, Clock* clock) {
  if (sodium_init() < 0) return Internal("libsodium initialisation failed");
  ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, SqliteOptions{}));
  RETURN_IF_ERROR(db->Migrate(kApplicationId, {kSchemaV1, kSchemaV2, kSchemaV3}));
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(db), clock ? clock : Clock::Real()));
  {
    // The subject key: made once, at the first open of schema 2 (docs/format/audit.md).
    ASSIGN_OR_RETURN(Stmt k, log->db_->Prepare("SELECT key FROM secret WHERE id = 1"));
    ASSIGN_OR_RETURN(bool found, k.Step());
    if (found) log->secret_ = std::string(k.Text(0));
  }
  if (log->secret_.empty()) {
    log->secret_.assign(crypto_generichash_KEYBYTES, '\0');
    randombytes_buf(log->secret_.data(), log->secret_.size());
    ASSIGN_OR_RETURN(Stmt ins, log->db_->Prepare("INSERT INTO secret (id, key) VALUES (1, ?1)"));
    RETURN_IF_ERROR(ins.BindBlob(1, log->secret_).Run());
  } else if (log->secret_.size() != crypto_generichash_KEYBYTES) {
    return Corruption(fmt::format("{}: the subject key has {} bytes, expected {}", path, log->secret_.size(),
                                  crypto_generichash_KEYBYTES));
  }
  RETURN_IF_ERROR(log->PseudonymiseSchemaOneRecords());
  log->head_hash_.assign(crypto_generichash_BYTES, '\0');
  ASSIGN_OR_RETURN(Stmt s, log->db_->Prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (row) {
    log->head_seq_ = s.Int64(0);
    log->head_hash_ = std::string(s.Text(1));
    if (log->head_hash_.size() != crypto_generichash_BYTES) {
      return Corruption(fmt::format("{}: audit record {} has a malformed hash", path, log->head_seq_));
    }
  }
  return log;
}

Status AuditLog::PseudonymiseSchemaOneRecords() {
  ASSIGN_OR_RETURN(int64_t state, db_->QueryInt("SELECT COALESCE((SELECT value FROM meta WHERE key = 'raw_ids'), 0)"));
  if (state == kRawIdsPresent) {
    // Why in one transaction with the triggers dropped: the log is append-only to every caller;
    // this one-time step is the only writer allowed to change a record, and it either rewrites
    // every schema-1 record and re-chains the whole tail, or (crash, error) leaves the file as it
    // was. secure_delete zeroes the cells the UPDATE frees, so the raw ids do not linger in the
    // file's free space; Scrub below clears the -wal and free pages.
    RETURN_IF_ERROR(db_->SecureDelete());
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get(), Transaction::Mode::kImmediate));
    ASSIGN_OR_RETURN(int64_t subjects_from,
                     db_->QueryInt("SELECT COALESCE((SELECT value FROM meta WHERE key = 'subjects_from_seq'), 1)"));
    RETURN_IF_ERROR(db_->Exec("DROP TRIGGER audit_no_update"));
    // Read every record first (the chain must be recomputed in seq order from the first change).
    std::vector<AuditRecord> records;
    {
      ASSIGN_OR_RETURN(Stmt s, db_->Prepare(fmt::format("SELECT {} FROM audit ORDER BY seq", kColumns)));
      while (true) {
        ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        records.push_back(ReadRow(s));
      }
    }
    int64_t rewritten = 0, from_seq = 0;
    std::string prev(crypto_generichash_BYTES, '\0');
    const std::string old_head = records.empty() ? prev : records.back().hash;
    for (AuditRecord& r : records) {
      bool changed = false;
      if (r.seq < subjects_from && !r.customer.empty()) {
        // The subject schema 2 gives a reference that names no known customer: the keyed hash of
        // the id as the request gave it. GET /v1/audit?customer=X still finds these records (it
        // matches the hash of X as given and of each of the customer's identity keys).
        r.customer = SubjectHash(r.customer);
        ++rewritten;
        changed = true;
        if (from_seq == 0) from_seq = r.seq;
      }
      if (from_seq != 0) {
        std::string h = ChainHash(prev, r);
        if (changed || h != r.hash) {
          ASSIGN_OR_RETURN(Stmt u, db_->Prepare("UPDATE audit SET customer = ?1, hash = ?2 WHERE seq = ?3"));
          RETURN_IF_ERROR(u.Bind(1, r.customer).BindBlob(2, h).Bind(3, r.seq).Run());
        }
        r.hash = std::move(h);
      }
      prev = r.hash;
    }
    RETURN_IF_ERROR(db_->Exec(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is "
        "append-only'); END;"));
    if (rewritten > 0) {
      ASSIGN_OR_RETURN(Stmt ins, db_->Prepare("INSERT INTO rechain (at_ms, rewritten, from_seq, through_seq, old_head, "
                                              "new_head) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
      RETURN_IF_ERROR(ins.Bind(1, clock_->NowMillis())
                          .Bind(2, rewritten)
                          .Bind(3, from_seq)
                          .Bind(4, records.back().seq)
                          .BindBlob(5, old_head)
                          .BindBlob(6, records.back().hash)
                          .Run());
    }
    RETURN_IF_ERROR(db_->Exec(fmt::format("UPDATE meta SET value = {} WHERE key = 'raw_ids'", kRawIdsScrub)));
    RETURN_IF_ERROR(txn.Commit());
    if (rewritten > 0) {
      LOG_INFO("{}: {} audit records written before schema 2 now name a keyed hash instead of the id as requested; "
               "the chain was recomputed from record {} (old head kept in table rechain)",
               db_->path(), rewritten, from_seq);
    }
    state = kRawIdsScrub;
  }
  if (state == kRawIdsScrub) {
    // VACUUM + wal_checkpoint(TRUNCATE): no free page or -wal frame keeps a rewritten id. Unavailable
    // only if another connection holds a read transaction (none at open in cairn): retried at the
    // next open, the log works meanwhile.
    Status s = db_->Scrub();
    if (!s.ok()) {
      LOG_WARN("{}: scrubbing after the audit subject rewrite (retried at the next open): {}", db_->path(),
               s.ToString());
      return Status::Ok();
    }
    RETURN_IF_ERROR(db_->Exec("UPDATE meta SET value = 0 WHERE key = 'raw_ids'"));
  }
  return Status::Ok();
}

std::string AuditLog::SubjectHash(std::string_view reference) const {
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char digest[kSubjectHashBytes];
  crypto_generichash(digest, sizeof(digest), reinterpret_cast<const unsigned char*>(reference.data()),
                     reference.size(), reinterpret_cast<const unsigned char*>(secret_.data()), secret_.size());
  std::string out = "h:";
  for (unsigned char c : digest) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Result<AuditRecord> AuditLog::Append(AuditRecord r) {
  std::lock_guard lock(mu_);
  r.seq = head_seq_ + 1;
  r.at_ms = clock_->NowMillis();
  r.hash = ChainHash(head_hash_, r);
  ASSIGN_OR_RETURN(Stmt s, db_->Prepare(fmt::format("INSERT INTO audit ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                                                    "?9, ?10, ?11)",
                                                    kColumns)));
  RETURN_IF_ERROR(s.Bind(1, r.seq)
                      .Bind(2, r.at_ms)
                      .Bind(3, r.actor_key_id)
                      .Bind(4, r.actor_name)
                      .Bind(5, r.actor_role)
                      .Bind(6, r.session)
                      .Bind(7, r.method)
                      .Bind(8, r.route)
                      .Bind(9, r.customer)
                      .Bind(10, static_cast<int64_t>(r.status))
                      .BindBlob(11, r.hash)
                      .Run());
  head_seq_ = r.seq;
  head_hash_ = r.hash;
  return r;
}

Result<std::vector<AuditRecord>> AuditLog::Query(const AuditFilter& f) const {
  // One statement text per filter shape; each is cached by the connection.
  std::string sql = fmt::format("SELECT {} FROM audit WHERE at_ms >= ?1 AND at_ms < ?2", kColumns);
  if (f.before_seq > 0) sql += " AND seq < ?3";
  if (f.actor_key_id) sql += " AND actor_key_id = ?4";
  if (f.actor_name) sql += " AND actor_name = ?5";
  if (!f.customers.empty()) {
    // customer IN (?8, ?9, ...): one parameter per subject (a customer's subjects are few).
    sql += " AND customer IN (";
    for (size_t i = 0; i < f.customers.size(); ++i) sql += fmt::format("{}?{}", i ? ", " : "", 8 + i);
    sql += ")";
  }
  sql += " ORDER BY seq DESC LIMIT ?7";
  const int64_t limit = static_cast<int64_t>(std::clamp<size_t>(f.limit, 1, 10000));
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Stmt s, db_->Prepare(sql));
  s.Bind(1, f.from_ms).Bind(2, f.to_ms).Bind(7, limit);
  if (f.before_seq > 0) s.Bind(3, f.before_seq);
  if (f.actor_key_id) s.Bind(4, *f.actor_key_id);
  if (f.actor_name) s.Bind(5, *f.actor_name);
  for (size_t i = 0; i < f.customers.size(); ++i) s.Bind(static_cast<int>(8 + i), f.customers[i]);
  std::vector<AuditRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadRow(s));
  }
  return out;
}

Result<int64_t> AuditLog::Verify() const {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Stmt s, db_->Prepare(fmt::format("SELECT {} FROM audit ORDER BY seq", kColumns)));
  std::string prev(crypto_generichash_BYTES, '\0');
  int64_t n = 0;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    AuditRecord r = ReadRow(s);
    ++n;
    if (r.seq != n) {
      return Corruption(fmt::format("{}: audit record {} follows record {}: records are missing", db_->path(), r.seq,
                                    n - 1));
    }
    std::string want = ChainHash(prev, r);
    if (r.hash != want) {
      return Corruption(fmt::format("{}: audit record {} does not match the hash chain: it or an earlier record "
                                    "was altered",
                                    db_->path(), r.seq));
    }
    prev = std::move(want);
  }
  return n;
}

}  // namespace cairn::entity
