#pragma once
// Request-body decoding: undoes Content-Encoding before JSON parsing, under a hard cap on the
// decoded size so that a small compressed body cannot expand into gigabytes (a gzip bomb).

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace cairn::ingest {

// Returns the decoded body.
//  - `content_encoding` "gzip" / "x-gzip" (case-insensitive, surrounding spaces ignored) → gunzip;
//    "" / "identity" → as is. Any other value → InvalidArgument naming it.
//  - A body starting with the gzip magic 1f 8b is gunzipped whatever the header says (rudder
//    sends gzip labelled application/x-www-form-urlencoded); concatenated gzip members are
//    decoded one after another (RFC 1952 §2.2).
//  - The decoded size (also of an unencoded body) must be at most `max_decoded_bytes`, else
//    ResourceExhausted naming the limit. Inflation stops as soon as the limit is passed: memory
//    use never exceeds max_decoded_bytes + 1 bytes of output plus zlib's ~40 KiB state.
//  - Corrupt or truncated gzip, or bytes after the last member → InvalidArgument.
// Thread-safe (no shared state).
Result<std::string> DecodeBody(std::string body, std::string_view content_encoding, size_t max_decoded_bytes);

// What an error code of ISA-L's isal_inflate means, in words for a message (also for `cairn
// import`'s reader of .gz files).
const char* InflateErrorText(int isal_rc);

}  // namespace cairn::ingest
