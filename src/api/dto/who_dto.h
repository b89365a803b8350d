#pragma once
// "who" lists as JSON (analytics/spec/who.h): the paging fields every query's `who` object takes,
// and the list every answer's `who` object carries. Shapes:
//   request:  {..., "limit": 1..10000 (default 100), "after": "c:123" | null}
//   answer:   {..., "customers": ["c:7", "c:12", ...], "next": "c:12" | null}
// Customer ids are "c:<number>" (api/dto/customer_dto.h), as GET /v1/customers/{id} takes them;
// "next" is the "after" of the following page. Errors name the field: "who.limit: must be
// 1..10000", "who.after: expected a cursor like \"c:123\"".

#include <string_view>

#include <boost/json/fwd.hpp>

#include "analytics/spec/who.h"
#include "api/dto/json_writer.h"
#include "base/result.h"

namespace cairn::api {

// "c:123" or "123" → 123; null → 0 (the first page).
Result<uint64_t> DecodeCustomerCursor(const boost::json::value& v, std::string_view field);

// `limit` and `after` of the `who` object `o`; `field` names it in errors ("who").
Result<analytics::WhoPage> DecodeWhoPage(const boost::json::object& o, std::string_view field);

// Writes the keys "customers" and "next" into the object being written.
void WriteWhoList(const analytics::WhoList& list, JsonWriter* w);

}  // namespace cairn::api
