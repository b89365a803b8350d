// compaction_bench: the memory and speed of one store compaction, on the real file system.
//
//   compaction_bench [--segments 13] [--rows 8192] [--pad 900] [--random-pad 0|1] [--customers 40] [--dir DIR]
//
// Writes --segments segments of --rows interactions each through the Store (one flush each; rows
// shaped as the overload test's: ~1.1 KiB, a 900-byte "pad" property of 'o's — or of random
// letters and digits with --random-pad 1, which zstd barely shrinks — --customers customers, so
// each customer's rows run across blocks), then, in a fresh process state, merges them all with
// Store::Compact() — 13 inputs is the largest merge a background compaction takes at the default
// max_segments (12 + 1). Prints one figure per line (`name value unit`):
//   compaction_heap_peak_mib    peak live C++ heap (operator new) during the merge, over before it
//   compaction_rss_peak_mib     peak RSS (VmHWM, reset before the merge) over RSS before it
//   compaction_rows_per_cpu_s   rows merged per CPU-second of the merging thread (the machine is shared)
//   compaction_wall_s           wall time of the merge
// The segments are written by a forked child, so the parent's heap holds nothing of it. DIR
// (default: a new directory under $TMPDIR or /tmp) is removed at the end.

#include <malloc.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <new>
#include <string>

#include "base/cpu_time.h"
#include "io/env.h"
#include "store/store.h"

// Live bytes of the C++ heap, counted by the global operator new/delete below.
namespace {
std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_peak{0};

void* Counted(void* p) {
  if (!p) throw std::bad_alloc();
  const int64_t now = g_live.fetch_add(static_cast<int64_t>(malloc_usable_size(p))) +
                      static_cast<int64_t>(malloc_usable_size(p));
  int64_t peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
  return p;
}
void Uncounted(void* p) {
  if (!p) return;
  g_live.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)));
  std::free(p);
}
}  // namespace

