#include "testutil/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace cairn::testutil {
namespace {

using SteadyClock = std::chrono::steady_clock;

ExitStatus FromWaitStatus(int ws) {
  ExitStatus s;
  if (WIFEXITED(ws)) {
    s.exited = true;
    s.code = WEXITSTATUS(ws);
  } else if (WIFSIGNALED(ws)) {
    s.signal = WTERMSIG(ws);
  }
  return s;
}

std::string Tail(const std::string& s, size_t n) { return s.size() <= n ? s : "..." + s.substr(s.size() - n); }

// The environment for the child: the parent's, with `extra` entries added or overriding.
std::vector<std::string> MergedEnv(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  auto name_of = [](const std::string& e) { return e.substr(0, e.find('=')); };
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    bool overridden = false;
    for (const auto& x : extra) overridden |= name_of(x) == name_of(entry);
    if (!overridden) env.push_back(std::move(entry));
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

}  // namespace

std::string ExitStatus::ToString() const {
  return exited ? "exit " + std::to_string(code) : "signal " + std::to_string(signal);
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(const std::vector<std::string>& argv,
                                                          const std::string& log_prefix,
                                                          const std::vector<std::string>& extra_env) {
  if (argv.empty()) return InvalidArgument("ChildProcess::Start: empty argv");
  std::string out_path = log_prefix + ".stdout";
  std::string err_path = log_prefix + ".stderr";

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);

  // The child starts with no signals blocked, whatever the test thread blocks.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env = MergedEnv(extra_env);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return IOError("posix_spawn " + argv[0] + ": " + std::strerror(rc));
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, std::move(out_path), std::move(err_path)));
}

ChildProcess::ChildProcess(pid_t pid, std::string stdout_path, std::string stderr_path)
    : pid_(pid), stdout_path_(std::move(stdout_path)), stderr_path_(std::move(stderr_path)) {}

ChildProcess::~ChildProcess() {
  if (!status_) Kill();
}

bool ChildProcess::TryReap() {
  if (status_) return true;
  int ws = 0;
  pid_t r = ::waitpid(pid_, &ws, WNOHANG);
  if (r == pid_) {
    status_ = FromWaitStatus(ws);
    return true;
  }
  return false;
}

bool ChildProcess::Running() { return !TryReap(); }

Result<std::string> ChildProcess::WaitForLine(std::string_view needle, std::chrono::milliseconds timeout,
                                              Stream stream) {
  const std::string& path = stream == Stream::kStdout ? stdout_path_ : stderr_path_;
  auto deadline = SteadyClock::now() + timeout;
  while (true) {
    // Check for exit before reading, so a line written just before exiting is still found.
    bool ended = TryReap();
    std::string text = ReadFileOrEmpty(path);
    size_t begin = 0;
    while (true) {
      size_t nl = text.find('\n', begin);
      if (nl == std::string::npos) break;  // only complete lines
      std::string_view line(text.data() + begin, nl - begin);
      if (line.find(needle) != std::string_view::npos) return std::string(line);
      begin = nl + 1;
    }
    if (ended) {
      return FailedPrecondition("child " + std::to_string(pid_) + " ended (" + status_->ToString() +
                                ") before printing '" + std::string(needle) + "'; stderr: " +
                                Tail(ReadStderr(), 2000));
    }
    if (SteadyClock::now() >= deadline) {
      return Unavailable("timed out waiting for '" + std::string(needle) + "' from child " + std::to_string(pid_) +
                         "; stderr: " + Tail(ReadStderr(), 2000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status ChildProcess::Signal(int sig) {
  if (status_) return FailedPrecondition("child " + std::to_string(pid_) + " already ended (" + status_->ToString() + ")");
  // Not reaped yet, so the pid cannot have been reused: kill() reaches our child (or its zombie).
  if (::kill(pid_, sig) != 0) return IOError(std::string("kill: ") + std::strerror(errno));
  return Status::Ok();
}

Result<ExitStatus> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (!TryReap()) {
    if (SteadyClock::now() >= deadline) {
      return Unavailable("child " + std::to_string(pid_) + " still running after " +
                         std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return *status_;
}

ExitStatus ChildProcess::Kill() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    int ws = 0;
    pid_t r;
    do {
      r = ::waitpid(pid_, &ws, 0);
    } while (r < 0 && errno == EINTR);
    status_ = r == pid_ ? FromWaitStatus(ws) : ExitStatus{false, 0, SIGKILL};
  }
  return *status_;
}

std::string ChildProcess::ReadStdout() const { return ReadFileOrEmpty(stdout_path_); }
std::string ChildProcess::ReadStderr() const { return ReadFileOrEmpty(stderr_path_); }

Result<RunResult> RunToCompletion(const std::vector<std::string>& argv, const std::string& log_prefix,
                                  std::chrono::milliseconds timeout, const std::vector<std::string>& extra_env) {
  ASSIGN_OR_RETURN(auto child, ChildProcess::Start(argv, log_prefix, extra_env));
  auto status = child->Wait(timeout);
  if (!status.ok()) {
    child->Kill();
    return Unavailable(argv[0] + " did not finish within " + std::to_string(timeout.count()) +
                       " ms; stderr: " + Tail(child->ReadStderr(), 2000));
  }
  return RunResult{*status, child->ReadStdout(), child->ReadStderr()};
}

Result<uint16_t> FindFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return IOError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int e = errno;
    ::close(fd);
    return IOError(std::string("bind/getsockname: ") + std::strerror(e));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace cairn::testutil
