#include "io/fault_injection_env.h"

namespace cairn::io {

namespace {

// Whether operation number `count` is the armed one (then disarms it).
bool Hit(std::atomic<uint64_t>& armed, uint64_t count) {
  uint64_t at = armed.load();
  return at != 0 && count == at && armed.compare_exchange_strong(at, 0);
}

}  // namespace

Status FaultInjectionEnv::BeforeWrite(const std::string& path, size_t bytes) {
  const uint64_t n = writes_.fetch_add(1) + 1;
  if (Hit(fail_write_at_, n)) {
    injected_.fetch_add(1);
    return ResourceExhausted(path + ": No space left on device (injected, write #" + std::to_string(n) + ")");
  }
  int64_t budget = write_budget_.load();
  while (budget >= 0) {
    if (static_cast<int64_t>(bytes) > budget) {
      injected_.fetch_add(1);
      return ResourceExhausted(path + ": No space left on device (injected)");
    }
    if (write_budget_.compare_exchange_weak(budget, budget - static_cast<int64_t>(bytes))) break;
  }
  return Status::Ok();
}

Status FaultInjectionEnv::BeforeSync(const std::string& path) {
  const uint64_t n = syncs_attempted_.fetch_add(1) + 1;
  if (sync_fails_.load() || Hit(fail_sync_at_, n)) {
    injected_.fetch_add(1);
    return IOError(path + ": fdatasync: Input/output error (injected)");
  }
  syncs_.fetch_add(1);
  return Status::Ok();
}

Status FaultInjectionEnv::BeforeRename(const std::string& from, const std::string& to) {
  const uint64_t n = renames_.fetch_add(1) + 1;
  if (Hit(fail_rename_at_, n)) {
    injected_.fetch_add(1);
    return IOError(from + " -> " + to + ": rename: Input/output error (injected)");
  }
  return Status::Ok();
}

}  // namespace cairn::io
