#pragma once
// Engine: the QueryService over a live (or read-only opened) Store. Owns the IndexCache, so the
// columnar index is built once per snapshot and shared by the queries on it.
//
// Thread-safety: all methods are thread-safe. The store must outlive the engine.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "analytics/exec/event_index.h"
#include "analytics/query_service.h"
#include "base/metrics.h"

namespace cairn::analytics {

struct EngineOptions {
  // The time limit and parallelism callers should give QueryContext (the engine does not override
  // the context it is handed). Default 30 s; threads 0 = every hardware thread.
  int64_t default_time_limit_ms = 30'000;
  unsigned threads = 0;
  metrics::Registry* metrics = nullptr;    // default: metrics::Registry::Default()
  // Canonical customers left out of every query (exec/event_index.h CustomerFilter), e.g. those
  // whose `analytics` consent is denied or withdrawn (app/consent_wiring.cc). Default: nobody.
  // Asked when the index is built, and at extension for customers with new rows or merges; when
  // its answer changes for someone without new rows, call Invalidate().
  CustomerFilter excluded;
  // Asked before every query: true when `excluded`'s answers may have changed for customers
  // without new rows (a consent set through the API); the cached index is then rebuilt.
  // Default: never.
  std::function<bool()> excluded_changed;
  // The canonical customers whose persona and lifecycle stage now are the segment's (its
  // `persona` / `lifecycle`; an empty field is any; `channel` is the engine's own), in any order.
  // Set by app/ from the journey engine. Unset: a segment naming a persona or lifecycle stage is
  // FailedPrecondition. Called at most once per segment every `segment_ttl_ms`.
  std::function<Result<std::vector<store::CustomerId>>(const Segment&)> segment_members;
  // How long a segment's index is reused for the same snapshot (journey state moves without new
  // interactions: dwell timers, value refits). Default 5 s.
  int64_t segment_ttl_ms = 5'000;
};

class Engine final : public QueryService {
 public:
  Engine(store::Store* store, Canonicalizer canonical, EngineOptions options = {});

  Result<FunnelResult> Funnel(const FunnelSpec& spec, const QueryContext& ctx) override;
  Result<RetentionResult> Retention(const RetentionSpec& spec, const QueryContext& ctx) override;
  // trends_engine.cc: the index from the cache, then exec/{trends,lifecycle,stickiness,paths}.
  Result<TrendsResult> Trends(const TrendsSpec& spec, const QueryContext& ctx) override;
  Result<LifecycleResult> Lifecycle(const LifecycleSpec& spec, const QueryContext& ctx) override;
  Result<StickinessResult> Stickiness(const StickinessSpec& spec, const QueryContext& ctx) override;
  Result<PathsResult> Paths(const PathsSpec& spec, const QueryContext& ctx) override;

  // The current index (built or reused); for other query kinds in this module and for tests.
  // Every query takes its index here. Sets the gauge cairn_analytics_index_rows.
  Result<IndexCache::Entry> Index(const QueryContext& ctx);
  // Builds the index now, so that the first query does not wait for a full scan of the store
  // (`cairn serve` calls it on a background thread at start: config query_warm_at_start). Not
  // counted as a query. Stops early, with ctx's error, once ctx is cancelled.
  Status Warm(const QueryContext& ctx);
  // Drops the cached index (and the snapshot it holds): the next query rebuilds from a new
  // snapshot. After an erasure, which removes rows without advancing the store's seq.
  void Invalidate() {
    cache_.Invalidate();
    std::lock_guard lock(segments_mu_);
    segments_.clear();
  }
  const EngineOptions& options() const { return options_; }

  // The index a query with this segment runs on: Index() itself for the empty segment, else the
  // subset of its customers in the segment (spec/segment.h; EventIndex::Subset), cached per
  // (snapshot seq, segment) for segment_ttl_ms. An unknown persona, stage or channel is an empty
  // segment (zero counts), not an error.
  Result<IndexCache::Entry> IndexFor(const Segment& segment, const QueryContext& ctx);

 private:
  // Runs one query (fn returns its Result) and counts it: cairn_analytics_queries_total and the
  // latency histogram; a query stopped by ctx also in cairn_analytics_queries_cancelled_total
  // (client gone) or cairn_analytics_queries_timed_out_total (time limit).
  template <typename Fn>
  auto Counted(const QueryContext& ctx, Fn&& fn) {
    const int64_t t0 = ctx.clock()->MonotonicNanos();
    auto r = fn();
    Count(ctx, t0, r.status());
    return r;
  }
  void Count(const QueryContext& ctx, int64_t t0_nanos, const Status& status);

  struct SegmentEntry {
    std::string key;
    int64_t made_ms = 0;
    IndexCache::Entry entry;
  };
  const EngineOptions options_;
  IndexCache cache_;
  std::mutex segments_mu_;
  std::vector<SegmentEntry> segments_;  // guarded by segments_mu_; newest last, at most 8
  metrics::Counter* queries_ = nullptr;
  metrics::Counter* cancelled_ = nullptr;
  metrics::Counter* timed_out_ = nullptr;
  metrics::Histogram* seconds_ = nullptr;
  metrics::Gauge* index_rows_ = nullptr;
};

}  // namespace cairn::analytics
