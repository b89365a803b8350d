#include "store/segment_builder.h"

#include <xxhash.h>

#include <algorithm>
#include <tuple>

#include "base/check.h"
#include "store/column_encoding.h"

namespace cairn::store {

using segment::Column;

Result<std::unique_ptr<SegmentBuilder>> SegmentBuilder::Create(io::Env* env, const std::string& path,
                                                               const SegmentBuilderOptions& options) {
  if (options.block_rows == 0 || options.block_rows > segment::kMaxBlockRows) {
    return InvalidArgument("segment builder: block_rows must be in 1..65536");
  }
  ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  return std::unique_ptr<SegmentBuilder>(new SegmentBuilder(std::move(file), path, options));
}

SegmentBuilder::SegmentBuilder(std::unique_ptr<io::WritableFile> file, std::string path,
                               const SegmentBuilderOptions& options)
    : file_(std::move(file)), path_(std::move(path)), options_(options) {
  block_.reserve(options_.block_rows);
}

SegmentBuilder::~SegmentBuilder() {
  if (file_ && !finished_) (void)file_->Close();  // partial file: Open() rejects it (no trailer)
}

Status SegmentBuilder::Add(const Interaction& row) {
  RETURN_IF_ERROR(Check(row));
  // Reserved for a whole block before the first slot: block_ points into owned_, so it must
  // never reallocate (a block holds at most block_rows copies).
  if (owned_.empty()) owned_.reserve(options_.block_rows);
  if (owned_used_ == owned_.size()) owned_.emplace_back();
  Interaction& slot = owned_[owned_used_++];
  slot = row;  // copy-assignment: the slot's strings reuse their buffers
  return Push(&slot);
}

Status SegmentBuilder::AddStable(const Interaction& row) {
  RETURN_IF_ERROR(Check(row));
  return Push(&row);
}

Status SegmentBuilder::Check(const Interaction& row) {
  if (!status_.ok()) return status_;
  if (finished_) return FailedPrecondition("segment builder: Add after Finish");
  if (row.customer == 0) return InvalidArgument("segment row: customer 0 is not a customer");
  const auto type = static_cast<uint8_t>(row.type);
  if (type < 1 || type > 6) return InvalidArgument("segment row: type " + std::to_string(type) + " is not a message type");
  if (has_last_ && std::tie(row.customer, row.timestamp_ms, row.seq) <= std::tie(last_customer_, last_ts_, last_seq_)) {
    return InvalidArgument("segment row out of order: (customer " + std::to_string(row.customer) + ", timestamp_ms " +
                           std::to_string(row.timestamp_ms) + ", seq " + std::to_string(row.seq) +
                           ") is not after (customer " + std::to_string(last_customer_) + ", timestamp_ms " +
                           std::to_string(last_ts_) + ", seq " + std::to_string(last_seq_) + ")");
  }
  has_last_ = true;
  last_customer_ = row.customer;
  last_ts_ = row.timestamp_ms;
  last_seq_ = row.seq;
  return Status::Ok();
}

Status SegmentBuilder::Push(const Interaction* row) {
  block_.push_back(row);
  ++rows_;
  if (block_.size() == options_.block_rows) {
    status_ = FlushBlock();
    return status_;
  }
  return Status::Ok();
}

size_t SegmentBuilder::NameHash::operator()(std::string_view s) const { return XXH3_64bits(s.data(), s.size()); }

uint32_t SegmentBuilder::Code(NameCodes* dict, std::vector<std::string>* names, std::string_view value) {
  if (auto it = dict->find(value); it != dict->end()) return it->second;
  const auto code = static_cast<uint32_t>(names->size());
  dict->emplace(std::string(value), code);
  names->emplace_back(value);
  return code;
}

Status SegmentBuilder::FlushBlock() {
  if (block_.empty()) return Status::Ok();
  const size_t n = block_.size();
  std::vector<uint64_t> customers(n), events(n), types(n), channels(n), sources(n), seqs(n);
  std::vector<int64_t> ts(n), received(n);
  std::vector<double> revenue(n);
  std::vector<std::string_view> message_ids(n), payloads(n);
  segment::BlockEntry entry;
  entry.rows = static_cast<uint32_t>(n);
  entry.first_customer = block_.front()->customer;
  entry.last_customer = block_.back()->customer;
  entry.min_ts = INT64_MAX;
  entry.max_ts = INT64_MIN;
  column::CustomerRuns runs;
  runs.starts.push_back(0);
  for (size_t i = 0; i < n; ++i) {
    const Interaction& r = *block_[i];
    customers[i] = r.customer;
    if (i > 0 && r.customer != customers[i - 1]) runs.starts.push_back(static_cast<uint32_t>(i));
    if (i == 0 || r.customer != customers[i - 1]) runs.values.push_back(r.customer);
    ts[i] = r.timestamp_ms;
    entry.min_ts = std::min(entry.min_ts, r.timestamp_ms);
    entry.max_ts = std::max(entry.max_ts, r.timestamp_ms);
    events[i] = Code(&event_codes_, &footer_.events, r.event);
    types[i] = static_cast<uint8_t>(r.type);
    channels[i] = Code(&channel_codes_, &footer_.channels, r.channel);
    auto [it, inserted] = source_codes_.try_emplace(r.source, static_cast<uint32_t>(footer_.sources.size()));
    if (inserted) footer_.sources.push_back(r.source);
    sources[i] = it->second;
    seqs[i] = r.seq;
    received[i] = r.received_at_ms;
    revenue[i] = r.revenue;
    message_ids[i] = r.message_id;
    payloads[i] = r.payload;
    const uint64_t code = events[i];
    if (entry.event_bitmap.size() <= code / 8) entry.event_bitmap.resize(code / 8 + 1, '\0');
    entry.event_bitmap[code / 8] = static_cast<char>(static_cast<uint8_t>(entry.event_bitmap[code / 8]) | (1u << (code % 8)));
  }
  runs.starts.push_back(static_cast<uint32_t>(n));

  buf_.clear();
  for (size_t c = 0; c < segment::kNumColumns; ++c) {
    const size_t start = buf_.size();
    switch (segment::ColumnAt(c)) {
      case Column::kCustomer: column::EncodeCustomers(customers, &buf_); break;
      case Column::kTimestamp: column::EncodeTimestamps(ts, runs, &buf_); break;
      case Column::kEvent: column::EncodeFor(events, &buf_); break;
      case Column::kType: column::EncodeFor(types, &buf_); break;
      case Column::kChannel: column::EncodeFor(channels, &buf_); break;
      case Column::kSource: column::EncodeFor(sources, &buf_); break;
      case Column::kSeq: column::EncodeFor(seqs, &buf_); break;
      case Column::kReceivedAt: column::EncodeReceivedAt(received, ts, &buf_); break;
      case Column::kRevenue: column::EncodeSparseDoubles(revenue, &buf_); break;
      case Column::kMessageId: {
        column::ByteColumnOptions ids = options_.bytes;
        ids.codec = options_.message_id_codec == column::FrameCodec::kRaw ? column::FrameCodec::kRaw
                                                                           : column::FrameCodec::kZstd;
        ids.zstd_level = options_.message_id_zstd_level;
        column::EncodeBytes(message_ids, runs.starts, ids, &buf_);
        break;
      }
      case Column::kPayload: column::EncodeBytes(payloads, runs.starts, options_.bytes, &buf_); break;
    }
    // Byte columns carry their own checksums (head and frames); the others get one here.
    if (!(segment::Bit(segment::ColumnAt(c)) & segment::kByteColumns)) segment::SealChunk(&buf_, start);
    entry.chunk_size[c] = buf_.size() - start;
  }
  RETURN_IF_ERROR(file_->Append(buf_).WithContext("segment " + path_));
  entry.offset = offset_;
  offset_ += buf_.size();
  if (footer_.blocks.empty()) {
    footer_.min_ts = entry.min_ts;
    footer_.max_ts = entry.max_ts;
  } else {
    footer_.min_ts = std::min(footer_.min_ts, entry.min_ts);
    footer_.max_ts = std::max(footer_.max_ts, entry.max_ts);
  }
  footer_.row_count += n;
  footer_.blocks.push_back(std::move(entry));
  block_.clear();
  owned_used_ = 0;
  return Status::Ok();
}

Status SegmentBuilder::Finish() {
  if (!status_.ok()) return status_;
  if (finished_) return FailedPrecondition("segment builder: Finish called twice");
  finished_ = true;
  status_ = [&]() -> Status {
    RETURN_IF_ERROR(FlushBlock());
    std::string tail;
    segment::EncodeFooter(footer_, &tail);
    const size_t body_size = tail.size();
    std::string trailer;
    segment::EncodeTrailer(offset_, std::string_view(tail.data(), body_size), &trailer);
    tail.append(trailer);
    const std::string ctx = "segment " + path_;
    RETURN_IF_ERROR(file_->Append(tail).WithContext(ctx));
    offset_ += tail.size();
    RETURN_IF_ERROR(file_->Sync().WithContext(ctx));
    return file_->Close().WithContext(ctx);
  }();
  return status_;
}

}  // namespace cairn::store
