#pragma once
// BackupRunner: online backups through the API (POST /v1/admin/backup, docs/reliability.md
// "Backup") — BackupDataDir of the served data directory into a directory the operator configured
// (`backup_dir:` in cairn.yaml), one at a time, on the runner's own thread so that no I/O thread
// waits for it. The caller names a directory entry, never a path: an admin key cannot make the
// server write anywhere else.
//
// Thread-safety: Start is thread-safe. The destructor waits for a running backup.

#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "api/services.h"
#include "base/result.h"

namespace cairn::app {

class BackupRunner {
 public:
  BackupRunner(std::string data_dir, std::string backup_dir);
  ~BackupRunner();
  BackupRunner(const BackupRunner&) = delete;
  BackupRunner& operator=(const BackupRunner&) = delete;

  // Starts a backup into backup_dir/name and returns; `done` gets the outcome on the runner's
  // thread. `name`: 1-100 of [A-Za-z0-9._-], not starting with '.'; "" = "cairn-<UTC time>".
  // InvalidArgument (name), FailedPrecondition (another backup is running), AlreadyExists (the
  // name is taken); nothing was started then.
  Status Start(std::string name, std::function<void(Result<api::BackupOutcome>)> done);

 private:
  const std::string data_dir_;
  const std::string backup_dir_;
  std::mutex mu_;
  bool running_ = false;  // guarded by mu_
  std::thread worker_;    // guarded by mu_; the last backup's thread
};

}  // namespace cairn::app
