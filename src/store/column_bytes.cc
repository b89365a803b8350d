#include "store/column_bytes.h"

#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>

#include "base/check.h"
#include "base/coding.h"
#include "base/crc32c.h"

namespace cairn::store::column {

namespace {

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

// One context per thread: creating one costs more than decompressing a small frame.
ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  CHECK(ctx != nullptr) << "ZSTD_createCCtx failed";
  return ctx.get();
}
ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  CHECK(ctx != nullptr) << "ZSTD_createDCtx failed";
  return ctx.get();
}

Status Bad(std::string_view what) { return Corruption(what); }

// Compresses a raw frame into *out with `options`' codec; returns the frame's method, kFrameRaw
// (and leaves *out unspecified) when the codec is raw or does not make the frame smaller.
uint8_t Compress(std::string_view raw, const ByteColumnOptions& options, std::string* out) {
  switch (options.codec) {
    case FrameCodec::kRaw:
      return kFrameRaw;
    case FrameCodec::kZstd: {
      out->resize(ZSTD_compressBound(raw.size()));
      const size_t n =
          ZSTD_compressCCtx(ThreadCCtx(), out->data(), out->size(), raw.data(), raw.size(), options.zstd_level);
      if (ZSTD_isError(n) || n >= raw.size()) return kFrameRaw;
      out->resize(n);
      return kFrameZstd;
    }
    case FrameCodec::kLz4: {
      // LZ4's API counts in int; a frame holds at most 4x frame_bytes plus one value, and a value
      // larger than LZ4 can take simply stays raw.
      if (raw.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) return kFrameRaw;
      out->resize(static_cast<size_t>(LZ4_compressBound(static_cast<int>(raw.size()))));
      // The destination holds the bound: compression cannot fail, 0 would mean a bug in the call.
      const int n = LZ4_compress_default(raw.data(), out->data(), static_cast<int>(raw.size()),
                                         static_cast<int>(out->size()));
      if (n <= 0 || static_cast<size_t>(n) >= raw.size()) return kFrameRaw;
      out->resize(static_cast<size_t>(n));
      return kFrameLz4;
    }
  }
  return kFrameRaw;
}

}  // namespace

void EncodeBytes(std::span<const std::string_view> values, std::span<const uint32_t> run_starts,
                 const ByteColumnOptions& options, std::string* dst) {
  // The frames go straight into *dst and the head is inserted before them at the end (its stored
  // sizes are known only then): no second copy of the column, which for incompressible values is
  // as large as the values. Callers reserve *dst for the block (SegmentBuilder::FlushBlock).
  const size_t start = dst->size();
  std::string head, raw, compressed;
  size_t frame_count = 0;
  size_t next_boundary = 0;  // index into run_starts
  size_t first = 0;          // first row of the open frame
  const size_t target = std::max<size_t>(options.frame_bytes, 1);
  // The values usually lie scattered over a memtable written long before (a flush reads them in
  // customer order, they arrived in time order): each is a cache miss, often a TLB miss. Asking
  // for every line of the value kPrefetchRows ahead keeps several misses in flight instead of one.
  constexpr size_t kPrefetchRows = 4;
  auto prefetch = [&](size_t i) {
    if (i >= values.size()) return;
    const auto begin = reinterpret_cast<uintptr_t>(values[i].data());
    for (uintptr_t line = begin & ~uintptr_t{63}; line < begin + values[i].size(); line += 64)
      __builtin_prefetch(reinterpret_cast<const void*>(line));
  };
  for (size_t i = 0; i < kPrefetchRows; ++i) prefetch(i);
  auto close_frame = [&](size_t end) {
    raw.clear();
    for (size_t i = first; i < end; ++i) PutVarint64(&raw, values[i].size());
    for (size_t i = first; i < end; ++i) {
      prefetch(i + kPrefetchRows);
      raw.append(values[i]);
    }
    const uint8_t method = Compress(raw, options, &compressed);
    const std::string_view stored = method == kFrameRaw ? std::string_view(raw) : std::string_view(compressed);
    PutVarint64(&head, end - first);
    PutVarint64(&head, raw.size());
    PutVarint64(&head, stored.size());
    head.push_back(static_cast<char>(method));
    PutFixed32(&head, crc32c::Mask(crc32c::Value(stored)));
    dst->append(stored);
    ++frame_count;
    first = end;
  };
  size_t bytes = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    // Row i starts a new customer? Then the open frame may close before it.
    while (next_boundary < run_starts.size() && run_starts[next_boundary] < i) ++next_boundary;
    const bool boundary = next_boundary < run_starts.size() && run_starts[next_boundary] == i;
    if (i > first && ((boundary && bytes >= target) || bytes >= 4 * target)) {
      close_frame(i);
      bytes = 0;
    }
    bytes += values[i].size() + 1;
  }
  if (first < values.size()) close_frame(values.size());

  std::string counted;
  PutVarint64(&counted, frame_count);
  counted.append(head);
  std::string prefix;  // encoding head_size head crc, the crc over the three before it
  prefix.push_back(static_cast<char>(kEncodingFrames));
  PutVarint64(&prefix, counted.size());
  prefix.append(counted);
  PutFixed32(&prefix, crc32c::Mask(crc32c::Value(prefix)));
  dst->insert(start, prefix);
}

