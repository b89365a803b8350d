#pragma once
// Reading properties out of a stored payload (the message's minified JSON): property filters
// (spec/property_filter.h) and breakdown values. simdjson On-Demand; a payload that does not
// parse matches no filter except neq / is_not_set and yields no value.
//
// Thread-compatible: one PayloadReader per thread (it owns a parser and a padded buffer).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "analytics/spec/property_filter.h"

namespace cairn::analytics {

class PayloadReader {
 public:
  // The property's value as text: strings unquoted, numbers/bools/null as written, objects and
  // arrays as their minified JSON. nullopt when absent (or the payload is not JSON).
  std::optional<std::string> Get(std::string_view payload, std::string_view path);
  // All filters hold (AND). An empty list is true.
  bool Matches(std::string_view payload, const std::vector<PropertyFilter>& filters);

 private:
  struct Value {
    bool present = false;
    bool is_number = false;
    double number = 0;
    std::string text;
  };
  Value Lookup(std::string_view payload, std::string_view path);

  simdjson::ondemand::parser parser_;
  simdjson::padded_string buffer_;
};

// Evaluates one filter against a looked-up value (exposed for tests).
bool FilterHolds(const PropertyFilter& f, bool present, bool is_number, double number, std::string_view text);

}  // namespace cairn::analytics
