#include "ingest/pipeline.h"

#include <algorithm>

#include "base/logging.h"
#include "ingest/body_decoder.h"
#include "ingest/dedup_seed.h"

namespace cairn::ingest {

IngestPipeline::IngestPipeline(PipelineOptions options, store::Store* store, IdentityResolver* identity,
                               KeyLookup keys, metrics::Registry* metrics)
    : options_(std::move(options)), store_(store), identity_(identity), keys_(std::move(keys)),
      dedup_(options_.dedup_capacity), metrics_(metrics ? metrics : metrics::Registry::Default()) {
  accepted_ = metrics_->GetCounter("cairn_ingest_accepted_total", "Interactions accepted (durable)");
  duplicates_ = metrics_->GetCounter("cairn_ingest_duplicates_total", "Interactions recognised as retries and not stored again");
  bytes_ = metrics_->GetCounter("cairn_ingest_bytes_total", "Decoded request body bytes");
  batch_sizes_ = metrics_->GetHistogram("cairn_ingest_request_messages", "Messages per ingest request",
                                        metrics::ExponentialBounds(1, 4, 7));
}

metrics::Counter* IngestPipeline::Rejected(std::string_view reason) {
  return metrics_->GetCounter("cairn_ingest_rejected_total", "Messages or requests rejected, by reason",
                              "reason=\"" + std::string(reason) + "\"");
}

Result<size_t> IngestPipeline::SeedFromStore(const store::Snapshot& snapshot) {
  ASSIGN_OR_RETURN(std::vector<uint64_t> keys, NewestMessageKeys(snapshot, dedup_.capacity()));
  std::lock_guard lock(mu_);
  for (uint64_t key : keys) dedup_.Insert(key);
  return keys.size();
}

void IngestPipeline::Forget(const std::vector<std::pair<uint32_t, std::string>>& source_and_message_ids) {
  std::lock_guard lock(mu_);
  for (const auto& [source, id] : source_and_message_ids) dedup_.Erase(MessageKey(source, id));
}

void IngestPipeline::SetSuppression(std::function<bool(std::string_view key)> suppressed) {
  std::lock_guard lock(mu_);
  suppressed_ = std::move(suppressed);
}

void IngestPipeline::Ingest(IngestRequest req, Done done) {
  auto prepared = Prepare(std::move(req));
  if (!prepared.ok()) return done(prepared.status());
  Commit(std::move(*prepared), std::move(done));
}

Result<PreparedRequest> IngestPipeline::Prepare(IngestRequest req, std::string* kept_body) {
  if (kept_body != nullptr) kept_body->clear();
  std::optional<uint32_t> source = req.trusted_source;
  if (!source) source = keys_(req.header_write_key);
  if (!req.trusted_source && !req.header_write_key.empty() && !source) {
    Rejected("auth")->Inc();
    return Unauthenticated("unknown write key");
  }
  auto body = DecodeBody(std::move(req.body), req.content_encoding, options_.max_request_bytes);
  if (!body.ok()) {
    Rejected(body.status().code() == Code::kResourceExhausted ? "too_large" : "bad_body")->Inc();
    return body.status();
  }
  bytes_->Inc(body->size());
  ParseOptions popt = options_.parse;
  popt.historical = req.historical;
  auto parsed = ParseRequest(popt, req.dialect, req.single_type, *body, req.received_at_ms);
  if (kept_body != nullptr) *kept_body = std::move(*body);
  if (!parsed.ok()) {
    Rejected("bad_json")->Inc();
    return parsed.status();
  }
  if (!source) {
    if (parsed->write_key.empty()) {
      Rejected("auth")->Inc();
      return Unauthenticated("missing write key: send it as HTTP Basic auth (key as user name), or as writeKey / api_key in the body");
    }
    source = keys_(parsed->write_key);
    if (!source) {
      Rejected("auth")->Inc();
      return Unauthenticated("unknown write key");
    }
  }
  return PreparedRequest{*source, std::move(*parsed)};
}

void IngestPipeline::Commit(PreparedRequest prepared, Done done) {
  const uint32_t source = prepared.source;
  ParsedRequest& parsed = prepared.parsed;
  batch_sizes_->Observe(static_cast<double>(parsed.messages.size() + parsed.rejected.size()));

  IngestOutcome outcome;
  outcome.rejected = std::move(parsed.rejected);
  if (!outcome.rejected.empty()) Rejected("invalid_message")->Inc(outcome.rejected.size());

  // The request index of each kept message: the parser keeps messages in request order and lists
  // the ones it rejected (ascending by index), so kept message i sits at the i-th unused index.
  std::vector<size_t> index_of(parsed.messages.size());
  {
    std::vector<size_t> rejected_idx;
    for (const auto& r : outcome.rejected) rejected_idx.push_back(r.index);
    std::sort(rejected_idx.begin(), rejected_idx.end());
    size_t r = 0, idx = 0;
    for (size_t i = 0; i < index_of.size(); ++i, ++idx) {
      while (r < rejected_idx.size() && rejected_idx[r] <= idx) {
        if (rejected_idx[r] == idx) ++idx;
        ++r;
      }
      index_of[i] = idx;
    }
  }

  store::Batch batch;
  batch.interactions.reserve(parsed.messages.size());
  auto keys = std::make_shared<std::vector<uint64_t>>();  // de-dup keys this batch takes
  keys->reserve(parsed.messages.size());
  // De-dup keys are hashed here, outside the sequencing lock; under it, each message prefetches
  // the table slot of the one kDedupAhead later, so the table's cache misses (one per message
  // once it outgrows the cache) overlap instead of serialising the lock's holder on each.
  constexpr size_t kDedupAhead = 8;
  std::vector<uint64_t> message_keys(parsed.messages.size());
  for (size_t i = 0; i < parsed.messages.size(); ++i) message_keys[i] = MessageKey(source, parsed.messages[i].message_id);
  Status append_status;
  bool appended = false;
  {
    std::lock_guard lock(mu_);
    ForgetFailedLocked();
    for (size_t i = 0; i < std::min(kDedupAhead, message_keys.size()); ++i) dedup_.Prefetch(message_keys[i]);
    // One resolver lock for the batch's messages, released before Append (the WAL thread's
    // commit listeners read the resolver, and Append may wait for that thread).
    std::optional<IdentityResolver::Batch> resolver(std::in_place, identity_);
    const IdentityResolver::KeyFilter* refuse = suppressed_ ? &suppressed_ : nullptr;
    for (size_t i = 0; i < parsed.messages.size(); ++i) {
      Message& m = parsed.messages[i];
      if (i + kDedupAhead < message_keys.size()) dedup_.Prefetch(message_keys[i + kDedupAhead]);
      const uint64_t key = message_keys[i];
      if (!dedup_.Insert(key)) {
        ++outcome.duplicates;
        continue;
      }
      IdentityInput in{m.type, m.user_id, m.anonymous_id, m.previous_id, m.email, m.phone};
      auto customer = resolver->Resolve(in, &batch.identity_ops, refuse);
      if (!customer.ok() && customer.status().code() == Code::kPermissionDenied) {
        dedup_.Erase(key);
        outcome.rejected.push_back({index_of[i], "suppressed: this customer's data was erased at their request and their ids are refused"});
        Rejected("suppressed")->Inc();
        continue;
      }
      if (!customer.ok()) {
        dedup_.Erase(key);
        outcome.rejected.push_back({index_of[i], std::string(customer.status().message())});
        Rejected("identity")->Inc();
        continue;
      }
      keys->push_back(key);
      store::Interaction row;
      row.customer = *customer;
      row.timestamp_ms = m.timestamp_ms;
      row.received_at_ms = m.received_at_ms;
      row.type = m.type;
      row.source = source;
      row.event = std::move(m.event);
      row.channel = std::move(m.channel);
      row.message_id = std::move(m.message_id);
      row.revenue = m.revenue;
      row.payload = std::move(m.payload);
      batch.interactions.push_back(std::move(row));
    }
    resolver.reset();
    outcome.accepted = batch.interactions.size() + outcome.duplicates;
    if (!batch.interactions.empty() || !batch.identity_ops.empty()) {
      auto shared = std::make_shared<IngestOutcome>(std::move(outcome));
      // The callback runs on the WAL thread: it must not take mu_ (a flush holds the store's
      // append lock while it waits for that thread), so failed keys are queued for forgetting.
      append_status = store_->Append(std::move(batch), [this, shared, keys, done](Status st) {
        if (!st.ok()) {
          {
            std::lock_guard f(forget_mu_);
            forget_.insert(forget_.end(), keys->begin(), keys->end());
          }
          LOG_EVERY_N_SEC(kError, 5, "ingest: batch not durable: {}", st.ToString());
          return done(Unavailable("could not make the interactions durable; retry"));
        }
        accepted_->Inc(shared->accepted - shared->duplicates);
        duplicates_->Inc(shared->duplicates);
        done(std::move(*shared));
      });
      appended = append_status.ok();
      if (!appended)
        for (uint64_t k : *keys) dedup_.Erase(k);
    }
  }
  if (appended) return;  // done runs when the batch is durable
  if (!append_status.ok()) {
    Rejected("backpressure")->Inc();
    // The API answers "back-pressure" Unavailable with 429 + Retry-After (api/status_to_http.h);
    // storage that cannot write (the WAL's failed state) is 503, like a batch that failed to
    // become durable.
    if (append_status.code() == Code::kUnavailable)
      return done(Unavailable("back-pressure: " + std::string(append_status.message()) + "; retry later"));
    if (append_status.code() == Code::kIOError || append_status.code() == Code::kResourceExhausted) {
      LOG_EVERY_N_SEC(kError, 5, "ingest: batch not stored: {}", append_status.ToString());
      return done(Unavailable("could not make the interactions durable; retry"));
    }
    return done(append_status);
  }
  duplicates_->Inc(outcome.duplicates);
  done(std::move(outcome));
}

void IngestPipeline::ForgetFailedLocked() {
  std::vector<uint64_t> forget;
  {
    std::lock_guard f(forget_mu_);
    forget.swap(forget_);
  }
  for (uint64_t k : forget) dedup_.Erase(k);
}

}  // namespace cairn::ingest
