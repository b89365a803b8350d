#include "store/wal_reader.h"

#include <algorithm>
#include <cstring>

#include "base/coding.h"
#include "base/crc32c.h"

namespace cairn::store {
namespace {

using wal::kFileHeaderSize;
using wal::kRecordHeaderSize;

// Reads a file through a window of recently read bytes, so that parsing many small records, or
// probing every offset after a damaged record, does not cost one read call per probe.
class Window {
 public:
  Window(const io::RandomAccessFile* file, uint64_t size) : file_(file), size_(size) {}

  uint64_t size() const { return size_; }

  // Makes [offset, offset+n) available (the caller guarantees it lies within the file). The view
  // stays valid until the next call.
  Status Get(uint64_t offset, size_t n, std::string_view* out) {
    if (offset < start_ || offset + n > start_ + len_) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(std::max<size_t>(n, kChunk), size_ - offset));
      if (buf_.size() < want) buf_.resize(want);
      std::string_view got;
      RETURN_IF_ERROR(file_->Read(offset, want, &got, buf_.data()));
      if (got.data() != buf_.data()) std::memmove(buf_.data(), got.data(), got.size());
      start_ = offset;
      len_ = got.size();
      if (len_ < n) return IOError("short read at offset " + std::to_string(offset) + " (file changed while read?)");
    }
    *out = std::string_view(buf_.data() + (offset - start_), n);
    return Status::Ok();
  }

 private:
  static constexpr size_t kChunk = 1 << 20;
  const io::RandomAccessFile* file_;
  uint64_t size_;
  std::string buf_;
  uint64_t start_ = 0;
  size_t len_ = 0;
};

enum class Probe { kValid, kDamaged, kUnknownType };

struct RecordProbe {
  Probe probe = Probe::kDamaged;
  uint32_t length = 0;
  bool past_end = false;  // the header was readable but the record runs past `end`
  std::string why;  // for kDamaged / kUnknownType, filled only when asked
};

// Checks whether a complete, checksum-valid record starts at `offset` and ends at or before
// `end`. `explain` fills `why` (skipped when probing many offsets).
Status ProbeRecord(Window* w, uint64_t offset, uint64_t end, bool explain, RecordProbe* r) {
  r->probe = Probe::kDamaged;
  r->past_end = false;
  uint64_t left = end - offset;
  if (left < kRecordHeaderSize) {
    if (explain) r->why = "incomplete record header (" + std::to_string(left) + " bytes left)";
    return Status::Ok();
  }
  std::string_view h;
  RETURN_IF_ERROR(w->Get(offset, kRecordHeaderSize, &h));
  uint32_t length = DecodeFixed32(h.data() + 4);
  uint8_t type = static_cast<uint8_t>(h[8]);
  r->length = length;
  if (!explain && type != static_cast<uint8_t>(wal::RecordType::kFull)) return Status::Ok();  // cheap reject
  if (length > wal::kMaxPayloadSize) {
    if (explain) r->why = "record length " + std::to_string(length) + " exceeds the maximum";
    return Status::Ok();
  }
  if (length > left - kRecordHeaderSize) {
    r->past_end = true;
    if (explain)
      r->why = "record of " + std::to_string(length) + " bytes extends past end of file (" +
               std::to_string(left - kRecordHeaderSize) + " bytes left)";
    return Status::Ok();
  }
  uint32_t expected = crc32c::Unmask(DecodeFixed32(h.data()));
  std::string_view rec;
  RETURN_IF_ERROR(w->Get(offset, kRecordHeaderSize + length, &rec));
  uint32_t actual = crc32c::Value(rec.data() + 4, rec.size() - 4);
  if (actual != expected) {
    if (explain) r->why = "record checksum mismatch";
    return Status::Ok();
  }
  if (type != static_cast<uint8_t>(wal::RecordType::kFull)) {
    r->probe = Probe::kUnknownType;
    if (explain) r->why = "unknown record type " + std::to_string(type) + " (written by a newer version?)";
    return Status::Ok();
  }
  r->probe = Probe::kValid;
  return Status::Ok();
}

