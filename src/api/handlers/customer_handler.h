#pragma once
// CustomerHandler: read access to customers (role checked by the router, docs/access.md).
//   GET /v1/customers/{id}                          → the profile (dto/customer_dto.h)
//   GET /v1/customers/{id}/events?limit=&before=    → a timeline page, newest first
// {id} is any identity the directory knows (userId, anonymousId, email, phone, "c:<n>"),
// percent-decoded by the router. limit: integer in [1, 1000], default 50; before: a cursor from
// nextBefore, an ISO-8601 time or ms since epoch (validated by the directory).
//
// CustomerDirectory calls are synchronous and run on the I/O thread that received the request;
// they are point reads, and the server runs several I/O threads.
// Thread-safe.

#include <string>

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class CustomerHandler {
 public:
  static constexpr size_t kDefaultLimit = 50;
  static constexpr size_t kMaxLimit = 1000;

  explicit CustomerHandler(const Services* services) : services_(services) {}

  void GetProfile(const ApiRequest& request, const std::string& id, Responder respond);
  void GetEvents(const ApiRequest& request, const std::string& id, Responder respond);

 private:
  const Services* services_;
};

}  // namespace cairn::api
