#pragma once
// ProfileStore: the relational projection of the event store's WAL — customers and their
// counters, identities, merges, traits and groups — in one SQLite file (profiles.db). Schema,
// watermark contract and migration policy: docs/format/profiles.md.
//
// The file is derived data: every write comes from Apply() of WAL batches' ProfileUpdates (or
// ApplyBatches() of whole batches), and the `applied_seq` watermark, advanced in the same
// transaction as the writes, tells the caller where to resume replay after a restart. SQLite does
// its own fsync (io::Env is not used); commits run with synchronous=NORMAL and may be lost by a
// power cut, which only lowers applied_seq — see Sync().
//
// Thread-safety: one writer thread calls Apply()/ApplyBatches()/Sync() (a mutex serialises
// writers anyway). Any number of threads may call GetProfile()/LoadIdentityOps()/applied_seq()/
// stats() concurrently with the writer: readers use a second, read-only connection (serialised
// among themselves by a mutex), and WAL mode lets it read a consistent snapshot without blocking
// or being blocked by the writer.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "entity/customer_directory.h"
#include "entity/profile_update.h"
#include "entity/sqlite_db.h"
#include "store/interaction.h"

namespace cairn::entity {

struct ProfileStoreStats {
  uint64_t batches_applied = 0;       // batches written by Apply
  uint64_t batches_skipped = 0;       // batches already covered by applied_seq (replays)
  uint64_t interactions_applied = 0;  // interactions (seqs) the applied batches covered
  uint64_t payloads_unparsed = 0;     // identify/group payloads that were not a JSON object: no traits taken
  // Identify traits (not set-once) upserted: per Apply call, each customer's keys once, with the
  // newest value of that call's identifies (an older one could not change the row).
  uint64_t trait_rows_written = 0;
};

class ProfileStore {
 public:
  // Opens (creating if missing) the SQLite file at `path` and brings its schema up to date.
  // FailedPrecondition if the file is another kind of database or a newer schema; IOError if it
  // cannot be opened.
  static Result<std::unique_ptr<ProfileStore>> Open(const std::string& path);
  ~ProfileStore();
  ProfileStore(const ProfileStore&) = delete;
  ProfileStore& operator=(const ProfileStore&) = delete;

  // Every batch whose seqs are all < applied_seq() is reflected; replay WAL batches with
  // first_seq >= applied_seq() after a restart.
  uint64_t applied_seq() const { return applied_seq_.load(std::memory_order_acquire); }

  // Applies `updates` (in WAL order: first_seq non-decreasing) in ONE transaction, skipping those
  // already covered by applied_seq(), and advances applied_seq() in that same transaction. On error
  // nothing is written and applied_seq() is unchanged. Counters (first/last seen, interaction
  // count) are added from each update's `seen`; updates without it leave them alone (the hub
  // derives them from the event store). Errors: InvalidArgument for a malformed update (end_seq <
  // first_seq, updates out of order, a row outside [first_seq, end_seq) or out of seq order, a row
  // that is not identify or group, customer 0, a link key without a known "<k>:" prefix) naming
  // it; Corruption for an update straddling applied_seq(); the SQLite error otherwise. A payload
  // that is not valid JSON never fails the call: it is counted in stats().payloads_unparsed.
  Status Apply(const std::vector<const ProfileUpdate*>& updates);

  // Apply() of whole WAL batches, counters included (ProfileUpdateOf(b, /*count=*/true)), after
  // checking each batch: InvalidArgument when interactions[i].seq != first_seq + i or a row has
  // customer 0.
  Status ApplyBatches(const std::vector<const store::Batch*>& batches);

  // Makes every applied batch durable (one commit with synchronous=FULL, which fsyncs SQLite's WAL
  // and so every earlier commit). Call it before the event store discards WAL records at or above a
  // watermark previously read from applied_seq().
  Status Sync();

  // The profile of `root` over all its merged members (root is always included, whether or not it
  // is listed): identities of every member in link order; traits merged across members (greatest
  // (set_at, seq) wins), sorted by key; groups of every member (joined_at = earliest) with their
  // traits as one JSON object, sorted by group id; merged_from = members except root (listed even
  // if this file has no row for them yet), ascending;
  // first/last seen = min/max and interaction_count = sum over members. NotFound if no member has
  // a row in the file.
  Result<Profile> GetProfile(store::CustomerId root, const std::vector<store::CustomerId>& members);

  // Erasure (docs/erasure.md): deletes every row of `ids` — customers, traits, groups, merges and
  // the identity_ops that link (their identities) or merge them (so LoadIdentityOps never brings
  // them back) — in one transaction with secure_delete on, then VACUUMs and truncates the -wal file.
  // Idempotent. The caller erases every id merged together at once (a merge op between an erased
  // and a kept id cannot exist: merges join survivors, and an erased set is closed under merges).
  Status EraseCustomers(const std::vector<store::CustomerId>& ids);

  // Every identity link and merge in the order applied, for IdentityResolver::Apply() at startup.
  Result<std::vector<store::IdentityOp>> LoadIdentityOps();

  ProfileStoreStats stats() const;

 private:
  class Writer;  // the per-call apply logic (profile_store.cc)

  ProfileStore(std::unique_ptr<SqliteDb> write_db, std::unique_ptr<SqliteDb> read_db, uint64_t applied_seq);

  std::mutex write_mu_;                 // serialises Apply/Sync
  std::unique_ptr<SqliteDb> write_db_;  // guarded by write_mu_
  std::unique_ptr<Writer> writer_;      // guarded by write_mu_ (reusable JSON parsers, scratch maps)
  std::mutex read_mu_;                  // serialises readers on the one read connection
  std::unique_ptr<SqliteDb> read_db_;   // guarded by read_mu_

  std::atomic<uint64_t> applied_seq_;
  std::atomic<uint64_t> batches_applied_{0};
  std::atomic<uint64_t> batches_skipped_{0};
  std::atomic<uint64_t> interactions_applied_{0};
  std::atomic<uint64_t> payloads_unparsed_{0};
  std::atomic<uint64_t> trait_rows_written_{0};
};

}  // namespace cairn::entity
