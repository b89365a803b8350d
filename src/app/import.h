#pragma once
// `cairn import`: loads a JSON Lines file of Segment messages (plain or .gz) through the same
// ingest pipeline as HTTP, in chunks of consecutive lines (the pipeline's JSON Lines dialect: no
// envelope to build, each line judged on its own), parsed on `threads` workers and committed in
// the file's order, waiting for the store when it is behind rather than resending; with a
// progress bar on a terminal and plain progress lines otherwise. Bad lines are reported with their line number and reason; good lines are kept.
// Idempotent: messages already stored (same source and messageId) are counted as duplicates.

#include <cstdint>
#include <string>

#include "app/config.h"

namespace cairn::app {

struct ImportOptions {
  std::string file;
  std::string url;        // send to a running server (not yet supported: FailedPrecondition)
  std::string write_key;  // names the source; empty: the built-in "import" source (id 0)
  bool progress = true;
  size_t batch_lines = 1000;
  // Threads parsing lines into a data dir (a running server gets one request at a time). Chunks
  // still commit in the file's order.
  int threads = 2;
};

struct ImportReport {
  uint64_t lines = 0;
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t bad_lines = 0;
  uint64_t resent = 0;  // chunks sent again after a transient refusal (back-pressure, failed sync)
  double store_wait_seconds = 0;  // workers' time waiting for the store's memtable to have room
  double seconds = 0;
};

Result<ImportReport> RunImport(const Config& cfg, const ImportOptions& options);

// A stream of JSON lines for RunImportFrom, e.g. the simulated business (`cairn simulate`,
// `cairn demo`): the same batching, back-pressure, error reporting and progress bar as a file.
class LineSource {
 public:
  virtual ~LineSource() = default;
  // The next line (a trailing newline is allowed and ignored); false at the end.
  virtual bool Next(std::string* line) = 0;
  // How far through the source, 0..1, for the progress bar and its ETA.
  virtual double Fraction() const = 0;
  // Why Next() returned false early (a damaged or unreadable file); OK at a clean end.
  virtual Status status() const { return Status::Ok(); }
};

// RunImport over `lines` instead of options.file (which is ignored).
Result<ImportReport> RunImportFrom(const Config& cfg, const ImportOptions& options, LineSource* lines);

}  // namespace cairn::app
