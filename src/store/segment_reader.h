#pragma once
// SegmentReader: reads one immutable segment file (docs/format/segment.md).
//
// Open() reads and verifies only the trailer and footer (dictionaries, block index): cheap, and
// everything later is served from that in-memory index plus positioned reads of the chunks a call
// needs. Every chunk is checksum-verified each time it is read, before it is decoded; a mismatch
// or a structural inconsistency is Corruption naming the file, the block and the column, and the
// call returns no rows from that block (outputs are unspecified after an error).
//
// Thread-safety: after Open() every const method may be called from any number of threads at
// once (the index is immutable; RandomAccessFile::Read is thread-safe; decode state lives in the
// caller's FixedColumns or on the stack). The reader must outlive its iterators.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "io/env.h"
#include "store/column_bytes.h"
#include "store/column_encoding.h"
#include "store/interaction.h"
#include "store/segment_format.h"

namespace cairn::store {

using segment::ColumnMask;

// Rows of one block (or a row range of it), column by column. Only the vectors of the requested
// columns are filled (size == rows); the others are left empty. Reuse one instance across blocks:
// vectors keep their capacity, so a scan allocates nothing after its first block.
struct FixedColumns {
  uint32_t block = 0;       // block the rows come from
  uint64_t first_row = 0;   // segment row index of rows[0]
  size_t rows = 0;
  ColumnMask columns = 0;   // which columns below are filled

  std::vector<CustomerId> customer;
  std::vector<int64_t> timestamp_ms;
  std::vector<uint32_t> event;        // code into SegmentReader::events()
  std::vector<uint8_t> type;          // MessageType value (1..6, checked)
  std::vector<uint32_t> channel;      // code into SegmentReader::channels()
  std::vector<uint32_t> source;       // source id (already resolved through the dictionary)
  std::vector<uint64_t> seq;
  std::vector<int64_t> received_at_ms;
  std::vector<double> revenue;
  column::ByteColumn message_id;      // only when requested
  column::ByteColumn payload;         // only when requested

  // Decode state reused across blocks (not part of the result).
  struct Scratch {
    std::string fixed;                  // the fixed chunks as read
    std::string bytes;                  // a byte column region or frame as read
    std::vector<uint64_t> u64;
    std::vector<column::ByteFrame> frames;
    column::CustomerRuns runs;
  } scratch;
};

// A block's byte column (message_id or payload) read whole, with its frame table checked and
// parsed, for a reader that decodes frames one at a time as it needs their values (the journey
// rebuild reads the payloads of a few rows of each block: SegmentReader::ReadFrame). Reuse one
// across blocks: its buffers keep their capacity.
struct ByteColumnRegion {
  uint32_t block = 0;
  segment::Column column = segment::Column::kPayload;
  std::vector<column::ByteFrame> frames;  // ascending by first_row, covering the block's rows
  std::string buf;                        // the region as read
  std::string_view region;                // its bytes (in buf, or the Env's own memory)
};

struct ScanOptions {
  // Blocks whose rows all lie outside [min_timestamp_ms, max_timestamp_ms] are skipped.
  int64_t min_timestamp_ms = INT64_MIN;
  int64_t max_timestamp_ms = INT64_MAX;
  // When set, blocks containing none of these event names are skipped (an empty list skips
  // every block). Names absent from the segment match nothing.
  std::optional<std::vector<std::string>> events;
  // Columns to decode. Default: every fixed column; add message_id / payload explicitly.
  ColumnMask columns = segment::kFixedColumns;
};
// Skipping is by block only: a visited block returns all its rows, and the caller applies its exact
// predicate. Hence a skipping scan followed by the predicate returns exactly the rows a full scan
// followed by the predicate does.

struct SegmentStats {
  uint64_t rows = 0;
  uint64_t blocks = 0;
  int64_t min_timestamp_ms = 0;  // 0 when empty
  int64_t max_timestamp_ms = 0;
  uint64_t file_bytes = 0;
  uint64_t footer_bytes = 0;  // footer body + trailer
  std::array<uint64_t, segment::kNumColumns> column_bytes{};  // indexed by column id
};

class SegmentIterator;

class SegmentReader {
 public:
  // Opens `path` and verifies trailer and footer. Corruption (naming the file) when they are
  // damaged or the file is truncated; IOError / NotFound from the Env.
  static Result<std::unique_ptr<SegmentReader>> Open(io::Env* env, const std::string& path);

  const std::string& path() const { return path_; }
  const SegmentStats& stats() const { return stats_; }
  const segment::Footer& footer() const { return footer_; }
  size_t block_count() const { return footer_.blocks.size(); }
  const segment::BlockEntry& block(size_t b) const { return footer_.blocks[b]; }

