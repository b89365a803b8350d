#include "app/index_warm_up.h"

#include <sys/resource.h>
#include <unistd.h>

#include "base/logging.h"
#include "base/thread_name.h"

namespace cairn::app {

IndexWarmUp::IndexWarmUp(analytics::Engine* engine) {
  thread_ = std::thread([this, engine] {
    NameThisThread("index-warm-up");
    // Linux: the nice value belongs to the thread, and threads it creates inherit it.
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10) != 0)
      LOG_DEBUG("analytics: could not lower the index warm-up's priority");
    Status s = engine->Warm(ctx_);
    if (!s.ok() && !ctx_.cancelled()) LOG_WARN("analytics: building the index at start: {}", s.ToString());
  });
}

void IndexWarmUp::Stop() {
  ctx_.Cancel();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cairn::app
