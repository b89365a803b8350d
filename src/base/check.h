#pragma once
// CHECK / DCHECK: for invariants (bugs), never for input. A failed CHECK logs the condition,
// place and message, then aborts. DCHECK compiles away under NDEBUG.

#include <sstream>
#include <string>

namespace cairn::internal {

class CheckFailure {
 public:
  CheckFailure(const char* cond, const char* file, int line);
  [[noreturn]] ~CheckFailure();
  CheckFailure& self() { return *this; }  // an lvalue, so `Voidify() & ...` binds
  template <typename T>
  CheckFailure& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  std::ostringstream stream_;
};

// Turns the stream expression into void so CHECK works in both branches of ?:.
struct Voidify {
  void operator&(CheckFailure&) {}
};

}  // namespace cairn::internal

#define CHECK(cond)      \
  (cond) ? (void)0       \
         : ::cairn::internal::Voidify() & ::cairn::internal::CheckFailure(#cond, __FILE__, __LINE__).self()

#ifdef NDEBUG
#define DCHECK(cond) \
  true ? (void)0 : ::cairn::internal::Voidify() & ::cairn::internal::CheckFailure(#cond, __FILE__, __LINE__).self()
#else
#define DCHECK(cond) CHECK(cond)
#endif
