#pragma once
// JSON ⇄ consent records (docs/consent.md).
//
// PUT /v1/customers/{id}/consents body: {"consents": [statement, ...]} or a bare array, where
//   statement = {"purpose": "marketing",            required
//                "channel": "email",                default "*" (every channel)
//                "state": "granted",                required: granted | denied | withdrawn
//                "lawful_basis": "consent",         default "consent"
//                "expires_at": "2027-01-01T00:00:00Z" | epoch ms,   optional
//                "note": "double opt-in form"}      optional
// At most kMaxConsentInputs statements per request.

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "entity/consent_service.h"

namespace cairn::api {

inline constexpr size_t kMaxConsentInputs = 100;

// InvalidArgument naming the field ("consents[0].state: ...") for anything malformed.
Result<std::vector<entity::ConsentInput>> ParseConsentInputs(std::string_view body);

// {"customer": "c:12", "current": [...], "history": [...]}; times as ISO-8601 strings.
std::string ConsentViewToJson(const entity::ConsentView& view);

}  // namespace cairn::api
