#pragma once
// The `rescue:` and `actions:` sections of the config file → rescue::RescueConfig
// (docs/rescue.md, docs/actions.md). Unknown keys are errors naming the key, line and column.

#include <yaml-cpp/yaml.h>

#include "base/status.h"
#include "rescue/rescue_stack.h"

namespace cairn::app {

Status ApplyRescueSection(const YAML::Node& node, rescue::RescueConfig* out);
Status ApplyActionsSection(const YAML::Node& node, rescue::RescueConfig* out);

}  // namespace cairn::app
