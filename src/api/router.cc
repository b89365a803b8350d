#include "api/router.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>
#include <exception>

#include "actions/action_service.h"
#include "api/cors.h"
#include "api/handlers/audit_handler.h"
#include "api/handlers/backup_handler.h"
#include "api/handlers/case_handler.h"
#include "api/handlers/consent_handler.h"
#include "api/handlers/export_handler.h"
#include "api/handlers/erase_handler.h"
#include "api/handlers/key_handler.h"
#include "api/handlers/action_handler.h"
#include "api/handlers/feedback_handler.h"
#include "api/handlers/rescue_handler.h"
#include "api/handlers/journey_handler.h"
#include "api/handlers/value_handler.h"
#include "api/handlers/dashboard_handler.h"
#include "api/handlers/insights_handler.h"
#include "api/handlers/query_handler.h"
#include "api/responses.h"
#include "api/static_assets.h"
#include "api/url.h"
#include "base/check.h"
#include "base/logging.h"
#include "cases/case_service.h"
#include "rescue/rescue_service.h"

namespace cairn::api {

struct Router::Route {
  std::string method;
  std::string name;                   // the pattern, also the metrics label
  std::vector<std::string> segments;  // "{x}" is a parameter
  Access access = Access::kAdmin;
  unsigned flags = kRouteNone;
  Handler handler;
  metrics::Histogram* seconds = nullptr;
};

namespace {

constexpr std::string_view kRequestsTotal = "cairn_http_requests_total";

// "/v1/batch/" → {"v1", "batch"}; "/" → {}. Exactly one trailing slash is optional, so
// "/batch/" (PostHog) and "/v1/batch" (Segment) both match their routes either way. An
// absolute-form target ("http://host/v1/batch") is reduced to its path.
std::vector<std::string_view> SplitPath(std::string_view path) {
  if (path.starts_with("http://") || path.starts_with("https://")) {
    size_t slash = path.find('/', path.find("//") + 2);
    path = slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
  }
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return {std::string_view("\0", 1)};  // matches nothing
  path.remove_prefix(1);
  if (path.empty()) return out;
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path = path.substr(slash + 1);
  }
  return out;
}

bool IsParam(std::string_view segment) { return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}'; }

std::vector<double> SecondsBounds() { return metrics::ExponentialBounds(0.0005, 2, 16); }  // 0.5 ms .. 16 s

ApiResponse TooManyRequests(std::string_view who, int64_t retry_after_s) {
  ApiResponse response =
      JsonError(429, fmt::format("too many requests from {}: retry in {} s", who, retry_after_s));
  response.SetHeader("Retry-After", std::to_string(retry_after_s));
  return response;
}

// The customer a personal route is about: the parameter after "customers" ("" if none).
std::string CustomerParam(const std::vector<std::string>& segments, const std::vector<std::string>& params) {
  size_t index = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (!IsParam(segments[i])) continue;
    if (i > 0 && segments[i - 1] == "customers" && index < params.size()) return params[index];
    ++index;
  }
  return {};
}

std::string InternalRef(uint64_t customer) { return customer == 0 ? std::string() : fmt::format("c:{}", customer); }

// The "customer" string of a JSON object body ("" if there is none: the handler judges the body).
std::string BodyCustomer(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  const boost::json::value* c = v.as_object().if_contains("customer");
  return c != nullptr && c->is_string() ? std::string(c->as_string()) : std::string();
}

}  // namespace

