#pragma once
// IngestPipeline: the Ingestor behind every ingest route and `cairn import`.
//
//   body ──DecodeBody──▶ JSON ──ParseRequest──▶ messages ──auth──▶ (sequencing lock:
//   de-dup, identity, seq) ──Store::Append──▶ WAL group commit ──▶ done(accepted, rejected)
//
// Parsing runs on the caller's thread (the HTTP I/O threads), so it scales with cores; only
// de-duplication, identity resolution and seq assignment run under one lock, which is what keeps
// identity decisions and the WAL in the same order (see IdentityResolver).
//
// Thread-safety: Ingest() is thread-safe.

#include <functional>
#include <mutex>
#include <optional>

#include "base/clock.h"
#include "base/metrics.h"
#include "ingest/dedup_table.h"
#include "ingest/identity_resolver.h"
#include "ingest/ingestor.h"
#include "ingest/parser.h"
#include "store/store.h"

namespace cairn::ingest {

struct PipelineOptions {
  ParseOptions parse;
  // Largest decoded (gunzipped) request body. Default 1 MiB.
  size_t max_request_bytes = 1u << 20;
  // Message keys remembered for de-duplication (24 bytes each). Default 4M (~100 MiB).
  size_t dedup_capacity = 4u << 20;
};

class IngestPipeline final : public Ingestor {
 public:
  // Resolves a write key to its source id; nullopt when the key is unknown or revoked.
  using KeyLookup = std::function<std::optional<uint32_t>(std::string_view key)>;

  // `store` and `identity` must outlive the pipeline.
  IngestPipeline(PipelineOptions options, store::Store* store, IdentityResolver* identity, KeyLookup keys,
                 metrics::Registry* metrics = nullptr);

  void Ingest(IngestRequest request, Done done) override;

  // Seeds de-duplication with keys already stored (at startup, oldest first).
  void RememberStored(uint32_t source, std::string_view message_id);

 private:
  const PipelineOptions options_;
  store::Store* const store_;
  IdentityResolver* const identity_;
  const KeyLookup keys_;

  void ForgetFailedLocked();

  std::mutex mu_;       // the sequencing lock
  DedupTable dedup_;    // guarded by mu_
  std::mutex forget_mu_;
  std::vector<uint64_t> forget_;  // guarded by forget_mu_: keys of batches that failed to persist

  metrics::Counter* accepted_;
  metrics::Counter* duplicates_;
  metrics::Counter* bytes_;
  metrics::Histogram* batch_sizes_;
  metrics::Registry* metrics_;
  metrics::Counter* Rejected(std::string_view reason);
};

}  // namespace cairn::ingest