Result<uint64_t> ByteHeadSize(std::string_view prefix, uint64_t region_size) {
  if (prefix.empty()) return Bad("empty byte column");
  if (static_cast<uint8_t>(prefix[0]) != kEncodingFrames) {
    return Bad("unsupported encoding " + std::to_string(static_cast<uint8_t>(prefix[0])));
  }
  const char* p = prefix.data() + 1;
  uint64_t head_size;
  if (!GetVarint64(p, prefix.data() + prefix.size(), &head_size)) return Bad("bad head size");
  const uint64_t total = static_cast<uint64_t>(p - prefix.data());
  if (head_size > region_size || total + head_size + 4 > region_size) return Bad("head larger than the column");
  return total + head_size + 4;
}

Status ParseByteHead(std::string_view head, uint32_t rows, uint64_t region_size, std::vector<ByteFrame>* frames) {
  if (head.size() < 5) return Bad("truncated head");
  const uint32_t stored_crc = crc32c::Unmask(DecodeFixed32(head.data() + head.size() - 4));
  if (crc32c::Value(head.data(), head.size() - 4) != stored_crc) return Bad("checksum mismatch");
  const char* p = head.data() + 1;
  const char* limit = head.data() + head.size() - 4;
  uint64_t head_size, count;
  if (!GetVarint64(p, limit, &head_size) || head_size != static_cast<uint64_t>(limit - p)) {
    return Bad("bad head size");
  }
  if (!GetVarint64(p, limit, &count) || count > rows) return Bad("bad frame count");
  frames->clear();
  uint64_t offset = head.size(), row = 0;
  for (uint64_t f = 0; f < count; ++f) {
    ByteFrame fr;
    uint64_t n;
    if (!GetVarint64(p, limit, &n) || n == 0 || n > rows - row) return Bad("bad frame row count");
    fr.first_row = static_cast<uint32_t>(row);
    fr.rows = static_cast<uint32_t>(n);
    row += n;
    if (!GetVarint64(p, limit, &fr.raw_size) || !GetVarint64(p, limit, &fr.stored_size) || limit - p < 5) {
      return Bad("bad frame header");
    }
    fr.method = static_cast<uint8_t>(*p++);
    fr.masked_crc = DecodeFixed32(p);
    p += 4;
    if (fr.method != kFrameRaw && fr.method != kFrameZstd && fr.method != kFrameLz4) {
      return Bad("unsupported frame method " + std::to_string(fr.method));
    }
    if (fr.method == kFrameRaw && fr.raw_size != fr.stored_size) return Bad("raw frame size mismatch");
    if (fr.stored_size > region_size - offset) return Bad("frame past the end of the column");
    fr.offset = offset;
    offset += fr.stored_size;
    frames->push_back(fr);
  }
  if (p != limit) return Bad("trailing bytes in head");
  if (row != rows) return Bad("frames do not cover the block's rows");
  if (offset != region_size) return Bad("frames do not fill the column");
  return Status::Ok();
}