// The customer a request is about, for its audit record: the {id} after "customers" in the path;
// else the customer of the case, rescue decision or action named by /v1/{cases,rescues,actions}/{id}
// (looked up now: an unknown id, or one anonymised by erasure, is about no one); else the
// `customer` of the body of a creation that names one (POST /v1/cases, /v1/feedback/responses);
// else the `customer` query parameter of a list; else "". Read before the handler runs (which
// takes the body), like the subject.
std::string Router::AuditReference(const ApiRequest& request, const Route& route, const Params& params) const {
  std::string ref = CustomerParam(route.segments, params);
  if (!ref.empty()) return ref;
  const auto& seg = route.segments;
  if (seg.size() < 2 || seg[0] != "v1") return {};
  const std::string& kind = seg[1];
  if (seg.size() >= 3 && IsParam(seg[2]) && !params.empty()) {
    int64_t id = 0;
    auto [end, ec] = std::from_chars(params[0].data(), params[0].data() + params[0].size(), id);
    if (ec != std::errc() || end != params[0].data() + params[0].size() || id <= 0) return {};
    if (kind == "cases" && services_.cases != nullptr) {
      auto c = services_.cases->GetCase(static_cast<uint64_t>(id));
      return c.ok() ? InternalRef(c->c.customer) : std::string();
    }
    if (kind == "rescues" && services_.rescues != nullptr) {
      auto d = services_.rescues->Get(id);
      return d.ok() ? InternalRef(d->customer) : std::string();
    }
    if (kind == "actions" && services_.actions != nullptr) {
      auto a = services_.actions->Get(id);
      return a.ok() ? InternalRef(a->request.customer) : std::string();
    }
    return {};
  }
  if (request.method == "POST" && (route.name == "/v1/cases" || route.name == "/v1/feedback/responses")) {
    return BodyCustomer(request.body);
  }
  if (seg.size() == 2 && (kind == "cases" || kind == "rescues" || kind == "actions")) {
    auto query = ParseQuery(request.query);
    if (!query.ok()) return {};
    for (const auto& [name, value] : *query)
      if (name == "customer") return value;
  }
  return {};
}

Router::Router(const Services& services, RouterOptions options)
    : services_(services),
      options_(options),
      sessions_(options.clock),
      ip_limiter_(services.rate_limits.ip_per_second, services.rate_limits.ip_burst, services.rate_limits.max_buckets),
      key_limiter_(services.rate_limits.key_per_second, services.rate_limits.key_burst,
                   services.rate_limits.max_buckets) {
  CHECK(services_.ingestor != nullptr) << "Services::ingestor is required";
  CHECK(services_.customers != nullptr) << "Services::customers is required";
  if (services_.metrics == nullptr) services_.metrics = metrics::Registry::Default();
  if (options_.clock == nullptr) options_.clock = Clock::Real();
  ingest_ = std::make_unique<IngestHandler>(&services_, options_.clock);
  customers_ = std::make_unique<CustomerHandler>(&services_);
  admin_ = std::make_unique<AdminHandler>(&services_);
  request_bytes_ = services_.metrics->GetHistogram("cairn_http_request_bytes", "HTTP request body sizes in bytes.",
                                                   metrics::ExponentialBounds(256, 4, 10));
  preflight_seconds_ = SecondsHistogram("preflight");
  unmatched_seconds_ = SecondsHistogram("unmatched");
  static_seconds_ = SecondsHistogram("static");
  BuildTable();
}

Router::~Router() = default;