  // Dictionaries: code -> value.
  const std::vector<std::string>& events() const { return footer_.events; }
  const std::vector<std::string>& channels() const { return footer_.channels; }
  std::optional<uint32_t> FindEvent(std::string_view name) const;

  // Appends every row of `customer`, in (timestamp_ms, seq) order, to *out; none when absent.
  // Cost: O(log blocks) plus that customer's rows (and the checksums of the chunks they sit in).
  // Columns outside `columns` are left default in the returned rows.
  Status ReadCustomer(CustomerId customer, std::vector<Interaction>* out,
                      ColumnMask columns = segment::kAllColumns) const;
  // The same for several customers; `customers` must be strictly ascending (InvalidArgument
  // otherwise). Rows come out in segment order; a block is read once however many are in it.
  Status ReadCustomers(std::span<const CustomerId> customers, std::vector<Interaction>* out,
                       ColumnMask columns = segment::kAllColumns) const;

  // Decodes all rows of block b (< block_count()) into *out.
  Status ReadBlock(size_t b, ColumnMask columns, FixedColumns* out) const;

  // Decodes rows [begin, end) of block b (begin ≤ end ≤ its rows) into *out: a page of a block,
  // for readers whose memory must stay below a block (Snapshot::VisitCustomers). Byte columns
  // decode only the frames holding those rows.
  Status ReadBlockRows(size_t b, uint32_t begin, uint32_t end, ColumnMask columns, FixedColumns* out) const;

  // Reads byte column `c` (kMessageId or kPayload) of block b whole and checks and parses its frame
  // table into *out; no frame is decoded. Then ReadFrame(*out, f, ...) decodes frame f.
  Status ReadByteColumnRegion(size_t b, segment::Column c, ByteColumnRegion* out) const;
  // Verifies frame f of `region` and decodes it whole into *out (its values are views into it,
  // followed by column::kFramePadding readable bytes). Corruption names the file, block and column.
  Status ReadFrame(const ByteColumnRegion& region, size_t f, column::DecodedFrame* out) const;

  // Builds the full Interaction of row i of `cols` (requested columns only; the rest default).
  void MaterializeRow(const FixedColumns& cols, size_t i, Interaction* out) const;

  // Whether block b may hold rows matching the time range and event set of `options`.
  bool BlockMayMatch(size_t b, const ScanOptions& options) const;

  // Calls fn for each block that may match, in order, with that block's columns. Stops at the
  // first error (from the segment or from fn) and returns it. `out` is only valid during fn.
  Status Scan(const ScanOptions& options, const std::function<Status(const FixedColumns&)>& fn) const;

  // An iterator over full rows in segment order (for compaction), decoding `page_rows` rows at a
  // time (a whole block when page_rows >= block_rows). See SegmentIterator.
  std::unique_ptr<SegmentIterator> NewIterator(ColumnMask columns = segment::kAllColumns,
                                               uint32_t page_rows = kIteratorPageRows) const;
  // Rows an iterator decodes at a time by default: the page size of the paged journey
  // re-derivation (Snapshot::kVisitPageRows), for the same reason — memory below a block.
  static constexpr uint32_t kIteratorPageRows = 512;

  // Reads and checks every chunk of every block: checksums, structure, and agreement with the
  // block index (customers, time range, event bitmap). For `cairn verify`.
  Status Verify() const;

 private:
  using Range = column::RowRange;
  SegmentReader(std::unique_ptr<io::RandomAccessFile> file, std::string path);
  // Decodes rows `ranges` (ascending, disjoint) of block b into *out (rows concatenated).
  Status ReadRanges(size_t b, std::span<const Range> ranges, ColumnMask columns, FixedColumns* out) const;
  Status ReadExact(uint64_t offset, size_t n, std::string* buf, std::string_view* out) const;
  Status ReadByteColumn(size_t b, segment::Column c, std::span<const Range> ranges, FixedColumns* out,
                        column::ByteColumn* dst) const;
  Status BlockError(size_t b, segment::Column c, const Status& s) const;
  // Bitmap of the wanted event codes; nullopt when the scan has no event filter.
  std::optional<std::string> EventFilter(const ScanOptions& options) const;
  bool MayMatch(const segment::BlockEntry& b, const ScanOptions& options, const std::optional<std::string>& events) const;

  std::unique_ptr<io::RandomAccessFile> file_;
  const std::string path_;
  segment::Footer footer_;
  SegmentStats stats_;
  std::unordered_map<std::string_view, uint32_t> event_index_;  // views into footer_.events
};

}  // namespace cairn::store
