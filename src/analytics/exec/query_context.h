#pragma once
// QueryContext: what every analytics query carries besides its spec — cancellation, a time limit
// and the degree of parallelism. Kernels call Check() between chunks of customers (never per row),
// so a cancelled or overdue query stops within one chunk (~tens of ms).
//
// Header-only (the HTTP edge builds contexts without linking the engine).
// Thread-safety: Check() may be called from every worker thread at once; Cancel() from any thread.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>

#include "base/clock.h"
#include "base/status.h"

namespace cairn::analytics {

class QueryContext {
 public:
  // `time_limit_ms` = 0: no time limit. `threads` = 0: every hardware thread.
  explicit QueryContext(int64_t time_limit_ms = 0, unsigned threads = 0, Clock* clock = Clock::Real())
      : clock_(clock), threads_(threads ? threads : std::max(1u, std::thread::hardware_concurrency())) {
    if (time_limit_ms > 0) deadline_nanos_ = clock_->MonotonicNanos() + time_limit_ms * 1'000'000;
  }

  // Unavailable("query cancelled") once Cancel() was called (client went away);
  // ResourceExhausted("deadline exceeded: ...") once the time limit has passed — the prefix is
  // api::kDeadlinePrefix, which the HTTP edge answers with 504; else OK.
  Status Check() const {
    if (cancelled()) return Unavailable("query cancelled");
    if (deadline_nanos_ != 0 && clock_->MonotonicNanos() > deadline_nanos_)
      return ResourceExhausted("deadline exceeded: the query ran past its time limit");
    return Status::Ok();
  }
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  unsigned threads() const { return threads_; }
  Clock* clock() const { return clock_; }

 private:
  Clock* clock_;
  int64_t deadline_nanos_ = 0;  // monotonic; 0 = none
  unsigned threads_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace cairn::analytics
