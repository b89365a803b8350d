#include "base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#endif

namespace cairn::crc32c {
namespace {

constexpr uint32_t kPoly = 0x82f63b78u;  // reversed Castagnoli polynomial

struct Tables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  constexpr Tables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      t[0][i] = c;
    }
    for (int s = 1; s < 8; ++s)
      for (uint32_t i = 0; i < 256; ++i) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};
constexpr Tables kTables;

uint32_t ExtendPortable(uint32_t crc, const uint8_t* p, size_t n) {
  crc = ~crc;
  const auto& t = kTables.t;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    v ^= crc;
    crc = t[7][v & 0xff] ^ t[6][(v >> 8) & 0xff] ^ t[5][(v >> 16) & 0xff] ^ t[4][(v >> 24) & 0xff] ^
          t[3][(v >> 32) & 0xff] ^ t[2][(v >> 40) & 0xff] ^ t[1][(v >> 48) & 0xff] ^ t[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

#if defined(__x86_64__)
// The hardware path runs three independent CRC streams over adjacent stretches of the input and
// joins them, because the crc32 instruction has a latency of 3 cycles and a throughput of one a
// cycle: one stream (each step waiting for the last) reaches a third of what the unit can do.
// Joining uses linearity: the register after A||B is shift(register after A, |B|) ^ (register
// after B started from 0), where shift(r, n) runs r through n zero bytes — a 32x32 matrix over
// GF(2), applied here as four byte-indexed tables. (The method of Mark Adler's crc32c.c.)

// A GF(2) 32x32 matrix as the images of its 32 unit vectors.
using Gf2Matrix = std::array<uint32_t, 32>;

constexpr uint32_t Gf2Times(const Gf2Matrix& m, uint32_t v) {
  uint32_t sum = 0;
  for (int i = 0; v != 0; ++i, v >>= 1)
    if (v & 1) sum ^= m[i];
  return sum;
}

constexpr Gf2Matrix Gf2Square(const Gf2Matrix& m) {
  Gf2Matrix sq{};
  for (int i = 0; i < 32; ++i) sq[i] = Gf2Times(m, m[i]);
  return sq;
}

// The operator that runs a register through `bytes` zero bytes; `bytes` is a power of two.
constexpr Gf2Matrix ZerosOperator(size_t bytes) {
  Gf2Matrix op{};
  op[0] = kPoly;  // one zero bit
  for (int i = 1; i < 32; ++i) op[i] = uint32_t{1} << (i - 1);
  for (int i = 0; i < 3; ++i) op = Gf2Square(op);  // eight zero bits: one byte
  for (; bytes > 1; bytes >>= 1) op = Gf2Square(op);
  return op;
}

struct ShiftTable {
  std::array<std::array<uint32_t, 256>, 4> t{};
  constexpr explicit ShiftTable(size_t bytes) {
    const Gf2Matrix op = ZerosOperator(bytes);
    for (uint32_t b = 0; b < 256; ++b)
      for (int k = 0; k < 4; ++k) t[k][b] = Gf2Times(op, b << (8 * k));
  }
  uint32_t Shift(uint32_t crc) const {
    return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
  }
};

// Stretch lengths (bytes per stream): long ones amortise the join, short ones serve the segment's
// column chunks (a few KiB) and WAL records.
constexpr size_t kLong = 8192;
constexpr size_t kShort = 256;
constexpr ShiftTable kShiftLong(kLong);
constexpr ShiftTable kShiftShort(kShort);

__attribute__((target("sse4.2"))) inline uint64_t Step(uint64_t c, const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return _mm_crc32_u64(c, v);
}

// Three streams of `stretch` bytes each, while 3 * stretch bytes remain.
template <size_t kStretch>
__attribute__((target("sse4.2"))) inline uint64_t ThreeWay(uint64_t c, const uint8_t*& p, size_t& n,
                                                            const ShiftTable& shift) {
  while (n >= 3 * kStretch) {
    uint64_t c1 = 0, c2 = 0;
    for (size_t i = 0; i < kStretch; i += 8) {
      c = Step(c, p + i);
      c1 = Step(c1, p + kStretch + i);
      c2 = Step(c2, p + 2 * kStretch + i);
    }
    c = shift.Shift(static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(c1);
    c = shift.Shift(static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(c2);
    p += 3 * kStretch;
    n -= 3 * kStretch;
  }
  return c;
}

__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = ~crc;
  c = ThreeWay<kLong>(c, p, n, kShiftLong);
  c = ThreeWay<kShort>(c, p, n, kShiftShort);
  for (; n >= 8; p += 8, n -= 8) c = Step(c, p);
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n--) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}

bool HasSse42() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  return (c & bit_SSE4_2) != 0;
}
const bool kHardware = HasSse42();
#endif

}  // namespace

uint32_t Extend(uint32_t init_crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
#if defined(__x86_64__)
  if (kHardware) return ExtendHardware(init_crc, p, n);
#endif
  return ExtendPortable(init_crc, p, n);
}

}  // namespace cairn::crc32c
