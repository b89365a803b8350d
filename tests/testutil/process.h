#pragma once
// ChildProcess: runs a program (the real `cairn` binary, usually) as a child of the test, with its
// stdout and stderr captured to files, so black-box and crash tests can start it, wait for it to
// announce itself, signal it, kill it and read its exit status and output.
//
//   auto p = ChildProcess::Start({kCairn, "serve", "--data", dir, "--listen", "127.0.0.1:0"},
//                                tmp.Sub("serve"));
//   auto line = (*p)->WaitForLine("cairn: serving http://", std::chrono::seconds(30));
//   ... (*p)->Signal(SIGTERM); auto exit = (*p)->Wait(std::chrono::seconds(30));
//
// The child gets /dev/null as stdin and the parent's environment plus `extra_env`. A child
// still running when its ChildProcess is destroyed is killed (SIGKILL) and reaped, so a failing
// test never leaks a server.
//
// Thread-safety: one ChildProcess is used by one thread at a time.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace cairn::testutil {

// How a child ended.
struct ExitStatus {
  bool exited = false;  // true: normal exit with `code`; false: killed by `signal`
  int code = 0;
  int signal = 0;

  bool ExitedWith(int c) const { return exited && code == c; }
  bool KilledBy(int s) const { return !exited && signal == s; }
  std::string ToString() const;  // "exit 1" / "signal 9"
};

class ChildProcess {
 public:
  enum class Stream { kStdout, kStderr };

  // Starts argv[0] (a path; no PATH search) with argv. Its stdout goes to `log_prefix`.stdout
  // and its stderr to `log_prefix`.stderr (created or truncated). `extra_env` entries
  // ("NAME=value") are added to, and override, the parent's environment.
  static Result<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                     const std::string& log_prefix,
                                                     const std::vector<std::string>& extra_env = {});

  ~ChildProcess();  // Kill() if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Waits until a complete line of `stream` contains `needle` and returns that line (without its
  // newline). Unavailable on timeout; FailedPrecondition when the child exits first. Both
  // messages carry the child's exit status (if any) and the tail of its stderr.
  Result<std::string> WaitForLine(std::string_view needle, std::chrono::milliseconds timeout,
                                  Stream stream = Stream::kStdout);

  // Sends `sig` to the child. FailedPrecondition if it has already been reaped.
  Status Signal(int sig);

  // Waits up to `timeout` for the child to end and returns how it ended (also after it was
  // reaped earlier). Unavailable on timeout (the child keeps running).
  Result<ExitStatus> Wait(std::chrono::milliseconds timeout);

  // True while the child has not been reaped and has not ended.
  bool Running();

  // SIGKILL and reap; returns how it ended (a child that had already exited keeps its status).
  ExitStatus Kill();

  // Everything the child has written to the stream so far.
  std::string ReadStdout() const;
  std::string ReadStderr() const;
  const std::string& stdout_path() const { return stdout_path_; }
  const std::string& stderr_path() const { return stderr_path_; }

 private:
  ChildProcess(pid_t pid, std::string stdout_path, std::string stderr_path);
  // Non-blocking reap; true when the child has ended (status_ then set).
  bool TryReap();

  pid_t pid_;
  std::optional<ExitStatus> status_;
  std::string stdout_path_;
  std::string stderr_path_;
};

// Runs argv to completion (up to `timeout`, then SIGKILL) and returns its exit status with its
// stdout and stderr. For one-shot subcommands such as `cairn verify` and `cairn import`.
struct RunResult {
  ExitStatus status;
  std::string out;
  std::string err;
};
Result<RunResult> RunToCompletion(const std::vector<std::string>& argv, const std::string& log_prefix,
                                  std::chrono::milliseconds timeout,
                                  const std::vector<std::string>& extra_env = {});

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed).
// Racy by nature; prefer letting the server bind port 0 and reading the port it announces.
Result<uint16_t> FindFreePort();

// Reads a whole file; empty string if it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace cairn::testutil
