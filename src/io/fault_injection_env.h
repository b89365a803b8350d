#pragma once
// FaultInjectionEnv: a MemEnv whose writes, syncs and renames can be made to fail, to test that
// errors (disk full, EIO on fsync, a failed rename) are reported and never acknowledged as
// durable. Combined with MemEnv::SimulateCrash (drop everything not synced) it gives the crash
// sweeps of tests/recovery/store_fault_test.cc. Thread-safe.
//
// Counting: every Append/WriteAt call is one write, every Sync one sync, every RenameFile one
// rename, counted from construction (write_count() etc.). FailNth* arms a one-shot failure of the
// nth operation counted from the call (n = 1: the next one).

#include <atomic>
#include <cstdint>

#include "io/mem_env.h"

namespace cairn::io {

class FaultInjectionEnv : public MemEnv {
 public:
  // After `bytes` more bytes are written, every write fails with ResourceExhausted (disk full)
  // until the budget is lifted. Negative: no limit (the default).
  void SetWriteBudget(int64_t bytes) { write_budget_.store(bytes); }
  // While set, every Sync() fails with IOError.
  void SetSyncFails(bool fail) { sync_fails_.store(fail); }

  // One-shot failures: the nth write fails with ResourceExhausted ("No space left on device"),
  // the nth sync with IOError, the nth rename with IOError. 0 disarms.
  void FailNthWrite(uint64_t n) { fail_write_at_.store(n ? writes_.load() + n : 0); }
  void FailNthSync(uint64_t n) { fail_sync_at_.store(n ? syncs_attempted_.load() + n : 0); }
  void FailNthRename(uint64_t n) { fail_rename_at_.store(n ? renames_.load() + n : 0); }

  uint64_t sync_count() const { return syncs_.load(); }  // successful syncs
  uint64_t write_count() const { return writes_.load(); }
  uint64_t rename_count() const { return renames_.load(); }
  uint64_t injected_failures() const { return injected_.load(); }

 protected:
  Status BeforeWrite(const std::string& path, size_t bytes) override;
  Status BeforeSync(const std::string& path) override;
  Status BeforeRename(const std::string& from, const std::string& to) override;

 private:
  std::atomic<int64_t> write_budget_{-1};
  std::atomic<bool> sync_fails_{false};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> syncs_attempted_{0};
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> renames_{0};
  std::atomic<uint64_t> fail_write_at_{0};
  std::atomic<uint64_t> fail_sync_at_{0};
  std::atomic<uint64_t> fail_rename_at_{0};
  std::atomic<uint64_t> injected_{0};
};

}  // namespace cairn::io
