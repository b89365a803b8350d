#pragma once
// Result<T>: a value or a non-OK Status. The core's return type for fallible functions that
// produce something. Accessing value() of an error Result is a bug (checked).

#include <cstdlib>
#include <optional>
#include <utility>

#include "base/check.h"
#include "base/status.h"

namespace cairn {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    CHECK(!status_.ok()) << "Result constructed from an OK Status without a value";
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  T& value() & { CHECK(ok()) << status_.ToString(); return *value_; }
  const T& value() const& { CHECK(ok()) << status_.ToString(); return *value_; }
  T&& value() && { CHECK(ok()) << status_.ToString(); return std::move(*value_); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace cairn

// ASSIGN_OR_RETURN(auto x, Foo()); — binds the value or returns the error status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(CAIRN_CONCAT_(cairn_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()
