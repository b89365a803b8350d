#pragma once
// Percent-decoding of request paths and query strings (RFC 3986), for route parameters such as
// the customer id in /v1/customers/{id} and query parameters such as ?limit=.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace cairn::api {

// Decodes %XX escapes; with `plus_is_space` (query strings, form encoding) also '+' → ' '.
// InvalidArgument for a '%' not followed by two hex digits.
Result<std::string> PercentDecode(std::string_view in, bool plus_is_space = false);

// Splits "a=1&b=x%20y&c" into decoded pairs (("c", "") for a bare name). Empty parts are skipped.
// InvalidArgument naming the parameter whose encoding is malformed.
Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query);

// The decoded value of the first `name` parameter, nullopt when absent; InvalidArgument as above.
Result<std::optional<std::string>> QueryParam(std::string_view query, std::string_view name);

// A path parameter that must be a positive integer (a record id): InvalidArgument naming `field`
// with the text received otherwise.
Result<int64_t> ParsePositiveId(std::string_view field, std::string_view text);

}  // namespace cairn::api
