#include "store/column_bitpack.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <utility>

#if defined(__BMI2__) && defined(__AVX2__)
#include <immintrin.h>
#endif

#include "base/check.h"
#include "base/coding.h"

namespace cairn::store::bitpack {

int BitWidth(uint64_t v) { return v == 0 ? 0 : 64 - std::countl_zero(v); }

namespace {

constexpr uint64_t MaskOf(int width) { return width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1; }

// Appends the header and the LSB-first bit stream of (v - base) for each v.
template <typename V>
void PutPacked(std::span<const V> values, uint64_t base, int width, std::string* dst) {
  dst->push_back(static_cast<char>(width));
  PutFixed64(dst, base);
  if (width == 0) return;
  const size_t start = dst->size();
  dst->resize(start + PackedBytes(values.size(), width));
  char* out = dst->data() + start;
  uint64_t acc = 0;  // pending bits, LSB first
  int pending = 0;   // number of valid bits in acc (< 64)
  for (V v : values) {
    const uint64_t x = static_cast<uint64_t>(v) - base;
    acc |= x << pending;  // pending < 64
    if (pending + width >= 64) {
      EncodeFixed64(out, acc);
      out += 8;
      const int used = 64 - pending;  // bits of x already in acc
      acc = used == 64 ? 0 : x >> used;
      pending = pending + width - 64;
    } else {
      pending += width;
    }
  }
  // Flush the remaining whole and partial bytes; the stream length is exact.
  while (pending > 0) {
    *out++ = static_cast<char>(acc & 0xff);
    acc >>= 8;
    pending -= 8;
  }
  DCHECK(out == dst->data() + dst->size());
}

// ---- decoding ----

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Every `lane`-bit lane of a word holds the mask of W bits: the _pdep_u64 pattern that spreads
// consecutive W-bit values into lanes.
constexpr uint64_t LaneMasks(int w, int lane) {
  uint64_t m = 0;
  for (int i = 0; i < 64 / lane; ++i) m |= MaskOf(w) << (i * lane);
  return m;
}

// For widths 17..32 into 64-bit outputs (UnpackGroupDeposit): per half of a group, the byte
// shuffle that puts value j's first bytes in 64-bit element j (both 128-bit lanes hold the same 16
// loaded bytes; 0x80 selects a zero) and the right shift that then aligns it.
struct WideSpread {
  alignas(32) std::array<std::array<uint8_t, 32>, 2> shuffle{};
  alignas(32) std::array<std::array<uint64_t, 4>, 2> shift{};
};

constexpr WideSpread MakeWideSpread(int w) {
  WideSpread s;
  for (int h = 0; h < 2; ++h) {
    const int bit0 = h == 0 ? 0 : (4 * w) % 8;  // where value 4 starts in the second load
    for (int j = 0; j < 4; ++j) {
      const int first = bit0 + j * w;
      s.shift[h][j] = static_cast<uint64_t>(first % 8);
      const int lane = j / 2;  // elements 0, 1 in the low lane; 2, 3 in the high one
      for (int m = 0; m < 8; ++m) {
        const int src = first / 8 + m;
        s.shuffle[h][lane * 16 + (j % 2) * 8 + m] = static_cast<uint8_t>(src < 16 ? src : 0x80);
      }
    }
  }
  return s;
}

#if defined(__BMI2__) && defined(__AVX2__)
// With BMI2 and AVX2 (x86-64-v3 builds), a group of 8 values in a handful of vector instructions
// instead of 8 shift-mask-add-store sequences. Widths up to 16: one parallel bit deposit spreads
// four or eight values into byte or 16-bit lanes, which the vector unit widens to T and offsets
// by base. Widths 17..32 into 64-bit outputs: a byte shuffle and a per-element shift (below).
// False for the other widths and types: the caller's scalar loop takes them.
template <int W, typename T>
inline bool UnpackGroupDeposit(const uint8_t* p, uint64_t base, T* out) {
  if constexpr (W <= 8) {
    const uint64_t bytes = _pdep_u64(Load64(p), LaneMasks(W, 8));  // value k in byte k
    const __m128i v = _mm_cvtsi64_si128(static_cast<long long>(bytes));
    if constexpr (sizeof(T) == 1) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_add_epi8(v, _mm_set1_epi8(static_cast<char>(base))));
    } else if constexpr (sizeof(T) == 4) {
      const __m256i w = _mm256_add_epi32(_mm256_cvtepu8_epi32(v), _mm256_set1_epi32(static_cast<int>(base)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), w);
    } else {
      const __m256i b = _mm256_set1_epi64x(static_cast<long long>(base));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_add_epi64(_mm256_cvtepu8_epi64(v), b));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 4),
                          _mm256_add_epi64(_mm256_cvtepu8_epi64(_mm_srli_si128(v, 4)), b));
    }
    return true;
  } else if constexpr (W <= 16 && sizeof(T) >= 4) {
    // Values 0-3 are bits [0, 4W) and values 4-7 bits [4W, 8W): each half fits one 64-bit load.
    const uint64_t lo = _pdep_u64(Load64(p), LaneMasks(W, 16));
    const uint64_t hi = _pdep_u64(Load64(p + (4 * W) / 8) >> ((4 * W) % 8), LaneMasks(W, 16));
    const __m128i v = _mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo));  // 8 x u16
    if constexpr (sizeof(T) == 4) {
      const __m256i w = _mm256_add_epi32(_mm256_cvtepu16_epi32(v), _mm256_set1_epi32(static_cast<int>(base)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), w);
    } else {
      const __m256i b = _mm256_set1_epi64x(static_cast<long long>(base));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_add_epi64(_mm256_cvtepu16_epi64(v), b));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 4),
                          _mm256_add_epi64(_mm256_cvtepu16_epi64(_mm_srli_si128(v, 8)), b));
    }
    return true;
  } else if constexpr (W <= 32 && sizeof(T) == 8) {
    // Four values at a time: 16 bytes holding them are loaded into both 128-bit lanes, a byte
    // shuffle moves each value's bytes into its own 64-bit element, and a per-element shift and
    // mask finish it. Values 0-3 are bits [0, 4W) of the group, values 4-7 bits [4W, 8W), which
    // start at byte 4W / 8 (bit 0 or 4 of it); either half lies within the 16 bytes loaded.
    static constexpr WideSpread kSpread = MakeWideSpread(W);
    const __m256i mask = _mm256_set1_epi64x(static_cast<long long>(MaskOf(W)));
    const __m256i b = _mm256_set1_epi64x(static_cast<long long>(base));
    for (int h = 0; h < 2; ++h) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + (h == 0 ? 0 : (4 * W) / 8)));
      __m256i v = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(bytes),
                                      _mm256_load_si256(reinterpret_cast<const __m256i*>(kSpread.shuffle[h].data())));
      v = _mm256_srlv_epi64(v, _mm256_load_si256(reinterpret_cast<const __m256i*>(kSpread.shift[h].data())));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 4 * h), _mm256_add_epi64(_mm256_and_si256(v, mask), b));
    }
    return true;
  } else {
    return false;
  }
}
#endif

