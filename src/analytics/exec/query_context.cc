#include "analytics/exec/query_context.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace cairn::analytics {

QueryContext::QueryContext(int64_t time_limit_ms, unsigned threads, Clock* clock) : clock_(clock) {
  if (time_limit_ms > 0) deadline_nanos_ = clock_->MonotonicNanos() + time_limit_ms * 1'000'000;
  threads_ = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
}

Status QueryContext::Check() const {
  if (cancelled()) return Unavailable("query cancelled");
  if (deadline_nanos_ != 0 && clock_->MonotonicNanos() > deadline_nanos_)
    return ResourceExhausted("query time limit exceeded");
  return Status::Ok();
}

}  // namespace cairn::analytics
