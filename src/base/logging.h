#pragma once
// The logging facade: leveled, formatted with fmt, written as one line to stderr.
// LOG_EVERY_N_SEC rate-limits a call site (use it on hot paths; never log per event).
// Thread-safe: each line is written with a single write(2).

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <string_view>

namespace cairn::log {

enum class Level : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// Minimum level written; default kInfo (CAIRN_LOG_LEVEL=debug|info|warn|error|off overrides at
// startup, read by app/).
void SetLevel(Level level);
Level GetLevel();
bool ParseLevel(std::string_view name, Level* out);

void Write(Level level, std::string_view file, int line, std::string_view message);

// True at most once per `seconds` for the given call-site state. Thread-safe.
bool EveryNSeconds(std::atomic<int64_t>* last_ns, double seconds);

}  // namespace cairn::log

#define CAIRN_LOG(level, ...)                                                                   \
  do {                                                                                          \
    if (::cairn::log::Level::level >= ::cairn::log::GetLevel())                                 \
      ::cairn::log::Write(::cairn::log::Level::level, __FILE__, __LINE__, fmt::format(__VA_ARGS__)); \
  } while (0)

#define LOG_DEBUG(...) CAIRN_LOG(kDebug, __VA_ARGS__)
#define LOG_INFO(...) CAIRN_LOG(kInfo, __VA_ARGS__)
#define LOG_WARN(...) CAIRN_LOG(kWarn, __VA_ARGS__)
#define LOG_ERROR(...) CAIRN_LOG(kError, __VA_ARGS__)

// LOG_EVERY_N_SEC(kWarn, 10, "merge refused: {}", why);
#define LOG_EVERY_N_SEC(level, seconds, ...)                                   \
  do {                                                                         \
    static std::atomic<int64_t> cairn_log_last_ns_{0};                         \
    if (::cairn::log::EveryNSeconds(&cairn_log_last_ns_, (seconds)))           \
      CAIRN_LOG(level, __VA_ARGS__);                                           \
  } while (0)