// The route table. Every path the server answers is listed here.
void Router::BuildTable() {
  using ingest::Dialect;
  using store::MessageType;
  auto ingest = [this](IngestRoute route) {
    return [this, route](ApiRequest request, const Params&, Responder respond) {
      ingest_->Handle(route, std::move(request), std::move(respond));
    };
  };

  // Segment (analytics-node, rudder-sdk-node, the browser SDK): ../shared/INGEST.md.
  Add("POST", "/v1/batch", ingest({Dialect::kSegmentBatch, MessageType::kTrack, false}), Access::kIngest);
  Add("POST", "/v1/b", ingest({Dialect::kSegmentBatch, MessageType::kTrack, false}), Access::kIngest);  // browser
  static constexpr std::pair<std::string_view, MessageType> kSingles[] = {
      {"identify", MessageType::kIdentify}, {"track", MessageType::kTrack}, {"page", MessageType::kPage},
      {"screen", MessageType::kScreen},     {"group", MessageType::kGroup}, {"alias", MessageType::kAlias}};
  for (const auto& [name, type] : kSingles) {
    IngestRoute route{Dialect::kSegmentSingle, type, false};
    Add("POST", fmt::format("/v1/{}", name), ingest(route), Access::kIngest);
    Add("POST", fmt::format("/v1/{}", name.front()), ingest(route), Access::kIngest);  // browser short form: /v1/t
  }

  // PostHog (posthog-node posts /batch/; posthog-js also uses /e/ and /capture/).
  for (std::string_view path : {"/batch", "/e", "/capture"}) {
    Add("POST", path, ingest({Dialect::kPostHogBatch, MessageType::kTrack, true}), Access::kIngest, kPostHog);
  }

  // Customers: agents and admins; personal (audited).
  Add("GET", "/v1/customers/{id}", [this](ApiRequest request, const Params& p, Responder respond) {
    customers_->GetProfile(request, p[0], std::move(respond));
  }, Access::kAgent);
  Add("GET", "/v1/customers/{id}/events", [this](ApiRequest request, const Params& p, Responder respond) {
    customers_->GetEvents(request, p[0], std::move(respond));
  }, Access::kAgent);

  // Analytics queries (analysts; reads sent as POST): docs/analytics.md. QueryHandler is stateless.
  Add("POST", "/v1/query/funnel", [this](ApiRequest r, const Params&, Responder respond) {
    QueryHandler(&services_).Funnel(r, std::move(respond));
  }, Access::kAnalyst, kReadOnly);
  Add("POST", "/v1/query/retention", [this](ApiRequest r, const Params&, Responder respond) {
    QueryHandler(&services_).Retention(r, std::move(respond));
  }, Access::kAnalyst, kReadOnly);
  // Trends, lifecycle, stickiness, paths (analysts): docs/api/insights.md.
  Add("POST", "/v1/query/trends", [this](ApiRequest r, const Params&, Responder respond) {
    InsightsHandler(&services_).Trends(r, std::move(respond));
  }, Access::kAnalyst, kReadOnly);
  Add("POST", "/v1/query/lifecycle", [this](ApiRequest r, const Params&, Responder respond) {
    InsightsHandler(&services_).Lifecycle(r, std::move(respond));
  }, Access::kAnalyst, kReadOnly);
  Add("POST", "/v1/query/stickiness", [this](ApiRequest r, const Params&, Responder respond) {
    InsightsHandler(&services_).Stickiness(r, std::move(respond));
  }, Access::kAnalyst, kReadOnly);
  Add("POST", "/v1/query/paths", [this](ApiRequest r, const Params&, Responder respond) {
    InsightsHandler(&services_).Paths(r, std::move(respond));
  }, Access::kAnalyst, kReadOnly);

  // Cases (agents), agents/limits/SLA settings (agents read, admins change), complaint analysis
  // (analysts): docs/cases.md. Stateless. Cases carry a customer's complaint: their reads are
  // personal (audited, with the case's customer as subject); changes are audited anyway.
  {
    using C = CaseHandler;
    auto c0 = [this](void (C::*fn)(const ApiRequest&, Responder)) {
      return [this, fn](ApiRequest r, const Params&, Responder respond) { (C(&services_).*fn)(r, std::move(respond)); };
    };
    auto c1 = [this](void (C::*fn)(const ApiRequest&, const std::string&, Responder)) {
      return [this, fn](ApiRequest r, const Params& p, Responder respond) {
        (C(&services_).*fn)(r, p[0], std::move(respond));
      };
    };
    Add("POST", "/v1/cases", c0(&C::Open), Access::kAgent);
    Add("GET", "/v1/cases", c0(&C::List), Access::kAgent, kPersonal);
    Add("GET", "/v1/cases/{id}", c1(&C::Get), Access::kAgent, kPersonal);
    Add("PATCH", "/v1/cases/{id}", c1(&C::Update), Access::kAgent);
    Add("POST", "/v1/cases/{id}/transition", c1(&C::Transition), Access::kAgent);
    Add("POST", "/v1/cases/{id}/comments", c1(&C::Comment), Access::kAgent);
    Add("POST", "/v1/cases/{id}/assign", c1(&C::Assign), Access::kAgent);
    Add("POST", "/v1/cases/{id}/approve", c1(&C::Approve), Access::kAgent);
    Add("GET", "/v1/agents", c0(&C::ListAgents), Access::kAgent);
    Add("PUT", "/v1/agents/{id}", c1(&C::PutAgent));
    Add("GET", "/v1/authority-limits", c0(&C::ListLimits), Access::kAgent);
    Add("PUT", "/v1/authority-limits/{level}", c1(&C::PutLimit));
    Add("GET", "/v1/sla/policies", c0(&C::ListPolicies), Access::kAgent);
    Add("PUT", "/v1/sla/policies", c0(&C::PutPolicy));
    Add("GET", "/v1/sla/calendars", c0(&C::ListCalendars), Access::kAgent);
    Add("PUT", "/v1/sla/calendars/{name}", c1(&C::PutCalendar));
    Add("GET", "/v1/sla/escalation", c0(&C::GetEscalation), Access::kAgent);
    Add("PUT", "/v1/sla/escalation", c0(&C::PutEscalation));
    Add("GET", "/v1/complaints/analysis", c0(&C::Analysis), Access::kAnalyst);
  }
  // Surveys: agents record answers, analysts read scores and themes (dto/feedback_dto.h).
  Add("POST", "/v1/feedback/responses", [this](ApiRequest r, const Params&, Responder respond) {
    FeedbackHandler(&services_).Record(r, std::move(respond));
  }, Access::kAgent);
  for (auto [path, kind] : {std::pair{"/v1/feedback/nps", feedback::SurveyKind::kNps},
                            std::pair{"/v1/feedback/csat", feedback::SurveyKind::kCsat},
                            std::pair{"/v1/feedback/ces", feedback::SurveyKind::kCes}}) {
    Add("GET", path, [this, kind = kind](ApiRequest r, const Params&, Responder respond) {
      FeedbackHandler(&services_).Scores(r, kind, std::move(respond));
    }, Access::kAnalyst);
  }
  Add("GET", "/v1/feedback/themes", [this](ApiRequest r, const Params&, Responder respond) {
    FeedbackHandler(&services_).Themes(r, std::move(respond));
  }, Access::kAnalyst);

  // Rescue queue (agents) and the action log (agents read, admins replay): docs/rescue.md,
  // docs/actions.md. Stateless. Decisions and actions name a customer and carry their identities
  // and webhook payloads: reads are personal (audited).
  {
    using R = RescueHandler;
    auto r1 = [this](void (R::*fn)(const ApiRequest&, const std::string&, Responder)) {
      return [this, fn](ApiRequest r, const Params& p, Responder respond) {
        (R(&services_).*fn)(r, p[0], std::move(respond));
      };
    };
    Add("GET", "/v1/rescues", [this](ApiRequest r, const Params&, Responder respond) {
      R(&services_).List(r, std::move(respond));
    }, Access::kAgent, kPersonal);
    Add("GET", "/v1/rescues/{id}", r1(&R::Get), Access::kAgent, kPersonal);
    Add("POST", "/v1/rescues/{id}/act", r1(&R::Act), Access::kAgent);
    Add("POST", "/v1/rescues/{id}/dismiss", r1(&R::Dismiss), Access::kAgent);
    Add("POST", "/v1/rescues/{id}/outcome", r1(&R::Outcome), Access::kAgent);
    Add("GET", "/v1/actions", [this](ApiRequest r, const Params&, Responder respond) {
      ActionHandler(&services_).List(r, false, std::move(respond));
    }, Access::kAgent, kPersonal);
    Add("GET", "/v1/actions/{id}", [this](ApiRequest r, const Params& p, Responder respond) {
      ActionHandler(&services_).Get(r, p[0], std::move(respond));
    }, Access::kAgent, kPersonal);
    Add("POST", "/v1/actions/{id}/replay", [this](ApiRequest r, const Params& p, Responder respond) {
      ActionHandler(&services_).Replay(r, p[0], std::move(respond));
    });
  }

  // A customer's consent ledger (admin; personal): docs/consent.md. Stateless.
  Add("GET", "/v1/customers/{id}/consents", [this](ApiRequest r, const Params& p, Responder respond) {
    ConsentHandler(&services_).Get(r, p[0], std::move(respond));
  });
  Add("PUT", "/v1/customers/{id}/consents", [this](ApiRequest r, const Params& p, Responder respond) {
    ConsentHandler(&services_).Put(r, p[0], std::move(respond));
  });
  // A customer's whole data as one streamed JSON bundle (admin; personal): docs/export.md.
  Add("GET", "/v1/customers/{id}/export", [this](ApiRequest r, const Params& p, Responder respond) {
    ExportHandler(&services_).Get(r, p[0], std::move(respond));
  });

  // Journey map (analysts read, admins change), a customer's journey (agents; personal), the
  // overview (analysts): docs/journey.md. Stateless.
  Add("GET", "/v1/journey-map", [this](ApiRequest r, const Params&, Responder respond) {
    JourneyHandler(&services_).GetMap(r, std::move(respond));
  }, Access::kAnalyst);
  Add("PUT", "/v1/journey-map", [this](ApiRequest r, const Params&, Responder respond) {
    JourneyHandler(&services_).PutMap(r, std::move(respond));
  });
  Add("GET", "/v1/customers/{id}/journey", [this](ApiRequest r, const Params& p, Responder respond) {
    JourneyHandler(&services_).GetJourney(r, p[0], std::move(respond));
  }, Access::kAgent);
  Add("GET", "/v1/journey/overview", [this](ApiRequest r, const Params&, Responder respond) {
    JourneyHandler(&services_).Overview(r, std::move(respond));
  }, Access::kAnalyst);
  Add("GET", "/v1/journey/segments", [this](ApiRequest r, const Params&, Responder respond) {
    JourneyHandler(&services_).Segments(r, std::move(respond));
  }, Access::kAnalyst);

  // Customer value (admins refit, analysts read the summary, agents a customer's): docs/value.md.
  Add("POST", "/v1/value/fit", [this](ApiRequest r, const Params&, Responder respond) {
    ValueHandler(&services_).Fit(r, std::move(respond));
  });
  Add("GET", "/v1/value/summary", [this](ApiRequest r, const Params&, Responder respond) {
    ValueHandler(&services_).Summary(r, std::move(respond));
  }, Access::kAnalyst);
  Add("GET", "/v1/value/personas", [this](ApiRequest r, const Params&, Responder respond) {
    ValueHandler(&services_).Personas(r, std::move(respond));
  }, Access::kAnalyst);
  Add("GET", "/v1/customers/{id}/value", [this](ApiRequest r, const Params& p, Responder respond) {
    ValueHandler(&services_).GetCustomer(r, p[0], std::move(respond));
  }, Access::kAgent);

  // Goals, budgets, activities and the dashboard overview (analysts read, admins change):
  // docs/dashboard.md.
  {
    using D = DashboardHandler;
    auto d0 = [this](void (D::*m)(const ApiRequest&, Responder)) {
      return [this, m](ApiRequest r, const Params&, Responder respond) { (D(&services_).*m)(r, std::move(respond)); };
    };
    auto d1 = [this](void (D::*m)(const ApiRequest&, const std::string&, Responder)) {
      return [this, m](ApiRequest r, const Params& p, Responder respond) {
        (D(&services_).*m)(r, p[0], std::move(respond));
      };
    };
    Add("GET", "/v1/goals", d0(&D::ListGoals), Access::kAnalyst);
    Add("POST", "/v1/goals", d0(&D::CreateGoal));
    Add("GET", "/v1/goals/{id}", d1(&D::GetGoal), Access::kAnalyst);
    Add("PUT", "/v1/goals/{id}", d1(&D::UpdateGoal));
    Add("DELETE", "/v1/goals/{id}", d1(&D::DeleteGoal));
    Add("GET", "/v1/budgets", d0(&D::ListBudgets), Access::kAnalyst);
    Add("POST", "/v1/budgets", d0(&D::CreateBudget));
    Add("PUT", "/v1/budgets/{id}", d1(&D::UpdateBudget));
    Add("DELETE", "/v1/budgets/{id}", d1(&D::DeleteBudget));
    Add("GET", "/v1/activities", d0(&D::ListActivities), Access::kAnalyst);
    Add("POST", "/v1/activities", d0(&D::CreateActivity));
    Add("PUT", "/v1/activities/{id}", d1(&D::UpdateActivity));
    Add("DELETE", "/v1/activities/{id}", d1(&D::DeleteActivity));
    Add("GET", "/v1/dashboard", d0(&D::Overview), Access::kAnalyst);
  }

  // Erasure (admin): docs/erasure.md. Stateless.
  Add("DELETE", "/v1/customers/{id}", [this](ApiRequest r, const Params& p, Responder respond) {
    EraseHandler(&services_).Erase(r, p[0], std::move(respond));
  });
  Add("GET", "/v1/erasures/{id}", [this](ApiRequest r, const Params& p, Responder respond) {
    EraseHandler(&services_).Get(r, p[0], std::move(respond));
  });

  // An online backup into the configured backup directory (admin): docs/reliability.md.
  Add("POST", "/v1/admin/backup", [this](ApiRequest r, const Params&, Responder respond) {
    BackupHandler(&services_).Create(r, std::move(respond));
  });

  // Operations (no key: see admin_handler.h).
  // The web dashboard, embedded (static_assets.h); other client-side routes: Dispatch's fallback.
  Add("GET", "/", [](ApiRequest r, const Params&, Responder respond) { respond(ServeStaticAsset(r)); },
      Access::kPublic);
  Add("GET", "/assets/{file}", [](ApiRequest r, const Params&, Responder respond) { respond(ServeStaticAsset(r)); },
      Access::kPublic);
  Add("GET", "/healthz", [this](ApiRequest r, const Params&, Responder respond) { admin_->Healthz(r, std::move(respond)); },
      Access::kPublic);
  Add("GET", "/readyz", [this](ApiRequest r, const Params&, Responder respond) { admin_->Readyz(r, std::move(respond)); },
      Access::kPublic);
  Add("GET", "/metrics", [this](ApiRequest r, const Params&, Responder respond) { admin_->Metrics(r, std::move(respond)); },
      Access::kPublic);

  // Keys (admin), the audit log (admin), the dashboard's login session (public: the handlers
  // check the key or cookie themselves), the route table (admin): docs/access.md.
  Add("GET", "/v1/keys", [this](ApiRequest r, const Params&, Responder respond) {
    KeyHandler(&services_).List(r, std::move(respond));
  });
  Add("POST", "/v1/keys", [this](ApiRequest r, const Params&, Responder respond) {
    KeyHandler(&services_).Create(r, std::move(respond));
  });
  Add("DELETE", "/v1/keys/{id}", [this](ApiRequest r, const Params& p, Responder respond) {
    KeyHandler(&services_).Revoke(r, p[0], std::move(respond));
  });
  Add("GET", "/v1/audit", [this](ApiRequest r, const Params&, Responder respond) {
    AuditHandler(&services_).Query(r, std::move(respond));
  });
  Add("POST", "/v1/session", [this](ApiRequest r, const Params&, Responder respond) { Login(r, std::move(respond)); },
      Access::kPublic);
  Add("GET", "/v1/session",
      [this](ApiRequest r, const Params&, Responder respond) { CurrentSession(r, std::move(respond)); },
      Access::kPublic);
  Add("DELETE", "/v1/session", [this](ApiRequest r, const Params&, Responder respond) { Logout(r, std::move(respond)); },
      Access::kPublic);
  Add("GET", "/v1/routes", [this](ApiRequest, const Params&, Responder respond) { ListRoutes(std::move(respond)); });

  // Test-only switches.
  if (options_.enable_test_endpoints) {
    Add("POST", "/v1/admin/test/fail-next", [this](ApiRequest r, const Params&, Responder respond) {
      ingest_->HandleFailNext(r, std::move(respond));
    });
  }
}

