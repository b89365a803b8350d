#pragma once
// JSON string literals for code that builds JSON text by hand (DTOs, webhook bodies, profile
// documents): one escaping rule for the whole project.

#include <string>
#include <string_view>

namespace cairn {

// Appends `s` as a quoted JSON string (RFC 8259): `"` and `\` escaped, control characters as
// \n, \r, \t, \b, \f or \u00XX; valid UTF-8 passes through, and each byte of an invalid UTF-8
// sequence becomes U+FFFD, so the output is always valid JSON whatever the input.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace cairn
