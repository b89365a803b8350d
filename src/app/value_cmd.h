#pragma once
// `cairn value ...` subcommands: `value cdnow FILE [--json]` fits the three CLV models to a
// CDNOW-format transaction file with the papers' conventions and prints the parameters beside the
// published ones; `value fit --data DIR [--json]` fits on a (stopped) data directory and prints the
// fit and the CLV summary. Registered on the CLI by main; each runs from its CLI11 callback and reports a
// non-zero exit status by throwing CLI::RuntimeError (which main's parse handler turns into the
// process exit code).

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>

#include "store/store.h"
#include "value/value_engine.h"

namespace YAML {
class Node;
}

namespace cairn::journey {
class JourneyEngine;
}

namespace cairn::app {

class Hub;

// Settings of the value engine from the config file's `value:` section (docs/value.md
// "Settings"), with the file's defaults; InvalidArgument naming the key, line and column.
struct ValueSettings {
  value::ValueEngineOptions engine;  // model, time unit, horizon, discount, refit interval, personas, offers
  bool offers = true;                // next best offer: read products from purchase payloads
  std::string version_trait = "product_version";  // identify trait holding the product version
  // Identify trait holding the customer's segment, for the summary's CLV by segment ("" = none).
  // Default "segment".
  std::string segment_trait = "segment";
  ValueSettings() { engine.refit_interval_s = 3600; }
};
Status ApplyValueSection(const YAML::Node& node, ValueSettings* out);

// The live value engine over an open hub: scans the store's latest snapshot (customer, time,
// event, type, channel, revenue columns, and the payload for offers), canonicalises ids through
// the hub's identity resolver and resolves any identity through the hub's profiles. Refits every
// `value.refit_interval_seconds` (default 3600; 0 = only on POST /v1/value/fit; the environment
// variable CAIRN_VALUE_REFIT_SECONDS overrides the file) once Start() is called.
std::unique_ptr<value::ValueEngine> MakeValueEngine(Hub* hub, const ValueSettings& settings = {});

// The value engine's column path over one snapshot (docs/value.md "Live value"): every segment's
// blocks decoded column by column (customer, timestamp, event, type, channel, revenue; a block's
// payloads only once the engine asks for one, when `payload`), then the memtable's rows; customers
// the snapshot hides (erased) and those `skip` names (raw ids; may be empty) are left out.
// Exposed for tests.
Status ScanValueColumns(const store::Snapshot& snapshot, bool payload,
                        const std::function<bool(store::CustomerId)>& skip, value::InteractionSink& sink);

// The products of a purchase payload (properties.products[].product_id|sku|id, else
// properties.product_id|sku) and, for identify, traits[version_trait] and traits[segment_trait]
// (when not empty). Exposed for tests.
void ExtractValueExtras(const store::Interaction& in, bool is_purchase, const std::string& version_trait,
                        value::ValueEngine::Extras* out, const std::string& segment_trait = "");

// The journey engine's persona rules over value (docs/journey.md "Personas") read each customer's
// facts from `value`, which must outlive the journey engine's use (serve: until the hub closes).
// (MakeValueEngine already points the value engine's rule personas at the hub's journey map.)
void SetJourneyValueFacts(journey::JourneyEngine* journey, value::ValueEngine* value);

void AddValueCommands(CLI::App* cli);

// `value cdnow`: returns the process exit status (0 ok, 1 error, 3 a fit did not converge).
int RunValueCdnow(const std::string& file, bool json);

}  // namespace cairn::app
