#include "store/wal_committer.h"

#include "base/clock.h"
#include "base/logging.h"
#include "base/thread_name.h"
#include "store/wal_reader.h"

namespace cairn::store {

Result<std::unique_ptr<WalCommitter>> WalCommitter::Open(io::Env* env, std::string dir, WalCommitterOptions options,
                                                         const WalRecoveryReport& recovered) {
  if (recovered.next_file_number == 0) return InvalidArgument("wal: next_file_number must be at least 1");
  RETURN_IF_ERROR(env->CreateDirIfMissing(dir));
  const uint64_t n = recovered.next_file_number;
  const std::string path = io::JoinPath(dir, wal::FileName(n));
  // Never overwrite a file recovery did not account for: it may hold acknowledged records.
  if (env->FileExists(path)) return FailedPrecondition("wal: " + path + " already exists (run RecoverWal first)");
  // The new header vouches for the predecessor's size; a stale report would make recovery cut
  // acknowledged records (or call the file corrupt).
  const std::string prev = io::JoinPath(dir, wal::FileName(n - 1));
  uint64_t prev_size = 0;
  if (n > 1 && env->FileExists(prev)) {
    ASSIGN_OR_RETURN(prev_size, env->GetFileSize(prev));
  }
  if (prev_size != recovered.last_file_size)
    return FailedPrecondition("wal: " + prev + " is " + std::to_string(prev_size) + " bytes, the recovery report says " +
                              std::to_string(recovered.last_file_size) + " (run RecoverWal first)");
  WalFileHeader header{n, recovered.last_file_size};
  ASSIGN_OR_RETURN(auto writer, WalWriter::Create(env, path, header, options.preallocate_bytes));
  RETURN_IF_ERROR(env->SyncDir(dir));
  return std::unique_ptr<WalCommitter>(new WalCommitter(env, std::move(dir), options, std::move(writer), n));
}

WalCommitter::WalCommitter(io::Env* env, std::string dir, WalCommitterOptions options,
                           std::unique_ptr<WalWriter> writer, uint64_t file_number)
    : env_(env), dir_(std::move(dir)), options_(options), writer_(std::move(writer)), file_number_(file_number) {
  if (auto* r = options_.metrics) {
    m_sync_seconds_ = r->GetHistogram("cairn_wal_sync_seconds", "Duration of WAL group fdatasyncs.",
                                      metrics::ExponentialBounds(1e-5, 2, 20));
    m_syncs_ = r->GetCounter("cairn_wal_syncs_total", "WAL group syncs that succeeded.");
    m_bytes_ = r->GetCounter("cairn_wal_bytes_total", "Bytes appended to the WAL (record headers included).");
    m_records_ = r->GetCounter("cairn_wal_records_total", "WAL records synced and acknowledged.");
    m_group_records_ = r->GetHistogram("cairn_wal_group_records", "Records per WAL group sync.",
                                       metrics::ExponentialBounds(1, 2, 16));
  }
  queue_.reserve(1024);
  thread_ = std::thread([this] {
    NameThisThread("wal-commit");
    Run();
  });
}

WalCommitter::~WalCommitter() { (void)Close(); }

Status WalCommitter::Submit(std::string payload, DoneFn done) {
  auto owned = std::make_shared<const std::string>(std::move(payload));
  std::vector<std::string_view> pieces{std::string_view(*owned)};
  return SubmitPieces(std::move(pieces), std::move(owned), std::move(done));
}

Status WalCommitter::SubmitPieces(std::vector<std::string_view> pieces, std::shared_ptr<const void> owner,
                                  DoneFn done) {
  uint64_t size = 0;
  for (std::string_view piece : pieces) size += piece.size();
  if (size > wal::kMaxPayloadSize)
    return InvalidArgument("wal: payload of " + std::to_string(size) + " bytes exceeds the maximum record size");
  Entry e;
  e.pieces = std::move(pieces);
  e.size = size;
  e.owner = std::move(owner);
  e.done = std::move(done);
  EncodeWalRecordHeader(e.pieces, size, e.header);  // the crc pass, outside the lock, in parallel
  bool wake;
  {
    std::lock_guard lock(mu_);
    if (closing_) return Unavailable("WAL is closed");
    if (!failure_.ok()) return failure_;
    if (pending_bytes_ > 0 && pending_bytes_ + size > options_.max_pending_bytes) return Unavailable("WAL is behind");
    pending_bytes_ += size;
    wake = queue_.empty();  // otherwise the committer has been woken already, or is busy and will look
    queue_.push_back(std::move(e));
  }
  if (wake) work_cv_.notify_one();
  return Status::Ok();
}

Result<uint64_t> WalCommitter::RollFile() {
  RollRequest req;
  bool wake;
  {
    std::lock_guard lock(mu_);
    if (closing_) return Unavailable("WAL is closed");
    if (!failure_.ok()) return failure_;
    wake = queue_.empty();
    Entry e;
    e.roll = &req;
    queue_.push_back(std::move(e));
  }
  if (wake) work_cv_.notify_one();
  std::unique_lock lock(mu_);
  roll_cv_.wait(lock, [&] { return req.done; });
  return std::move(*req.result);
}

Status WalCommitter::DeleteFilesBefore(uint64_t file_number) {
  if (file_number > current_file_number())
    return InvalidArgument("wal: DeleteFilesBefore(" + std::to_string(file_number) + ") is past the current file " +
                           std::to_string(current_file_number()));
  ASSIGN_OR_RETURN(std::vector<uint64_t> numbers, ListWalFiles(env_, dir_));
  // First take the files out of the log (rename to *.wal.dead, then sync the directory), only then
  // zero and unlink them: a crash while zeroing must not leave an all-zero file under a WAL name,
  // which recovery would rightly call a corrupt sealed file. Leftover *.dead files are removed by
  // RecoverWal. Ascending order: a crash midway leaves a contiguous suffix of the log.
  std::vector<std::string> dead;
  for (uint64_t n : numbers) {
    if (n >= file_number) break;
    std::string path = io::JoinPath(dir_, wal::FileName(n));
    std::string dead_path = path + std::string(wal::kDeadSuffix);
    RETURN_IF_ERROR(env_->RenameFile(path, dead_path));
    dead.push_back(std::move(dead_path));
  }
  if (dead.empty()) return Status::Ok();
  RETURN_IF_ERROR(env_->SyncDir(dir_));
  for (const auto& path : dead) RETURN_IF_ERROR(env_->SecureRemoveFile(path));
  return env_->SyncDir(dir_);
}

Status WalCommitter::Close() {
  std::lock_guard close_lock(close_mu_);
  if (closed_) return close_status_;
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  work_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  // Every group was synced when it completed, so closing needs no further sync.
  Status s = writer_ ? writer_->Close() : Status::Ok();
  writer_.reset();
  Status failure = FailureStatus();
  closed_ = true;
  close_status_ = failure.ok() ? s : failure;
  return close_status_;
}

WalCommitterStats WalCommitter::stats() const {
  WalCommitterStats s;
  s.records = records_.load();
  s.bytes = bytes_.load();
  s.syncs = syncs_.load();
  s.failed_records = failed_records_.load();
  s.current_file = current_file_number();
  s.last_synced_file = LastSyncedFile();
  s.failed = !FailureStatus().ok();
  s.stalled = stalled_.load(std::memory_order_relaxed);
  return s;
}

Status WalCommitter::FailureStatus() const {
  std::lock_guard lock(mu_);
  return failure_;
}

void WalCommitter::Run() {
  std::vector<Entry> batch;
  batch.reserve(1024);
  for (;;) {
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;  // closing, and everything is drained
      // Take everything queued; the queue gets the (cleared) vector we used last time, so
      // steady-state operation allocates nothing per record.
      batch.swap(queue_);
    }
    size_t i = 0;
    while (i < batch.size()) {
      if (RollRequest* req = batch[i].roll) {
        // Every record before the marker has been committed (or failed) by now, so the current
        // file ends at its last synced record.
        Status s = FailureStatus();
        if (s.ok() && stall_size_) s = Unstall(/*now=*/true);  // a new file is what was asked for
        else if (s.ok()) s = writer_ ? Roll(writer_->size()) : Internal("wal: no open file");
        Result<uint64_t> result = s.ok() ? Result<uint64_t>(current_file_number()) : Result<uint64_t>(s);
        {
          std::lock_guard lock(mu_);
          req->result = std::move(result);
          req->done = true;
        }
        roll_cv_.notify_all();
        ++i;
        continue;
      }
      size_t j = i;
      while (j < batch.size() && batch[j].roll == nullptr) ++j;
      CommitGroup(batch, i, j);
      i = j;
    }
    batch.clear();
  }
}

