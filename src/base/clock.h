#pragma once
// Clock: the one source of "now" in the core, injectable so tests can control time.
// Times are milliseconds since the Unix epoch (UTC) unless a name says otherwise.

#include <atomic>
#include <cstdint>

namespace cairn {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, ms since epoch. Thread-safe.
  virtual int64_t NowMillis() const = 0;
  // Monotonic time in ns, for durations only. Thread-safe.
  virtual int64_t MonotonicNanos() const = 0;

  // The process-wide real clock (never null, never destroyed).
  static Clock* Real();
};

// A clock that only moves when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t now_ms = 1767225600000 /* 2026-01-01T00:00:00Z */) : now_ms_(now_ms) {}
  int64_t NowMillis() const override { return now_ms_.load(std::memory_order_relaxed); }
  int64_t MonotonicNanos() const override { return now_ms_.load(std::memory_order_relaxed) * 1000000; }
  void Set(int64_t now_ms) { now_ms_.store(now_ms); }
  void Advance(int64_t delta_ms) { now_ms_.fetch_add(delta_ms); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace cairn
