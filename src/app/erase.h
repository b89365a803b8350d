#pragma once
// Eraser: a customer's erasure across every file of the data directory, and suppression of their
// ids at ingest afterwards (docs/erasure.md; the request file: docs/format/erasures.md).
//
// An erasure is durable once Erase() has recorded it (erasures.db, synchronous=FULL); it then runs
// on the eraser's worker thread: hide (identity resolver, store snapshots) → flush → profiles.db →
// journey state → cases/feedback → rescue/actions → consents → de-dup keys → segments and WAL →
// completed (internal ids cleared). Every step is idempotent, and Open() (called by Hub::Init,
// before the hub ingests anything) resumes every pending erasure synchronously, so a crash midway
// is finished at the next start.
//
// Thread-safety: all public methods are thread-safe. Owned by the Hub; reaches into its modules
// (friend of Hub).

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "entity/sqlite_db.h"
#include "store/erasure_service.h"
#include "store/interaction.h"

namespace cairn::app {

class Hub;

class Eraser final : public store::ErasureService {
 public:
  // Opens (creating) DIR/erasures.db, installs suppression on the hub's pipeline, resumes every
  // pending erasure (synchronously) and starts the worker. The environment variable
  // CAIRN_TEST_ERASURE_DELAY_MS (tests only) delays the worker before each erasure it runs, so a
  // test can kill the process between the acknowledgement and the work.
  static Result<std::unique_ptr<Eraser>> Open(Hub* hub);
  ~Eraser() override;

  // store::ErasureService
  Result<store::ErasureView> Erase(const store::ErasureRequest& request, int64_t wait_ms) override;
  Result<store::ErasureView> GetErasure(uint64_t id) override;

  // `cairn compact`: rewrites every file — the memtable flushed, all segments merged into one
  // (even a single one), WAL files holding flushed data dropped, every SQLite file VACUUMed with
  // its -wal truncated. Also what makes an erasure's old bytes leave files a snapshot still held.
  Status CompactAll();

  // Called after each completed erasure (e.g. the value model refits without the customer).
  // Set before serving.
  void OnErased(std::function<void()> fn);

  // True if `key` (a normalised identity key, "e:a@b.c") belongs to a suppressed erased customer.
  bool IsSuppressed(std::string_view key) const;

  // Stops the worker after the step under way; a pending erasure resumes at the next Open.
  void Stop();

 private:
  explicit Eraser(Hub* hub);
  Status Init();
  std::string KeyedHash(std::string_view text) const;
  // The whole erasure of `customers` (every id of one person). Idempotent.
  Status Run(uint64_t id, const std::vector<store::CustomerId>& customers);
  Status EraseRelational(const std::vector<store::CustomerId>& customers);
  // Profiles fully applied and fsync'd, journey state persisted: what lets the store drop WAL files.
  Status SyncDerived();
  Status Complete(uint64_t id, const std::vector<store::CustomerId>& customers, uint64_t rows);
  Result<store::ErasureView> Load(uint64_t id);
  void WorkerLoop();

  Hub* const hub_;
  int64_t test_delay_ms_ = 0;

  std::mutex db_mu_;                       // guards db_
  std::unique_ptr<entity::SqliteDb> db_;
  std::string secret_;                     // the keyed hash's key (32 bytes), set at Init

  mutable std::shared_mutex sup_mu_;
  std::unordered_set<std::string> suppressed_;  // guarded by sup_mu_: keyed hashes
  std::atomic<bool> any_suppressed_{false};

  std::mutex run_mu_;  // one erasure (or compaction) at a time

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<uint64_t, std::vector<store::CustomerId>>> queue_;  // guarded by mu_
  std::vector<std::function<void()>> on_erased_;                             // guarded by mu_
  uint64_t done_generation_ = 0;                                            // guarded by mu_
  bool stop_ = false;                                                       // guarded by mu_
  std::thread worker_;
};

}  // namespace cairn::app