void WalCommitter::CommitGroup(std::vector<Entry>& batch, size_t begin, size_t end) {
  Status s = FailureStatus();
  if (s.ok()) s = Unstall(/*now=*/false);
  if (s.ok()) s = WriteGroup(batch, begin, end);
  uint64_t payload_bytes = 0;
  for (size_t i = begin; i < end; ++i) payload_bytes += batch[i].size;
  {
    // Before the callbacks, so that one of them may Submit again without hitting back-pressure
    // caused by records that are already complete.
    std::lock_guard lock(mu_);
    pending_bytes_ -= payload_bytes;
  }
  if (!s.ok()) failed_records_.fetch_add(end - begin, std::memory_order_relaxed);
  for (size_t i = begin; i < end; ++i) {
    if (batch[i].done) batch[i].done(s);
  }
}

Status WalCommitter::WriteGroup(std::vector<Entry>& batch, size_t begin, size_t end) {
  if (!writer_) return Internal("wal: no open file");
  // Invariant: at a group's start the file ends at its last synced record, because a failed
  // group is cut back or its file abandoned.
  const uint64_t good_size = writer_->size();
  for (size_t i = begin; i < end; ++i) {
    Status s = writer_->AddFramedRecord(batch[i].header, batch[i].pieces);
    if (!s.ok()) {
      CutBackAfterWriteFailure(good_size, s);
      return s;
    }
  }
  const int64_t t0 = Clock::Real()->MonotonicNanos();
  Status s = writer_->Sync();
  const double seconds = static_cast<double>(Clock::Real()->MonotonicNanos() - t0) / 1e9;
  if (!s.ok()) {
    // fsyncgate: after a failed fdatasync the kernel may have dropped the dirty pages and marked
    // them clean, so neither this file's tail nor a retried sync can be trusted. Abandon the file
    // past its last synced record: the new file's header records exactly that size.
    LOG_ERROR("wal {}: fdatasync failed ({}); abandoning the file past offset {}", writer_->path(), s.ToString(),
              good_size);
    Status r = Roll(good_size);
    if (!r.ok()) Stall(good_size, s.WithContext("fdatasync failed, then " + r.ToString()));
    return s;
  }
  const uint64_t records = end - begin;
  const uint64_t bytes = writer_->size() - good_size;
  records_.fetch_add(records, std::memory_order_relaxed);
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
  syncs_.fetch_add(1, std::memory_order_relaxed);
  last_synced_file_.store(current_file_number(), std::memory_order_release);
  if (m_syncs_) {
    m_sync_seconds_->Observe(seconds);
    m_syncs_->Inc();
    m_bytes_->Inc(bytes);
    m_records_->Inc(records);
    m_group_records_->Observe(static_cast<double>(records));
  }
  if (writer_->size() >= options_.max_file_bytes) {
    Status r = Roll(writer_->size());
    // The current file is still sound: keep appending to it and try again after the next group.
    if (!r.ok()) LOG_EVERY_N_SEC(kWarn, 10, "wal: could not start a new file: {}", r.ToString());
  }
  return Status::Ok();
}

