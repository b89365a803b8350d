#pragma once
// IngestHandler: the Segment and PostHog collection routes. Each request becomes one
// ingest::IngestRequest (dialect and type from the route, body moved, Content-Encoding, the Basic
// write key, received_at from the clock) and one Ingestor::Ingest call; the answer is sent from
// the Ingestor's `done`, on whatever thread that runs. Ingest() itself is called on an I/O thread,
// so it must not block on the disk: durability waits belong before `done`, not before returning.
//
//   200 {"success":true,"accepted":N,"duplicates":D,"rejected":[{"index":i,"error":"…"}]}
//   4xx/5xx {"success":false,"error":"…"} as status_to_http maps the Ingestor's status (413
//   instead of 400 for an oversize body on the PostHog routes).
// Content-Type is ignored: clients send JSON labelled text/plain or form-urlencoded.
//
// Test switch (only routed when the server enables test endpoints): FailNext(n) makes the next n
// ingest requests answer 503 with Retry-After: 1 without calling the Ingestor, so client retry
// behaviour can be tested against the real server.
//
// Thread-safe; Handle may run concurrently on every I/O thread.

#include <atomic>
#include <cstdint>

#include "api/http_types.h"
#include "api/services.h"
#include "base/clock.h"
#include "base/metrics.h"
#include "ingest/ingestor.h"

namespace cairn::api {

struct IngestRoute {
  ingest::Dialect dialect = ingest::Dialect::kSegmentBatch;
  store::MessageType single_type = store::MessageType::kTrack;  // kSegmentSingle only
  bool posthog = false;  // answer an oversize body with 413 (PostHog halves its batch on 413)
};

class IngestHandler {
 public:
  // `services` (ingestor, metrics) and `clock` must outlive the handler.
  IngestHandler(const Services* services, Clock* clock);

  void Handle(const IngestRoute& route, ApiRequest request, Responder respond);

  // POST /v1/admin/test/fail-next?count=N (admin, checked by the router; N defaults to 1, at most 1000000).
  void HandleFailNext(const ApiRequest& request, Responder respond);

  void FailNext(uint64_t count) { fail_next_.store(count, std::memory_order_relaxed); }

 private:
  bool TakeInjectedFailure();

  const Services* services_;
  Clock* clock_;
  metrics::Histogram* batch_messages_;  // messages per request (accepted + rejected)
  std::atomic<uint64_t> fail_next_{0};
};

}  // namespace cairn::api
