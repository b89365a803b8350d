#pragma once
// MemEnv: an in-memory file system for hermetic tests. Thread-safe.
//
// It also tracks, per file, how many bytes were made durable by Sync(), so tests can simulate a
// power loss: SimulateCrash() cuts every file back to its synced prefix plus, optionally, a random
// part of the unsynced bytes (a torn write). FaultInjectionEnv (fault_injection_env.h) adds
// injected errors on top.

#include <map>
#include <memory>
#include <mutex>
#include <random>

#include "io/env.h"

namespace cairn::io {

class MemEnv : public Env {
 public:
  MemEnv();
  ~MemEnv() override;

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override;
  Result<uint64_t> GetFileSize(const std::string& path) override;
  Status CreateDirIfMissing(const std::string& dir) override;
  Status RemoveFile(const std::string& path) override;
  Status SecureRemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

  // Power loss: every file keeps its synced bytes; of the unsynced tail, a prefix of random length
  // survives when `torn` (seeded by `seed`), nothing otherwise. Open file objects must not be used
  // afterwards (their writes would land in the cut files).
  void SimulateCrash(bool torn = false, uint64_t seed = 0);

  // Direct access to a file's bytes, for tests that corrupt files byte by byte.
  Result<std::string> Contents(const std::string& path);
  Status SetContents(const std::string& path, std::string data);

  struct FileState;

 protected:
  // Hooks for FaultInjectionEnv: return a non-OK status to fail the operation.
  virtual Status BeforeWrite(const std::string& path, size_t bytes) { return Status::Ok(); }
  virtual Status BeforeSync(const std::string& path) { return Status::Ok(); }
  virtual Status BeforeRename(const std::string& from, const std::string& to) { return Status::Ok(); }

 private:
  friend class MemWritableFile;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<FileState>> files_;  // guarded by mu_
  std::map<std::string, bool> dirs_;                         // guarded by mu_
  std::map<std::string, bool> locks_;                        // guarded by mu_
};

}  // namespace cairn::io