// Decodes one group of 8 values of compile-time width W (1..56) at p; bytes [p, p + W + 8) must
// be readable (the vector paths above read up to there; Decode and its padded tail ensure it).
template <int W, typename T, size_t... K>
inline void UnpackGroup(const uint8_t* p, uint64_t base, T* out, std::index_sequence<K...>) {
  constexpr uint64_t kMask = MaskOf(W);
#if defined(__BMI2__) && defined(__AVX2__)
  if constexpr (W <= 32) {
    if (UnpackGroupDeposit<W, T>(p, base, out)) return;
  }
#endif
  if constexpr (W <= 8) {
    // The whole group is in one 64-bit word: one load, eight constant shifts.
    const uint64_t word = Load64(p);
    ((out[K] = static_cast<T>(base + ((word >> (K * W)) & kMask))), ...);
  } else {
    ((out[K] = static_cast<T>(base + ((Load64(p + (K * W) / 8) >> ((K * W) % 8)) & kMask))), ...);
  }
}

// Decodes `groups` groups from `in` (group g starts at byte g * W); bytes
// [in, in + groups * W + 8) must be readable.
template <int W, typename T>
void UnpackGroups(const uint8_t* in, size_t groups, uint64_t base, T* out) {
  for (size_t g = 0; g < groups; ++g) {
    UnpackGroup<W, T>(in + g * W, base, out + g * 8, std::make_index_sequence<8>());
  }
}

template <typename T>
using UnpackFn = void (*)(const uint8_t*, size_t, uint64_t, T*);

constexpr int kMaxFastWidth = 56;
// Groups a decode of the vector's end takes from a padded copy (see Decode): at least the
// 1 + 8 / width groups the fast loop cannot take there, for every width.
constexpr size_t kTailGroups = 10;

template <typename T, size_t... W>
constexpr std::array<UnpackFn<T>, sizeof...(W)> MakeTable(std::index_sequence<W...>) {
  return {&UnpackGroups<static_cast<int>(W) + 1, T>...};
}

