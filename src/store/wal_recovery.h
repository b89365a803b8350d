#pragma once
// Recovery and verification of a WAL directory (docs/format/wal.md, "Recovery and verify").
//
// RecoverWal replays every record in file order and repairs what the torn-tail policy allows
// (cuts a torn or zero-filled tail of the newest file, removes a newest file whose header is
// torn, cuts abandoned tails of sealed files). Anything else is Corruption naming file and
// offset, returned before any file is changed. VerifyWal runs the same checks read-only.
//
// Neither may run while a WalCommitter has the directory open.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "io/env.h"
#include "store/wal_reader.h"

namespace cairn::store {

struct WalRecoveryReport {
  // Where the next WalCommitter starts: the number of its first file, and the valid size of the
  // file before it (0 when there is none), recorded in the new file's header.
  uint64_t next_file_number = 1;
  uint64_t last_file_size = 0;
  uint64_t files = 0;            // WAL files read (a removed torn-header file not included)
  uint64_t records = 0;          // records visited
  uint64_t payload_bytes = 0;    // their payload bytes
  uint64_t bytes_truncated = 0;  // tail bytes cut (VerifyWal: bytes a recovery would cut)
  std::vector<WalFileReport> file_reports;  // per file, in file order
};

// Called once per record in file order; `payload` is valid only during the call. A non-OK
// status stops recovery and is returned (with the file and offset prepended).
using WalApplyFn = std::function<Status(std::string_view payload, uint64_t file_number)>;

// Replays and repairs `dir` (a missing directory is an empty WAL). See the file comment.
Result<WalRecoveryReport> RecoverWal(io::Env* env, const std::string& dir, const WalApplyFn& apply);

// Checks every file in `dir` without modifying anything. Corruption as RecoverWal would report it.
Result<WalRecoveryReport> VerifyWal(io::Env* env, const std::string& dir);

}  // namespace cairn::store