void WalCommitter::CutBackAfterWriteFailure(uint64_t good_size, const Status& cause) {
  // The failed append may have left part of a record (or, with a buffered file, parts of
  // several) in the file. Cut back to the last synced record so that the file stays a clean
  // prefix and the committer can carry on once space is available again.
  const std::string path = writer_->path();
  (void)writer_->Close();  // may fail again (disk full); the truncate below fixes the contents
  writer_.reset();
  Status s = env_->TruncateFile(path, good_size);
  if (s.ok()) {
    auto reopened = WalWriter::Reopen(env_, path, good_size);
    if (reopened.ok()) {
      writer_ = std::move(*reopened);
      LOG_EVERY_N_SEC(kWarn, 10, "wal {}: append failed ({}); cut back to offset {}", path, cause.ToString(),
                      good_size);
      return;
    }
    s = reopened.status();
  }
  // Could not cut back: abandon the file past good_size by starting a new one that says so.
  LOG_ERROR("wal {}: append failed ({}) and cutting back failed ({}); abandoning the file past offset {}", path,
            cause.ToString(), s.ToString(), good_size);
  Status r = Roll(good_size);
  if (!r.ok()) Stall(good_size, cause.WithContext("append failed, cut back failed (" + s.ToString() + "), then " + r.ToString()));
}

