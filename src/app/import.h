#pragma once
// `cairn import`: loads a JSON Lines file of Segment messages (plain or .gz) through the same
// ingest pipeline as HTTP, in batches, with a progress bar on a terminal and plain progress lines
// otherwise. Bad lines are reported with their line number and reason; good lines are kept.
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
};

struct ImportReport {
  uint64_t lines = 0;
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t bad_lines = 0;
  double seconds = 0;
};

Result<ImportReport> RunImport(const Config& cfg, const ImportOptions& options);

}  // namespace cairn::app
