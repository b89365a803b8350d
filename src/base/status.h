#pragma once
// Status: the outcome of a fallible core operation. Cheap to copy when OK (no allocation).
// Core modules return Status / Result<T> and never throw across module boundaries; api/ maps a
// Code to an HTTP status in one place (api/status_to_http.cc).

#include <memory>
#include <string>
#include <string_view>

namespace cairn {

enum class Code : int {
  kOk = 0,
  kInvalidArgument,    // bad input from a caller: names the field and what is wrong
  kNotFound,
  kAlreadyExists,
  kCorruption,         // on-disk data failed a checksum or structural check
  kIOError,            // the OS refused a file operation
  kUnavailable,        // transient: try again (back-pressure, shutting down)
  kResourceExhausted,  // a limit was reached (size cap, disk full, rate)
  kUnauthenticated,    // no or unknown credentials
  kPermissionDenied,   // credentials valid but not allowed
  kFailedPrecondition, // the system is not in a state where this is possible
  kInternal,           // a bug
};

std::string_view CodeName(Code code);

class Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string_view message);

  static Status Ok() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  Code code() const { return state_ ? state_->code : Code::kOk; }
  // The message without the code name; empty when OK.
  std::string_view message() const { return state_ ? std::string_view(state_->message) : ""; }
  // "Corruption: wal 000003.log offset 1234: checksum mismatch"
  std::string ToString() const;

  // Returns a copy of this status with "context: " prepended to the message.
  Status WithContext(std::string_view context) const;

  bool Is(Code c) const { return code() == c; }

 private:
  struct State {
    Code code;
    std::string message;
  };
  std::shared_ptr<const State> state_;  // null == OK; immutable, so sharing is safe
};

inline Status InvalidArgument(std::string_view m) { return Status(Code::kInvalidArgument, m); }
inline Status NotFound(std::string_view m) { return Status(Code::kNotFound, m); }
inline Status AlreadyExists(std::string_view m) { return Status(Code::kAlreadyExists, m); }
inline Status Corruption(std::string_view m) { return Status(Code::kCorruption, m); }
inline Status IOError(std::string_view m) { return Status(Code::kIOError, m); }
inline Status Unavailable(std::string_view m) { return Status(Code::kUnavailable, m); }
inline Status ResourceExhausted(std::string_view m) { return Status(Code::kResourceExhausted, m); }
inline Status Unauthenticated(std::string_view m) { return Status(Code::kUnauthenticated, m); }
inline Status PermissionDenied(std::string_view m) { return Status(Code::kPermissionDenied, m); }
inline Status FailedPrecondition(std::string_view m) { return Status(Code::kFailedPrecondition, m); }
inline Status Internal(std::string_view m) { return Status(Code::kInternal, m); }

}  // namespace cairn

#define CAIRN_CONCAT_INNER_(a, b) a##b
#define CAIRN_CONCAT_(a, b) CAIRN_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::cairn::Status cairn_status_ = (expr);            \
    if (!cairn_status_.ok()) return cairn_status_;     \
  } while (0)
