#pragma once
// Env: every file-system call Cairn makes goes through this interface, so tests can run the store
// on an in-memory file system (MemEnv) or one that simulates crashes and faults
// (FaultInjectionEnv). Paths are plain strings; directories are created explicitly.
//
// Thread-safety: Env methods are thread-safe. A file object is used by one thread at a time,
// except RandomAccessFile::Read, which is thread-safe.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace cairn::io {

// A file written sequentially. Append() buffers; Sync() makes everything appended so far durable
// (fdatasync on posix); only synced data survives a crash.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Writes at an absolute offset (used to overwrite a preallocated region). Not buffered.
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  virtual Status Flush() = 0;  // hands buffered data to the OS (not durable)
  virtual Status Sync() = 0;   // flush + fdatasync
  virtual Status Close() = 0;  // flush + close; not a sync
  // Reserves `bytes` of disk for this file (fallocate, keeping the size) so that later appends do
  // not allocate blocks: a sync then writes data only, and disk-full shows up here, not mid-write.
  virtual Status Preallocate(uint64_t bytes) = 0;
  // Logical size: bytes appended so far (plus the size at open, for reopened files).
  virtual uint64_t Size() const = 0;
};

// A file read front to back.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes into scratch; *out points at the bytes read (may be in scratch).
  // Fewer than n bytes (possibly 0) means end of file.
  virtual Status Read(size_t n, std::string_view* out, char* scratch) = 0;
  virtual Status Skip(uint64_t n) = 0;
};

// A file read at arbitrary offsets. Read is thread-safe.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  virtual Status Read(uint64_t offset, size_t n, std::string_view* out, char* scratch) const = 0;
  virtual uint64_t Size() const = 0;
};

// An exclusive lock on a data directory, held until destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;   // truncates
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0; // keeps contents
  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) = 0;
  // The same for a file that nobody modifies or truncates while it is open (a segment: written
  // once, then only read and at last removed). Posix maps it: Read then returns a view into the
  // mapping without a copy (scratch is not written), which is what makes repeated scans of warm
  // segments cost no kernel time. Truncating a mapped file would crash a reader past the new end
  // (SIGBUS), hence the contract. Falls back to NewRandomAccessFile where mapping is not possible;
  // other Envs (MemEnv, FaultInjectionEnv) get that by default.
  virtual Result<std::unique_ptr<RandomAccessFile>> NewReadOnlyMappedFile(const std::string& path) {
    return NewRandomAccessFile(path);
  }

  virtual bool FileExists(const std::string& path) = 0;
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;  // names, no "." / ".."
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  virtual Status CreateDirIfMissing(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Overwrites the file's bytes with zeros and syncs before unlinking it (for erasure: the
  // contents must not be recoverable from the file system's free blocks by ordinary means).
  virtual Status SecureRemoveFile(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;  // atomic replace
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Makes creations, renames and removals in `dir` durable (fsync of the directory).
  virtual Status SyncDir(const std::string& dir) = 0;
  // Takes an exclusive lock (flock on posix) so two processes never open one data dir.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;

  // The process-wide posix Env (never null, never destroyed).
  static Env* Posix();
};

// Convenience: whole-file helpers built on the interface.
Status WriteStringToFile(Env* env, std::string_view data, const std::string& path, bool sync);
// Writes to path + ".tmp", syncs, renames over `path`, syncs the directory.
Status WriteFileAtomic(Env* env, std::string_view data, const std::string& path);
Result<std::string> ReadFileToString(Env* env, const std::string& path);

std::string JoinPath(std::string_view dir, std::string_view name);
std::string DirName(std::string_view path);

}  // namespace cairn::io