void WalCommitter::Stall(uint64_t good_size, const Status& cause) {
  stall_size_ = good_size;
  stall_error_ = cause;
  next_roll_attempt_ns_ = Clock::Real()->MonotonicNanos() + options_.roll_retry_ms * 1000000;
  stalled_.store(true, std::memory_order_relaxed);
  LOG_ERROR("wal {}: no file to append to ({}); writes fail until a new file can be started (retried every {} ms)",
            dir_, cause.ToString(), options_.roll_retry_ms);
}

Status WalCommitter::Unstall(bool now) {
  if (!stall_size_) return Status::Ok();
  const int64_t t = Clock::Real()->MonotonicNanos();
  if (!now && t < next_roll_attempt_ns_) return stall_error_;
  next_roll_attempt_ns_ = t + options_.roll_retry_ms * 1000000;
  Status r = Roll(*stall_size_);
  if (!r.ok()) {
    // Keep the error's code (disk full stays ResourceExhausted): callers tell it apart from back-pressure.
    stall_error_ = r;
    return stall_error_;
  }
  LOG_WARN("wal {}: started {} after the stall; writes resume", dir_, writer_->path());
  stall_size_.reset();
  stall_error_ = Status::Ok();
  stalled_.store(false, std::memory_order_relaxed);
  return Status::Ok();
}

Status WalCommitter::Roll(uint64_t prev_file_size) {
  const uint64_t n = current_file_number() + 1;
  const std::string path = io::JoinPath(dir_, wal::FileName(n));
  auto created = WalWriter::Create(env_, path, WalFileHeader{n, prev_file_size}, options_.preallocate_bytes);
  Status s = created.status();
  if (s.ok()) s = env_->SyncDir(dir_);
  if (!s.ok()) {
    if (created.ok()) (void)created.value()->Close();
    // A half-made file must not survive: if its header (with prev_file_size) were durable while
    // we kept appending to the old file, recovery would treat those appends as abandoned. If it
    // cannot be removed for certain, stop accepting writes.
    Status rm = env_->RemoveFile(path);
    if (rm.Is(Code::kNotFound)) rm = Status::Ok();
    if (rm.ok()) rm = env_->SyncDir(dir_);
    if (!rm.ok()) EnterFailed(s.WithContext("starting " + path + ", then removing it: " + rm.ToString()));
    return s.WithContext("wal: starting " + path);
  }
  if (writer_) {
    Status c = writer_->Close();
    if (!c.ok()) LOG_WARN("wal {}: close: {}", writer_->path(), c.ToString());
  }
  writer_ = std::move(*created);
  file_number_.store(n, std::memory_order_release);
  LOG_DEBUG("wal: started {} (predecessor size {})", path, prev_file_size);
  return Status::Ok();
}

void WalCommitter::EnterFailed(const Status& cause) {
  {
    std::lock_guard lock(mu_);
    if (!failure_.ok()) return;
    failure_ = IOError("WAL failed: " + cause.ToString() + " (restart the server)");
  }
  LOG_ERROR("wal {}: entering the failed state; no further writes until restart: {}", dir_, cause.ToString());
}

}  // namespace cairn::store
