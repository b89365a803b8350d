#pragma once
// Byte layout of a segment file: constants, the footer and trailer codecs and the chunk checksum.
// The specification is docs/format/segment.md; this file is its code. Shared by the builder, the
// reader and tools/segment_dump.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cairn::store::segment {

inline constexpr uint64_t kMagic = 0x47455326E7A9C3A1ull;
// Written: 3 (byte-column frames may be LZ4 blocks, method 2). Read: 1 to 3 (docs/format/segment.md,
// "Versioning").
inline constexpr uint32_t kVersion = 3;
inline constexpr uint32_t kOldestReadableVersion = 1;
inline constexpr size_t kTrailerSize = 32;  // footer_offset, footer_size, footer_crc, version, magic
inline constexpr uint32_t kMaxBlockRows = 65536;
inline constexpr size_t kChunkCrcSize = 4;
inline constexpr size_t kMinChunkSize = 1 + kChunkCrcSize;  // encoding byte + crc

// Column ids: the order of chunks inside a block. Stored on disk: never renumber.
enum class Column : uint8_t {
  kCustomer = 0,
  kTimestamp = 1,
  kEvent = 2,
  kType = 3,
  kChannel = 4,
  kSource = 5,
  kSeq = 6,
  kReceivedAt = 7,
  kRevenue = 8,
  kMessageId = 9,
  kPayload = 10,
};
inline constexpr size_t kNumColumns = 11;
std::string_view ColumnName(Column c);
inline Column ColumnAt(size_t i) { return static_cast<Column>(i); }

// A set of columns (bit i = column id i).
using ColumnMask = uint32_t;
constexpr ColumnMask Bit(Column c) { return ColumnMask{1} << static_cast<unsigned>(c); }
inline constexpr ColumnMask kAllColumns = (ColumnMask{1} << kNumColumns) - 1;
inline constexpr ColumnMask kByteColumns = Bit(Column::kMessageId) | Bit(Column::kPayload);
inline constexpr ColumnMask kFixedColumns = kAllColumns & ~kByteColumns;
// The columns a scan needs most: customer, timestamp, event, type.
inline constexpr ColumnMask kCoreColumns =
    Bit(Column::kCustomer) | Bit(Column::kTimestamp) | Bit(Column::kEvent) | Bit(Column::kType);

struct BlockEntry {
  uint32_t rows = 0;
  uint64_t first_customer = 0;
  uint64_t last_customer = 0;
  int64_t min_ts = 0;
  int64_t max_ts = 0;
  std::string event_bitmap;  // bit c set iff event code c occurs; trailing zero bytes omitted
  std::array<uint64_t, kNumColumns> chunk_size{};

  // Derived by DecodeFooter (not stored):
  uint64_t offset = 0;     // file offset of the block's first chunk
  uint64_t first_row = 0;  // segment row index of the block's first row
  uint64_t ChunkOffset(size_t column) const {
    uint64_t o = offset;
    for (size_t i = 0; i < column; ++i) o += chunk_size[i];
    return o;
  }
  uint64_t size() const { return ChunkOffset(kNumColumns) - offset; }
  bool HasEvent(uint32_t code) const {
    return code / 8 < event_bitmap.size() && (static_cast<uint8_t>(event_bitmap[code / 8]) >> (code % 8)) & 1;
  }
};

struct Footer {
  uint64_t row_count = 0;
  int64_t min_ts = 0;  // 0 when empty
  int64_t max_ts = 0;
  std::vector<std::string> events;
  std::vector<std::string> channels;
  std::vector<uint32_t> sources;
  std::vector<BlockEntry> blocks;
};

struct Trailer {
  uint64_t footer_offset = 0;
  uint64_t footer_size = 0;
  uint32_t footer_masked_crc = 0;
  uint32_t version = 0;
};

void EncodeFooter(const Footer& footer, std::string* dst);
// Parses and validates a footer whose blocks must end exactly at `footer_offset`; fills the
// derived BlockEntry fields. Corruption naming what is wrong.
Status DecodeFooter(std::string_view body, uint64_t footer_offset, Footer* out);

// The (unmasked) footer_crc of a file of `version`: crc over the footer body, and from version 3
// on over the trailer's version field after it. Versions 1 to 3 are all readable, so without it a
// flipped bit of version 3 (to 2 or 1) would go unnoticed; now it is a checksum mismatch.
uint32_t FooterCrc(std::string_view footer_body, uint32_t version);
// Appends the 32-byte trailer of version kVersion (computes the footer_crc).
void EncodeTrailer(uint64_t footer_offset, std::string_view footer_body, std::string* dst);
// Parses the last 32 bytes of a file of `file_size` bytes: magic, version, sizes.
Status DecodeTrailer(std::string_view bytes, uint64_t file_size, Trailer* out);

// Appends the masked crc32c of chunk[start, end) to *chunk, making it a complete chunk.
void SealChunk(std::string* chunk, size_t start);
// Checks a complete chunk's crc; on success *body is the chunk without its crc.
Status VerifyChunk(std::string_view chunk, std::string_view* body);

}  // namespace cairn::store::segment
