#pragma once
// Names the calling thread as `top -H`, `perf report --sort comm`, gdb and /proc/PID/task/*/comm
// show it. Linux keeps 15 bytes of a name; a longer one is cut there. Call it first thing in a
// thread the process starts, with a name saying what the thread does ("wal-commit", "http-io").

namespace cairn {

void NameThisThread(const char* name);

}  // namespace cairn
