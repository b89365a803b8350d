#pragma once
// CRC-32C (Castagnoli), the checksum of every WAL record and segment block, computed by ISA-L
// (Intel's storage acceleration library, Debian libisal-dev), which picks the fastest code the CPU
// runs.
// Mask()/Unmask() follow LevelDB: a CRC stored next to data that itself contains CRCs is masked
// so that computing the CRC of a string containing embedded CRCs stays well distributed.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cairn::crc32c {

// Returns the crc32c of data[0,n) continuing from `init_crc` (the crc of a preceding string).
uint32_t Extend(uint32_t init_crc, const void* data, size_t n);
inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

constexpr uint32_t kMaskDelta = 0xa282ead8ul;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return ((rot >> 17) | (rot << 15));
}

}  // namespace cairn::crc32c
