#pragma once
// Ingestor: the one core entry point for interactions arriving over HTTP or from `cairn import`.
// It decodes the body (gzip, size caps), parses the request's dialect, authenticates the write
// key, drops duplicates, resolves identities and hands the batch to the store; `done` runs once
// the accepted interactions are durable (in the WAL and synced) or have failed.
//
// The API layer maps the outcome: OK → 200 with counts; InvalidArgument → 400 naming what is
// wrong; ResourceExhausted (body over the size limit) → 400 (413 for PostHog); Unauthenticated →
// 401; Unavailable (store behind, disk full, test switch) → 503/429 with Retry-After.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/interaction.h"

namespace cairn::ingest {

// Which wire shape a request has (../shared/INGEST.md).
enum class Dialect : uint8_t {
  kSegmentBatch,   // POST /v1/batch, /v1/b  {batch:[...], writeKey?, sentAt?, context?, integrations?}
  kSegmentSingle,  // POST /v1/{identify,track,page,screen,group,alias} and /v1/{i,t,p,s,g,a}
  kPostHogBatch,   // POST /batch/  {api_key, batch:[{event, distinct_id, properties, timestamp, uuid}], sent_at}
  kJsonLines,      // `cairn import`: one Segment message per line (no envelope); not an HTTP path
};

struct IngestRequest {
  Dialect dialect = Dialect::kSegmentBatch;
  // For kSegmentSingle: the type implied by the path (a message's own "type" must agree if given).
  store::MessageType single_type = store::MessageType::kTrack;
  std::string body;              // raw request body, possibly gzip
  std::string content_encoding;  // the Content-Encoding header value ("" if absent)
  std::string header_write_key;  // from `Authorization: Basic base64(key:)`, "" if absent
  int64_t received_at_ms = 0;    // arrival time (the API stamps it)
  // Import only: no limit on how far in the past timestamps may be.
  bool historical = false;
  // In-process callers (`cairn import` on a stopped data dir) name their source directly; no key
  // is checked. Never set from network input.
  std::optional<uint32_t> trusted_source;
};

struct Rejection {
  size_t index = 0;   // position of the message in the request's batch (0 for single messages)
  std::string error;  // names the field and what is wrong
};

struct IngestOutcome {
  size_t accepted = 0;    // durable now, duplicates included (a client's retry is a success)
  size_t duplicates = 0;  // of accepted: already stored earlier (same source and messageId)
  std::vector<Rejection> rejected;
};

class Ingestor {
 public:
  using Done = std::function<void(Result<IngestOutcome>)>;
  virtual ~Ingestor() = default;
  // Thread-safe. Calls `done` exactly once, possibly on another thread, possibly before returning.
  virtual void Ingest(IngestRequest request, Done done) = 0;
};

}  // namespace cairn::ingest
