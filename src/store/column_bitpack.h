#pragma once
// Frame-of-reference bit packing: the IntVector of docs/format/segment.md.
//
//   IntVector(m) := width:u8 (0..64) base:fixed64 packed[ceil(m * width / 8)]
//   value[i]     = base + bits[i*width, (i+1)*width)  (mod 2^64), LSB-first bit stream
//
// Every group of 8 values fills exactly `width` bytes, so for widths <= 56 each value is one
// unaligned 64-bit load, a constant shift and a mask. Decode() dispatches to a loop specialised
// per width (no per-value branches, no byte-at-a-time varints): that loop is the full-scan hot path.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace cairn::store::bitpack {

// Number of bits needed to represent v (0 for v == 0).
int BitWidth(uint64_t v);
// Bytes of the packed stream of `count` values of `width` bits.
inline size_t PackedBytes(size_t count, int width) {
  // count = 8q + r: each full group of 8 values takes exactly `width` bytes (no overflow).
  return (count / 8) * static_cast<size_t>(width) + ((count % 8) * static_cast<size_t>(width) + 7) / 8;
}

// Appends IntVector(values.size()). base = min(values), width = BitWidth(max - min); unsigned
// order. For signed columns use PutSigned: base is then the signed minimum.
void PutUnsigned(std::span<const uint64_t> values, std::string* dst);
void PutSigned(std::span<const int64_t> values, std::string* dst);

// The frame PutSigned packs `values` in: base = the signed minimum (as its two's-complement bits),
// width = BitWidth(max - min); {0, 0} for no values. Lets an encoder compare candidate columns'
// packed sizes without packing them.
struct SignedFrame {
  uint64_t base = 0;
  int width = 0;
};
SignedFrame SignedFrameOf(std::span<const int64_t> values);

// A parsed IntVector; points into the caller's buffer, which must outlive it. Cheap to copy.
class PackedInts {
 public:
  PackedInts() = default;

  // Parses IntVector(count) at p, advancing p past it. Returns false when the input is truncated
  // or the width is > 64; never reads at or past `limit`.
  static bool Parse(const char*& p, const char* limit, size_t count, PackedInts* out);

  size_t size() const { return count_; }
  int width() const { return width_; }
  uint64_t base() const { return base_; }

  // Value i (i < size()); random access, bounds-safe.
  uint64_t Get(size_t i) const;

  // out[k] = static_cast<T>(value[start + k]) for k < n; requires start + n <= size(). Fast when
  // start is a multiple of 8 (always true for whole-vector decodes). T: uint8_t, uint32_t,
  // uint64_t. Values wider than T are truncated: callers validate ranges where it matters.
  template <typename T>
  void Decode(size_t start, size_t n, T* out) const;

 private:
  const uint8_t* data_ = nullptr;  // packed bytes
  size_t bytes_ = 0;               // == PackedBytes(count_, width_)
  size_t count_ = 0;
  uint64_t base_ = 0;
  int width_ = 0;
};

extern template void PackedInts::Decode<uint8_t>(size_t, size_t, uint8_t*) const;
extern template void PackedInts::Decode<uint32_t>(size_t, size_t, uint32_t*) const;
extern template void PackedInts::Decode<uint64_t>(size_t, size_t, uint64_t*) const;

}  // namespace cairn::store::bitpack