void Router::Add(std::string method, std::string_view pattern, Handler handler, Access access, unsigned flags) {
  Route route;
  route.method = std::move(method);
  route.name = std::string(pattern);
  for (std::string_view s : SplitPath(pattern)) route.segments.emplace_back(s);
  route.access = access;
  // A customer's own data: audited by declaration of the path, so new routes cannot forget it.
  if (pattern.starts_with("/v1/customers/{")) flags |= kPersonal;
  route.flags = flags;
  route.handler = std::move(handler);
  route.seconds = SecondsHistogram(route.name);
  routes_.push_back(std::move(route));
}

std::vector<RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) out.push_back({r.method, r.name, r.access, r.flags});
  return out;
}

metrics::Histogram* Router::SecondsHistogram(const std::string& route_name) {
  return services_.metrics->GetHistogram("cairn_http_request_seconds",
                                         "HTTP request latency in seconds, request read to response ready.",
                                         SecondsBounds(), fmt::format("route=\"{}\"", route_name));
}

const Router::Route* Router::Find(std::string_view method, std::string_view path, Params* params,
                                  std::string* allowed, Status* param_error) const {
  std::vector<std::string_view> segments = SplitPath(path);
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      match = IsParam(route.segments[i]) ? !segments[i].empty() : route.segments[i] == segments[i];
    }
    if (!match) continue;
    if (route.method != method) {
      if (allowed->find(route.method) == std::string::npos) {
        if (!allowed->empty()) *allowed += ", ";
        *allowed += route.method;
      }
      continue;
    }
    params->clear();
    for (size_t i = 0; i < segments.size(); ++i) {
      if (!IsParam(route.segments[i])) continue;
      auto decoded = PercentDecode(segments[i]);
      if (!decoded.ok()) {
        *param_error = decoded.status().WithContext(fmt::format("path parameter {}", route.segments[i]));
        return &route;
      }
      params->push_back(std::move(decoded).value());
    }
    return &route;
  }
  return nullptr;
}

