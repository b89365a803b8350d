#pragma once
// PosixError: a Status from an errno value, naming the path (or call) it came from. Disk full and
// quota errors are ResourceExhausted (callers tell them apart from I/O errors), ENOENT NotFound.

#include <cerrno>
#include <cstring>
#include <string>

#include "base/status.h"

namespace cairn::io {

inline Status PosixError(const std::string& context, int err) {
  std::string msg = context + ": " + std::strerror(err);
  if (err == ENOENT) return NotFound(msg);
  if (err == ENOSPC || err == EDQUOT) return ResourceExhausted(msg);
  return IOError(msg);
}

}  // namespace cairn::io
