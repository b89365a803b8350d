#pragma once
// WalWriter: appends framed records to one WAL file (docs/format/wal.md). It knows nothing about
// groups, threads or rolling; WalCommitter builds those on top.
//
// Thread-safety: none; one thread uses a writer at a time.
// Failure: after any failed Append or Sync the file's contents past the last successful Sync are
// unknown; the caller must not append again (WalCommitter cuts the file back or abandons it).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/status.h"
#include "io/env.h"
#include "store/wal_format.h"

namespace cairn::store {

// Appends the 32-byte file header to *dst.
void EncodeWalFileHeader(const WalFileHeader& header, std::string* dst);

// Writes the 9-byte record header for `payload` (type kFull) into dst[0, wal::kRecordHeaderSize).
// Costs one crc32c pass over the payload; WalCommitter runs it on the submitting thread.
void EncodeWalRecordHeader(std::string_view payload, char* dst);
// The same for a payload given as pieces written back to back; `size` is their total length.
void EncodeWalRecordHeader(std::span<const std::string_view> pieces, uint64_t size, char* dst);

class WalWriter {
 public:
  // Creates `path` (replacing any file there), writes the file header, preallocates
  // `preallocate_bytes` (a failure only logs a warning) and syncs. The caller syncs the directory.
  static Result<std::unique_ptr<WalWriter>> Create(io::Env* env, const std::string& path,
                                                   const WalFileHeader& header, uint64_t preallocate_bytes);
  // Opens an existing file to append at its end, which must be `expected_size` bytes (the end of
  // its last good record); any other size is FailedPrecondition.
  static Result<std::unique_ptr<WalWriter>> Reopen(io::Env* env, const std::string& path, uint64_t expected_size);

  ~WalWriter();
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // Frames and appends one record. Not durable until Sync(). InvalidArgument if the payload is
  // longer than wal::kMaxPayloadSize (nothing is written then).
  Status AddRecord(std::string_view payload);
  // Appends a record whose header was produced by EncodeWalRecordHeader(pieces, ..., header): the
  // header, then the pieces back to back.
  Status AddFramedRecord(const char* header, std::span<const std::string_view> pieces);
  Status Sync();
  Status Close();  // not a sync; idempotent

  const std::string& path() const { return path_; }
  // Bytes in the file including everything appended (synced or not).
  uint64_t size() const { return size_; }

 private:
  WalWriter(std::string path, std::unique_ptr<io::WritableFile> file, uint64_t size)
      : path_(std::move(path)), file_(std::move(file)), size_(size) {}

  std::string path_;
  std::unique_ptr<io::WritableFile> file_;  // null once closed
  uint64_t size_;
};

}  // namespace cairn::store