Responder Router::Instrument(const ApiRequest& request, const std::string& route_name, metrics::Histogram* seconds,
                             Responder respond) const {
  const bool cors = IsCorsPath(request.path);
  // Only the Origin is needed from the request (which the handler consumes).
  ApiRequest origin_only;
  if (cors && request.HasHeader("origin")) origin_only.headers.emplace_back("origin", request.Header("origin"));
  // The answer may come after the router is gone (an Ingestor calling `done` after Stop() gave
  // up on the request): capture only what outlives the router, never `this`.
  return [registry = services_.metrics, clock = options_.clock, cors, origin_only = std::move(origin_only), route_name,
          seconds, start_ns = options_.clock->MonotonicNanos(), respond = std::move(respond)](ApiResponse response) {
    if (cors) AddCorsOrigin(origin_only, &response);
    registry
        ->GetCounter(std::string(kRequestsTotal), "HTTP requests answered, by route and status code.",
                     fmt::format("route=\"{}\",code=\"{}\"", route_name, response.status))
        ->Inc();
    seconds->Observe(static_cast<double>(clock->MonotonicNanos() - start_ns) / 1e9);
    respond(std::move(response));
  };
}

void Router::Dispatch(ApiRequest request, Responder respond) const {
  request_bytes_->Observe(static_cast<double>(request.body.size()));
  if (request.method == "OPTIONS" && IsCorsPath(request.path)) {
    Responder r = Instrument(request, "preflight", preflight_seconds_, std::move(respond));
    return r(PreflightResponse(request));
  }
  Params params;
  std::string allowed;
  Status param_error;
  const Route* route = Find(request.method, request.path, &params, &allowed, &param_error);
  if (route == nullptr && allowed.empty() && request.method == "GET" && !request.path.starts_with("/v1/")) {
    // Not an API path: a dashboard file or client-side route (index.html), else a 404.
    Responder r = Instrument(request, "static", static_seconds_, std::move(respond));
    return r(ServeStaticAsset(request));
  }
  if (route == nullptr) {
    Responder r = Instrument(request, "unmatched", unmatched_seconds_, std::move(respond));
    if (allowed.empty()) return r(JsonError(404, fmt::format("no route for {} {}", request.method, request.path)));
    ApiResponse response = JsonError(405, fmt::format("method {} not allowed on {}; allowed: {}", request.method,
                                                      request.path, allowed));
    response.SetHeader("Allow", allowed);
    return r(std::move(response));
  }
  Responder r = Instrument(request, route->name, route->seconds, std::move(respond));
  if (!param_error.ok()) return r(ErrorFromStatus(param_error));
  if (route->access != Access::kIngest && !request.remote.empty() && route->name != "/healthz" &&
      route->name != "/readyz") {
    // Before authentication: a client guessing keys is slowed down like any other.
    if (int64_t wait = ip_limiter_.Take(request.remote, options_.clock->MonotonicNanos())) {
      return r(TooManyRequests("this client address", wait));
    }
  }
  if (route->access != Access::kPublic && route->access != Access::kIngest) {
    auto principal = Authenticate(request, *route);
    if (!principal.ok()) return r(ErrorFromStatus(principal.status()));
    const std::string bucket = principal->key_id != 0 ? fmt::format("k{}", principal->key_id) : principal->key_name;
    if (int64_t wait = key_limiter_.Take(bucket, options_.clock->MonotonicNanos())) {
      return r(TooManyRequests("this key", wait));
    }
    const bool read = request.method == "GET" || request.method == "HEAD";
    if (services_.access != nullptr &&
        ((route->flags & kPersonal) || (!read && !(route->flags & kReadOnly) && principal->role >= Role::kAgent))) {
      r = Audited(request, *route, params, *std::move(principal), std::move(r));
    }
  }
  // A handler that throws is a bug; it must not take the I/O thread (and the process) with it.
  try {
    route->handler(std::move(request), params, r);
  } catch (const std::exception& e) {
    LOG_EVERY_N_SEC(kError, 10, "{}: handler threw: {}", route->name, e.what());
    r(JsonError(500, "internal error"));
  }
}

