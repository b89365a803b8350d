#pragma once
// `cairn compact --data DIR`: forces the rewrite of every file of a data directory that no server
// is using — the memtable flushed, every segment merged into one, WAL files holding flushed data
// dropped (zeroed before unlinking), every SQLite file VACUUMed with its -wal truncated
// (docs/erasure.md). Pending erasures are finished first. Failure exits 1 (CLI::RuntimeError).

#include <CLI/CLI.hpp>

namespace cairn::app {

void AddCompactCommand(CLI::App* cli);

}  // namespace cairn::app
