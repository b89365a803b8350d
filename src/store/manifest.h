#pragma once
// Manifest: the list of live segments and the flush watermark (docs/format/manifest.md).
// A value type; Load/Save do the I/O. Save is atomic (tmp + fsync + rename + dir fsync).

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "io/env.h"

namespace cairn::store {

struct SegmentMeta {
  uint64_t file_number = 0;
  uint64_t rows = 0;
  uint64_t min_seq = 0;  // inclusive
  uint64_t max_seq = 0;  // inclusive
  bool operator==(const SegmentMeta&) const = default;
};

struct Manifest {
  uint64_t next_file = 1;
  uint64_t flushed_seq = 0;  // every seq below this is in `segments`
  std::vector<SegmentMeta> segments;  // ascending by file_number
  bool operator==(const Manifest&) const = default;

  std::string Encode() const;
  static Result<Manifest> Decode(std::string_view text);

  // NotFound if the file does not exist; Corruption if it fails its checksum or does not parse.
  static Result<Manifest> Load(io::Env* env, const std::string& path);
  Status Save(io::Env* env, const std::string& path) const;
};

std::string SegmentFileName(uint64_t number);  // "0000000017.seg"

}  // namespace cairn::store