Result<Principal> Router::Authenticate(const ApiRequest& request, const Route& route) const {
  Principal principal;
  std::string_view authorization = request.Header("authorization");
  std::string_view cookie = CookieValue(request.Header("cookie"), kSessionCookie);
  if (!authorization.empty() || cookie.empty()) {
    // A Bearer key wins over a cookie: API clients may carry a stale dashboard cookie.
    ASSIGN_OR_RETURN(principal, AuthenticateBearer(authorization, services_));
  } else {
    std::optional<LoginSession> session = sessions_.Find(cookie);
    if (!session || (services_.access != nullptr && !services_.access->KeyActive(session->principal.key_id))) {
      return Unauthenticated("the session has expired or was ended; log in again");
    }
    if (request.method != "GET" && request.method != "HEAD" &&
        !SecureEquals(request.Header("x-csrf-token"), session->csrf)) {
      return PermissionDenied("missing or wrong CSRF token (send the X-CSRF-Token header from POST /v1/session)");
    }
    principal = std::move(session->principal);
  }
  if (!Allows(route.access, principal.role)) {
    if (principal.role == Role::kWrite) {
      return PermissionDenied(fmt::format("a write key may only ingest; this endpoint needs the {} role",
                                          RoleName(RequiredRole(route.access))));
    }
    return PermissionDenied(fmt::format("this endpoint needs the {} role; the key '{}' has role {}",
                                        RoleName(RequiredRole(route.access)), principal.key_name,
                                        RoleName(principal.role)));
  }
  return principal;
}