Status AllZero(Window* w, uint64_t from, uint64_t end, bool* zero) {
  *zero = true;
  constexpr size_t kStep = 64 * 1024;
  for (uint64_t off = from; off < end; off += kStep) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kStep, end - off));
    std::string_view v;
    RETURN_IF_ERROR(w->Get(off, n, &v));
    if (std::any_of(v.begin(), v.end(), [](char c) { return c != 0; })) {
      *zero = false;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

// Is there a valid record starting at any offset in (from, end)? Only called once damage has been
// found, so its cost (a header probe per byte, a crc per plausible header) is off the normal path.
Status ValidRecordAfter(Window* w, uint64_t from, uint64_t end, uint64_t* found) {
  RecordProbe r;
  for (uint64_t off = from + 1; off + kRecordHeaderSize <= end; ++off) {
    RETURN_IF_ERROR(ProbeRecord(w, off, end, /*explain=*/false, &r));
    if (r.probe == Probe::kValid) {
      *found = off;
      return Status::Ok();
    }
  }
  *found = 0;
  return Status::Ok();
}

// Decodes the header at the start of the window; returns a description of the damage, or empty.
// `definite` is set when the damage cannot be a torn write (the checksum matched but a field is
// wrong), so the torn-tail rule does not apply.
Status CheckHeader(Window* w, std::optional<uint64_t> expected_number, WalFileHeader* header, std::string* damage,
                   bool* definite) {
  damage->clear();
  *definite = false;
  if (w->size() < kFileHeaderSize) {
    *damage = "incomplete file header (" + std::to_string(w->size()) + " bytes)";
    return Status::Ok();
  }
  std::string_view h;
  RETURN_IF_ERROR(w->Get(0, kFileHeaderSize, &h));
  uint32_t expected = crc32c::Unmask(DecodeFixed32(h.data() + wal::kFileHeaderCrcOffset));
  if (crc32c::Value(h.data(), wal::kFileHeaderCrcOffset) != expected) {
    *damage = "file header checksum mismatch";
    return Status::Ok();
  }
  *definite = true;
  if (h.substr(0, wal::kMagic.size()) != wal::kMagic) {
    *damage = "not a WAL file (bad magic)";
    return Status::Ok();
  }
  uint32_t version = DecodeFixed32(h.data() + 8);
  if (version != wal::kVersion) {
    *damage = "unsupported WAL version " + std::to_string(version);
    return Status::Ok();
  }
  header->file_number = DecodeFixed64(h.data() + 12);
  header->prev_file_size = DecodeFixed64(h.data() + 20);
  if (expected_number && header->file_number != *expected_number) {
    *damage = "file header names file " + std::to_string(header->file_number) + ", not " +
              std::to_string(*expected_number);
    return Status::Ok();
  }
  *definite = false;
  return Status::Ok();
}

}  // namespace

std::string_view WalFileEndName(WalFileEnd end) {
  switch (end) {
    case WalFileEnd::kClean: return "clean";
    case WalFileEnd::kZeroTail: return "zero-filled tail";
    case WalFileEnd::kTornTail: return "torn tail";
    case WalFileEnd::kAbandonedTail: return "abandoned tail";
    case WalFileEnd::kCorruption: return "corruption";
  }
  return "unknown";
}

uint64_t WalFileReport::tail_bytes() const {
  if (end == WalFileEnd::kZeroTail || end == WalFileEnd::kTornTail || end == WalFileEnd::kAbandonedTail)
    return file_size - valid_end;
  return 0;
}

Status WalFileReport::ToStatus() const {
  if (end != WalFileEnd::kCorruption) return Status::Ok();
  return Corruption("wal " + path + " offset " + std::to_string(damage_offset) + ": " + damage);
}