void* operator new(size_t n) { return Counted(std::malloc(n ? n : 1)); }
void* operator new[](size_t n) { return Counted(std::malloc(n ? n : 1)); }
void* operator new(size_t n, std::align_val_t a) {
  return Counted(std::aligned_alloc(static_cast<size_t>(a), (n + static_cast<size_t>(a) - 1) / static_cast<size_t>(a) * static_cast<size_t>(a)));
}
void* operator new[](size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { Uncounted(p); }
void operator delete[](void* p) noexcept { Uncounted(p); }
void operator delete(void* p, size_t) noexcept { Uncounted(p); }
void operator delete[](void* p, size_t) noexcept { Uncounted(p); }
void operator delete(void* p, std::align_val_t) noexcept { Uncounted(p); }
void operator delete[](void* p, std::align_val_t) noexcept { Uncounted(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { Uncounted(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { Uncounted(p); }

namespace cairn::store {
namespace {

// A /proc/self/status field in KiB (VmRSS, VmHWM).
long StatusKiB(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(in, line))
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') return std::atol(line.c_str() + n + 1);
  return -1;
}

void Figure(const char* name, double value, const char* unit) { std::printf("%s %.4g %s\n", name, value, unit); }

int Fail(const Status& s, const char* what) {
  std::fprintf(stderr, "compaction_bench: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

// The child: writes the segments and exits.
int Generate(const std::string& dir, int segments, int rows, int pad, bool random_pad, int customers) {
  StoreOptions o;
  o.background_work = false;
  o.memtable_flush_bytes = size_t{1} << 40;  // only the explicit flushes below
  o.memtable_max_bytes = size_t{1} << 40;
  auto store = Store::Open(io::Env::Posix(), dir, o);
  if (!store.ok()) return Fail(store.status(), "open");
  std::string padding(static_cast<size_t>(pad), 'o');
  uint64_t x = 88172645463325252ull;  // xorshift64: the same "random" pads every run
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  int64_t ts = 1'763'000'000'000;
  for (int s = 0; s < segments; ++s) {
    for (int done = 0; done < rows;) {
      Batch batch;
      for (int j = 0; j < 400 && done < rows; ++j, ++done) {
        Interaction r;
        const std::string user = "overload-" + std::to_string((s * 7 + done) % customers);
        const std::string id = "ov-" + std::to_string(s) + "-" + std::to_string(done);
        r.customer = 1 + static_cast<CustomerId>((s * 7 + done) % customers);
        r.timestamp_ms = ts++;
        r.received_at_ms = r.timestamp_ms + 3;
        r.event = "Overload";
        r.channel = "web";
        r.message_id = id;
        if (random_pad) {
          for (char& ch : padding) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            ch = kAlphabet[x % 64];
          }
        }
        r.payload = R"({"type":"track","event":"Overload","userId":")" + user + R"(","messageId":")" + id +
                    R"(","properties":{"pad":")" + padding + "\"}}";
        batch.interactions.push_back(std::move(r));
      }
      std::promise<Status> p;
      Status st = (*store)->Append(std::move(batch), [&](Status r) { p.set_value(r); });
      if (st.ok()) st = p.get_future().get();
      if (!st.ok()) return Fail(st, "append");
    }
    if (Status st = (*store)->Flush(); !st.ok()) return Fail(st, "flush");
  }
  if (Status st = (*store)->Close(); !st.ok()) return Fail(st, "close");
  return 0;
}

int Run(int argc, char** argv) {
  int segments = 13, rows = 8192, pad = 900, random_pad = 0, customers = 40;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--segments") segments = std::atoi(argv[i + 1]);
    else if (flag == "--rows") rows = std::atoi(argv[i + 1]);
    else if (flag == "--pad") pad = std::atoi(argv[i + 1]);
    else if (flag == "--random-pad") random_pad = std::atoi(argv[i + 1]);
    else if (flag == "--customers") customers = std::atoi(argv[i + 1]);
    else if (flag == "--dir") dir = argv[i + 1];
    else {
      std::fprintf(stderr, "compaction_bench: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (segments < 2 || rows < 1 || pad < 0 || customers < 1) {
    std::fprintf(stderr, "compaction_bench: --segments ≥ 2, --rows ≥ 1, --pad ≥ 0, --customers ≥ 1\n");
    return 2;
  }
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    dir = std::string(tmp ? tmp : "/tmp") + "/compaction_bench." + std::to_string(getpid());
  }
  if (std::filesystem::exists(dir)) {
    std::fprintf(stderr, "compaction_bench: %s exists\n", dir.c_str());
    return 2;
  }
  const pid_t child = fork();
  if (child == 0) _exit(Generate(dir, segments, rows, pad, random_pad != 0, customers));
  int wstatus = 0;
  if (child < 0 || waitpid(child, &wstatus, 0) != child || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    std::fprintf(stderr, "compaction_bench: writing the segments failed\n");
    std::filesystem::remove_all(dir);
    return 1;
  }
  int rc = 0;
  {
    StoreOptions o;
    o.background_work = false;
    auto store = Store::Open(io::Env::Posix(), dir, o);
    if (!store.ok()) {
      rc = Fail(store.status(), "reopen");
    } else {
      const auto before = (*store)->Stats();
      malloc_trim(0);
      std::ofstream("/proc/self/clear_refs") << "5";  // resets VmHWM to the current RSS
      const long rss0 = StatusKiB("VmRSS");
      const int64_t live0 = g_live.load();
      g_peak.store(live0);
      const auto t0 = std::chrono::steady_clock::now();
      const double cpu0 = ThreadCpuSeconds();
      Status st = (*store)->Compact();
      const double cpu = ThreadCpuSeconds() - cpu0;
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const long hwm = StatusKiB("VmHWM");
      if (!st.ok()) {
        rc = Fail(st, "compact");
      } else if ((*store)->Stats().segments != 1) {
        std::fprintf(stderr, "compaction_bench: %zu segments after the merge\n", (*store)->Stats().segments);
        rc = 1;
      } else {
        const double rows_merged = static_cast<double>(segments) * rows;
        Figure("compaction_inputs", static_cast<double>(before.segments), "segments");
        Figure("compaction_rows", rows_merged, "rows");
        Figure("compaction_heap_peak_mib", static_cast<double>(g_peak.load() - live0) / (1 << 20), "MiB");
        Figure("compaction_rss_peak_mib", static_cast<double>(hwm - rss0) / 1024, "MiB");
        Figure("compaction_rows_per_cpu_s", rows_merged / cpu, "rows/s");
        Figure("compaction_wall_s", wall, "s");
      }
      (void)(*store)->Close();
    }
  }
  std::filesystem::remove_all(dir);
  return rc;
}

}  // namespace
}  // namespace cairn::store

int main(int argc, char** argv) { return cairn::store::Run(argc, argv); }