Responder Router::Audited(const ApiRequest& request, const Route& route, const Params& params, Principal principal,
                          Responder respond) const {
  AuditEntry entry;
  entry.actor_key_id = principal.key_id;
  entry.actor_name = std::move(principal.key_name);
  entry.actor_role = std::string(RoleName(principal.role));
  entry.session = std::move(principal.session);
  entry.method = request.method;
  entry.route = route.name;
  // The subject, never the id as requested (docs/access.md), resolved before the handler runs:
  // an erasure hides the customer before it answers.
  entry.customer = services_.access->AuditSubject(AuditReference(request, route, params));
  // The answer may come after the router is gone: capture the service (it outlives the server).
  return [access = services_.access, personal = (route.flags & kPersonal) != 0, entry = std::move(entry),
          respond = std::move(respond)](ApiResponse response) mutable {
    entry.status = response.status;
    Status s = access->Audit(entry);
    if (!s.ok()) {
      LOG_EVERY_N_SEC(kError, 10, "audit log: cannot record {} {}: {}", entry.method, entry.route, s.ToString());
      // Personal data is not handed out unrecorded. A change has already happened: its answer
      // stands (and the error is logged).
      if (personal && response.status < 300) {
        response = JsonError(503, "the audit log is not available; personal data is not served without it");
        response.SetHeader("Retry-After", "5");
      }
    }
    respond(std::move(response));
  };
}

void Router::RejectOversize(const ApiRequest& head, size_t limit, Responder respond) const {
  Params params;
  std::string allowed;
  Status param_error;
  const Route* route = Find(head.method, head.path, &params, &allowed, &param_error);
  Responder r = route ? Instrument(head, route->name, route->seconds, std::move(respond))
                      : Instrument(head, "unmatched", unmatched_seconds_, std::move(respond));
  const unsigned status = route && (route->flags & kPostHog) ? 413 : 400;
  r(JsonError(status, fmt::format("request body is over the limit of {} bytes", limit)));
}

ApiResponse Router::Malformed(unsigned status, std::string_view message) const {
  services_.metrics
      ->GetCounter(std::string(kRequestsTotal), "HTTP requests answered, by route and status code.",
                   fmt::format("route=\"malformed\",code=\"{}\"", status))
      ->Inc();
  ApiResponse response = JsonError(status, message);
  response.close = true;
  return response;
}

}  // namespace cairn::api
