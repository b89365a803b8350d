#include "store/segment_reader.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <tuple>

#include "base/check.h"
#include "base/crc32c.h"
#include "store/segment_iterator.h"

namespace cairn::store {

using segment::Bit;
using segment::Column;

namespace {

// Bytes read up front for a byte column's frame table; enough for ~80 frames.
constexpr size_t kHeadProbe = 1024;

}  // namespace

SegmentReader::SegmentReader(std::unique_ptr<io::RandomAccessFile> file, std::string path)
    : file_(std::move(file)), path_(std::move(path)) {}

Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(io::Env* env, const std::string& path) {
  ASSIGN_OR_RETURN(auto file, env->NewReadOnlyMappedFile(path));  // segments are immutable
  std::unique_ptr<SegmentReader> r(new SegmentReader(std::move(file), path));
  const uint64_t size = r->file_->Size();
  const std::string ctx = "segment " + path;
  if (size < segment::kTrailerSize) return Corruption(ctx + ": file too short for a segment (" + std::to_string(size) + " bytes)");
  std::string buf;
  std::string_view bytes;
  RETURN_IF_ERROR(r->ReadExact(size - segment::kTrailerSize, segment::kTrailerSize, &buf, &bytes));
  segment::Trailer trailer;
  RETURN_IF_ERROR(segment::DecodeTrailer(bytes, size, &trailer).WithContext(ctx));
  RETURN_IF_ERROR(r->ReadExact(trailer.footer_offset, trailer.footer_size, &buf, &bytes));
  if (segment::FooterCrc(bytes, trailer.version) != crc32c::Unmask(trailer.footer_masked_crc)) {
    return Corruption(ctx + ": footer checksum mismatch");
  }
  RETURN_IF_ERROR(segment::DecodeFooter(bytes, trailer.footer_offset, &r->footer_).WithContext(ctx));

  for (uint32_t i = 0; i < r->footer_.events.size(); ++i) r->event_index_.emplace(r->footer_.events[i], i);
  SegmentStats& s = r->stats_;
  s.rows = r->footer_.row_count;
  s.blocks = r->footer_.blocks.size();
  s.min_timestamp_ms = r->footer_.min_ts;
  s.max_timestamp_ms = r->footer_.max_ts;
  s.file_bytes = size;
  s.footer_bytes = trailer.footer_size + segment::kTrailerSize;
  for (const auto& b : r->footer_.blocks) {
    for (size_t c = 0; c < segment::kNumColumns; ++c) s.column_bytes[c] += b.chunk_size[c];
  }
  return r;
}

std::optional<uint32_t> SegmentReader::FindEvent(std::string_view name) const {
  auto it = event_index_.find(name);
  if (it == event_index_.end()) return std::nullopt;
  return it->second;
}

Status SegmentReader::ReadExact(uint64_t offset, size_t n, std::string* buf, std::string_view* out) const {
  if (buf->size() < n) buf->resize(n);
  RETURN_IF_ERROR(file_->Read(offset, n, out, buf->data()).WithContext("segment " + path_));
  if (out->size() != n) {
    return Corruption("segment " + path_ + ": short read at offset " + std::to_string(offset) +
                      " (file changed or truncated)");
  }
  return Status::Ok();
}

Status SegmentReader::BlockError(size_t b, Column c, const Status& s) const {
  return Status(s.code(), "segment " + path_ + " block " + std::to_string(b) + " column " +
                              std::string(segment::ColumnName(c)) + ": " + std::string(s.message()));
}

// Decodes the requested columns for the given row ranges. The fixed chunks needed are read with
// one positioned read of the span that holds them (columns are ordered so that the scan's core
// columns are a prefix); each chunk's crc is verified before it is decoded.
Status SegmentReader::ReadRanges(size_t b, std::span<const Range> ranges, ColumnMask columns,
                                 FixedColumns* out) const {
  const segment::BlockEntry& blk = footer_.blocks[b];
  ColumnMask need = columns & segment::kAllColumns;
  if (need & Bit(Column::kReceivedAt)) need |= Bit(Column::kTimestamp);  // stored as a difference
  if (need & Bit(Column::kTimestamp)) need |= Bit(Column::kCustomer);    // deltas restart per customer
  size_t rows = 0;
  for (const Range& r : ranges) rows += r.end - r.begin;
  out->block = static_cast<uint32_t>(b);
  out->first_row = blk.first_row + (ranges.empty() ? 0 : ranges[0].begin);
  out->rows = rows;
  out->columns = need;
  auto size_if = [&](auto& v, Column c) { v.resize((need & Bit(c)) ? rows : 0); };
  size_if(out->customer, Column::kCustomer);
  size_if(out->timestamp_ms, Column::kTimestamp);
  size_if(out->event, Column::kEvent);
  size_if(out->type, Column::kType);
  size_if(out->channel, Column::kChannel);
  size_if(out->source, Column::kSource);
  size_if(out->seq, Column::kSeq);
  size_if(out->received_at_ms, Column::kReceivedAt);
  size_if(out->revenue, Column::kRevenue);
  out->message_id.clear();
  out->payload.clear();

  const ColumnMask fixed = need & segment::kFixedColumns;
  if (fixed != 0 && rows > 0) {
    const size_t first = std::countr_zero(fixed);
    const size_t last = 31 - std::countl_zero(fixed);
    const uint64_t base = blk.ChunkOffset(first);
    std::string_view span;
    RETURN_IF_ERROR(ReadExact(base, blk.ChunkOffset(last + 1) - base, &out->scratch.fixed, &span));
    std::array<std::string_view, segment::kNumColumns> body{};
    for (size_t c = first; c <= last; ++c) {
      if (!(fixed & (ColumnMask{1} << c))) continue;
      const std::string_view chunk = span.substr(blk.ChunkOffset(c) - base, blk.chunk_size[c]);
      if (Status s = segment::VerifyChunk(chunk, &body[c]); !s.ok()) return BlockError(b, segment::ColumnAt(c), s);
    }
    auto err = [&](Column c, const Status& s) { return BlockError(b, c, s); };
    column::CustomerRuns& runs = out->scratch.runs;
    if (fixed & Bit(Column::kCustomer)) {
      if (Status s = column::DecodeCustomers(body[0], blk.rows, &runs); !s.ok()) return err(Column::kCustomer, s);
      if (runs.values.front() != blk.first_customer || runs.values.back() != blk.last_customer) {
        return err(Column::kCustomer, Corruption("customers disagree with the block index"));
      }
    }
    size_t pos = 0;
    for (const Range& r : ranges) {
      const size_t n = r.end - r.begin;
      Status s;
      Column c = Column::kCustomer;
      auto at = [&](auto& v) { return v.data() + pos; };
      if (fixed & Bit(c = Column::kTimestamp)) {  // expands the customer column in the same pass
        s = column::DecodeTimestamps(body[1], runs, r.begin, r.end, at(out->timestamp_ms), &out->scratch.u64,
                                     (fixed & Bit(Column::kCustomer)) ? at(out->customer) : nullptr);
      } else if (fixed & Bit(Column::kCustomer)) {
        runs.Expand(r.begin, r.end, at(out->customer));
      }
      if (s.ok() && (fixed & Bit(c = Column::kEvent))) {
        s = column::DecodeFor(body[2], blk.rows, r.begin, r.end, at(out->event), footer_.events.size());
      }
      if (s.ok() && (fixed & Bit(c = Column::kType))) {
        s = column::DecodeFor(body[3], blk.rows, r.begin, r.end, at(out->type), 7, 1);
      }
      if (s.ok() && (fixed & Bit(c = Column::kChannel))) {
        s = column::DecodeFor(body[4], blk.rows, r.begin, r.end, at(out->channel), footer_.channels.size());
      }
      if (s.ok() && (fixed & Bit(c = Column::kSource))) {
        uint32_t* src = at(out->source);
        s = column::DecodeFor(body[5], blk.rows, r.begin, r.end, src, footer_.sources.size());
        for (size_t i = 0; s.ok() && i < n; ++i) src[i] = footer_.sources[src[i]];
      }
      if (s.ok() && (fixed & Bit(c = Column::kSeq))) {
        s = column::DecodeFor(body[6], blk.rows, r.begin, r.end, at(out->seq));
      }
      if (s.ok() && (fixed & Bit(c = Column::kReceivedAt))) {
        s = column::DecodeReceivedAt(body[7], blk.rows, r.begin, r.end, at(out->timestamp_ms), at(out->received_at_ms));
      }
      if (s.ok() && (fixed & Bit(c = Column::kRevenue))) {
        s = column::DecodeSparseDoubles(body[8], blk.rows, r.begin, r.end, at(out->revenue));
      }
      if (!s.ok()) return err(c, s);
      pos += n;
    }
  }
  if ((need & Bit(Column::kMessageId)) && rows > 0) {
    RETURN_IF_ERROR(ReadByteColumn(b, Column::kMessageId, ranges, out, &out->message_id));
  }
  if ((need & Bit(Column::kPayload)) && rows > 0) {
    RETURN_IF_ERROR(ReadByteColumn(b, Column::kPayload, ranges, out, &out->payload));
  }
  return Status::Ok();
}

Status SegmentReader::ReadByteColumn(size_t b, Column c, std::span<const Range> ranges, FixedColumns* out,
                                     column::ByteColumn* dst) const {
  const segment::BlockEntry& blk = footer_.blocks[b];
  const uint64_t offset = blk.ChunkOffset(static_cast<size_t>(c));
  const uint64_t size = blk.chunk_size[static_cast<size_t>(c)];
  auto err = [&](const Status& s) { return BlockError(b, c, s); };
  std::string& buf = out->scratch.bytes;
  // A whole-block read fetches the region at once; a partial one its frame table, then its frames.
  const bool whole = ranges.size() == 1 && ranges[0].begin == 0 && ranges[0].end == blk.rows;
  std::string_view region;
  RETURN_IF_ERROR(ReadExact(offset, whole ? size : std::min<uint64_t>(size, kHeadProbe), &buf, &region));
  auto head_size = column::ByteHeadSize(region, size);
  if (!head_size.ok()) return err(head_size.status());
  if (*head_size > region.size()) RETURN_IF_ERROR(ReadExact(offset, *head_size, &buf, &region));
  std::vector<column::ByteFrame>& frames = out->scratch.frames;
  if (Status s = column::ParseByteHead(region.substr(0, *head_size), blk.rows, size, &frames); !s.ok()) return err(s);
  // The frames holding requested rows. Their raw sizes bound the bytes decoded, so the output is
  // reserved once: grown by appending, the string would double its way up and could hold twice
  // the bytes, and reused across pages it would keep that capacity.
  std::vector<uint8_t> wanted(frames.size(), 0);
  uint64_t need = 0;
  for (size_t f = 0, q = 0; f < frames.size() && q < ranges.size(); ++f) {
    while (q < ranges.size() && ranges[q].end <= frames[f].first_row) ++q;
    if (q < ranges.size() && ranges[q].begin < frames[f].first_row + frames[f].rows) {
      wanted[f] = 1;
      need += frames[f].raw_size;
    }
  }
  if (need > dst->data.capacity()) {
    std::string exact;  // a fresh string: reserve() on a grown one may round up to twice its capacity
    exact.reserve(need);
    dst->data.swap(exact);  // dst is empty here (ReadRanges cleared it)
  }
  dst->offsets.reserve(out->rows + 1);
  // A partial read fetches its frames one at a time, into the buffer the head was read into (no
  // longer needed): one frame's stored bytes at a time, not a page's.
  size_t r = 0;
  for (size_t f = 0; f < frames.size(); ++f) {
    if (!wanted[f]) continue;
    const column::ByteFrame& fr = frames[f];
    while (ranges[r].end <= fr.first_row) ++r;
    std::string_view stored;
    if (whole) {
      stored = region.substr(fr.offset, fr.stored_size);
    } else {
      RETURN_IF_ERROR(ReadExact(offset + fr.offset, fr.stored_size, &buf, &stored));
    }
    if (Status s = column::DecodeByteFrame(fr, stored, ranges.subspan(r), dst); !s.ok()) return err(s);
  }
  if (dst->size() != out->rows) return err(Corruption("frames yield the wrong number of rows"));
  return Status::Ok();
}

Status SegmentReader::ReadByteColumnRegion(size_t b, Column c, ByteColumnRegion* out) const {
  if (b >= footer_.blocks.size()) return InvalidArgument("segment " + path_ + ": no block " + std::to_string(b));
  if (c != Column::kMessageId && c != Column::kPayload) {
    return InvalidArgument("segment " + path_ + ": column " + std::string(segment::ColumnName(c)) + " is not a byte column");
  }
  const segment::BlockEntry& blk = footer_.blocks[b];
  const uint64_t size = blk.chunk_size[static_cast<size_t>(c)];
  out->block = static_cast<uint32_t>(b);
  out->column = c;
  out->frames.clear();
  RETURN_IF_ERROR(ReadExact(blk.ChunkOffset(static_cast<size_t>(c)), size, &out->buf, &out->region));
  auto head_size = column::ByteHeadSize(out->region, size);
  if (!head_size.ok()) return BlockError(b, c, head_size.status());
  if (Status s = column::ParseByteHead(out->region.substr(0, *head_size), blk.rows, size, &out->frames); !s.ok()) {
    return BlockError(b, c, s);
  }
  return Status::Ok();
}

Status SegmentReader::ReadFrame(const ByteColumnRegion& region, size_t f, column::DecodedFrame* out) const {
  if (f >= region.frames.size()) return InvalidArgument("segment " + path_ + ": no frame " + std::to_string(f));
  const column::ByteFrame& fr = region.frames[f];
  if (Status s = column::DecodeFrame(fr, region.region.substr(fr.offset, fr.stored_size), out); !s.ok()) {
    return BlockError(region.block, region.column, s);
  }
  return Status::Ok();
}

Status SegmentReader::ReadBlockRows(size_t b, uint32_t begin, uint32_t end, ColumnMask columns, FixedColumns* out) const {
  if (b >= footer_.blocks.size()) return InvalidArgument("segment " + path_ + ": no block " + std::to_string(b));
  if (begin > end || end > footer_.blocks[b].rows)
    return InvalidArgument("segment " + path_ + ": rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                           ") are outside block " + std::to_string(b));
  const Range r{begin, end};
  return ReadRanges(b, std::span<const Range>(&r, 1), columns, out);
}

Status SegmentReader::ReadBlock(size_t b, ColumnMask columns, FixedColumns* out) const {
  if (b >= footer_.blocks.size()) return InvalidArgument("segment " + path_ + ": no block " + std::to_string(b));
  const Range all{0, footer_.blocks[b].rows};
  return ReadRanges(b, std::span<const Range>(&all, 1), columns, out);
}

void SegmentReader::MaterializeRow(const FixedColumns& cols, size_t i, Interaction* out) const {
  const ColumnMask m = cols.columns;
  *out = Interaction();
  if (m & Bit(Column::kCustomer)) out->customer = cols.customer[i];
  if (m & Bit(Column::kTimestamp)) out->timestamp_ms = cols.timestamp_ms[i];
  if (m & Bit(Column::kEvent)) out->event = footer_.events[cols.event[i]];
  if (m & Bit(Column::kType)) out->type = static_cast<MessageType>(cols.type[i]);
  if (m & Bit(Column::kChannel)) out->channel = footer_.channels[cols.channel[i]];
  if (m & Bit(Column::kSource)) out->source = cols.source[i];
  if (m & Bit(Column::kSeq)) out->seq = cols.seq[i];
  if (m & Bit(Column::kReceivedAt)) out->received_at_ms = cols.received_at_ms[i];
  if (m & Bit(Column::kRevenue)) out->revenue = cols.revenue[i];
  if (m & Bit(Column::kMessageId)) out->message_id = std::string(cols.message_id[i]);
  if (m & Bit(Column::kPayload)) out->payload = std::string(cols.payload[i]);
}

Status SegmentReader::ReadCustomer(CustomerId customer, std::vector<Interaction>* out, ColumnMask columns) const {
  return ReadCustomers(std::span<const CustomerId>(&customer, 1), out, columns);
}

Status SegmentReader::ReadCustomers(std::span<const CustomerId> customers, std::vector<Interaction>* out,
                                    ColumnMask columns) const {
  for (size_t i = 1; i < customers.size(); ++i) {
    if (customers[i] <= customers[i - 1]) return InvalidArgument("ReadCustomers: customers must be strictly ascending");
  }
  const auto& blocks = footer_.blocks;
  // The first block that may hold c: the first whose last customer is >= c.
  auto first_block = [&](size_t from, CustomerId c) {
    return static_cast<size_t>(
        std::partition_point(blocks.begin() + from, blocks.end(), [c](const auto& b) { return b.last_customer < c; }) -
        blocks.begin());
  };
  // Customers are needed with the block; the caller's mask decides what else is decoded.
  columns |= Bit(Column::kCustomer);
  FixedColumns cols;
  std::vector<Range> ranges;
  size_t i = 0;
  size_t b = customers.empty() ? blocks.size() : first_block(0, customers[0]);
  while (i < customers.size() && b < blocks.size()) {
    const segment::BlockEntry& blk = blocks[b];
    while (i < customers.size() && customers[i] < blk.first_customer) ++i;
    if (i == customers.size()) break;
    if (customers[i] > blk.last_customer) {
      b = first_block(b + 1, customers[i]);
      continue;
    }
    // Find the rows of every requested customer inside this block from its customer runs.
    std::string_view chunk, body;
    const size_t c0 = static_cast<size_t>(Column::kCustomer);
    RETURN_IF_ERROR(ReadExact(blk.ChunkOffset(c0), blk.chunk_size[c0], &cols.scratch.fixed, &chunk));
    if (Status s = segment::VerifyChunk(chunk, &body); !s.ok()) return BlockError(b, Column::kCustomer, s);
    column::CustomerRuns runs;
    if (Status s = column::DecodeCustomers(body, blk.rows, &runs); !s.ok()) return BlockError(b, Column::kCustomer, s);
    ranges.clear();
    size_t j = i;
    for (; j < customers.size() && customers[j] <= blk.last_customer; ++j) {
      auto it = std::lower_bound(runs.values.begin(), runs.values.end(), customers[j]);
      if (it != runs.values.end() && *it == customers[j]) {
        const size_t r = static_cast<size_t>(it - runs.values.begin());
        ranges.push_back(Range{runs.starts[r], runs.starts[r + 1]});
      }
    }
    if (!ranges.empty()) {
      RETURN_IF_ERROR(ReadRanges(b, ranges, columns, &cols));
      const size_t base = out->size();
      out->resize(base + cols.rows);
      for (size_t k = 0; k < cols.rows; ++k) MaterializeRow(cols, k, &(*out)[base + k]);
    }
    // The block's last customer may continue into the next block: keep it.
    i = (j > i && customers[j - 1] == blk.last_customer) ? j - 1 : j;
    ++b;
  }
  return Status::Ok();
}

std::optional<std::string> SegmentReader::EventFilter(const ScanOptions& options) const {
  if (!options.events) return std::nullopt;
  std::string bitmap((footer_.events.size() + 7) / 8, '\0');
  for (const auto& name : *options.events) {
    if (auto code = FindEvent(name)) bitmap[*code / 8] = static_cast<char>(bitmap[*code / 8] | (1 << (*code % 8)));
  }
  return bitmap;
}

bool SegmentReader::MayMatch(const segment::BlockEntry& b, const ScanOptions& options,
                             const std::optional<std::string>& events) const {
  if (b.max_ts < options.min_timestamp_ms || b.min_ts > options.max_timestamp_ms) return false;
  if (!events) return true;
  for (size_t k = 0; k < b.event_bitmap.size(); ++k) {
    if (b.event_bitmap[k] & (*events)[k]) return true;
  }
  return false;
}

bool SegmentReader::BlockMayMatch(size_t b, const ScanOptions& options) const {
  return b < footer_.blocks.size() && MayMatch(footer_.blocks[b], options, EventFilter(options));
}

Status SegmentReader::Scan(const ScanOptions& options, const std::function<Status(const FixedColumns&)>& fn) const {
  const auto events = EventFilter(options);
  FixedColumns cols;
  for (size_t b = 0; b < footer_.blocks.size(); ++b) {
    if (!MayMatch(footer_.blocks[b], options, events)) continue;
    RETURN_IF_ERROR(ReadBlock(b, options.columns, &cols));
    RETURN_IF_ERROR(fn(cols));
  }
  return Status::Ok();
}

std::unique_ptr<SegmentIterator> SegmentReader::NewIterator(ColumnMask columns, uint32_t page_rows) const {
  return std::unique_ptr<SegmentIterator>(new SegmentIterator(this, columns, page_rows));
}

Status SegmentReader::Verify() const {
  FixedColumns cols;
  bool has_prev = false;
  CustomerId prev_customer = 0;
  int64_t prev_ts = 0;
  uint64_t prev_seq = 0;
  for (size_t b = 0; b < footer_.blocks.size(); ++b) {
    const segment::BlockEntry& blk = footer_.blocks[b];
    RETURN_IF_ERROR(ReadBlock(b, segment::kAllColumns, &cols));
    const auto [lo, hi] = std::minmax_element(cols.timestamp_ms.begin(), cols.timestamp_ms.end());
    if (*lo != blk.min_ts || *hi != blk.max_ts) {
      return BlockError(b, Column::kTimestamp, Corruption("time range disagrees with the block index"));
    }
    std::string bitmap;
    for (uint32_t code : cols.event) {
      if (bitmap.size() <= code / 8) bitmap.resize(code / 8 + 1, '\0');
      bitmap[code / 8] = static_cast<char>(bitmap[code / 8] | (1 << (code % 8)));
    }
    if (bitmap != blk.event_bitmap) {
      return BlockError(b, Column::kEvent, Corruption("event codes disagree with the block's event bitmap"));
    }
    // Rows must be strictly ordered by (customer, timestamp_ms, seq), within and across blocks.
    for (size_t i = 0; i < cols.rows; ++i) {
      const auto key = std::tie(cols.customer[i], cols.timestamp_ms[i], cols.seq[i]);
      if (has_prev && key <= std::tie(prev_customer, prev_ts, prev_seq)) {
        return BlockError(b, Column::kSeq, Corruption("rows out of order at row " + std::to_string(i)));
      }
      has_prev = true;
      std::tie(prev_customer, prev_ts, prev_seq) = key;
    }
  }
  return Status::Ok();
}

}  // namespace cairn::store
