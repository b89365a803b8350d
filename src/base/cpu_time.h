#pragma once
// CPU time used so far, in seconds: what benchmarks report on a shared machine, where wall time
// also counts other people's work. Thread: the calling thread only; process: all its threads.

#include <ctime>

namespace cairn {

inline double CpuSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
inline double ThreadCpuSeconds() { return CpuSeconds(CLOCK_THREAD_CPUTIME_ID); }
inline double ProcessCpuSeconds() { return CpuSeconds(CLOCK_PROCESS_CPUTIME_ID); }

}  // namespace cairn
