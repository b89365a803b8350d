#pragma once
// A posix WritableFile that writes with O_DIRECT from one aligned buffer: appended bytes are
// copied once, into that buffer, and go to the device from there, without the page cache (whose
// copy and page handling cost ~3x the CPU of the memcpy on our VMs: docs/format/wal.md, "Direct
// writes"). Meant for files written once front to back and synced often, read back only after a
// restart: the WAL.
//
// Contract, beyond WritableFile's:
// - Writes go out in whole kDirectBlockSize blocks at aligned offsets. Flush() and Sync() write the
//   last, partial block padded with zeros and keep it in the buffer; the next flush rewrites that
//   block from its start with the same leading bytes. Between a flush and Close() the file on disk
//   is therefore Size() bytes followed by zeros up to the next block boundary.
// - Close() flushes and then cuts the file back to Size() (not synced: after a crash the zero
//   padding may still be there).
// - WriteAt() is not supported (FailedPrecondition).
// - Not thread-safe (one thread at a time, like every WritableFile).

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "io/env.h"

namespace cairn::io {

inline constexpr size_t kDirectBlockSize = 4096;

// A file for a log written front to back and synced often (the WAL): on the posix Env
// (Env::Posix()) the direct file below, or a buffered file where the file system refuses
// O_DIRECT; on any other Env (MemEnv, the fault-injecting ones: byte-exact files for the tests)
// that Env's NewWritableFile (append = false: truncated) or NewAppendableFile (append = true).
Result<std::unique_ptr<WritableFile>> NewLogFile(Env* env, const std::string& path, bool append);

// Opens `path` for direct writes: truncated (append = false, created if missing) or kept, with
// writes continuing at its end (append = true). Unavailable if the file system refuses O_DIRECT
// (tmpfs, some network file systems): the caller falls back to a buffered file.
Result<std::unique_ptr<WritableFile>> NewPosixDirectFile(const std::string& path, bool append);

}  // namespace cairn::io
