#pragma once
// JsonLine: appends one Segment message as minified JSON to a string, without printf or
// allocation per field. Only for the simulator's own vocabulary: string values are escaped for
// quotes, backslashes and control characters, which is all its text can contain.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/civil_time.h"

namespace cairn::sim {

class JsonLine {
 public:
  explicit JsonLine(std::string* out) : out_(out) {}

  JsonLine& Open() { return Char('{'); }   // starts an object (the message, or a nested one)
  JsonLine& Close() {
    out_->push_back('}');
    first_ = false;
    return *this;
  }
  JsonLine& Str(std::string_view key, std::string_view value) {
    Key(key);
    Quoted(value);
    return *this;
  }
  JsonLine& Int(std::string_view key, int64_t value) {
    Key(key);
    AppendInt(value);
    return *this;
  }
  // Money and other decimals with exactly two digits after the point.
  JsonLine& Cents(std::string_view key, int64_t cents) {
    Key(key);
    if (cents < 0) {
      out_->push_back('-');
      cents = -cents;
    }
    AppendInt(cents / 100);
    out_->push_back('.');
    out_->push_back(static_cast<char>('0' + (cents % 100) / 10));
    out_->push_back(static_cast<char>('0' + cents % 10));
    return *this;
  }
  JsonLine& Bool(std::string_view key, bool value) {
    Key(key);
    out_->append(value ? "true" : "false");
    return *this;
  }
  JsonLine& Time(std::string_view key, int64_t ms) {
    Key(key);
    out_->push_back('"');
    AppendIsoMillis(out_, ms);
    out_->push_back('"');
    return *this;
  }
  // key: { ... } — follow with fields and Close().
  JsonLine& Object(std::string_view key) {
    Key(key);
    return Char('{');
  }
  // key: [ ... ] — follow with Element()/Open()... and EndArray().
  JsonLine& Array(std::string_view key) {
    Key(key);
    return Char('[');
  }
  JsonLine& EndArray() {
    out_->push_back(']');
    first_ = false;
    return *this;
  }
  // Starts an object element inside an array.
  JsonLine& Element() {
    if (!first_) out_->push_back(',');
    return Char('{');
  }

 private:
  JsonLine& Char(char c) {
    out_->push_back(c);
    first_ = true;
    return *this;
  }
  void Key(std::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    Quoted(key);
    out_->push_back(':');
  }
  void Quoted(std::string_view s) {
    out_->push_back('"');
    for (char c : s) {
      if (c == '"' || c == '\\') {
        out_->push_back('\\');
        out_->push_back(c);
      } else if (static_cast<unsigned char>(c) < 0x20) {
        static const char kHex[] = "0123456789abcdef";
        out_->append("\\u00");
        out_->push_back(kHex[(c >> 4) & 15]);
        out_->push_back(kHex[c & 15]);
      } else {
        out_->push_back(c);
      }
    }
    out_->push_back('"');
  }
  void AppendInt(int64_t v) {
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do {
      tmp[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    if (v < 0) out_->push_back('-');
    while (n > 0) out_->push_back(tmp[--n]);
  }

  std::string* out_;
  bool first_ = true;
};

}  // namespace cairn::sim
