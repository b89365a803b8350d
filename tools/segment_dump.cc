// segment_dump FILE [--rows]: prints a segment's trailer summary, dictionaries, block index and
// column sizes; with --rows every row as well; then verifies every checksum of every block
// (docs/format/segment.md). Exit status: 0 clean, 1 corruption (footer, index or any chunk),
// 2 usage or I/O error.

#include <fmt/format.h>

#include <string>

#include "io/env.h"
#include "store/segment_format.h"
#include "store/segment_iterator.h"
#include "store/segment_reader.h"

namespace cairn::store {
namespace {

int Fail(const Status& s) {
  fmt::print(stderr, "segment_dump: {}\n", s.ToString());
  return s.Is(Code::kCorruption) ? 1 : 2;
}

std::string Bitmap(const segment::BlockEntry& b, size_t events) {
  std::string codes;
  for (uint32_t c = 0; c < events; ++c) {
    if (b.HasEvent(c)) codes += (codes.empty() ? "" : ",") + std::to_string(c);
  }
  return codes;
}

int Main(int argc, char** argv) {
  std::string path;
  bool rows = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rows") {
      rows = true;
    } else if (a == "-h" || a == "--help" || !path.empty() || a.starts_with("-")) {
      fmt::print(stderr, "usage: segment_dump FILE [--rows]\n");
      return 2;
    } else {
      path = a;
    }
  }
  if (path.empty()) {
    fmt::print(stderr, "usage: segment_dump FILE [--rows]\n");
    return 2;
  }
  auto opened = SegmentReader::Open(io::Env::Posix(), path);
  if (!opened.ok()) return Fail(opened.status());
  const SegmentReader& r = **opened;
  const SegmentStats& s = r.stats();
  const auto& f = r.footer();
  fmt::print("segment {}: version={} size={} rows={} blocks={} timestamp_ms=[{}, {}] footer_bytes={}\n", path,
             segment::kVersion, s.file_bytes, s.rows, s.blocks, s.min_timestamp_ms, s.max_timestamp_ms,
             s.footer_bytes);
  fmt::print("events ({}):\n", f.events.size());
  for (size_t i = 0; i < f.events.size(); ++i) fmt::print("  {:>4} {:?}\n", i, f.events[i]);
  fmt::print("channels ({}):\n", f.channels.size());
  for (size_t i = 0; i < f.channels.size(); ++i) fmt::print("  {:>4} {:?}\n", i, f.channels[i]);
  fmt::print("sources ({}):\n", f.sources.size());
  for (size_t i = 0; i < f.sources.size(); ++i) fmt::print("  {:>4} {}\n", i, f.sources[i]);
  fmt::print("columns (bytes, bytes/row):\n");
  for (size_t c = 0; c < segment::kNumColumns; ++c) {
    fmt::print("  {:<15} {:>12} {:>8.3f}\n", segment::ColumnName(segment::ColumnAt(c)), s.column_bytes[c],
               s.rows ? static_cast<double>(s.column_bytes[c]) / s.rows : 0.0);
  }
  fmt::print("blocks:\n");
  for (size_t b = 0; b < f.blocks.size(); ++b) {
    const auto& e = f.blocks[b];
    fmt::print("  block {} offset={} size={} rows={} first_row={} customers=[{}, {}] timestamp_ms=[{}, {}] events={{{}}}\n",
               b, e.offset, e.size(), e.rows, e.first_row, e.first_customer, e.last_customer, e.min_ts, e.max_ts,
               Bitmap(e, f.events.size()));
    std::string sizes;
    for (size_t c = 0; c < segment::kNumColumns; ++c) {
      sizes += fmt::format(" {}={}", segment::ColumnName(segment::ColumnAt(c)), e.chunk_size[c]);
    }
    fmt::print("    chunks:{}\n", sizes);
  }
  if (rows) {
    auto it = r.NewIterator();
    for (; it->Valid(); it->Next()) {
      const Interaction& x = it->row();
      fmt::print("{} {} seq={} received={} {} source={} event={:?} channel={:?} revenue={} message_id={:?} payload={}\n",
                 x.customer, x.timestamp_ms, x.seq, x.received_at_ms, MessageTypeName(x.type), x.source, x.event,
                 x.channel, x.revenue, x.message_id, x.payload);
    }
    if (!it->status().ok()) return Fail(it->status());
  }
  if (Status v = r.Verify(); !v.ok()) return Fail(v);
  fmt::print("verify: ok\n");
  return 0;
}

}  // namespace
}  // namespace cairn::store

int main(int argc, char** argv) { return cairn::store::Main(argc, argv); }
