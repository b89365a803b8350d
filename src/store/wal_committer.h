#pragma once
// WalCommitter: group commit over a directory of WAL files (docs/format/wal.md, "Group commit").
//
// Many threads Submit() payloads; one committer thread takes everything queued, appends it to
// the newest file in Submit order, issues ONE fdatasync for the whole group, then calls each
// `done` in Submit order. Records queued while a sync runs form the next group, so under load one
// sync is shared by many records.
//
// Durability contract: done(OK) means the record is synced; it survives any later crash and is
// replayed by RecoverWal. done(error) means it was not acknowledged: recovery may or may not
// replay it. Failure handling (cutting a file back, abandoning a file after a failed sync, the
// failed state) is described in docs/format/wal.md, "Failure semantics".
//
// Thread-safety: every public method is thread-safe. `done` callbacks run on the committer
// thread: they must be quick and must not call RollFile() or Close() (that would deadlock);
// calling Submit() from a callback is allowed.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/metrics.h"
#include "base/result.h"
#include "io/env.h"
#include "store/wal_format.h"
#include "store/wal_recovery.h"
#include "store/wal_writer.h"

namespace cairn::store {

struct WalCommitterOptions {
  // After a group is synced, a file at least this large is sealed and a new one started.
  // Records are never split, so a file may exceed it by one group. Default 64 MiB.
  uint64_t max_file_bytes = 64ull << 20;
  // Bytes reserved with Env Preallocate on each new file (0: none). A failure only logs a
  // warning: disk-full still surfaces from the appends. Default 64 MiB.
  uint64_t preallocate_bytes = 64ull << 20;
  // Payload bytes submitted and not yet completed beyond which Submit returns
  // Unavailable("WAL is behind") at once, without calling `done` (back-pressure). A payload is
  // always admitted when nothing is pending, however large. Default 64 MiB.
  uint64_t max_pending_bytes = 64ull << 20;
  // While stalled (the current file may not be appended to and starting a new one failed), the
  // committer retries starting one at most this often; groups in between fail at once with the
  // last error. Default 500 ms.
  int64_t roll_retry_ms = 500;
  // Where to register cairn_wal_* metrics; null: none. Must outlive the committer.
  metrics::Registry* metrics = nullptr;
};

struct WalCommitterStats {
  uint64_t records = 0;          // records acknowledged (done(OK))
  uint64_t bytes = 0;            // bytes appended for them, headers included
  uint64_t syncs = 0;            // successful group syncs
  uint64_t failed_records = 0;   // records whose done got an error
  uint64_t current_file = 0;     // number of the file being appended to
  uint64_t last_synced_file = 0; // number of the file the last successful sync covered (0: none yet)
  bool failed = false;           // in the failed state (Submit returns IOError; restart needed)
  bool stalled = false;          // no file to append to yet; groups fail until a new one starts
};

class WalCommitter {
 public:
  using DoneFn = std::function<void(Status)>;

  // Starts appending to `dir` in a new file numbered `recovered.next_file_number` (its header
  // records `recovered.last_file_size` as its predecessor's size). `recovered` must be the report
  // of RecoverWal on this directory, with nothing written since: FailedPrecondition if the file
  // already exists or its predecessor's size differs from the report. Creates `dir` if missing.
  static Result<std::unique_ptr<WalCommitter>> Open(io::Env* env, std::string dir, WalCommitterOptions options,
                                                    const WalRecoveryReport& recovered);

  ~WalCommitter();  // Close()
  WalCommitter(const WalCommitter&) = delete;
  WalCommitter& operator=(const WalCommitter&) = delete;

  // Queues `payload` as one record; `done` (may be empty) is called exactly once, later, on the
  // committer thread, if and only if Submit returns OK. Errors (payload and done are dropped):
  //   InvalidArgument   payload longer than wal::kMaxPayloadSize
  //   Unavailable       "WAL is behind" (back-pressure), or closed
  //   IOError           the failed state ("WAL failed: …"; only a restart clears it)
  Status Submit(std::string payload, DoneFn done);
  // The same for a payload given as `pieces` written back to back, not copied here: the bytes they
  // point at must stay valid and unchanged until `done` has been called, or until SubmitPieces
  // has returned an error. `owner` (may be null) is held until then, to keep them alive.
  Status SubmitPieces(std::vector<std::string_view> pieces, std::shared_ptr<const void> owner, DoneFn done);

