#pragma once
// QueryContext: what every analytics query carries besides its spec — cancellation, a time limit
// and the degree of parallelism. Kernels call Check() between chunks of customers (never per row),
// so a cancelled or overdue query stops within one chunk (~tens of ms).
//
// Cancellation comes from Cancel() (any thread) or from a cancel probe: a function asking whether
// the query's client is still there (the HTTP edge probes the client's socket). Check() calls the
// probe at most once per probe interval (default 20 ms) over all workers, so a probe may cost a
// system call without slowing the kernels; once it says true, the query is cancelled.
//
// Header-only (the HTTP edge builds contexts without linking the engine).
// Thread-safety: Check() may be called from every worker thread at once; Cancel() from any thread.
// Set the probe and the test delay before the query starts.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "base/clock.h"
#include "base/status.h"

namespace cairn::analytics {

class QueryContext {
 public:
  // `time_limit_ms` = 0: no time limit. `threads` = 0: every hardware thread.
  explicit QueryContext(int64_t time_limit_ms = 0, unsigned threads = 0, Clock* clock = Clock::Real())
      : clock_(clock), threads_(threads ? threads : std::max(1u, std::thread::hardware_concurrency())) {
    if (time_limit_ms > 0) {
      time_limit_ms_ = time_limit_ms;
      deadline_nanos_ = clock_->MonotonicNanos() + time_limit_ms * 1'000'000;
    }
  }

  // Unavailable("query cancelled") once Cancel() was called (client went away);
  // ResourceExhausted("deadline exceeded: ...") once the time limit has passed — the prefix is
  // api::kDeadlinePrefix, which the HTTP edge answers with 504; else OK.
  Status Check() const {
    for (int64_t slept_ms = 0;; slept_ms += kTestDelaySliceMs) {
      if (probe_ && !cancelled()) Probe();
      if (cancelled()) return Unavailable("query cancelled");
      if (deadline_nanos_ != 0 && clock_->MonotonicNanos() > deadline_nanos_)
        return ResourceExhausted("deadline exceeded: the query ran past its time limit of " +
                                 std::to_string(time_limit_ms_) + " ms");
      if (slept_ms >= test_delay_ms_) return Status::Ok();
      // Test-only slow-down, in slices, so that cancellation and the deadline still cut it short.
      std::this_thread::sleep_for(std::chrono::milliseconds(kTestDelaySliceMs));
    }
  }
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  // `gone()` returns true once the query's client has gone; called from worker threads, never
  // concurrently with itself, at most once per `interval_ms`.
  void SetCancelProbe(std::function<bool()> gone, int64_t interval_ms = 20) {
    probe_ = std::move(gone);
    probe_interval_nanos_ = interval_ms * 1'000'000;
    next_probe_nanos_.store(clock_->MonotonicNanos() + probe_interval_nanos_, std::memory_order_relaxed);
  }
  // Test-only: every Check() takes this long (a slow query on small data, for the tests of
  // cancellation and time limits over real HTTP), still stopping at once when cancelled or past
  // the time limit. Default 0; never set in production.
  void SetTestDelay(int64_t ms) { test_delay_ms_ = ms; }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  unsigned threads() const { return threads_; }
  Clock* clock() const { return clock_; }

 private:
  static constexpr int64_t kTestDelaySliceMs = 10;
  // Runs the probe when its interval has passed and no other worker is running it.
  void Probe() const {
    const int64_t now = clock_->MonotonicNanos();
    int64_t due = next_probe_nanos_.load(std::memory_order_relaxed);
    if (now < due) return;
    if (!next_probe_nanos_.compare_exchange_strong(due, INT64_MAX, std::memory_order_acquire)) return;
    const bool gone = probe_();
    if (gone) cancelled_.store(true, std::memory_order_relaxed);
    next_probe_nanos_.store(clock_->MonotonicNanos() + probe_interval_nanos_, std::memory_order_release);
  }

  Clock* clock_;
  int64_t time_limit_ms_ = 0;
  int64_t deadline_nanos_ = 0;  // monotonic; 0 = none
  unsigned threads_;
  mutable std::atomic<bool> cancelled_{false};
  std::function<bool()> probe_;  // empty: no probe
  int64_t probe_interval_nanos_ = 0;
  mutable std::atomic<int64_t> next_probe_nanos_{0};  // INT64_MAX while a worker probes
  int64_t test_delay_ms_ = 0;
};

}  // namespace cairn::analytics
