#pragma once
// AuditHandler: GET /v1/audit?actor=&customer=&from=&to=&limit=&cursor= (admin; the router checks
// the role). docs/access.md "Audit log".
//   actor:    a key id (digits) or a key name; customer: the customer id as requested;
//   from/to:  ms since epoch, a date or an ISO-8601 time ([from, to)); limit: 1..1000, default 100;
//   cursor:   `next_cursor` of the previous page.
// → {"entries":[{seq, at, actor:{key_id,name,role,session}, method, route, customer, status, hash}],
//    "next_cursor": "<seq>" | null}, newest first. 400 names the bad parameter; 503 without an
// AccessService. Stateless; thread-safe.

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class AuditHandler {
 public:
  explicit AuditHandler(const Services* services) : services_(services) {}
  void Query(const ApiRequest& request, Responder respond);

 private:
  const Services* services_;
};

}  // namespace cairn::api
