#pragma once
// JsonWriter: appends compact JSON to a string, with commas and escaping handled. Used by the
// DTOs so that already-serialised JSON held by the core (an Interaction's payload, trait values)
// can be embedded verbatim with Raw() instead of being parsed and re-serialised.
//
// Strings are escaped per RFC 8259; invalid UTF-8 is replaced by U+FFFD so the output is always
// valid JSON. Numbers: non-finite doubles are written as null. Misuse (a value where a key is
// expected, unbalanced End*) is a bug, caught by DCHECK.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_string.h"

namespace cairn::api {

class JsonWriter {
 public:
  JsonWriter() = default;

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);

  JsonWriter& String(std::string_view v);
  JsonWriter& Int(int64_t v);
  JsonWriter& UInt(uint64_t v);
  JsonWriter& Double(double v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  // A complete JSON value serialised elsewhere, embedded as is; "" is written as null.
  JsonWriter& Raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();

  std::string out_;
  // One entry per open container: true once it holds an element (a comma is needed next).
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

}  // namespace cairn::api
