#pragma once
// ColumnAllocator: the allocator of the analytics index's row columns (exec/event_index.h).
// Allocations of 2 MiB or more are anonymous mappings aligned to 2 MiB and advised
// MADV_HUGEPAGE (transparent huge pages; a no-op where THP is off); smaller ones come from
// operator new. Why: an index of 10M rows is ~300 MB of columns, and building or extending it
// writes all of it into fresh memory. In 4 KiB pages that is ~75k page faults, which on the VMs
// measured here cost more than the copy itself (analytics_bench, 2M rows: extending the index
// took 646 ms wall / 213 ms CPU with 4 KiB pages, 29 ms / 8 ms with huge pages).
// Stateless and thread-safe; allocation failure throws std::bad_alloc like std::allocator.
//
// resize() and Column<T>(n) default-initialise (no zero fill): every user writes each element
// before reading it, and a parallel index build then faults its pages in on the threads that
// write them instead of zero-filling gigabytes on one thread first. assign/insert/push_back
// still copy the given values.

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace cairn::analytics {

namespace column_detail {
void* Allocate(size_t bytes);
void Free(void* p, size_t bytes) noexcept;
}  // namespace column_detail

template <typename T>
struct ColumnAllocator {
  using value_type = T;
  ColumnAllocator() = default;
  template <typename U>
  ColumnAllocator(const ColumnAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(column_detail::Allocate(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept { column_detail::Free(p, n * sizeof(T)); }
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  friend bool operator==(const ColumnAllocator&, const ColumnAllocator&) { return true; }
};

template <typename T>
using Column = std::vector<T, ColumnAllocator<T>>;

}  // namespace cairn::analytics
