#pragma once
// FileLines: the lines of a plain or gzip JSON Lines file for `cairn import` (a LineSource).
//
// The file is read in 1 MiB blocks (less for a smaller file); gzip input (told by its magic bytes 1f 8b, not by the file's
// name) is inflated by ISA-L's igzip, ~2.5x zlib's speed on JSON, and may hold several members
// one after another (as `cat a.gz b.gz`, pigz and bgzip write). Lines are cut with memchr in the
// inflated block, so a line costs one copy however the file is compressed.
//
// Errors: a file that ends inside a gzip member, a damaged member (its CRC-32 or length in the
// trailer does not match, or the deflate data is invalid) and bytes after the last member that
// are not another member stop the stream: Next() returns false and status() names what is wrong
// and where (the compressed byte offset). Lines returned before that were read correctly (they
// were inflated from data before the damage; a member's CRC is checked only at its end, so the
// lines of a member whose trailer does not match have already been returned — the caller reports
// the error, it does not pretend the file was whole).

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "app/import.h"
#include "base/result.h"

struct inflate_state;

namespace cairn::app {

class FileLines final : public LineSource {
 public:
  // NotFound / IOError naming `path` when it cannot be opened.
  static Result<std::unique_ptr<FileLines>> Open(const std::string& path);
  ~FileLines() override;

  bool Next(std::string* line) override;
  double Fraction() const override;
  Status status() const override { return status_; }

  bool gzip() const { return gzip_; }

 private:
  FileLines(int fd, std::string path, uint64_t file_size);
  // Appends more of the file's (inflated) text to buf_ after end_; false at the end or on an
  // error (status_).
  bool Fill();
  bool FillGzip();
  // read(2) of up to n bytes, counted in file_read_; 0 at the end of the file, -1 on an error
  // (status_ set).
  ssize_t Read(char* to, size_t n);
  Status GzipError(std::string_view what) const;

  int fd_;
  const std::string path_;
  const uint64_t file_size_;  // 0 when unknown (not a regular file)
  const size_t block_;        // bytes per read (1 MiB; less for a smaller file)
  uint64_t file_read_ = 0;  // bytes of the file read so far
  bool gzip_ = false;
  bool eof_ = false;        // no more text will come (end of file, or an error)
  Status status_;

  std::string buf_;         // text; [pos_, end_) not yet returned
  size_t pos_ = 0;
  size_t end_ = 0;

  // gzip only
  std::string in_;          // the compressed block being inflated
  std::unique_ptr<inflate_state> st_;
  bool member_done_ = true;  // the last member's trailer was read (a clean place to end)
};

}  // namespace cairn::app
