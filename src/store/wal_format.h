#pragma once
// Constants of the write-ahead log format (docs/format/wal.md). Values are on disk: never change
// them; a new layout gets a new version.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::store::wal {

// File header: magic(8) version(4) file_number(8) prev_file_size(8) masked crc(4).
inline constexpr std::string_view kMagic = "CAIRNWAL";
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kFileHeaderSize = 32;
inline constexpr size_t kFileHeaderCrcOffset = 28;

// Record header: masked crc(4) length(4) type(1); the crc covers bytes 4.. of the record.
inline constexpr size_t kRecordHeaderSize = 9;
// Longest payload a record may carry; a longer length field is damage.
inline constexpr uint32_t kMaxPayloadSize = 1u << 30;

enum class RecordType : uint8_t {
  kZero = 0,  // reserved: never written; nine zero bytes mark a zero-filled region
  kFull = 1,  // the whole payload in one record
};

// File names: 10-digit zero-padded file number + ".wal".
inline constexpr size_t kFileNameDigits = 10;
// A WAL file being deleted is first renamed to "<name>.dead" (no longer part of the log), then
// zeroed and unlinked; recovery removes any such leftover of a crash.
inline constexpr std::string_view kDeadSuffix = ".dead";
inline constexpr std::string_view kFileSuffix = ".wal";

inline std::string FileName(uint64_t file_number) {
  std::string digits = std::to_string(file_number);
  if (digits.size() < kFileNameDigits) digits.insert(0, kFileNameDigits - digits.size(), '0');
  return digits + std::string(kFileSuffix);
}

// The file number of a WAL file name, or nullopt for any other name.
inline std::optional<uint64_t> ParseFileName(std::string_view name) {
  if (name.size() != kFileNameDigits + kFileSuffix.size() || !name.ends_with(kFileSuffix)) return std::nullopt;
  uint64_t n = 0;
  for (size_t i = 0; i < kFileNameDigits; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

}  // namespace cairn::store::wal

namespace cairn::store {

// The decoded file header (docs/format/wal.md, "File header").
struct WalFileHeader {
  uint64_t file_number = 0;
  // Valid length of file number `file_number - 1` when this file was created (the end of its
  // last synced record); 0 when that file did not exist.
  uint64_t prev_file_size = 0;
  bool operator==(const WalFileHeader&) const = default;
};

}  // namespace cairn::store
