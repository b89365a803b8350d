#include "app/file_lines.h"

#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "ingest/body_decoder.h"

namespace cairn::app {
namespace {

constexpr size_t kBlock = 1 << 20;
// Small files get smaller buffers: a fresh 1 MiB allocation is mapped and zeroed anew each time
// (~1 ms here), which a reader of a few kilobytes should not pay.
constexpr size_t kMinBlock = 64 << 10;

bool IsGzipMagic(const char* p, size_t n) {
  return n >= 2 && static_cast<uint8_t>(p[0]) == 0x1f && static_cast<uint8_t>(p[1]) == 0x8b;
}

}  // namespace

Result<std::unique_ptr<FileLines>> FileLines::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    std::string msg = fmt::format("cannot open {}: {}", path, std::strerror(e));
    return e == ENOENT ? NotFound(msg) : IOError(msg);
  }
  struct stat sb {};
  const uint64_t size = ::fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? static_cast<uint64_t>(sb.st_size) : 0;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  auto lines = std::unique_ptr<FileLines>(new FileLines(fd, path, size));
  // The first block tells plain text from gzip.
  lines->in_.resize(lines->block_);
  const ssize_t n = lines->Read(lines->in_.data(), lines->in_.size());
  if (n < 0) return lines->status_;
  lines->in_.resize(static_cast<size_t>(n));
  if (IsGzipMagic(lines->in_.data(), lines->in_.size())) {
    lines->gzip_ = true;
    lines->st_ = std::make_unique<inflate_state>();
    lines->st_->next_in = reinterpret_cast<uint8_t*>(lines->in_.data());
    lines->st_->avail_in = static_cast<uint32_t>(n);
    lines->member_done_ = true;
  } else {
    lines->buf_ = std::move(lines->in_);  // plain text: the block read is the first text
    lines->end_ = lines->buf_.size();
    lines->in_.clear();
    if (n == 0) lines->eof_ = true;
  }
  return lines;
}

FileLines::FileLines(int fd, std::string path, uint64_t file_size)
    : fd_(fd),
      path_(std::move(path)),
      file_size_(file_size),
      block_(file_size == 0 ? kBlock : std::clamp<size_t>(file_size, kMinBlock, kBlock)) {}

FileLines::~FileLines() { ::close(fd_); }

ssize_t FileLines::Read(char* to, size_t n) {
  for (;;) {
    const ssize_t got = ::read(fd_, to, n);
    if (got >= 0) {
      file_read_ += static_cast<uint64_t>(got);
      return got;
    }
    if (errno == EINTR) continue;
    status_ = IOError(fmt::format("reading {}: {}", path_, std::strerror(errno)));
    eof_ = true;
    return -1;
  }
}

double FileLines::Fraction() const {
  if (file_size_ == 0) return 0;
  // For gzip, the compressed bytes not yet inflated are still ahead.
  const uint64_t pending = gzip_ && st_ ? st_->avail_in : 0;
  return std::min(1.0, static_cast<double>(file_read_ - std::min(file_read_, pending)) / file_size_);
}

Status FileLines::GzipError(std::string_view what) const {
  const uint64_t at = file_read_ - (st_ ? st_->avail_in : 0);
  return InvalidArgument(fmt::format("{}, compressed byte {}: {}", path_, at, what));
}

bool FileLines::Next(std::string* line) {
  line->clear();
  for (;;) {
    const char* begin = buf_.data() + pos_;
    if (const void* nl = std::memchr(begin, '\n', end_ - pos_)) {
      const size_t len = static_cast<const char*>(nl) - begin;
      line->assign(begin, len);
      pos_ += len + 1;
      return true;
    }
    if (eof_ || !Fill()) {
      // The last line may lack its newline; after an error, the text before it is not a line.
      if (pos_ == end_ || !status_.ok()) return false;
      line->assign(buf_.data() + pos_, end_ - pos_);
      pos_ = end_;
      return true;
    }
  }
}

bool FileLines::Fill() {
  // Keep the unfinished line, at the front; grow the buffer only for a line longer than it.
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (buf_.size() < end_ + block_) buf_.resize(std::max(buf_.size() * 2, end_ + block_));
  if (gzip_) return FillGzip();
  const ssize_t n = Read(buf_.data() + end_, buf_.size() - end_);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  end_ += static_cast<size_t>(n);
  return true;
}

bool FileLines::FillGzip() {
  inflate_state* st = st_.get();
  const size_t end_before = end_;
  while (end_ == end_before) {
    if (st->avail_in == 0) {
      if (in_.size() < block_) in_.resize(block_);
      const ssize_t n = Read(in_.data(), in_.size());
      if (n < 0) return false;
      if (n == 0) {
        eof_ = true;
        if (!member_done_) status_ = GzipError("the file ends inside a gzip member (truncated)");
        return false;
      }
      st->next_in = reinterpret_cast<uint8_t*>(in_.data());
      st->avail_in = static_cast<uint32_t>(n);
    }
    if (member_done_) {
      // A new member starts here: anything else after a member is not gzip.
      if (st->avail_in == 1) {
        // The magic may straddle two blocks: keep the byte, read more behind it.
        const char first = static_cast<char>(*st->next_in);
        if (in_.size() < block_) in_.resize(block_);
        in_[0] = first;
        const ssize_t n = Read(in_.data() + 1, in_.size() - 1);
        if (n < 0) return false;
        st->next_in = reinterpret_cast<uint8_t*>(in_.data());
        st->avail_in = static_cast<uint32_t>(n + 1);
      }
      if (!IsGzipMagic(reinterpret_cast<const char*>(st->next_in), st->avail_in)) {
        status_ = GzipError("the bytes after a gzip member are not another member");
        eof_ = true;
        return false;
      }
      uint8_t* next = st->next_in;
      const uint32_t avail = st->avail_in;
      isal_inflate_init(st);
      st->crc_flag = ISAL_GZIP;  // parse the member's header, verify its trailer (CRC-32, length)
      st->next_in = next;
      st->avail_in = avail;
      member_done_ = false;
    }
    st->next_out = reinterpret_cast<uint8_t*>(buf_.data() + end_);
    st->avail_out = static_cast<uint32_t>(buf_.size() - end_);
    const uint32_t in_before = st->avail_in;
    const int rc = isal_inflate(st);
    end_ = buf_.size() - st->avail_out;
    if (rc < 0 || rc == ISAL_NEED_DICT) {
      status_ = GzipError(fmt::format("the gzip data is damaged ({})", ingest::InflateErrorText(rc)));
      eof_ = true;
      return false;
    }
    if (st->block_state == ISAL_BLOCK_FINISH) {
      member_done_ = true;
      continue;  // the next member, if any, on the next round
    }
    if (st->avail_in == in_before && end_ == end_before && st->avail_in != 0) {
      // No progress with input and room: cannot happen with a sane decoder; do not spin.
      status_ = GzipError("the decoder made no progress");
      eof_ = true;
      return false;
    }
  }
  return true;
}

}  // namespace cairn::app
