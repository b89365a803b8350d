#pragma once
// `cairn backup --data DIR DEST`: a consistent copy of a data directory that opens as a working
// hub — taken while a server runs on DIR (online) or not (offline); it only reads DIR and takes no
// lock, so ingest goes on (docs/reliability.md, "Backup").
//
// What "consistent" means: DEST is what DIR would look like after a crash at some moment during
// the backup, with derived state never ahead of the event store — so opening it recovers like a
// crash (every interaction acknowledged before the backup started is there; derived state catches
// up from the store). How:
//  1. SQLite files (*.db) first, each through SQLite's online backup API (a transactionally
//     consistent snapshot even while the server writes); other files (journey/, config) copied.
//  2. The store last: every WAL file first (the active one's torn tail is a clean end on
//     recovery; files deleted meanwhile were obsolete and are dropped), then MANIFEST and the
//     segments it lists, read again until a MANIFEST lists only segments that were already listed
//     before their copy (a retired segment may be zeroed by erasure, so its copy is dropped).
//     Segments are copied, never hard-linked: erasure zeroes a segment's blocks before
//     unlinking it, which would reach through a link into the backup.
//  3. `Store::Verify` on DEST's store; every file and directory fsync'd; DEST.partial renamed to
//     DEST, so DEST exists only when complete.
//
// DEST must not exist. Errors name the file. Restore = use DEST as a data dir (or copy it back).

#include <cstdint>
#include <string>

#include "base/result.h"

namespace CLI {
class App;
}

namespace cairn::app {

struct BackupReport {
  uint64_t files = 0;         // files written to DEST
  uint64_t bytes = 0;         // bytes written
  uint64_t sqlite_dbs = 0;    // of which SQLite databases (online backup API)
  uint64_t segments = 0;      // store segments
  uint64_t wal_files = 0;     // WAL files
  int store_attempts = 0;     // store copy passes (1 unless a flush/compaction raced it)
  double elapsed_ms = 0;
};

// Backs `data_dir` up into `dest` (must not exist). Thread-compatible; reads only `data_dir`.
Result<BackupReport> BackupDataDir(const std::string& data_dir, const std::string& dest);

// Registers `cairn backup --data DIR DEST` (main calls it once).
void AddBackupCommand(CLI::App* cli);

}  // namespace cairn::app
