#pragma once
// `cairn erase --data DIR [--suppress] ID`: erases a customer (and every id merged into it) from
// every file of a data directory that no server is using (docs/erasure.md), then prints the
// erasure's proof record. Registered on the CLI by main; failure exits 1 (CLI::RuntimeError).

#include <CLI/CLI.hpp>

namespace cairn::app {

void AddEraseCommand(CLI::App* cli);

}  // namespace cairn::app
