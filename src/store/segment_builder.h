#pragma once
// SegmentBuilder: writes one immutable segment file (docs/format/segment.md) from rows given in
// (customer, timestamp_ms, seq) order. Used by the store's flush and compaction.
//
// Rows are buffered one block at a time and streamed out as each block fills, so memory is bounded
// by one block whatever the segment size. Finish() writes the footer and syncs: only a segment
// whose Finish() returned OK is complete. Callers write under a temporary name and rename after
// Finish(); a builder destroyed without Finish() leaves a partial file that Open() rejects.
//
// Thread-compatible: one thread at a time.

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "base/result.h"
#include "io/env.h"
#include "store/column_bytes.h"
#include "store/interaction.h"
#include "store/segment_format.h"

namespace cairn::store {

struct SegmentBuilderOptions {
  // Rows per block (1..65536). Default 4096: see docs/format/segment.md, "Block size".
  uint32_t block_rows = 4096;
  // Frame size of the message_id and payload columns; codec and zstd level of the payload column
  // (defaults 16 KiB, zstd level 3; a flush asks for LZ4).
  column::ByteColumnOptions bytes;
  // Codec of the message_id column, whatever the payload's: zstd (default) or raw; a flush asks
  // for raw unless its payloads are zstd (store.cc). LZ4, which has no entropy coder, gets ratio
  // 1.05 from random ids at 610 MB per CPU-second: slower than zstd level 1 for nothing
  // (bench/README.md, session 15), so it is not offered here.
  column::FrameCodec message_id_codec = column::FrameCodec::kZstd;
  // zstd level of the message_id column when its codec is zstd. Default 1: message ids are mostly
  // random (UUIDs), which zstd shrinks only by entropy-coding their digits; the match search of
  // higher levels finds nothing in them and only costs CPU (17 KB frames of gen_events ids, zstd
  // 1.5.4: levels 1/2/3 at 920/618/331 MB per CPU-second, ratio 1.94 for all three).
  int message_id_zstd_level = 1;
};

class SegmentBuilder {
 public:
  // Creates (truncating) `path`. InvalidArgument for bad options; IOError from the Env.
  static Result<std::unique_ptr<SegmentBuilder>> Create(io::Env* env, const std::string& path,
                                                        const SegmentBuilderOptions& options = {});
  ~SegmentBuilder();
  SegmentBuilder(const SegmentBuilder&) = delete;
  SegmentBuilder& operator=(const SegmentBuilder&) = delete;

  // Appends a copy of a row. InvalidArgument, leaving the builder unchanged, when the row is not
  // strictly after the previous one in (customer, timestamp_ms, seq) order, its customer is 0 or
  // its type is not a MessageType. An I/O error is sticky: every later call returns it.
  // The copy goes into a slot reused block after block (its strings keep their capacity), so a
  // merge of transient rows allocates nothing per row once the first block is built.
  Status Add(const Interaction& row);
  // The same without copying: the builder keeps a pointer to `row`, which must stay alive and
  // unchanged until Finish() returns or the builder is destroyed. For rows that outlive the build
  // (a frozen memtable's), whose copy cost a flush more than its column encoders but zstd.
  Status AddStable(const Interaction& row);

  // Writes the last block, the footer and the trailer, syncs and closes the file. Call once.
  Status Finish();

  uint64_t rows() const { return rows_; }
  // Bytes written so far (the file size after Finish()).
  uint64_t file_size() const { return offset_; }

 private:
  SegmentBuilder(std::unique_ptr<io::WritableFile> file, std::string path, const SegmentBuilderOptions& options);
  Status Check(const Interaction& row);  // order and field checks of Add; records the row's key
  Status Push(const Interaction* row);     // appends a checked row to the open block
  Status FlushBlock();
  // A name's dictionary code: flat (open addressing) and looked up by string_view, so the per-row
  // lookup of a flush's event and channel names touches one slot, not a node list.
  struct NameHash {
    using is_transparent = void;
    using is_avalanching = std::true_type;  // XXH3: no extra mixing needed
    size_t operator()(std::string_view s) const;
  };
  using NameCodes = boost::unordered_flat_map<std::string, uint32_t, NameHash, std::equal_to<>>;
  static uint32_t Code(NameCodes* dict, std::vector<std::string>* names, std::string_view value);

  std::unique_ptr<io::WritableFile> file_;
  const std::string path_;
  const SegmentBuilderOptions options_;
  Status status_;  // sticky I/O error
  bool finished_ = false;

  std::vector<const Interaction*> block_;  // rows of the open block: into owned_ or the caller's
  std::vector<Interaction> owned_;         // Add()'s copies; slots reused across blocks
  size_t owned_used_ = 0;                  // slots of owned_ holding rows of the open block
  uint64_t rows_ = 0;
  uint64_t offset_ = 0;
  bool has_last_ = false;
  CustomerId last_customer_ = 0;
  int64_t last_ts_ = 0;
  uint64_t last_seq_ = 0;

  segment::Footer footer_;  // dictionaries and block entries so far
  NameCodes event_codes_, channel_codes_;
  std::unordered_map<uint32_t, uint32_t> source_codes_;
  std::string buf_;  // the encoded block, reused
};

}  // namespace cairn::store
