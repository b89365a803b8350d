#pragma once
// Byte-level JSON text helpers for the ingest parser: token validation the on-demand parser does
// not do for values it is asked to copy rather than decode, string unescaping, and
// locating the first invalid UTF-8 byte for error messages. Pure functions, thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

namespace cairn::ingest::json_text {

// True for JSON whitespace (space, tab, CR, LF).
inline bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// `token` without trailing JSON whitespace.
std::string_view TrimRight(std::string_view token);

// True iff `token` is exactly one JSON number (RFC 8259 grammar; any magnitude).
bool IsValidNumber(std::string_view token);

// Checks the escapes of a string's content (the bytes between the quotes): only \" \\ \/ \b \f
// \n \r \t and \uXXXX are allowed. Lone UTF-16 surrogates are accepted (JavaScript's
// JSON.stringify emits them for truncated strings); UnescapeString turns them into U+FFFD.
bool HasValidEscapes(std::string_view content);

// Appends the unescaped form of a string's content (escapes already validated) to *out.
void UnescapeString(std::string_view content, std::string* out);

// Given `p` pointing just after the opening quote of a string whose quotes are known to be
// balanced (simdjson stage 1 checked them), returns a pointer to its closing quote, scanning no
// further than `end` (nullptr if there is none); *has_escape tells whether a backslash was seen.
const char* FindStringEnd(const char* p, const char* end, bool* has_escape);

// Byte offset of the first byte of `text` that is not valid UTF-8, or text.size() if all is valid.
size_t FirstInvalidUtf8(std::string_view text);

}  // namespace cairn::ingest::json_text
