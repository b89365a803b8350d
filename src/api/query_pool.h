#pragma once
// QueryPool: the few threads analytics queries run on, so that a long query never holds an HTTP
// I/O thread (docs/analytics.md "Where a query runs"). The I/O thread decodes the spec, hands
// the query to the pool and goes back to serving other connections; the query answers through
// its Responder (callable from any thread) when done.
//
// Bounded twice: at most `threads` queries run at once (each may itself fan out over the
// kernels' worker threads, analytics/exec/event_index.h ParallelForCustomers), and at most
// `queue` more wait. Beyond that TrySubmit refuses at once — the caller answers 503 with
// Retry-After — so a burst of expensive queries costs memory and CPU only up to that bound and
// never queues without limit behind a slow one.
//
// Thread-safety: TrySubmit may be called from any thread; Stop from one thread (not a task).
// Tasks run in submission order, each on one pool thread; a task must not throw.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cairn::api {

struct QueryPoolOptions {
  // Queries that run at once. 0 = std::thread::hardware_concurrency() (at least 1). Default 0.
  // Config `query_threads`.
  unsigned threads = 0;
  // Queries that may wait for a free thread; one more is refused (503 + Retry-After). Default 16.
  // Config `query_queue`.
  size_t queue = 16;
};

class QueryPool {
 public:
  explicit QueryPool(QueryPoolOptions options);
  ~QueryPool();  // Stop()
  QueryPool(const QueryPool&) = delete;
  QueryPool& operator=(const QueryPool&) = delete;

  // Queues `task`; false (and `task` dropped unrun) when `queue` tasks already wait or after
  // Stop().
  bool TrySubmit(std::function<void()> task);

  // Refuses new tasks, runs the ones already queued, joins the threads. Idempotent.
  void Stop();

  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }
  size_t queue_limit() const { return queue_limit_; }
  // Tasks waiting (not yet running) and running now; for metrics and tests.
  size_t queued() const;
  size_t running() const;

 private:
  void Work();

  const size_t queue_limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  size_t running_ = 0;                        // guarded by mu_
  bool stopping_ = false;                     // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace cairn::api
