// libFuzzer target: segment files (docs/format/segment.md) read back. Segments are our own
// writes, but a failing disk, a bad copy or a hand-edited file hand the reader arbitrary bytes:
// whatever they are, it answers with rows or Corruption — never a crash, an out-of-range read, an
// unbounded allocation, or another status code. The first byte picks the mode:
//   0  the rest is a file, as is. Checksums stop almost every mutation at the trailer or footer.
//   1  the rest is a file whose checksums the harness recomputes first (footer, every fixed
//      chunk, every byte-column head and frame): mutations then reach the footer parser and every
//      chunk decoder behind the crcs — what a writer bug or a crc collision would hand them.
//   2  the rest is a recipe of rows: built into a segment, read back three ways (Verify, every
//      block, every customer) and compared with what went in — each encoder against its decoder
//      on adversarial values (extreme ids and timestamps, NaN revenue, empty and binary payloads).
// Seeds: scripts/fuzz-short writes segments of the store tests' random rows in modes 0 and 1.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "base/coding.h"
#include "base/crc32c.h"
#include "io/mem_env.h"
#include "store/column_bytes.h"
#include "store/segment_builder.h"
#include "store/segment_format.h"
#include "store/segment_iterator.h"
#include "store/segment_reader.h"

namespace {

using namespace cairn;
using namespace cairn::store;

void Check(bool ok) {
  if (!ok) __builtin_trap();  // libFuzzer reports the input
}

void CheckFailure(const Status& s) { Check(s.ok() || s.code() == Code::kCorruption); }

void PutCrc(std::string* file, size_t at, size_t begin, size_t end) {
  EncodeFixed32(file->data() + at, crc32c::Mask(crc32c::Value(file->data() + begin, end - begin)));
}

// Recomputes every checksum a reader verifies, where the structure lets it find them; leaves the
// rest of the bytes as they are.
void Reseal(std::string* file) {
  if (file->size() < 32) return;
  const size_t t = file->size() - 32;
  const uint64_t footer_offset = DecodeFixed64(file->data() + t);
  const uint64_t footer_size = DecodeFixed64(file->data() + t + 8);
  const uint32_t version = DecodeFixed32(file->data() + t + 20);
  if (footer_offset > t || footer_size != t - footer_offset) return;
  const std::string_view body(file->data() + footer_offset, footer_size);
  EncodeFixed32(file->data() + t + 16, crc32c::Mask(segment::FooterCrc(body, version)));
  segment::Footer footer;
  if (!segment::DecodeFooter(body, footer_offset, &footer).ok()) return;
  for (const auto& block : footer.blocks) {
    for (size_t c = 0; c < segment::kNumColumns; ++c) {
      const uint64_t off = block.ChunkOffset(c), size = block.chunk_size[c];
      if (c < static_cast<size_t>(segment::Column::kMessageId)) {
        if (size >= 5) PutCrc(file, off + size - 4, off, off + size - 4);
        continue;
      }
      // A byte column: each frame's crc lives in the head, whose crc covers them.
      std::string_view region(file->data() + off, size);
      auto head_size = column::ByteHeadSize(region.substr(0, 16), size);
      if (!head_size.ok()) continue;
      const char* p = region.data() + 1;
      const char* head_end = region.data() + *head_size - 4;
      uint64_t ignored, count;
      if (!GetVarint64(p, head_end, &ignored) || !GetVarint64(p, head_end, &count)) continue;
      uint64_t frame_at = *head_size;
      for (uint64_t f = 0; f < count; ++f) {
        uint64_t rows, raw, stored;
        if (!GetVarint64(p, head_end, &rows) || !GetVarint64(p, head_end, &raw) || !GetVarint64(p, head_end, &stored) ||
            head_end - p < 5 || stored > size - std::min<uint64_t>(size, frame_at)) {
          break;
        }
        p += 1;  // method
        PutCrc(file, off + (p - region.data()), off + frame_at, off + frame_at + stored);
        p += 4;
        frame_at += stored;
      }
      PutCrc(file, off + *head_size - 4, off, off + *head_size - 4);
    }
  }
}

// Reads everything a segment offers, checking only that failures are Corruption.
void ReadAll(io::Env* env, const std::string& path) {
  auto opened = SegmentReader::Open(env, path);
  if (!opened.ok()) return CheckFailure(opened.status());
  const SegmentReader& r = **opened;
  CheckFailure(r.Verify());
  FixedColumns cols;
  std::vector<CustomerId> customers;
  for (size_t b = 0; b < r.block_count(); ++b) {
    if (!r.ReadBlock(b, segment::kAllColumns, &cols).ok()) continue;
    Interaction row;
    for (size_t i = 0; i < cols.rows; ++i) {
      r.MaterializeRow(cols, i, &row);
      if (customers.empty() || customers.back() < row.customer) customers.push_back(row.customer);
    }
    const uint32_t rows = r.block(b).rows;
    CheckFailure(r.ReadBlockRows(b, rows / 3, rows / 3 + (rows + 1) / 2, segment::kAllColumns, &cols));
  }
  std::vector<Interaction> out;
  for (CustomerId c : customers) CheckFailure(r.ReadCustomer(c, &out));
  auto it = r.NewIterator(segment::kAllColumns, 7);
  while (it->Valid()) it->Next();
  CheckFailure(it->status());
}

// Reads the recipe's bytes in order; zeros once they run out.
class Recipe {
 public:
  explicit Recipe(std::string_view in) : in_(in) {}
  uint64_t U(int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | (pos_ < in_.size() ? static_cast<uint8_t>(in_[pos_++]) : 0);
    return v;
  }
  std::string Bytes(size_t max) {
    const size_t n = std::min<size_t>(U(1) % (max + 1), in_.size() - std::min(pos_, in_.size()));
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  bool done() const { return pos_ >= in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void RoundTrip(std::string_view in, io::Env* env) {
  Recipe recipe(in);
  SegmentBuilderOptions options;
  options.block_rows = 1 + static_cast<uint32_t>(recipe.U(1) % 64);
  options.bytes.frame_bytes = 1 + recipe.U(2) % 4096;
  options.bytes.codec = static_cast<column::FrameCodec>(recipe.U(1) % 3);  // raw, zstd, LZ4
  std::vector<Interaction> rows;
  Interaction prev;
  prev.customer = 1;
  static const char* kNames[] = {"", "a", "Order Completed", "Émoji ✓", "x"};
  while (!recipe.done() && rows.size() < 2000) {
    Interaction r;
    // Non-decreasing (customer, timestamp, seq) with big jumps, every step a byte of choice.
    const uint64_t step = recipe.U(1);
    r.customer = prev.customer + (step & 1 ? recipe.U(step & 2 ? 8 : 1) : 0);
    if (r.customer < prev.customer) r.customer = UINT64_MAX;  // wrapped: the largest id
    r.timestamp_ms = static_cast<int64_t>(recipe.U(8));
    r.seq = recipe.U(step & 4 ? 8 : 2);
    if (r.customer == prev.customer && std::tie(r.timestamp_ms, r.seq) <= std::tie(prev.timestamp_ms, prev.seq)) {
      r.timestamp_ms = prev.timestamp_ms;
      if (prev.seq == UINT64_MAX) continue;
      r.seq = prev.seq + 1;
    }
    if (r.customer == 0) continue;
    r.received_at_ms = static_cast<int64_t>(step & 8 ? recipe.U(8) : static_cast<uint64_t>(r.timestamp_ms) + recipe.U(1));
    r.type = static_cast<MessageType>(1 + recipe.U(1) % 6);
    r.source = static_cast<uint32_t>(recipe.U(step & 16 ? 4 : 1));
    r.event = kNames[recipe.U(1) % 5];
    r.channel = kNames[recipe.U(1) % 5];
    uint64_t bits = step & 32 ? recipe.U(8) : 0;
    std::memcpy(&r.revenue, &bits, sizeof bits);
    r.message_id = recipe.Bytes(40);
    r.payload = recipe.Bytes(step & 64 ? 255 : 16);
    rows.push_back(r);
    prev = rows.back();
  }
  const std::string path = "/seg";
  auto builder = SegmentBuilder::Create(env, path, options);
  Check(builder.ok());
  for (const auto& r : rows) Check((*builder)->Add(r).ok());
  Check((*builder)->Finish().ok());
  auto opened = SegmentReader::Open(env, path);
  Check(opened.ok());
  const SegmentReader& reader = **opened;
  Check(reader.Verify().ok());
  Check(reader.footer().row_count == rows.size());
  std::vector<Interaction> back;
  auto it = reader.NewIterator();
  for (; it->Valid(); it->Next()) back.push_back(it->row());
  Check(it->status().ok());
  Check(back.size() == rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const Interaction &a = rows[i], &b = back[i];
    Check(a.customer == b.customer && a.timestamp_ms == b.timestamp_ms && a.seq == b.seq &&
          a.received_at_ms == b.received_at_ms && a.type == b.type && a.source == b.source && a.event == b.event &&
          a.channel == b.channel && SameBits(a.revenue, b.revenue) && a.message_id == b.message_id &&
          a.payload == b.payload);
  }
  // One customer's rows by the index, against the rows that went in.
  if (!rows.empty()) {
    const CustomerId c = rows[rows.size() / 2].customer;
    std::vector<Interaction> mine;
    Check(reader.ReadCustomer(c, &mine).ok());
    size_t want = 0;
    for (const auto& r : rows) want += r.customer == c;
    Check(mine.size() == want);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  io::MemEnv env;
  switch (data[0] % 3) {
    case 1: Reseal(&bytes); [[fallthrough]];
    case 0: {
      auto file = env.NewWritableFile("/seg");
      Check(file.ok());
      Check((*file)->Append(bytes).ok() && (*file)->Close().ok());
      ReadAll(&env, "/seg");
      break;
    }
    case 2: RoundTrip(bytes, &env); break;
  }
  return 0;
}
