#pragma once
// Reading WAL files back and classifying how each one ends (docs/format/wal.md, "End of the log"
// and "Torn-tail policy"). Read-only: nothing here modifies a file; recovery (wal_recovery.h)
// acts on the classification.
//
// Thread-safety: the functions are reentrant; each call uses its own file handles.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "io/env.h"
#include "store/wal_format.h"

namespace cairn::store {

// How the readable part of a WAL file ends.
enum class WalFileEnd : uint8_t {
  kClean,          // the last record ends exactly at end of file (or at the sealed size)
  kZeroTail,       // only zero bytes follow the last record: a clean end
  kTornTail,       // newest file: a damaged record with no valid record after it
  kAbandonedTail,  // sealed file: bytes past the size its successor declares (failed sync)
  kCorruption,     // damage that is not a tail: reported, never skipped
};
std::string_view WalFileEndName(WalFileEnd end);  // "clean", "zero-filled tail", ...

struct WalFileReport {
  std::string path;
  bool header_valid = false;
  WalFileHeader header;          // meaningful when header_valid
  uint64_t file_size = 0;
  // Offset just past the last valid record (or past the header when there is none; 0 when the
  // header itself is damaged). A tail is cut here.
  uint64_t valid_end = 0;
  uint64_t records = 0;          // valid records visited
  uint64_t payload_bytes = 0;    // their payload bytes
  WalFileEnd end = WalFileEnd::kClean;
  uint64_t damage_offset = 0;    // where the tail or the corruption starts
  std::string damage;            // what is wrong there; empty for kClean

  bool corrupt() const { return end == WalFileEnd::kCorruption; }
  // Bytes a recovery would cut: file_size - valid_end for a tail, 0 otherwise.
  uint64_t tail_bytes() const;
  // Corruption("wal <path> offset <n>: <damage>") for kCorruption; OK otherwise.
  Status ToStatus() const;
};

// Called for every valid record in file order; `payload` is valid only during the call.
// A non-OK return stops the scan and is returned by ScanWalFile.
using WalRecordVisitor = std::function<Status(std::string_view payload, uint64_t offset)>;

// Reads the WAL file at `path`, calling `visit` (may be empty) for each valid record.
// `sealed_size`: nullopt for the newest file (the torn-tail policy applies); for a sealed file,
// the prev_file_size from its successor's header (records must end exactly there).
// `expected_file_number`: checked against the header when given (normally parsed from the name).
// Returns a non-OK Status only for an I/O error or an error from `visit`; damage, including
// corruption, is described by the report. Records before the damage have been visited.
Result<WalFileReport> ScanWalFile(io::Env* env, const std::string& path, std::optional<uint64_t> sealed_size,
                                  std::optional<uint64_t> expected_file_number, const WalRecordVisitor& visit);

// Reads and checks only the header of `path`. Corruption naming the problem if it is damaged.
Result<WalFileHeader> ReadWalFileHeader(io::Env* env, const std::string& path);

// The file numbers of the WAL files in `dir`, ascending. Other names are ignored; a directory
// that does not exist has none.
Result<std::vector<uint64_t>> ListWalFiles(io::Env* env, const std::string& dir);

}  // namespace cairn::store
