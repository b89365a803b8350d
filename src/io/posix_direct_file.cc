#include "io/posix_direct_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "io/posix_error.h"

namespace cairn::io {
namespace {

constexpr size_t kBufferSize = 1 << 20;  // a multiple of kDirectBlockSize

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

class PosixDirectFile final : public WritableFile {
 public:
  // The buffer holds the file's bytes from `buf_offset` (block-aligned) to `size`.
  PosixDirectFile(std::string path, int fd, std::unique_ptr<char, FreeDeleter> buf, uint64_t buf_offset,
                  uint64_t size)
      : path_(std::move(path)), fd_(fd), buf_(std::move(buf)), buf_offset_(buf_offset),
        used_(size - buf_offset), size_(size), disk_end_(size) {}
  ~PosixDirectFile() override {
    if (fd_ >= 0) (void)Close();
  }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return FailedPrecondition(path_ + ": closed");
    size_ += data.size();
    while (!data.empty()) {
      size_t n = std::min(data.size(), kBufferSize - used_);
      std::memcpy(buf_.get() + used_, data.data(), n);
      used_ += n;
      data.remove_prefix(n);
      dirty_ = true;
      if (used_ == kBufferSize) RETURN_IF_ERROR(WriteBuffer());
    }
    return Status::Ok();
  }

  Status WriteAt(uint64_t, std::string_view) override {
    return FailedPrecondition(path_ + ": WriteAt on a direct-I/O file");
  }

  Status Flush() override {
    if (fd_ < 0 || !dirty_) return Status::Ok();
    return WriteBuffer();
  }

  Status Sync() override {
    RETURN_IF_ERROR(Flush());
    // O_DIRECT bypasses the page cache, not the device's write cache nor the metadata (the file
    // size): fdatasync is still what makes the bytes durable.
    if (::fdatasync(fd_) != 0) return PosixError(path_ + ": fdatasync", errno);
    return Status::Ok();
  }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    Status s = Flush();
    // Drop the zero padding of the last block, so a sealed file ends at its last record.
    if (s.ok() && disk_end_ > size_ && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0)
      s = PosixError(path_ + ": ftruncate", errno);
    if (::close(fd_) != 0 && s.ok()) s = PosixError(path_ + ": close", errno);
    fd_ = -1;
    return s;
  }

  Status Preallocate(uint64_t bytes) override {
    int r = ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(bytes));
    if (r != 0 && errno != EOPNOTSUPP) return PosixError(path_ + ": fallocate", errno);
    return Status::Ok();
  }

  uint64_t Size() const override { return size_; }

 private:
  // Writes the buffer out in whole blocks (the last one zero-padded), then keeps only the partial
  // last block, which the next write starts with.
  Status WriteBuffer() {
    const size_t padded = (used_ + kDirectBlockSize - 1) / kDirectBlockSize * kDirectBlockSize;
    std::memset(buf_.get() + used_, 0, padded - used_);
    for (size_t done = 0; done < padded;) {
      ssize_t n = ::pwrite(fd_, buf_.get() + done, padded - done, static_cast<off_t>(buf_offset_ + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, errno);
      }
      // A short direct write ends on a block boundary in practice; if it does not, the next
      // pwrite is unaligned and fails with EINVAL, reported as an I/O error.
      done += static_cast<size_t>(n);
    }
    disk_end_ = std::max<uint64_t>(disk_end_, buf_offset_ + padded);
    const size_t whole = used_ / kDirectBlockSize * kDirectBlockSize;
    if (whole > 0) {
      std::memmove(buf_.get(), buf_.get() + whole, used_ - whole);
      buf_offset_ += whole;
      used_ -= whole;
    }
    dirty_ = false;
    return Status::Ok();
  }

  std::string path_;
  int fd_;
  std::unique_ptr<char, FreeDeleter> buf_;  // kBufferSize bytes, kDirectBlockSize-aligned
  uint64_t buf_offset_;                     // file offset of buf_[0]
  size_t used_;                             // bytes of buf_ in use
  uint64_t size_;                           // logical size
  uint64_t disk_end_;                       // the file's size on disk (padding included)
  bool dirty_ = false;                      // buf_ holds bytes not yet written
};

}  // namespace

Result<std::unique_ptr<WritableFile>> NewPosixDirectFile(const std::string& path, bool append) {
  int flags = O_RDWR | O_CREAT | O_CLOEXEC | O_DIRECT | (append ? 0 : O_TRUNC);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    if (errno == EINVAL) return Unavailable(path + ": the file system does not support O_DIRECT");
    return PosixError(path, errno);
  }
  auto fail = [&](const std::string& what, int err) {
    ::close(fd);
    return PosixError(path + ": " + what, err);
  };
  void* mem = nullptr;
  if (::posix_memalign(&mem, kDirectBlockSize, kBufferSize) != 0) return fail("allocating the direct-I/O buffer", ENOMEM);
  std::unique_ptr<char, FreeDeleter> buf(static_cast<char*>(mem));
  uint64_t size = 0;
  if (append) {
    struct stat st;
    if (::fstat(fd, &st) != 0) return fail("fstat", errno);
    size = static_cast<uint64_t>(st.st_size);
  }
  // Appending mid-block: the buffer starts with that block's existing bytes, rewritten with the
  // next flush.
  const uint64_t buf_offset = size / kDirectBlockSize * kDirectBlockSize;
  if (size > buf_offset) {
    ssize_t n;
    do n = ::pread(fd, buf.get(), kDirectBlockSize, static_cast<off_t>(buf_offset));
    while (n < 0 && errno == EINTR);
    if (n < 0) return fail("reading its last block", errno);
    if (static_cast<uint64_t>(n) < size - buf_offset) return fail("reading its last block", EIO);
  }
  return std::unique_ptr<WritableFile>(new PosixDirectFile(path, fd, std::move(buf), buf_offset, size));
}

Result<std::unique_ptr<WritableFile>> NewLogFile(Env* env, const std::string& path, bool append) {
  if (env == Env::Posix()) {
    auto f = NewPosixDirectFile(path, append);
    if (!f.status().Is(Code::kUnavailable)) return f;
  }
  return append ? env->NewAppendableFile(path) : env->NewWritableFile(path);
}

}  // namespace cairn::io
