#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace cairn::internal {

CheckFailure::CheckFailure(const char* cond, const char* file, int line) {
  stream_ << "CHECK failed: " << cond << " at " << file << ":" << line << ": ";
}

CheckFailure::~CheckFailure() {
  std::string s = stream_.str();
  std::fprintf(stderr, "%s\n", s.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace cairn::internal