template <typename T>
constexpr auto kUnpackTable = MakeTable<T>(std::make_index_sequence<kMaxFastWidth>());

}  // namespace

void PutUnsigned(std::span<const uint64_t> values, std::string* dst) {
  uint64_t lo = ~uint64_t{0}, hi = 0;
  for (uint64_t v : values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (values.empty()) lo = 0;
  PutPacked(values, lo, BitWidth(hi - lo), dst);
}

SignedFrame SignedFrameOf(std::span<const int64_t> values) {
  if (values.empty()) return {};
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int64_t v : values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // hi - lo in unsigned arithmetic is the exact range even across the whole int64 domain.
  return {static_cast<uint64_t>(lo), BitWidth(static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo))};
}

void PutSigned(std::span<const int64_t> values, std::string* dst) {
  const SignedFrame f = SignedFrameOf(values);
  PutPacked(values, f.base, f.width, dst);
}

bool PackedInts::Parse(const char*& p, const char* limit, size_t count, PackedInts* out) {
  if (limit - p < 9) return false;
  const int width = static_cast<uint8_t>(*p);
  if (width > 64) return false;
  const uint64_t base = DecodeFixed64(p + 1);
  const size_t bytes = PackedBytes(count, width);
  if (bytes > static_cast<size_t>(limit - p - 9)) return false;
  out->data_ = reinterpret_cast<const uint8_t*>(p + 9);
  out->bytes_ = bytes;
  out->count_ = count;
  out->base_ = base;
  out->width_ = width;
  p += 9 + bytes;
  return true;
}

uint64_t PackedInts::Get(size_t i) const {
  DCHECK(i < count_);
  if (width_ == 0) return base_;
  const uint64_t bit = static_cast<uint64_t>(i) * width_;
  const size_t byte = bit / 8;
  const int shift = bit % 8;
  // Bounds: the value's last bit lies before bytes_ * 8, so bytes [byte, byte + ceil((shift +
  // width) / 8)) exist; load only those.
  const size_t need = (shift + width_ + 7) / 8;  // 1..9
  uint64_t lo = 0;
  std::memcpy(&lo, data_ + byte, std::min<size_t>(need, 8));
  uint64_t v = lo >> shift;
  if (need == 9) v |= static_cast<uint64_t>(data_[byte + 8]) << (64 - shift);
  return base_ + (v & MaskOf(width_));
}

template <typename T>
void PackedInts::Decode(size_t start, size_t n, T* out) const {
  DCHECK(start + n <= count_);
  if (width_ == 0) {
    std::fill(out, out + n, static_cast<T>(base_));
    return;
  }
  size_t done = 0;
  if (width_ <= kMaxFastWidth && start % 8 == 0) {
    // Group g (absolute) starts at byte g * width and its loads end by g * width + width + 8, so
    // a group is safe while (g + 1) * width + 8 <= bytes_.
    const size_t g0 = start / 8;
    const size_t w = static_cast<size_t>(width_);
    size_t safe_groups = bytes_ >= w + 8 ? (bytes_ - 8) / w : 0;  // groups [0, safe_groups) fast
    size_t groups = std::min(n / 8, safe_groups > g0 ? safe_groups - g0 : 0);
    if (groups > 0) {
      kUnpackTable<T>[width_ - 1](data_ + g0 * w, groups, base_, out);
      done = groups * 8;
    }
    // The last groups of the vector (the loads would pass its end: 1 + 8 / width groups, up to 72
    // values, ~2% of a 4096-row block's) go through the same loop on a zero-padded copy of their
    // bytes, not value by value through Get().
    const size_t tail_groups = (n - done + 7) / 8;
    if (tail_groups > 0 && tail_groups <= kTailGroups) {
      const size_t from = (g0 + done / 8) * w;
      uint8_t padded[kTailGroups * kMaxFastWidth + 8];
      const size_t have = std::min(bytes_ - from, tail_groups * w);
      std::memcpy(padded, data_ + from, have);
      std::memset(padded + have, 0, tail_groups * w + 8 - have);  // what the loop reads past them
      T values[kTailGroups * 8];
      kUnpackTable<T>[width_ - 1](padded, tail_groups, base_, values);
      std::copy(values, values + (n - done), out + done);
      done = n;
    }
  }
  for (; done < n; ++done) out[done] = static_cast<T>(Get(start + done));
}

template void PackedInts::Decode<uint8_t>(size_t, size_t, uint8_t*) const;
template void PackedInts::Decode<uint32_t>(size_t, size_t, uint32_t*) const;
template void PackedInts::Decode<uint64_t>(size_t, size_t, uint64_t*) const;

}  // namespace cairn::store::bitpack
