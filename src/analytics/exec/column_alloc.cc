#include "analytics/exec/column_alloc.h"

#include <sys/mman.h>

#include <cstdint>

namespace cairn::analytics::column_detail {

namespace {
constexpr size_t kHuge = size_t{2} << 20;  // x86-64 huge page
size_t RoundUp(size_t v) { return (v + kHuge - 1) & ~(kHuge - 1); }
}  // namespace

void* Allocate(size_t bytes) {
  if (bytes < kHuge) return ::operator new(bytes);
  const size_t len = RoundUp(bytes);
  // Over-map by one huge page, then unmap the unaligned head and tail: THP only backs 2 MiB
  // aligned ranges.
  void* raw = mmap(nullptr, len + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t r = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (r + kHuge - 1) & ~(uintptr_t{kHuge} - 1);
  if (aligned > r) munmap(raw, aligned - r);
  const uintptr_t end = r + len + kHuge;
  if (end > aligned + len) munmap(reinterpret_cast<void*>(aligned + len), end - (aligned + len));
  (void)madvise(reinterpret_cast<void*>(aligned), len, MADV_HUGEPAGE);  // advice only: THP may be off
  return reinterpret_cast<void*>(aligned);
}

void Free(void* p, size_t bytes) noexcept {
  if (p == nullptr) return;
  if (bytes < kHuge) {
    ::operator delete(p);
    return;
  }
  munmap(p, RoundUp(bytes));
}

}  // namespace cairn::analytics::column_detail