namespace {

// An LZ4 block cannot expand its input more than this: its best case is a 1-byte token whose
// 255-valued length bytes each add 255 bytes of match.
inline constexpr uint64_t kLz4MaxRatio = 255;

// Verifies a frame's stored bytes: size, crc, and that raw_size is one the stored bytes can hold
// (zstd's header declares it; an LZ4 block bounds it), so a lying raw_size is Corruption before
// anything is allocated for it.
Status CheckFrame(const ByteFrame& frame, std::string_view stored) {
  if (stored.size() != frame.stored_size) return Bad("truncated frame");
  if (crc32c::Value(stored) != crc32c::Unmask(frame.masked_crc)) return Bad("frame checksum mismatch");
  if (frame.method == kFrameZstd && ZSTD_getFrameContentSize(stored.data(), stored.size()) != frame.raw_size) {
    return Bad("frame size mismatch");
  }
  if (frame.method == kFrameLz4 &&
      (stored.size() > static_cast<uint64_t>(INT_MAX) || frame.raw_size > static_cast<uint64_t>(INT_MAX) ||
       frame.raw_size > kLz4MaxRatio * stored.size())) {
    return Bad("frame size mismatch");
  }
  return Status::Ok();
}

// Decompresses a checked zstd or LZ4 frame into dst[0, raw_size). Both decoders bound every read
// by the stored size and every write by raw_size, and both must produce exactly raw_size bytes.
Status Inflate(const ByteFrame& frame, std::string_view stored, char* dst) {
  if (frame.method == kFrameLz4) {
    const int n = LZ4_decompress_safe(stored.data(), dst, static_cast<int>(stored.size()),
                                      static_cast<int>(frame.raw_size));
    if (n < 0 || static_cast<uint64_t>(n) != frame.raw_size) return Bad("frame does not decompress");
    return Status::Ok();
  }
  const size_t n = ZSTD_decompressDCtx(ThreadDCtx(), dst, frame.raw_size, stored.data(), stored.size());
  if (ZSTD_isError(n) || n != frame.raw_size) return Bad("frame does not decompress");
  return Status::Ok();
}

// Parses a raw frame's value lengths: (*starts)[i] is where row i's value begins in `raw`,
// (*starts)[rows] where the frame ends. Corruption unless the values fill the frame exactly.
Status FrameStarts(std::string_view raw, uint32_t rows, std::vector<uint64_t>* starts) {
  const char* p = raw.data();
  const char* limit = raw.data() + raw.size();
  // Lengths first, then bytes: the lengths are turned into starts once the first value's is known.
  starts->resize(rows + 1);
  uint64_t total = 0;
  for (uint32_t i = 0; i < rows; ++i) {
    uint64_t len;
    if (!GetVarint64(p, limit, &len) || len > static_cast<uint64_t>(limit - p)) return Bad("bad value length");
    (*starts)[i] = total;
    total += len;
  }
  if (total != static_cast<uint64_t>(limit - p)) return Bad("value lengths do not match the frame");
  const uint64_t base = static_cast<uint64_t>(p - raw.data());
  for (uint32_t i = 0; i < rows; ++i) (*starts)[i] += base;
  (*starts)[rows] = base + total;
  return Status::Ok();
}

}  // namespace

Status DecodeByteFrame(const ByteFrame& frame, std::string_view stored, std::span<const RowRange> ranges,
                       ByteColumn* out) {
  RETURN_IF_ERROR(CheckFrame(frame, stored));
  thread_local std::string scratch;
  std::string_view raw = stored;
  if (frame.method != kFrameRaw) {
    scratch.resize(frame.raw_size);
    RETURN_IF_ERROR(Inflate(frame, stored, scratch.data()));
    raw = scratch;
  }
  thread_local std::vector<uint64_t> starts;
  RETURN_IF_ERROR(FrameStarts(raw, frame.rows, &starts));
  size_t r = 0;  // first range that may still contain rows of this frame
  for (uint32_t i = 0; i < frame.rows; ++i) {
    const uint32_t row = frame.first_row + i;
    while (r < ranges.size() && ranges[r].end <= row) ++r;
    if (r == ranges.size()) break;
    if (row >= ranges[r].begin) {
      out->data.append(raw.data() + starts[i], starts[i + 1] - starts[i]);
      out->offsets.push_back(out->data.size());
    }
  }
  return Status::Ok();
}

Status DecodeFrame(const ByteFrame& frame, std::string_view stored, DecodedFrame* out) {
  RETURN_IF_ERROR(CheckFrame(frame, stored));
  // The padding bytes are never values: a parser reads past a value's end into them and ignores
  // what it finds (whatever a reused buffer held).
  out->raw.resize(frame.raw_size + kFramePadding);
  if (frame.method != kFrameRaw) {
    RETURN_IF_ERROR(Inflate(frame, stored, out->raw.data()));
  } else {
    std::memcpy(out->raw.data(), stored.data(), frame.raw_size);
  }
  return FrameStarts(std::string_view(out->raw.data(), frame.raw_size), frame.rows, &out->starts);
}

}  // namespace cairn::store::column
