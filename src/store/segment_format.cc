#include "store/segment_format.h"

#include <algorithm>
#include <unordered_set>

#include "base/coding.h"
#include "base/crc32c.h"

namespace cairn::store::segment {

std::string_view ColumnName(Column c) {
  switch (c) {
    case Column::kCustomer: return "customer";
    case Column::kTimestamp: return "timestamp_ms";
    case Column::kEvent: return "event";
    case Column::kType: return "type";
    case Column::kChannel: return "channel";
    case Column::kSource: return "source";
    case Column::kSeq: return "seq";
    case Column::kReceivedAt: return "received_at_ms";
    case Column::kRevenue: return "revenue";
    case Column::kMessageId: return "message_id";
    case Column::kPayload: return "payload";
  }
  return "unknown";
}

void EncodeFooter(const Footer& f, std::string* dst) {
  PutVarint64(dst, f.row_count);
  PutVarint64(dst, f.blocks.size());
  PutVarsint64(dst, f.min_ts);
  PutVarsint64(dst, f.max_ts);
  PutVarint64(dst, f.events.size());
  for (const auto& s : f.events) PutLengthPrefixed(dst, s);
  PutVarint64(dst, f.channels.size());
  for (const auto& s : f.channels) PutLengthPrefixed(dst, s);
  PutVarint64(dst, f.sources.size());
  for (uint32_t s : f.sources) PutVarint32(dst, s);
  for (const auto& b : f.blocks) {
    PutVarint64(dst, b.rows);
    PutVarint64(dst, b.first_customer);
    PutVarint64(dst, b.last_customer - b.first_customer);
    PutVarsint64(dst, b.min_ts);
    PutVarint64(dst, static_cast<uint64_t>(b.max_ts) - static_cast<uint64_t>(b.min_ts));
    std::string_view bitmap = b.event_bitmap;
    while (!bitmap.empty() && bitmap.back() == 0) bitmap.remove_suffix(1);
    PutLengthPrefixed(dst, bitmap);
    for (uint64_t s : b.chunk_size) PutVarint64(dst, s);
  }
}

namespace {

Status Bad(std::string_view what) { return Corruption(std::string("footer: ") + std::string(what)); }

Status GetStrings(const char*& p, const char* limit, const char* what, std::vector<std::string>* out) {
  uint64_t n;
  if (!GetVarint64(p, limit, &n) || n > static_cast<uint64_t>(limit - p)) return Bad(std::string("bad ") + what + " count");
  out->reserve(n);
  std::unordered_set<std::string_view> seen;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view s;
    if (!GetLengthPrefixed(p, limit, &s)) return Bad(std::string("bad ") + what + " entry");
    if (!seen.insert(s).second) return Bad(std::string("duplicate ") + what + " entry");
    out->emplace_back(s);
  }
  return Status::Ok();
}

}  // namespace

