#include "app/backup_runner.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "app/backup.h"
#include "base/thread_name.h"
#include "io/env.h"

namespace cairn::app {
namespace {

Status CheckName(const std::string& name) {
  if (name.empty() || name.size() > 100) return InvalidArgument("name: must be 1 to 100 characters");
  if (name.front() == '.') return InvalidArgument("name: must not start with '.'");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return InvalidArgument(fmt::format("name: '{}' may hold only letters, digits, '.', '_' and '-'", name));
  }
  return Status::Ok();
}

}  // namespace

BackupRunner::BackupRunner(std::string data_dir, std::string backup_dir)
    : data_dir_(std::move(data_dir)), backup_dir_(std::move(backup_dir)) {}

BackupRunner::~BackupRunner() {
  std::thread worker;
  {
    std::lock_guard lock(mu_);
    worker = std::move(worker_);
  }
  if (worker.joinable()) worker.join();  // without mu_: the thread takes it once more at its end
}

Status BackupRunner::Start(std::string name, std::function<void(Result<api::BackupOutcome>)> done) {
  if (name.empty()) {
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    name = fmt::format("cairn-{:%Y%m%dT%H%M%S}Z", now);
  }
  RETURN_IF_ERROR(CheckName(name));
  const std::string dest = io::JoinPath(backup_dir_, name);
  {
    // A backup inside the data directory would be copied into every later backup.
    std::error_code ec;
    const std::string data = std::filesystem::weakly_canonical(data_dir_, ec).string() + "/";
    const std::string into = std::filesystem::weakly_canonical(backup_dir_, ec).string() + "/";
    if (into.starts_with(data)) return FailedPrecondition("backup_dir: must not be inside the data directory");
  }
  std::lock_guard lock(mu_);
  if (running_) return FailedPrecondition("a backup is already running; retry when it has finished");
  std::error_code ec;
  // BackupDataDir checks again; this answers the common case before a thread starts.
  if (std::filesystem::exists(dest, ec)) return AlreadyExists(fmt::format("name: a backup '{}' already exists", name));
  RETURN_IF_ERROR(io::Env::Posix()->CreateDirIfMissing(backup_dir_).WithContext("backup_dir"));
  // The previous backup's thread: past its last use of mu_ (running_ is false), so joining it
  // under mu_ cannot deadlock.
  if (worker_.joinable()) worker_.join();
  running_ = true;
  worker_ = std::thread([this, name, dest, done = std::move(done)] {
    NameThisThread("backup");
    auto outcome = [&]() -> Result<api::BackupOutcome> {
      ASSIGN_OR_RETURN(BackupReport report, BackupDataDir(data_dir_, dest));
      api::BackupOutcome o;
      o.name = name;
      o.path = dest;
      o.files = report.files;
      o.bytes = report.bytes;
      o.sqlite_dbs = report.sqlite_dbs;
      o.segments = report.segments;
      o.wal_files = report.wal_files;
      o.elapsed_ms = report.elapsed_ms;
      return o;
    }();
    {
      std::lock_guard l(mu_);
      running_ = false;
    }
    done(std::move(outcome));
  });
  return Status::Ok();
}

}  // namespace cairn::app
