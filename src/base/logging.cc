#include "base/logging.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <string>

namespace cairn::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

const char* LevelTag(Level level) {
  switch (level) {
    case Level::kDebug: return "D";
    case Level::kInfo: return "I";
    case Level::kWarn: return "W";
    case Level::kError: return "E";
    default: return "?";
  }
}
}  // namespace

void SetLevel(Level level) { g_level.store(static_cast<int>(level)); }
Level GetLevel() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

bool ParseLevel(std::string_view name, Level* out) {
  if (name == "debug") *out = Level::kDebug;
  else if (name == "info") *out = Level::kInfo;
  else if (name == "warn") *out = Level::kWarn;
  else if (name == "error") *out = Level::kError;
  else if (name == "off") *out = Level::kOff;
  else return false;
  return true;
}

void Write(Level level, std::string_view file, int line, std::string_view message) {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = ms / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  if (auto slash = file.rfind('/'); slash != std::string_view::npos) file.remove_prefix(slash + 1);
  std::string out = fmt::format("{} {:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {}:{}] {}\n", LevelTag(level),
                                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                                tm.tm_sec, ms % 1000, file, line, message);
  ssize_t unused = ::write(STDERR_FILENO, out.data(), out.size());
  (void)unused;
}

bool EveryNSeconds(std::atomic<int64_t>* last_ns, double seconds) {
  int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t last = last_ns->load(std::memory_order_relaxed);
  if (last != 0 && now - last < static_cast<int64_t>(seconds * 1e9)) return false;
  return last_ns->compare_exchange_strong(last, now);
}

}  // namespace cairn::log
