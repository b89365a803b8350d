#pragma once
// Byte columns (message_id, payload) of a segment block: rows grouped into frames, each frame
// stored raw, as one zstd frame or as one LZ4 block, each with its own crc, behind a checksummed frame table
// (docs/format/segment.md, "Byte columns"). Frames let a per-customer read fetch, verify and
// decompress ~16 KiB instead of a whole block's payloads.
//
//   region := encoding:u8 head_size:varint head crc:fixed32 frame_data...
//   head   := frame_count:varint (rows:varint raw_size:varint stored_size:varint method:u8
//             frame_crc:fixed32)[frame_count]
//
// Thread-safety: all functions are thread-safe (compression contexts are per thread).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace cairn::store::column {

inline constexpr uint8_t kEncodingFrames = 1;
inline constexpr uint8_t kFrameRaw = 0;
inline constexpr uint8_t kFrameZstd = 1;
inline constexpr uint8_t kFrameLz4 = 2;  // segment format version 3 on

// How a builder compresses frames. Each frame is stored raw when the codec does not make it smaller.
enum class FrameCodec : uint8_t {
  kRaw,   // every frame raw
  kZstd,  // zstd at ByteColumnOptions::zstd_level: the smallest, ~0.5 GB per CPU-second
  kLz4,   // LZ4 block: ~2x zstd's speed, ~1.5x its bytes on payloads; nothing on random ids
};

struct ByteColumnOptions {
  // A frame closes at the first customer boundary once it holds this many raw bytes, or at any row
  // once it holds 4x this. Default 16 KiB: a per-customer read decompresses about that much.
  size_t frame_bytes = 16 << 10;
  // Default zstd: the size at rest. A flush asks for LZ4 (StoreOptions::flush_codec).
  FrameCodec codec = FrameCodec::kZstd;
  // zstd level for frames when codec is kZstd. Default 3.
  int zstd_level = 3;
};

// Decoded rows of a byte column: row i is data[offsets[i], offsets[i+1]). Reused across blocks.
struct ByteColumn {
  std::string data;
  std::vector<uint64_t> offsets{0};

  size_t size() const { return offsets.size() - 1; }
  std::string_view operator[](size_t i) const {
    return std::string_view(data).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
  void clear() {
    data.clear();
    offsets.assign(1, 0);
  }
};

// Appends the region for `values`. `run_starts` lists the rows where a new customer begins
// (ascending, may include 0 and values.size()); frames prefer to end there.
void EncodeBytes(std::span<const std::string_view> values, std::span<const uint32_t> run_starts,
                 const ByteColumnOptions& options, std::string* dst);

struct ByteFrame {
  uint32_t first_row = 0;    // block row of the frame's first row
  uint32_t rows = 0;
  uint64_t raw_size = 0;
  uint64_t offset = 0;       // of the stored bytes, from the start of the region
  uint64_t stored_size = 0;
  uint8_t method = kFrameRaw;
  uint32_t masked_crc = 0;   // over the stored bytes
};

// Bytes of the region a reader must hold to parse the head, from a prefix of the region that is
// at least min(16, region_size) bytes long. Corruption when the prefix cannot start a head.
Result<uint64_t> ByteHeadSize(std::string_view prefix, uint64_t region_size);

// Verifies the head's crc and parses the frame table; checks that frames cover exactly `rows`
// rows and lie inside the region. `head` is the first ByteHeadSize() bytes of the region.
Status ParseByteHead(std::string_view head, uint32_t rows, uint64_t region_size, std::vector<ByteFrame>* frames);

// A range [begin, end) of block rows.
struct RowRange {
  uint32_t begin = 0;
  uint32_t end = 0;
};

// Verifies the frame's crc, decodes it and appends to *out its rows that lie in `ranges`
// (ascending, disjoint; rows outside the frame are ignored). `stored` is the frame's stored bytes.
Status DecodeByteFrame(const ByteFrame& frame, std::string_view stored, std::span<const RowRange> ranges,
                       ByteColumn* out);

// Readable bytes a DecodedFrame keeps past its last value (simdjson's padding is 64): a JSON
// parser that reads ahead parses a value in place instead of copying it first.
inline constexpr size_t kFramePadding = 64;

// One frame decoded in place, for a reader that needs only some of a block's values (the journey
// rebuild reads the payloads of a few rows): no value is copied out of the decompressed frame.
// Reuse one across frames: its buffers keep their capacity.
struct DecodedFrame {
  std::string raw;                // the raw frame (lengths, then values), then kFramePadding bytes
  std::vector<uint64_t> starts;   // the frame's row i is raw[starts[i], starts[i + 1])

  size_t rows() const { return starts.empty() ? 0 : starts.size() - 1; }
  std::string_view operator[](size_t i) const { return {raw.data() + starts[i], starts[i + 1] - starts[i]}; }
};

// Verifies the frame's crc and decodes it whole into *out. `stored` is the frame's stored bytes.
Status DecodeFrame(const ByteFrame& frame, std::string_view stored, DecodedFrame* out);

}  // namespace cairn::store::column