  // Seals the current file after every record submitted before this call, starts a new file and
  // returns its number: every record submitted later is in that file or a later one. Blocks
  // until the committer has done it. Fails with the roll's I/O error (the committer keeps
  // appending to the old file), Unavailable if closed, IOError if failed.
  Result<uint64_t> RollFile();

  // Securely removes (Env::SecureRemoveFile) every WAL file numbered below `file_number`, then
  // syncs the directory. InvalidArgument if `file_number` is above the current file.
  Status DeleteFilesBefore(uint64_t file_number);

  // Drains the queue (every queued record is written, synced and completed), stops the thread
  // and closes the file. Returns the failed state's error, if any. Idempotent.
  Status Close();

  uint64_t current_file_number() const { return file_number_.load(std::memory_order_acquire); }
  uint64_t LastSyncedFile() const { return last_synced_file_.load(std::memory_order_acquire); }
  WalCommitterStats stats() const;

 private:
  struct RollRequest {
    bool done = false;                       // guarded by mu_
    std::optional<Result<uint64_t>> result;  // guarded by mu_
  };
  struct Entry {
    std::vector<std::string_view> pieces;  // the payload
    uint64_t size = 0;                     // its length
    std::shared_ptr<const void> owner;     // keeps the pieces' bytes alive
    DoneFn done;
    char header[wal::kRecordHeaderSize];  // framed on the submitting thread (the crc pass)
    RollRequest* roll = nullptr;          // non-null: a RollFile() marker, not a record
  };

  WalCommitter(io::Env* env, std::string dir, WalCommitterOptions options, std::unique_ptr<WalWriter> writer,
               uint64_t file_number);

  // Committer thread only.
  void Run();
  void CommitGroup(std::vector<Entry>& batch, size_t begin, size_t end);
  Status WriteGroup(std::vector<Entry>& batch, size_t begin, size_t end);
  void CutBackAfterWriteFailure(uint64_t good_size, const Status& cause);
  Status Roll(uint64_t prev_file_size);
  // The current file may not be appended to (a failed sync, or an append that could not be cut
  // back) and starting its successor failed: stall until a later Roll succeeds.
  void Stall(uint64_t good_size, const Status& cause);
  // Stalled: retries the roll (`now`, or once roll_retry_ms has passed) and returns OK once a new
  // file is started; otherwise the stall's error. Not stalled: OK.
  Status Unstall(bool now);
  void EnterFailed(const Status& cause);
  Status FailureStatus() const;

  io::Env* const env_;
  const std::string dir_;
  const WalCommitterOptions options_;

  // Owned by the committer thread (and by Close once the thread has stopped).
  std::unique_ptr<WalWriter> writer_;
  // Stalled (docs/format/wal.md "Failure semantics"): the size the successor's header must
  // record, the error groups fail with meanwhile, and when the next roll may be tried.
  std::optional<uint64_t> stall_size_;
  Status stall_error_;
  int64_t next_roll_attempt_ns_ = 0;
  std::atomic<bool> stalled_{false};  // stall_size_ is set (read by stats())

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // committer waits for work
  std::condition_variable roll_cv_;  // RollFile waits for its request
  std::vector<Entry> queue_;         // guarded by mu_
  uint64_t pending_bytes_ = 0;       // guarded by mu_: payload bytes submitted, not yet completed
  bool closing_ = false;             // guarded by mu_
  Status failure_;                   // guarded by mu_: non-OK once in the failed state

  std::mutex close_mu_;              // serializes Close()
  bool closed_ = false;              // guarded by close_mu_
  Status close_status_;              // guarded by close_mu_

  std::atomic<uint64_t> file_number_;
  std::atomic<uint64_t> last_synced_file_{0};
  std::atomic<uint64_t> records_{0}, bytes_{0}, syncs_{0}, failed_records_{0};

  metrics::Histogram* m_sync_seconds_ = nullptr;
  metrics::Counter* m_syncs_ = nullptr;
  metrics::Counter* m_bytes_ = nullptr;
  metrics::Counter* m_records_ = nullptr;
  metrics::Histogram* m_group_records_ = nullptr;

  std::thread thread_;  // last: starts after everything above is initialised
};

}  // namespace cairn::store
