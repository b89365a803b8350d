#pragma once
// FaultInjectionEnv: a MemEnv whose writes and syncs can be made to fail, to test that errors
// (disk full, EIO on fsync) are reported and never acknowledged as durable. Thread-safe.

#include <atomic>

#include "io/mem_env.h"

namespace cairn::io {

class FaultInjectionEnv : public MemEnv {
 public:
  // After `bytes` more bytes are written, every write fails with ResourceExhausted (disk full).
  // Negative: no limit (the default).
  void SetWriteBudget(int64_t bytes) { write_budget_.store(bytes); }
  // While set, every Sync() fails with IOError.
  void SetSyncFails(bool fail) { sync_fails_.store(fail); }
  uint64_t sync_count() const { return syncs_.load(); }

 protected:
  Status BeforeWrite(const std::string& path, size_t bytes) override;
  Status BeforeSync(const std::string& path) override;

 private:
  std::atomic<int64_t> write_budget_{-1};
  std::atomic<bool> sync_fails_{false};
  std::atomic<uint64_t> syncs_{0};
};

}  // namespace cairn::io
