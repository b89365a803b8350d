#pragma once
// `cairn value ...` subcommands: `value cdnow FILE [--json]` fits the three CLV models to a
// CDNOW-format transaction file with the papers' conventions and prints the parameters beside the
// published ones. Registered on the CLI by main; each runs from its CLI11 callback and reports a
// non-zero exit status by throwing CLI::RuntimeError (which main's parse handler turns into the
// process exit code).

#include <CLI/CLI.hpp>

namespace cairn::app {

void AddValueCommands(CLI::App* cli);

// `value cdnow`: returns the process exit status (0 ok, 1 error, 3 a fit did not converge).
int RunValueCdnow(const std::string& file, bool json);

}  // namespace cairn::app
