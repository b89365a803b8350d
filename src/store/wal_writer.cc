#include "store/wal_writer.h"

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/logging.h"
#include "io/posix_direct_file.h"

namespace cairn::store {

void EncodeWalFileHeader(const WalFileHeader& header, std::string* dst) {
  size_t start = dst->size();
  dst->append(wal::kMagic);
  PutFixed32(dst, wal::kVersion);
  PutFixed64(dst, header.file_number);
  PutFixed64(dst, header.prev_file_size);
  PutFixed32(dst, crc32c::Mask(crc32c::Value(dst->data() + start, wal::kFileHeaderCrcOffset)));
}

void EncodeWalRecordHeader(std::string_view payload, char* dst) {
  EncodeWalRecordHeader(std::span<const std::string_view>(&payload, 1), payload.size(), dst);
}

void EncodeWalRecordHeader(std::span<const std::string_view> pieces, uint64_t size, char* dst) {
  EncodeFixed32(dst + 4, static_cast<uint32_t>(size));
  dst[8] = static_cast<char>(wal::RecordType::kFull);
  // The crc covers length, type and payload in on-disk order, so a damaged length is detected
  // even when the payload it points at happens to be intact.
  uint32_t crc = crc32c::Value(dst + 4, 5);
  for (std::string_view piece : pieces) crc = crc32c::Extend(crc, piece.data(), piece.size());
  EncodeFixed32(dst, crc32c::Mask(crc));
}

Result<std::unique_ptr<WalWriter>> WalWriter::Create(io::Env* env, const std::string& path,
                                                     const WalFileHeader& header, uint64_t preallocate_bytes) {
  ASSIGN_OR_RETURN(auto file, io::NewLogFile(env, path, /*append=*/false));
  if (preallocate_bytes > 0) {
    Status s = file->Preallocate(preallocate_bytes);
    // Preallocation only moves disk-full errors earlier; appends still report them.
    if (!s.ok()) LOG_EVERY_N_SEC(kWarn, 10, "wal: preallocating {}: {}", path, s.ToString());
  }
  std::string bytes;
  EncodeWalFileHeader(header, &bytes);
  RETURN_IF_ERROR(file->Append(bytes));
  RETURN_IF_ERROR(file->Sync());
  return std::unique_ptr<WalWriter>(new WalWriter(path, std::move(file), bytes.size()));
}

Result<std::unique_ptr<WalWriter>> WalWriter::Reopen(io::Env* env, const std::string& path, uint64_t expected_size) {
  ASSIGN_OR_RETURN(auto file, io::NewLogFile(env, path, /*append=*/true));
  if (file->Size() != expected_size) {
    (void)file->Close();
    return FailedPrecondition(path + ": reopened WAL file is " + std::to_string(file->Size()) +
                              " bytes, expected " + std::to_string(expected_size));
  }
  return std::unique_ptr<WalWriter>(new WalWriter(path, std::move(file), expected_size));
}

WalWriter::~WalWriter() { (void)Close(); }

Status WalWriter::AddRecord(std::string_view payload) {
  if (payload.size() > wal::kMaxPayloadSize)
    return InvalidArgument("wal record payload of " + std::to_string(payload.size()) + " bytes exceeds the maximum " +
                           std::to_string(wal::kMaxPayloadSize));
  char header[wal::kRecordHeaderSize];
  EncodeWalRecordHeader(payload, header);
  return AddFramedRecord(header, std::span<const std::string_view>(&payload, 1));
}

Status WalWriter::AddFramedRecord(const char* header, std::span<const std::string_view> pieces) {
  if (!file_) return FailedPrecondition(path_ + ": WAL file is closed");
  // No concatenation: the payload may be MiBs, in pieces (a batch's payloads where they are).
  // The direct-I/O file copies them into its aligned buffer, the one copy between the
  // interactions and the device.
  RETURN_IF_ERROR(file_->Append(std::string_view(header, wal::kRecordHeaderSize)));
  size_ += wal::kRecordHeaderSize;
  for (std::string_view piece : pieces) {
    RETURN_IF_ERROR(file_->Append(piece));
    size_ += piece.size();
  }
  return Status::Ok();
}

Status WalWriter::Sync() {
  if (!file_) return FailedPrecondition(path_ + ": WAL file is closed");
  return file_->Sync();
}

Status WalWriter::Close() {
  if (!file_) return Status::Ok();
  Status s = file_->Close();
  file_.reset();
  return s;
}

}  // namespace cairn::store
