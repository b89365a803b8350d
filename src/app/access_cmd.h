#pragma once
// Offline access administration (docs/access.md):
//   cairn keys list   --data DIR
//   cairn keys create --data DIR --role analyst --name bi-tool [--expires 2027-01-01]   (prints the key once)
//   cairn keys revoke --data DIR ID
//   cairn audit verify --data DIR      (recomputes audit.db's hash chain; exit 1 if broken)
// They open DIR/keys.db / DIR/audit.db directly. A running server keeps its keys in memory: keys
// created or revoked here take effect there only after a restart — use the API (/v1/keys) while
// serving. Registered on the CLI by main; failures throw CLI::RuntimeError (exit status 1).

#include <CLI/CLI.hpp>

namespace cairn::app {

void AddAccessCommands(CLI::App* cli);

}  // namespace cairn::app
