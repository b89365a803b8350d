#pragma once
// `cairn value ...` subcommands: `value cdnow FILE [--json]` fits the three CLV models to a
// CDNOW-format transaction file with the papers' conventions and prints the parameters beside the
// published ones; `value fit --data DIR [--json]` fits on a (stopped) data directory and prints the
// fit and the CLV summary. Registered on the CLI by main; each runs from its CLI11 callback and reports a
// non-zero exit status by throwing CLI::RuntimeError (which main's parse handler turns into the
// process exit code).

#include <CLI/CLI.hpp>

#include <memory>

#include "value/value_engine.h"

namespace cairn::app {

class Hub;

// The live value engine over an open hub: scans the store's latest snapshot (customer, time,
// event, type, revenue columns), canonicalises ids through the hub's identity resolver and
// resolves any identity through the hub's profiles. Refits every CAIRN_VALUE_REFIT_SECONDS
// seconds (default 3600; 0 = only on POST /v1/value/fit) once Start() is called.
std::unique_ptr<value::ValueEngine> MakeValueEngine(Hub* hub);

void AddValueCommands(CLI::App* cli);

// `value cdnow`: returns the process exit status (0 ok, 1 error, 3 a fit did not converge).
int RunValueCdnow(const std::string& file, bool json);

}  // namespace cairn::app
