#pragma once
// Little-endian fixed-width and LEB128 varint coding, used by every on-disk format.
// Decoders take a cursor (`const char*& p`, `limit`) and return false on truncated or overlong
// input; they never read past `limit`.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cairn {

inline void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  std::memcpy(buf, &v, 4);  // x86-64 and aarch64 Linux are little-endian; asserted in coding.cc
  dst->append(buf, 4);
}
inline void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  dst->append(buf, 8);
}
inline void EncodeFixed32(char* dst, uint32_t v) { std::memcpy(dst, &v, 4); }
inline void EncodeFixed64(char* dst, uint64_t v) { std::memcpy(dst, &v, 8); }
inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Writes v as a varint into dst (at most 10 bytes); returns the byte after it.
inline char* EncodeVarint64(char* dst, uint64_t v) {
  auto* p = reinterpret_cast<uint8_t*>(dst);
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return reinterpret_cast<char*>(p);
}
inline void PutVarint64(std::string* dst, uint64_t v) {
  char buf[10];
  dst->append(buf, EncodeVarint64(buf, v) - buf);
}
inline void PutVarint32(std::string* dst, uint32_t v) { PutVarint64(dst, v); }

// ZigZag maps signed to unsigned so small negative deltas stay small.
inline uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
inline void PutVarsint64(std::string* dst, int64_t v) { PutVarint64(dst, ZigZag(v)); }

inline bool GetVarint64(const char*& p, const char* limit, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && p < limit; shift += 7) {
    uint64_t byte = static_cast<uint8_t>(*p++);
    if (shift == 63 && byte > 1) return false;  // overlong: more than 64 bits
    result |= (byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *v = result;
      return true;
    }
  }
  return false;
}
inline bool GetVarint32(const char*& p, const char* limit, uint32_t* v) {
  uint64_t x;
  if (!GetVarint64(p, limit, &x) || x > UINT32_MAX) return false;
  *v = static_cast<uint32_t>(x);
  return true;
}
inline bool GetVarsint64(const char*& p, const char* limit, int64_t* v) {
  uint64_t x;
  if (!GetVarint64(p, limit, &x)) return false;
  *v = UnZigZag(x);
  return true;
}

// Length-prefixed byte strings: varint length, then the bytes.
inline void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint64(dst, s.size());
  dst->append(s.data(), s.size());
}
inline bool GetLengthPrefixed(const char*& p, const char* limit, std::string_view* out) {
  uint64_t n;
  if (!GetVarint64(p, limit, &n) || n > static_cast<uint64_t>(limit - p)) return false;
  *out = std::string_view(p, n);
  p += n;
  return true;
}

inline int VarintLength(uint64_t v) {
  int len = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++len;
  }
  return len;
}

}  // namespace cairn
