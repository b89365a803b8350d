#pragma once
// ExportHandler: GET /v1/customers/{id}/export — one customer's data as one JSON bundle
// (portability; schema in docs/export.md), streamed with chunked transfer encoding so a customer
// with millions of interactions is never held in memory. 404 for an unknown customer (before any
// byte of the bundle); 503 without an exporter. The router checks the caller's role and audits the
// read (personal route). Stateless.

#include <string>

#include "api/http_types.h"
#include "api/services.h"

namespace cairn::api {

class ExportHandler {
 public:
  explicit ExportHandler(const Services* services) : services_(services) {}
  void Get(const ApiRequest& request, const std::string& id, Responder respond);

 private:
  const Services* services_;
};

}  // namespace cairn::api
