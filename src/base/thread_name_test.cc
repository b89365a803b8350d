#include "base/thread_name.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

namespace cairn {
namespace {

// What `top -H` and perf show: the kernel's name of the calling thread.
std::string KernelName() {
  std::ifstream in("/proc/self/task/" + std::to_string(syscall(SYS_gettid)) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

TEST(ThreadNameTest, NamesTheCallingThreadAndCutsAtFifteenBytes) {
  std::string seen, cut;
  const std::string main_before = KernelName();
  std::thread([&] {
    NameThisThread("wal-commit");
    seen = KernelName();
    NameThisThread("a-name-longer-than-fifteen");
    cut = KernelName();
  }).join();
  EXPECT_EQ(seen, "wal-commit");
  EXPECT_EQ(cut, "a-name-longer-t");
  EXPECT_EQ(KernelName(), main_before) << "only the calling thread is named";
}

}  // namespace
}  // namespace cairn
