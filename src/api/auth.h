#pragma once
// Credentials from the Authorization header.
//
// Ingest routes: `Authorization: Basic base64(writeKey + ":")` (analytics-node, rudder, the
// browser SDK), also accepted without the colon. Only the key is extracted here; whether it is
// valid is decided by the Ingestor, which also sees writeKey/api_key in the body.
//
// Every other protected route: `Authorization: Bearer KEY` with an admin key. No or unknown key
// → 401; a valid write key → 403 (it authenticates, but only for ingest); admin key → allowed.

#include <string>
#include <string_view>

#include "api/services.h"
#include "base/result.h"

namespace cairn::api {

// The write key carried by a Basic Authorization header value: "" when the header is absent or
// uses another scheme (the key may then be in the body). Unauthenticated when it is Basic but
// not valid base64. Scheme names are case-insensitive; the key is the part before the first ':'
// (the whole decoded text when there is no colon).
Result<std::string> BasicWriteKey(std::string_view authorization);

// Checks a Bearer Authorization header value for an admin key (see the file comment). Missing
// checks in `services` count as "no key matches".
Status CheckAdminBearer(std::string_view authorization, const Services& services);

// Standard base64 (RFC 4648 §4), padding optional, surrounding whitespace ignored; also accepts
// the URL-safe alphabet. InvalidArgument on anything else.
Result<std::string> Base64Decode(std::string_view in);

}  // namespace cairn::api
