#pragma once
// Router: the whole route table in one place (router.cc, BuildTable) and the one dispatch path
// every request takes: CORS preflight, method + path match (with or without a trailing slash),
// 404/405 as JSON, Access-Control-Allow-Origin on CORS paths (errors included), and the request
// metrics:
//   cairn_http_requests_total{route,code}   counter; route is the pattern ("/v1/customers/{id}"),
//                                           "preflight", "static" (dashboard files and client-side
//                                           routes off the table) or "unmatched" (bounded cardinality)
//   cairn_http_request_seconds{route}       histogram, request read → response handed to the server
//   cairn_http_request_bytes                histogram of the sizes of request bodies read (as
//                                           received, before any gunzip; oversize ones excluded)
//
// Access (docs/access.md): every route declares who may call it (Access, api/auth.h). Before a
// handler runs, Dispatch authenticates `Authorization: Bearer KEY` or the dashboard session
// cookie (api/session.h; with the cookie, non-GET/HEAD requests need X-CSRF-Token), answers 401
// (no/unknown credentials) or 403 (role too low, naming the role needed), applies the per-IP and
// per-key rate limits (429 + Retry-After), and records audited requests (personal-data reads,
// changes by agents/admins) through Services::access once the handler has answered. Handlers
// never check credentials themselves; ingest routes (Access::kIngest) keep their write-key check.
//
// Handlers get the request by value (the body is moved) and the decoded path parameters, and
// answer through the Responder, now or later from any thread.
// Thread-safe after construction: Dispatch may run concurrently on every I/O thread.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/handlers/admin_handler.h"
#include "api/handlers/customer_handler.h"
#include "api/handlers/ingest_handler.h"
#include "api/auth.h"
#include "api/http_types.h"
#include "api/rate_limit.h"
#include "api/services.h"
#include "api/session.h"
#include "base/clock.h"
#include "base/metrics.h"

namespace cairn::api {

struct RouterOptions {
  // Route POST /v1/admin/test/fail-next (client retry tests). Default false: never in production.
  bool enable_test_endpoints = false;
  // Source of received_at for ingest and of request durations; like Services, it must outlive
  // the Ingestor's last `done`. Default: the real clock.
  Clock* clock = Clock::Real();
};

// Route flags (bit set, the optional last argument of Router::Add).
enum RouteFlag : unsigned {
  kRouteNone = 0,
  // Serves personal data of a customer: every answered request is audited (a route whose
  // pattern starts with "/v1/customers/{" gets this flag automatically).
  kPersonal = 1u << 0,
  // A read sent as POST (analytics query specs): not audited as a change.
  kReadOnly = 1u << 1,
  // Ask PostHog's clients' error conventions (413 for oversize bodies).
  kPostHog = 1u << 2,
};

// One row of the route table, as listed by Router::Routes() and GET /v1/routes.
struct RouteInfo {
  std::string method;
  std::string pattern;
  Access access = Access::kAdmin;
  unsigned flags = kRouteNone;
};

class Router {
 public:
  using Params = std::vector<std::string>;  // decoded path parameters, in pattern order
  using Handler = std::function<void(ApiRequest request, const Params& params, Responder respond)>;

  // `services.ingestor` and `services.customers` must be set; a null `metrics` means the process
  // registry. Everything referenced must outlive the router.
  Router(const Services& services, RouterOptions options = {});
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  void Dispatch(ApiRequest request, Responder respond) const;

  // The answer to a request whose body was over `limit` bytes and was not read (`head` has no
  // body): 413 on the PostHog routes, 400 elsewhere, naming the limit; instrumented like Dispatch.
  void RejectOversize(const ApiRequest& head, size_t limit, Responder respond) const;

  // Answers to requests that could not be parsed as HTTP at all (counted as route "malformed").
  ApiResponse Malformed(unsigned status, std::string_view message) const;

  IngestHandler* ingest_handler() { return ingest_.get(); }

  // The route table in declaration order (for the roles test and docs/access.md).
  std::vector<RouteInfo> Routes() const;

 private:
  struct Route;
  struct Match;

  void BuildTable();
  // Adds a route. Without `access` a route is admin-only; `flags` is a RouteFlag set.
  void Add(std::string method, std::string_view pattern, Handler handler, Access access = Access::kAdmin,
           unsigned flags = kRouteNone);
  // The caller of `request` on `route` (Bearer key or session cookie, CSRF checked): 401/403 as Status.
  Result<Principal> Authenticate(const ApiRequest& request, const Route& route) const;
  // The customer reference (any identity, "c:<n>", or "") a request on `route` is about.
  std::string AuditReference(const ApiRequest& request, const Route& route, const Params& params) const;
  // Wraps `respond` so the answer is recorded in the audit log.
  Responder Audited(const ApiRequest& request, const Route& route, const Params& params, Principal principal,
                    Responder respond) const;
  // The session routes (POST/GET/DELETE /v1/session) and /v1/routes.
  void Login(const ApiRequest& request, Responder respond) const;
  void CurrentSession(const ApiRequest& request, Responder respond) const;
  void Logout(const ApiRequest& request, Responder respond) const;
  void ListRoutes(Responder respond) const;
  // The route for (method, path); *allowed lists the methods of routes matching the path alone.
  const Route* Find(std::string_view method, std::string_view path, Params* params, std::string* allowed,
                    Status* param_error) const;
  // Wraps `respond` with CORS and metrics for `route_name`.
  Responder Instrument(const ApiRequest& request, const std::string& route_name, metrics::Histogram* seconds,
                       Responder respond) const;
  metrics::Histogram* SecondsHistogram(const std::string& route_name);

  Services services_;
  RouterOptions options_;
  std::unique_ptr<IngestHandler> ingest_;
  std::unique_ptr<CustomerHandler> customers_;
  std::unique_ptr<AdminHandler> admin_;
  std::vector<Route> routes_;
  mutable SessionStore sessions_;
  mutable RateLimiter ip_limiter_;
  mutable RateLimiter key_limiter_;
  metrics::Histogram* request_bytes_ = nullptr;
  metrics::Histogram* preflight_seconds_ = nullptr;
  metrics::Histogram* unmatched_seconds_ = nullptr;
  metrics::Histogram* static_seconds_ = nullptr;  // dashboard files and client-side routes
};

}  // namespace cairn::api
