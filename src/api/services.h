#pragma once
// Services: the core objects the HTTP layer calls. app/ builds them and hands them to the server;
// api/ never constructs core objects itself. Every pointer outlives the server.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "api/rate_limit.h"
#include "base/metrics.h"
#include "base/result.h"
#include "base/status.h"
#include "entity/customer_directory.h"
#include "ingest/ingestor.h"

namespace cairn::analytics {
class QueryService;  // analytics/query_service.h
struct Segment;      // analytics/spec/segment.h
}

namespace cairn::cases {
class CaseService;  // cases/case_service.h
}
namespace cairn::feedback {
class FeedbackService;  // feedback/feedback_service.h
}

namespace cairn::rescue {
class RescueService;  // rescue/rescue_service.h
}
namespace cairn::actions {
class ActionService;  // actions/action_service.h
}

namespace cairn::value {
class ValueService;  // value/value_service.h
}

namespace cairn::journey {
class JourneyService;  // journey/journey_service.h
}

namespace cairn::dashboard {
class DashboardService;  // dashboard/dashboard_service.h
}
namespace cairn::store {
class ErasureService;  // store/erasure_service.h
}

namespace cairn::entity {
class ConsentService;  // entity/consent_service.h
}

namespace cairn::api {

class QueryPool;  // api/query_pool.h

// What one online backup wrote (POST /v1/admin/backup; app/backup.h BackupReport).
struct BackupOutcome {
  std::string name;  // the backup's directory name under the configured backup directory
  std::string path;  // where it is
  uint64_t files = 0, bytes = 0, sqlite_dbs = 0, segments = 0, wal_files = 0;
  double elapsed_ms = 0;
};

struct Services {
  ingest::Ingestor* ingestor = nullptr;
  entity::CustomerDirectory* customers = nullptr;
  // Key checks for `Authorization: Bearer KEY` on non-ingest endpoints: an admin key is allowed;
  // a valid write key gets 403; anything else 401. Thread-safe.
  std::function<bool(std::string_view key)> is_admin_key;
  std::function<bool(std::string_view key)> is_write_key;
  // Keys of every role, sessions' key checks, key management (/v1/keys) and the audit log
  // (/v1/audit); optional: without it the router falls back to is_admin_key/is_write_key,
  // /v1/keys and /v1/audit answer 503 and nothing is audited. docs/access.md.
  AccessService* access = nullptr;
  // Per-key and per-IP request rate limits (429 + Retry-After). docs/access.md.
  RateLimitOptions rate_limits;
  metrics::Registry* metrics = nullptr;
  // /readyz: OK when the store is open and accepting; else the reason (503).
  std::function<Status()> ready;
  // Analytics queries (POST /v1/query/funnel|retention); optional: without it those answer 503.
  analytics::QueryService* analytics = nullptr;
  // Time limit of one analytics query in ms (0 = none); over it the query answers 504. Default
  // 30 s (config `query_time_limit_ms`).
  int64_t analytics_time_limit_ms = 30'000;
  // Test-only: every analytics query sleeps this long between chunks (QueryContext::SetTestDelay),
  // so the tests of cancellation and time limits have a slow query on small data. Set by app only
  // with --enable-test-endpoints (CAIRN_TEST_QUERY_DELAY_MS). Default 0.
  int64_t analytics_test_delay_ms = 0;
  // Where analytics queries run (api/query_pool.h): off the I/O threads, bounded; a full pool
  // answers 503 + Retry-After. Optional: without it queries run on the I/O thread that read them.
  QueryPool* query_pool = nullptr;
  // The customers of a segment (analytics/spec/segment.h), canonical ids in any order: the page
  // filters of GET /v1/dashboard, /v1/rescues and /v1/value/summary (api/dto/page_filter.h).
  // app/ sets it from the analytics engine (Engine::IndexFor), so a filtered number counts the
  // customers an analytics query with the same segment counts. Optional: without it a segment
  // answers 409.
  std::function<Result<std::vector<uint64_t>>(const analytics::Segment&)> segment_members;
  // Cases, agents, SLAs (/v1/cases, /v1/agents, /v1/sla/*, /v1/complaints/analysis) and surveys
  // (/v1/feedback/*); optional: without them those routes answer 503.
  cases::CaseService* cases = nullptr;
  feedback::FeedbackService* feedback = nullptr;
  // The rescue queue (/v1/rescues...) and the action log (/v1/actions...); optional: without
  // them those routes answer 503.
  rescue::RescueService* rescues = nullptr;
  actions::ActionService* actions = nullptr;
  // Journey map and state (/v1/journey-map, /v1/customers/{id}/journey, /v1/journey/overview);
  // optional: without it those routes answer 503.
  journey::JourneyService* journey = nullptr;
  // Customer value (/v1/value/fit, /v1/value/summary, /v1/customers/{id}/value); optional:
  // without it those routes answer 503.
  value::ValueService* value = nullptr;
  // Goals, budgets, activities and the dashboard overview (/v1/goals, /v1/budgets,
  // /v1/activities, /v1/dashboard); optional: without it those routes answer 503.
  dashboard::DashboardService* dashboard = nullptr;
  // The consent ledger (GET/PUT /v1/customers/{id}/consents; docs/consent.md); optional: without
  // it those routes answer 503.
  entity::ConsentService* consents = nullptr;
  // One customer's export bundle (GET /v1/customers/{id}/export; docs/export.md): resolves `id`
  // (NotFound before any byte) and returns the producer of its pieces ("" = end), pulled by the
  // server for a chunked answer; optional: without it the route answers 503.
  std::function<Result<std::function<Result<std::string>()>>(const std::string& id)> export_customer;
  // Customer erasure (DELETE /v1/customers/{id}, GET /v1/erasures/{id}; docs/erasure.md);
  // optional: without it those routes answer 503.
  store::ErasureService* erasure = nullptr;
  // Online backups into the configured backup directory (POST /v1/admin/backup;
  // docs/reliability.md "Backup"): starts one named `name` ("" = a name from the time) and
  // returns; `done` is called from the backup's own thread when it is complete. An error Status
  // when it cannot start (InvalidArgument naming the field, FailedPrecondition while another runs,
  // AlreadyExists for a taken name). Optional: without it (no backup_dir) the route answers 503.
  std::function<Status(const std::string& name, std::function<void(Result<BackupOutcome>)> done)> backup;
};

}  // namespace cairn::api