Result<WalFileReport> ScanWalFile(io::Env* env, const std::string& path, std::optional<uint64_t> sealed_size,
                                  std::optional<uint64_t> expected_file_number, const WalRecordVisitor& visit) {
  ASSIGN_OR_RETURN(auto file, env->NewRandomAccessFile(path));
  WalFileReport rep;
  rep.path = path;
  rep.file_size = file->Size();
  Window w(file.get(), rep.file_size);

  // Records are parsed up to `end`; a sealed file's records must stop exactly at its sealed size.
  const uint64_t end = sealed_size ? std::min(*sealed_size, rep.file_size) : rep.file_size;
  auto corrupt = [&](uint64_t at, std::string why) {
    rep.end = WalFileEnd::kCorruption;
    rep.damage_offset = at;
    rep.damage = std::move(why);
    return rep;
  };

  // Damage at `at` (a record, or the header at 0). In a sealed file it is corruption. In the
  // newest file it is a tail unless valid data follows it (docs/format/wal.md, torn-tail policy).
  auto classify_damage = [&](uint64_t at, std::string why) -> Result<WalFileReport> {
    if (sealed_size) return corrupt(at, std::move(why) + " (in a sealed file)");
    bool zero = false;
    RETURN_IF_ERROR(AllZero(&w, at, rep.file_size, &zero));
    if (zero) {
      rep.end = WalFileEnd::kZeroTail;
      rep.damage_offset = at;
      rep.damage = why + "; " + std::to_string(rep.file_size - at) + " zero bytes to end of file";
      return rep;
    }
    uint64_t found = 0;
    RETURN_IF_ERROR(ValidRecordAfter(&w, at, rep.file_size, &found));
    if (found != 0)
      return corrupt(at, std::move(why) + "; a valid record follows at offset " + std::to_string(found));
    rep.end = WalFileEnd::kTornTail;
    rep.damage_offset = at;
    rep.damage = std::move(why);
    return rep;
  };

  std::string damage;
  bool definite = false;
  RETURN_IF_ERROR(CheckHeader(&w, expected_file_number, &rep.header, &damage, &definite));
  if (definite) return corrupt(0, damage);
  if (!damage.empty()) return classify_damage(0, damage);
  rep.header_valid = true;
  if (sealed_size && *sealed_size < kFileHeaderSize)
    return corrupt(0, "successor declares a size of " + std::to_string(*sealed_size) + " bytes for this file");

  uint64_t offset = kFileHeaderSize;
  rep.valid_end = offset;
  RecordProbe r;
  while (offset < end) {
    RETURN_IF_ERROR(ProbeRecord(&w, offset, end, /*explain=*/true, &r));
    if (r.probe == Probe::kUnknownType) return corrupt(offset, r.why);
    if (r.probe == Probe::kDamaged) {
      if (sealed_size && end < rep.file_size && (r.past_end || end - offset < kRecordHeaderSize))
        r.why = "record straddles the size " + std::to_string(*sealed_size) + " declared by the successor file";
      return classify_damage(offset, r.why);
    }
    if (visit) {
      std::string_view rec;
      RETURN_IF_ERROR(w.Get(offset, kRecordHeaderSize + r.length, &rec));
      RETURN_IF_ERROR(visit(rec.substr(kRecordHeaderSize), offset));
    }
    offset += kRecordHeaderSize + r.length;
    rep.valid_end = offset;
    ++rep.records;
    rep.payload_bytes += r.length;
  }

  if (sealed_size && rep.file_size < *sealed_size)
    return corrupt(rep.file_size, "file is " + std::to_string(rep.file_size) + " bytes, but its successor declares " +
                                      std::to_string(*sealed_size));
  if (rep.file_size > end) {
    rep.end = WalFileEnd::kAbandonedTail;
    rep.damage_offset = end;
    rep.damage = std::to_string(rep.file_size - end) + " bytes past the size declared by the successor file";
  }
  return rep;
}

Result<WalFileHeader> ReadWalFileHeader(io::Env* env, const std::string& path) {
  ASSIGN_OR_RETURN(auto file, env->NewRandomAccessFile(path));
  Window w(file.get(), file->Size());
  WalFileHeader header;
  std::string damage;
  bool definite = false;
  auto name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  RETURN_IF_ERROR(CheckHeader(&w, wal::ParseFileName(name), &header, &damage, &definite));
  if (!damage.empty()) return Corruption("wal " + path + " offset 0: " + damage);
  return header;
}

Result<std::vector<uint64_t>> ListWalFiles(io::Env* env, const std::string& dir) {
  auto children = env->GetChildren(dir);
  if (!children.ok()) {
    if (children.status().Is(Code::kNotFound)) return std::vector<uint64_t>{};
    return children.status();
  }
  std::vector<uint64_t> numbers;
  for (const auto& name : *children) {
    if (auto n = wal::ParseFileName(name)) numbers.push_back(*n);
  }
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

}  // namespace cairn::store
