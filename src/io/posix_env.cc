// The real file system. Every error names the path and the errno text.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "io/env.h"
#include "io/posix_direct_file.h"
#include "io/posix_error.h"

namespace cairn::io {
namespace {

// 1 MiB of zeros, aligned for O_DIRECT; shared by every SecureRemoveFile, never freed.
constexpr size_t kZeroBufferSize = 1 << 20;
const char* ZeroBuffer() {
  static const char* zeros = [] {
    void* p = std::aligned_alloc(kDirectBlockSize, kZeroBufferSize);
    if (p == nullptr) std::abort();  // 1 MiB at first use: out of memory before anything else
    std::memset(p, 0, kZeroBufferSize);
    return static_cast<const char*>(p);
  }();
  return zeros;
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {
    buf_.reserve(kBufferSize);
  }
  ~PosixWritableFile() override {
    if (fd_ >= 0) (void)Close();
  }

  Status Append(std::string_view data) override {
    size_ += data.size();
    if (buf_.size() + data.size() <= kBufferSize) {
      buf_.append(data);
      return Status::Ok();
    }
    RETURN_IF_ERROR(Flush());
    if (data.size() <= kBufferSize) {
      buf_.append(data);
      return Status::Ok();
    }
    return WriteAll(data);
  }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    RETURN_IF_ERROR(Flush());
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, errno);
      }
      data.remove_prefix(n);
      offset += n;
    }
    return Status::Ok();
  }

  Status Flush() override {
    if (buf_.empty()) return Status::Ok();
    Status s = WriteAll(buf_);
    buf_.clear();
    return s;
  }

  Status Sync() override {
    RETURN_IF_ERROR(Flush());
    if (::fdatasync(fd_) != 0) return PosixError(path_ + ": fdatasync", errno);
    return Status::Ok();
  }

  Status Close() override {
    Status s = Flush();
    if (fd_ >= 0 && ::close(fd_) != 0 && s.ok()) s = PosixError(path_ + ": close", errno);
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
  static constexpr size_t kBufferSize = 256 * 1024;

  Status WriteAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, errno);
      }
      data.remove_prefix(n);
    }
    return Status::Ok();
  }

  std::string path_;
  int fd_;
  uint64_t size_;
  std::string buf_;
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }
  Status Read(size_t n, std::string_view* out, char* scratch) override {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::read(fd_, scratch + got, n - got);
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, errno);
      }
      if (r == 0) break;
      got += r;
    }
    *out = std::string_view(scratch, got);
    return Status::Ok();
  }
  Status Skip(uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0) return PosixError(path_, errno);
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }
  Status Read(uint64_t offset, size_t n, std::string_view* out, char* scratch) const override {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, scratch + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, errno);
      }
      if (r == 0) break;
      got += r;
    }
    *out = std::string_view(scratch, got);
    return Status::Ok();
  }
  uint64_t Size() const override { return size_; }
  int fd() const { return fd_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

// Opens `path` with `flags` (mode 0644 if it creates it); the descriptor and the file's size now.
Result<std::pair<int, uint64_t>> OpenWithSize(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return PosixError(path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return PosixError(path, err);
  }
  return std::pair<int, uint64_t>{fd, static_cast<uint64_t>(st.st_size)};
}

// Opens `path` for positioned reads, with its size as of now.
Result<std::unique_ptr<PosixRandomAccessFile>> OpenForReading(const std::string& path) {
  ASSIGN_OR_RETURN(auto opened, OpenWithSize(path, O_RDONLY | O_CLOEXEC));
  return std::make_unique<PosixRandomAccessFile>(path, opened.first, opened.second);
}

// A whole file mapped read-only (Env::NewReadOnlyMappedFile). Read is a bounds check and a view.
class PosixMappedFile final : public RandomAccessFile {
 public:
  PosixMappedFile(const char* base, uint64_t size) : base_(base), size_(size) {}
  ~PosixMappedFile() override { ::munmap(const_cast<char*>(base_), size_); }
  Status Read(uint64_t offset, size_t n, std::string_view* out, char*) const override {
    const uint64_t avail = offset < size_ ? size_ - offset : 0;
    *out = std::string_view(base_ + (offset < size_ ? offset : size_), n < avail ? n : avail);
    return Status::Ok();
  }
  uint64_t Size() const override { return size_; }

 private:
  const char* base_;
  uint64_t size_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd, 0));
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    ASSIGN_OR_RETURN(auto opened, OpenWithSize(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC));
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, opened.first, opened.second));
  }
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(path, errno);
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(path, fd));
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    ASSIGN_OR_RETURN(auto file, OpenForReading(path));
    return std::unique_ptr<RandomAccessFile>(std::move(file));
  }
  Result<std::unique_ptr<RandomAccessFile>> NewReadOnlyMappedFile(const std::string& path) override {
    ASSIGN_OR_RETURN(auto file, OpenForReading(path));
    // An empty file cannot be mapped; a failed mapping (address space, a file system without
    // mmap) is served by positioned reads instead.
    const uint64_t size = file->Size();
    void* base = size == 0 ? MAP_FAILED : ::mmap(nullptr, size, PROT_READ, MAP_SHARED, file->fd(), 0);
    if (base == MAP_FAILED) return std::unique_ptr<RandomAccessFile>(std::move(file));
    // Closing the descriptor (with `file`) leaves the mapping and the file's pages reachable.
    return std::unique_ptr<RandomAccessFile>(new PosixMappedFile(static_cast<const char*>(base), size));
  }
  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return PosixError(dir, errno);
    std::vector<std::string> out;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(std::move(name));
    }
    ::closedir(d);
    return out;
  }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError(path, errno);
    return static_cast<uint64_t>(st.st_size);
  }
  Status CreateDirIfMissing(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return PosixError(dir, errno);
    return Status::Ok();
  }
  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError(path, errno);
    return Status::Ok();
  }
  Status SecureRemoveFile(const std::string& path) override {
    // The zeros go out with O_DIRECT where the file system allows it: the file's blocks are
    // overwritten without pushing its size in zeros through the page cache, which costs ~3x
    // the CPU here (a 64 MiB WAL file per flush). The kernel writes back and drops the file's
    // cached pages in the range first, so no stale page lands on the zeros afterwards.
    bool direct = true;
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_DIRECT);
    if (fd < 0 && errno == EINVAL) {
      direct = false;
      fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    }
    if (fd < 0) return PosixError(path, errno);
    struct stat st;
    Status s;
    if (::fstat(fd, &st) != 0) s = PosixError(path, errno);
    // Direct writes are whole blocks: the last one runs past the end (the file goes anyway).
    const off_t end = direct ? (st.st_size + kDirectBlockSize - 1) / kDirectBlockSize * kDirectBlockSize : st.st_size;
    const char* zeros = ZeroBuffer();
    for (off_t off = 0; s.ok() && off < end;) {
      size_t n = std::min<off_t>(kZeroBufferSize, end - off);
      ssize_t w = ::pwrite(fd, zeros, n, off);
      if (w < 0) {
        if (errno == EINTR) continue;
        s = PosixError(path, errno);
        break;
      }
      off += w;
    }
    if (s.ok() && ::fdatasync(fd) != 0) s = PosixError(path + ": fdatasync", errno);
    ::close(fd);
    RETURN_IF_ERROR(s);
    return RemoveFile(path);
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError(from + " -> " + to, errno);
    return Status::Ok();
  }
  Status TruncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) return PosixError(path, errno);
    return Status::Ok();
  }
  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError(dir, errno);
    int r = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (r != 0) return PosixError(dir + ": fsync", err);
    return Status::Ok();
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) return FailedPrecondition(path + ": locked by another process (is cairn already running on this data dir?)");
      return PosixError(path, err);
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(fd));
  }
};

}  // namespace

Env* Env::Posix() {
  static Env* env = new PosixEnv();
  return env;
}

}  // namespace cairn::io
