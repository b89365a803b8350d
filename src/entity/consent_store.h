#pragma once
// ConsentStore: the consent ledger, DIR/consents.db (docs/format/consents.md, docs/consent.md).
//
// Fed two ways:
//   - ApplyBatch(batch) from Hub::OnCommit: statements in identify traits and `Consent Updated`
//     tracks (shapes below), idempotent by seq so WAL replay records nothing twice;
//   - Record(customer, records) from the API (all or none).
// Read by customer (all member ids of a canonical customer: merges are applied on read) for the
// API, the action gates (Verdict) and the analytics exclusion (CustomersWhoseLatest).
//
// Statement shapes read from interactions (anything else is ignored, never an error):
//   track "Consent Updated", properties:
//     purpose (required), consent_channel | channel (default "*": every channel; consent_channel
//     wins because some senders put the event's own channel in `channel`), state | granted |
//     status (true/false, granted/denied/withdrawn, yes/no, opt_in/opt_out), lawful_basis
//     (default "consent"), expires_at (ISO-8601 or epoch ms), source (kept as the note)
//   identify traits.consent (object):
//     {"marketing": true}                        purpose, every channel
//     {"marketing.email": false}                 purpose.channel
//     {"marketing": {"email": true, "sms": "denied"}}   per channel
//     {"marketing": {"state": "granted", "channel": "email", "lawful_basis": "contract",
//                    "expires_at": "2027-01-01"}}       one full statement
//   identify traits.consents (array of full statements): [{"purpose": ..., "channel": ...,
//     "state": ..., "lawful_basis": ..., "expires_at": ...}]
// The statement time is the interaction's timestamp; the proof its messageId (or seq).
//
// Thread-safety: all methods are thread-safe (one connection behind a mutex; calls are short).

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/result.h"
#include "entity/consent_service.h"
#include "store/interaction.h"

namespace cairn::entity {

class SqliteDb;

struct ConsentStoreOptions {
  Clock* clock = nullptr;  // recorded_at and expiry; default the real clock
  // Counted on every committed write transaction of consents.db (API writes and Sync() fsync;
  // ApplyBatch's do not). Default none.
  metrics::Counter* commits = nullptr;
};

// The answer for one (purpose, channel) of one customer.
struct ConsentVerdict {
  std::optional<ConsentState> state;  // none: unknown (no statement, or the latest expired)
  std::optional<ConsentRecord> record;  // the deciding record (also set when it expired)
  bool expired = false;
};

class ConsentStore {
 public:
  static Result<std::unique_ptr<ConsentStore>> Open(const std::string& path, ConsentStoreOptions options = {});
  ~ConsentStore();

  // The statements one interaction makes (customer, at_ms, seq, proof, source filled; id and
  // recorded_at 0). Empty for interactions that make none or whose statements are malformed.
  static std::vector<ConsentRecord> FromInteraction(const store::Interaction& in);

  // Records the statements of a committed batch (in one transaction, only if it has any). Batches
  // must come in seq order; replays are skipped or ignored by (seq, purpose, channel).
  // The transaction commits with synchronous=NORMAL: no fsync of its own (the batch is durable in
  // the event store's WAL already, and a WAL replay records it again). Until Sync() the batch must
  // stay in that WAL: unsynced_from() says from which seq.
  Status ApplyBatch(const store::Batch& batch);
  // Makes every ApplyBatch so far durable (one fsync'd transaction; nothing when there is none).
  Status Sync();
  // The first seq of the earliest batch ApplyBatch recorded since the last Sync(), or UINT64_MAX:
  // the event store's WAL must keep every record from it on (Hub's retain_from_seq).
  uint64_t unsynced_from() const { return unsynced_from_.load(std::memory_order_acquire); }

  // Records API statements for `customer`, all or none, fsync'd before it returns (an
  // acknowledged consent survives a power cut). Each record's purpose, channel, state,
  // lawful_basis, at_ms, proof must be set; source defaults to "api".
  Status Record(store::CustomerId customer, std::vector<ConsentRecord> records);

  // Every record of these customer ids, oldest first (by at_ms, then id).
  Result<std::vector<ConsentRecord>> History(const std::vector<store::CustomerId>& members);

  // Current state per (purpose, channel) from a history, sorted by (purpose, channel).
  static std::vector<ConsentCurrent> Current(const std::vector<ConsentRecord>& history, int64_t now_ms);

  // The verdict for (purpose, channel) from a history: the current states of (purpose, channel)
  // and (purpose, "*") that are not expired; the later statement wins (the channel-specific one on
  // a tie). If neither is known but one expired, `expired` is set and the state is unknown.
  static ConsentVerdict Decide(const std::vector<ConsentRecord>& history, std::string_view purpose,
                               std::string_view channel, int64_t now_ms);

  // Every record for `purpose` (any customer), oldest first: for callers that compute the set of
  // customers in a state (the analytics exclusion). Cheap to cache with generation().
  Result<std::vector<ConsentRecord>> RecordsForPurpose(std::string_view purpose);

  // Erasure (DOMAIN.md §11): deletes every record of these customer ids, then scrubs the file
  // (secure_delete, VACUUM, WAL truncated) so no byte of them remains. The caller keeps its own
  // proof-of-erasure record.
  Status EraseCustomers(const std::vector<uint64_t>& ids);

  // Increments on every write: callers cache derived sets and recompute when it changes.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  uint64_t applied_seq() const { return applied_seq_.load(std::memory_order_acquire); }
  int64_t NowMillis() const { return clock_->NowMillis(); }

 private:
  ConsentStore(std::unique_ptr<SqliteDb> db, Clock* clock, uint64_t applied_seq);
  Status InsertLocked(const ConsentRecord& r, int64_t now_ms);

  std::mutex mu_;  // guards db_
  std::unique_ptr<SqliteDb> db_;
  Clock* clock_;
  std::atomic<uint64_t> applied_seq_;
  std::atomic<uint64_t> unsynced_from_{UINT64_MAX};
  std::atomic<uint64_t> generation_{1};
};

}  // namespace cairn::entity
