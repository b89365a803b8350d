#pragma once
// IndexWarmUp: builds the analytics index once, in the background, when `cairn serve` starts
// (config query_warm_at_start, docs/analytics.md "Where a query runs"). Without it the first
// query or dashboard view after a start pays for a full scan of the store (~10 s at 100M
// interactions) while its user waits. The thread and the workers it starts run at nice +10, so
// ingest, requests and the dashboard's own start-up scan go first; a query that arrives
// meanwhile waits for this build instead of starting its own (analytics::IndexCache).

#include <thread>

#include "analytics/engine.h"

namespace cairn::app {

class IndexWarmUp {
 public:
  // Starts the build; `engine` must outlive this object.
  explicit IndexWarmUp(analytics::Engine* engine);
  ~IndexWarmUp() { Stop(); }
  IndexWarmUp(const IndexWarmUp&) = delete;
  IndexWarmUp& operator=(const IndexWarmUp&) = delete;

  // Cancels a build in progress (it stops at its next check, within one block) and waits for
  // the thread. Idempotent.
  void Stop();

 private:
  analytics::QueryContext ctx_;  // no time limit, every core; cancelled by Stop()
  std::thread thread_;
};

}  // namespace cairn::app
