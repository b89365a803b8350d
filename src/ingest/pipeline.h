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

// A request parsed and authenticated, ready to commit.
struct PreparedRequest {
  uint32_t source = 0;
  ParsedRequest parsed;
};

class IngestPipeline final : public Ingestor {
 public:
  // Resolves a write key to its source id; nullopt when the key is unknown or revoked.
  using KeyLookup = std::function<std::optional<uint32_t>(std::string_view key)>;

  // `store` and `identity` must outlive the pipeline.
  IngestPipeline(PipelineOptions options, store::Store* store, IdentityResolver* identity, KeyLookup keys,
                 metrics::Registry* metrics = nullptr);

  void Ingest(IngestRequest request, Done done) override;

  // Ingest in two steps, for bulk loaders that parse on several threads but must keep their
  // input's order (`cairn import`): Prepare (authenticate, decode, parse; thread-safe, no shared
  // state touched) then Commit (de-dup, identity, append; requests commit in the order Commit is
  // called). Ingest(r, done) is Commit(Prepare(r), done), with Prepare's error given to done.
  // With `kept_body`, the decoded body is moved there when Prepare returns, parsed or not (left
  // empty when decoding failed): a bulk loader that may have to send an unencoded body again keeps
  // it without copying it first.
  Result<PreparedRequest> Prepare(IngestRequest request, std::string* kept_body = nullptr);
  void Commit(PreparedRequest prepared, Done done);

  // Seeds de-duplication from a snapshot of the store at startup: the keys of the newest
  // `dedup_capacity` interactions by seq (arrival), remembered oldest first — what the table would
  // hold had the server never stopped. (A snapshot visits rows by customer, not by arrival: seeding
  // in that order kept whichever customers came last and forgot messages sent just before the
  // restart, the ones a client is most likely to retry.) Returns how many keys were seeded. Costs one
  // scan of the seq column, the source and message_id columns of the rows in range only
  // (NewestMessageKeys, dedup_seed.h), and 16 bytes per seeded key while it sorts them (64 MiB at
  // the default 4M keys, freed before it returns).
  Result<size_t> SeedFromStore(const store::Snapshot& snapshot);

  // Erasure (docs/erasure.md): forgets the de-dup keys of erased interactions, so nothing derived
  // from them stays in memory (and a re-sent message is new data, not a "duplicate" of nothing).
  void Forget(const std::vector<std::pair<uint32_t, std::string>>& source_and_message_ids);
  // Suppression: `suppressed(key)` is asked for each identity key ("u:..", "a:..", "e:..", "p:..",
  // normalised) of every message; true refuses the message (listed in the outcome's rejected with
  // reason "suppressed: ...", counted in cairn_ingest_rejected_total{reason="suppressed"}); the
  // rest of the batch goes on. Called under the sequencing lock: must be quick and thread-safe.
  // Set once at wiring, before ingest starts. Default: none.
  void SetSuppression(std::function<bool(std::string_view key)> suppressed);

 private:
  const PipelineOptions options_;
  store::Store* const store_;
  IdentityResolver* const identity_;
  const KeyLookup keys_;

  void ForgetFailedLocked();
  IdentityResolver::KeyFilter suppressed_;  // guarded by mu_

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
