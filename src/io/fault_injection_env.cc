#include "io/fault_injection_env.h"

namespace cairn::io {

Status FaultInjectionEnv::BeforeWrite(const std::string& path, size_t bytes) {
  int64_t budget = write_budget_.load();
  while (budget >= 0) {
    if (static_cast<int64_t>(bytes) > budget) return ResourceExhausted(path + ": No space left on device (injected)");
    if (write_budget_.compare_exchange_weak(budget, budget - static_cast<int64_t>(bytes))) break;
  }
  return Status::Ok();
}

Status FaultInjectionEnv::BeforeSync(const std::string& path) {
  if (sync_fails_.load()) return IOError(path + ": fdatasync: Input/output error (injected)");
  syncs_.fetch_add(1);
  return Status::Ok();
}

}  // namespace cairn::io
