#pragma once
// `cairn query funnel|retention|trends|lifecycle|stickiness|paths --data DIR ...`: runs an
// analytics query on a stopped data dir (opened through Hub, so identity merges are applied exactly
// as the server would) and prints a table, or with --json the same JSON as POST /v1/query/*
// (plus "ms"). Flags build that JSON spec, so the CLI and the API share one decoder
// (api/dto/query_dto.h, api/dto/insights_dto.h); --spec takes a whole JSON spec instead.
// Registered on the CLI by main; each runs from its CLI11 callback and signals failure by throwing
// CLI::RuntimeError (exit 1; 2 for an invalid spec).

#include <CLI/CLI.hpp>

#include <memory>

#include "analytics/engine.h"

namespace cairn::app {

class Hub;

void AddQueryCommands(CLI::App* cli);

// The analytics engine over an open hub's store, canonicalising customers through its identity
// resolver. The hub must outlive it.
std::unique_ptr<analytics::Engine> MakeAnalyticsEngine(Hub* hub);

}  // namespace cairn::app
