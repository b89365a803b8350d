#pragma once
// AuditLog: the append-only, hash-chained audit log in its own SQLite file (DIR/audit.db,
// docs/format/audit.md). The API records every read of a customer's personal data and every
// change made by an agent or admin here (api/router.cc decides what; docs/access.md).
//
// Thread-safety: every method is thread-safe; appends are serialised by a mutex (one INSERT each,
// ~tens of µs), queries use the same connection under the same mutex.

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "entity/sqlite_db.h"

namespace cairn::entity {

struct AuditRecord {
  int64_t seq = 0;    // assigned by Append
  int64_t at_ms = 0;  // assigned by Append (the log's clock)
  int64_t actor_key_id = 0;
  std::string actor_name;
  std::string actor_role;
  std::string session;
  std::string method;
  std::string route;
  // The audit subject of the customer the request was about (Subject*/docs/format/audit.md:
  // "c:<internal id>" or "h:<keyed hash>"), "" if none. Never an identity as a request gave it.
  std::string customer;
  uint32_t status = 0;
  std::string hash;  // 32 bytes, assigned by Append
};

struct AuditFilter {
  std::optional<int64_t> actor_key_id;
  std::optional<std::string> actor_name;
  // Records whose customer is any of these subjects (empty: every record). At most a few
  // hundred (one SQL parameter each).
  std::vector<std::string> customers;
  int64_t from_ms = std::numeric_limits<int64_t>::min();  // inclusive
  int64_t to_ms = std::numeric_limits<int64_t>::max();    // exclusive
  size_t limit = 100;                                     // 1..10000
  int64_t before_seq = 0;                                 // > 0: only seq < before_seq
};

class AuditLog {
 public:
  static constexpr size_t kSubjectHashBytes = 16;

  // Opens (creating if missing) the log at `path`; reads the chain's head. `clock` stamps at_ms
  // (null: Clock::Real()) and must outlive the log.
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path, Clock* clock = nullptr);

  // Appends `record` (seq, at_ms and hash are assigned); returns the stored record. An error
  // means nothing was recorded (the chain head is unchanged).
  Result<AuditRecord> Append(AuditRecord record);

  // Records matching `filter`, newest first.
  Result<std::vector<AuditRecord>> Query(const AuditFilter& filter) const;

  // Recomputes the chain from the first record: the number of records when intact, Corruption
  // naming the first record that does not follow otherwise.
  Result<int64_t> Verify() const;

  // The subject of a customer reference that names no known customer (docs/format/audit.md):
  // "h:" + 32 hex digits of BLAKE2b-128 keyed with this log's secret over `reference` as given.
  // Lets the log find requests about the same reference later without storing it.
  std::string SubjectHash(std::string_view reference) const;

  // The chain hash of record `seq` given its predecessor's (docs/format/audit.md).
  static std::string ChainHash(const std::string& prev, const AuditRecord& r);

 private:
  AuditLog(std::unique_ptr<SqliteDb> db, Clock* clock) : db_(std::move(db)), clock_(clock) {}

  // Schema 3 (docs/format/audit.md): rewrites the customer of every record written by schema 1 to
  // its keyed hash, recomputes the chain from the first rewritten record, records the old and new
  // head in `rechain`, and scrubs the file. At Open, after the secret exists; does nothing once done.
  Status PseudonymiseSchemaOneRecords();

  mutable std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;  // guarded by mu_
  Clock* const clock_;
  std::string secret_;            // the subject hash key (32 bytes); set at Open, then constant
  int64_t head_seq_ = 0;          // guarded by mu_
  std::string head_hash_;         // guarded by mu_; 32 bytes
};

}  // namespace cairn::entity