Status DecodeFooter(std::string_view body, uint64_t footer_offset, Footer* f) {
  const char* p = body.data();
  const char* limit = p + body.size();
  uint64_t block_count;
  if (!GetVarint64(p, limit, &f->row_count)) return Bad("bad row count");
  if (!GetVarint64(p, limit, &block_count) || block_count > body.size()) return Bad("bad block count");
  if (!GetVarsint64(p, limit, &f->min_ts) || !GetVarsint64(p, limit, &f->max_ts)) return Bad("bad time range");
  RETURN_IF_ERROR(GetStrings(p, limit, "event dictionary", &f->events));
  RETURN_IF_ERROR(GetStrings(p, limit, "channel dictionary", &f->channels));
  uint64_t n;
  if (!GetVarint64(p, limit, &n) || n > static_cast<uint64_t>(limit - p)) return Bad("bad source dictionary count");
  std::unordered_set<uint32_t> seen;
  for (uint64_t i = 0; i < n; ++i) {
    uint32_t s;
    if (!GetVarint32(p, limit, &s)) return Bad("bad source dictionary entry");
    if (!seen.insert(s).second) return Bad("duplicate source dictionary entry");
    f->sources.push_back(s);
  }
  f->blocks.resize(block_count);
  uint64_t offset = 0, rows = 0;
  int64_t min_ts = INT64_MAX, max_ts = INT64_MIN;
  const size_t max_bitmap = (f->events.size() + 7) / 8;
  for (uint64_t i = 0; i < block_count; ++i) {
    BlockEntry& b = f->blocks[i];
    uint64_t v, span;
    const std::string where = "block " + std::to_string(i) + ": ";
    if (!GetVarint64(p, limit, &v) || v == 0 || v > kMaxBlockRows) return Bad(where + "bad row count");
    b.rows = static_cast<uint32_t>(v);
    if (!GetVarint64(p, limit, &b.first_customer) || b.first_customer == 0) return Bad(where + "bad first customer");
    if (!GetVarint64(p, limit, &span) || b.first_customer + span < b.first_customer) {
      return Bad(where + "bad customer span");
    }
    b.last_customer = b.first_customer + span;
    if (i > 0 && b.first_customer < f->blocks[i - 1].last_customer) return Bad(where + "blocks out of order");
    if (!GetVarsint64(p, limit, &b.min_ts) || !GetVarint64(p, limit, &span)) return Bad(where + "bad time range");
    b.max_ts = static_cast<int64_t>(static_cast<uint64_t>(b.min_ts) + span);
    if (b.max_ts < b.min_ts) return Bad(where + "bad time range");
    std::string_view bitmap;
    if (!GetLengthPrefixed(p, limit, &bitmap) || bitmap.size() > max_bitmap ||
        (!bitmap.empty() && bitmap.back() == 0)) {
      return Bad(where + "bad event bitmap");
    }
    if (!bitmap.empty() && f->events.size() % 8 != 0 && bitmap.size() == max_bitmap &&
        (static_cast<uint8_t>(bitmap.back()) >> (f->events.size() % 8)) != 0) {
      return Bad(where + "event bitmap names codes past the dictionary");
    }
    b.event_bitmap = std::string(bitmap);
    b.offset = offset;
    b.first_row = rows;
    for (auto& s : b.chunk_size) {
      if (!GetVarint64(p, limit, &s) || s < kMinChunkSize || s > footer_offset - offset) {
        return Bad(where + "bad chunk size");
      }
      offset += s;
    }
    rows += b.rows;
    min_ts = std::min(min_ts, b.min_ts);
    max_ts = std::max(max_ts, b.max_ts);
  }
  if (p != limit) return Bad("trailing bytes");
  if (rows != f->row_count) return Bad("block row counts do not add up to the row count");
  if (rows > 0 && (f->events.empty() || f->channels.empty() || f->sources.empty())) {
    return Bad("empty dictionary in a non-empty segment");
  }
  if (offset != footer_offset) return Bad("blocks do not end where the footer starts");
  if (block_count == 0 ? (f->min_ts != 0 || f->max_ts != 0) : (f->min_ts != min_ts || f->max_ts != max_ts)) {
    return Bad("time range does not match the blocks");
  }
  return Status::Ok();
}

uint32_t FooterCrc(std::string_view footer_body, uint32_t version) {
  const uint32_t crc = crc32c::Value(footer_body);
  if (version < 3) return crc;
  std::string v;
  PutFixed32(&v, version);
  return crc32c::Extend(crc, v.data(), v.size());
}

void EncodeTrailer(uint64_t footer_offset, std::string_view footer_body, std::string* dst) {
  PutFixed64(dst, footer_offset);
  PutFixed64(dst, footer_body.size());
  PutFixed32(dst, crc32c::Mask(FooterCrc(footer_body, kVersion)));
  PutFixed32(dst, kVersion);
  PutFixed64(dst, kMagic);
}

Status DecodeTrailer(std::string_view bytes, uint64_t file_size, Trailer* out) {
  if (bytes.size() != kTrailerSize) return Corruption("file too short for a segment trailer");
  const char* p = bytes.data();
  if (DecodeFixed64(p + 24) != kMagic) return Corruption("bad magic number (not a segment, or truncated)");
  const uint32_t version = DecodeFixed32(p + 20);
  if (version < kOldestReadableVersion || version > kVersion) {
    return Corruption("unsupported segment format version " + std::to_string(version) + " (this build reads " +
                      std::to_string(kOldestReadableVersion) + " to " + std::to_string(kVersion) + ")");
  }
  out->footer_offset = DecodeFixed64(p);
  out->footer_size = DecodeFixed64(p + 8);
  out->footer_masked_crc = DecodeFixed32(p + 16);
  out->version = version;
  if (out->footer_offset > file_size || out->footer_size > file_size ||
      out->footer_offset + out->footer_size + kTrailerSize != file_size) {
    return Corruption("trailer sizes do not match the file size");
  }
  return Status::Ok();
}

void SealChunk(std::string* chunk, size_t start) {
  PutFixed32(chunk, crc32c::Mask(crc32c::Value(chunk->data() + start, chunk->size() - start)));
}

Status VerifyChunk(std::string_view chunk, std::string_view* body) {
  if (chunk.size() < kMinChunkSize) return Corruption("chunk too short");
  const size_t n = chunk.size() - kChunkCrcSize;
  if (crc32c::Value(chunk.data(), n) != crc32c::Unmask(DecodeFixed32(chunk.data() + n))) {
    return Corruption("checksum mismatch");
  }
  *body = chunk.substr(0, n);
  return Status::Ok();
}

}  // namespace cairn::store::segment
