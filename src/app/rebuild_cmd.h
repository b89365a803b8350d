#pragma once
// `cairn rebuild --data DIR`: re-derives every customer's journey state from the event store with
// the journey map in force (the data dir's PUT map, else --journey-map FILE, else the built-in
// one), with a progress bar on stderr, then writes DIR/journey/state.bin. The data dir must not be
// in use by a running server (the store lock says so). Registered on the CLI by main; runs from
// its CLI11 callback and reports failure by throwing CLI::RuntimeError (exit status 1).

#include <CLI/CLI.hpp>

namespace cairn::app {

void AddRebuildCommand(CLI::App* cli);

}  // namespace cairn::app
