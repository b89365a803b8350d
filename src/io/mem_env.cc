#include "io/mem_env.h"

#include <algorithm>
#include <cstring>

namespace cairn::io {

struct MemEnv::FileState {
  std::mutex mu;
  std::string data;    // guarded by mu
  size_t synced = 0;   // bytes of data that a crash keeps; guarded by mu
};

class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(MemEnv* env, std::string path, std::shared_ptr<MemEnv::FileState> f)
      : env_(env), path_(std::move(path)), f_(std::move(f)) {}
  Status Append(std::string_view data) override {
    RETURN_IF_ERROR(env_->BeforeWrite(path_, data.size()));
    std::lock_guard lock(f_->mu);
    f_->data.append(data);
    return Status::Ok();
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    RETURN_IF_ERROR(env_->BeforeWrite(path_, data.size()));
    std::lock_guard lock(f_->mu);
    if (f_->data.size() < offset + data.size()) f_->data.resize(offset + data.size(), '\0');
    std::memcpy(f_->data.data() + offset, data.data(), data.size());
    // Overwriting already-synced bytes makes them unsynced again.
    f_->synced = std::min<size_t>(f_->synced, offset);
    return Status::Ok();
  }
  Status Flush() override { return Status::Ok(); }
  Status Sync() override {
    RETURN_IF_ERROR(env_->BeforeSync(path_));
    std::lock_guard lock(f_->mu);
    f_->synced = f_->data.size();
    return Status::Ok();
  }
  Status Close() override { return Status::Ok(); }
  Status Preallocate(uint64_t) override { return Status::Ok(); }
  uint64_t Size() const override {
    std::lock_guard lock(f_->mu);
    return f_->data.size();
  }

 private:
  MemEnv* env_;
  std::string path_;
  std::shared_ptr<MemEnv::FileState> f_;
};

namespace {

class MemSequentialFile final : public SequentialFile {
 public:
  explicit MemSequentialFile(std::shared_ptr<MemEnv::FileState> f) : f_(std::move(f)) {}
  Status Read(size_t n, std::string_view* out, char* scratch) override {
    std::lock_guard lock(f_->mu);
    size_t avail = pos_ < f_->data.size() ? f_->data.size() - pos_ : 0;
    size_t k = std::min(n, avail);
    std::memcpy(scratch, f_->data.data() + pos_, k);
    pos_ += k;
    *out = std::string_view(scratch, k);
    return Status::Ok();
  }
  Status Skip(uint64_t n) override {
    pos_ += n;
    return Status::Ok();
  }

 private:
  std::shared_ptr<MemEnv::FileState> f_;
  size_t pos_ = 0;
};

class MemRandomAccessFile final : public RandomAccessFile {
 public:
  explicit MemRandomAccessFile(std::shared_ptr<MemEnv::FileState> f) : f_(std::move(f)) {}
  Status Read(uint64_t offset, size_t n, std::string_view* out, char* scratch) const override {
    std::lock_guard lock(f_->mu);
    size_t avail = offset < f_->data.size() ? f_->data.size() - offset : 0;
    size_t k = std::min(n, avail);
    std::memcpy(scratch, f_->data.data() + offset, k);
    *out = std::string_view(scratch, k);
    return Status::Ok();
  }
  uint64_t Size() const override {
    std::lock_guard lock(f_->mu);
    return f_->data.size();
  }

 private:
  std::shared_ptr<MemEnv::FileState> f_;
};

class MemFileLock final : public FileLock {
 public:
  MemFileLock(std::mutex* mu, std::map<std::string, bool>* locks, std::string path)
      : mu_(mu), locks_(locks), path_(std::move(path)) {}
  ~MemFileLock() override {
    std::lock_guard lock(*mu_);
    locks_->erase(path_);
  }

 private:
  std::mutex* mu_;
  std::map<std::string, bool>* locks_;
  std::string path_;
};

}  // namespace

MemEnv::MemEnv() = default;
MemEnv::~MemEnv() = default;

Result<std::unique_ptr<WritableFile>> MemEnv::NewWritableFile(const std::string& path) {
  std::lock_guard lock(mu_);
  auto f = std::make_shared<FileState>();
  files_[path] = f;
  return std::unique_ptr<WritableFile>(new MemWritableFile(this, path, f));
}

Result<std::unique_ptr<WritableFile>> MemEnv::NewAppendableFile(const std::string& path) {
  std::lock_guard lock(mu_);
  auto& f = files_[path];
  if (!f) f = std::make_shared<FileState>();
  return std::unique_ptr<WritableFile>(new MemWritableFile(this, path, f));
}

Result<std::unique_ptr<SequentialFile>> MemEnv::NewSequentialFile(const std::string& path) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NotFound(path + ": no such file");
  return std::unique_ptr<SequentialFile>(new MemSequentialFile(it->second));
}

Result<std::unique_ptr<RandomAccessFile>> MemEnv::NewRandomAccessFile(const std::string& path) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NotFound(path + ": no such file");
  return std::unique_ptr<RandomAccessFile>(new MemRandomAccessFile(it->second));
}

bool MemEnv::FileExists(const std::string& path) {
  std::lock_guard lock(mu_);
  return files_.count(path) > 0 || dirs_.count(path) > 0;
}

Result<std::vector<std::string>> MemEnv::GetChildren(const std::string& dir) {
  std::lock_guard lock(mu_);
  std::string prefix = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  std::vector<std::string> out;
  for (const auto& [path, f] : files_) {
    if (path.compare(0, prefix.size(), prefix) == 0 && path.find('/', prefix.size()) == std::string::npos)
      out.push_back(path.substr(prefix.size()));
  }
  for (const auto& [path, unused] : dirs_) {
    if (path.compare(0, prefix.size(), prefix) == 0 && path.size() > prefix.size() &&
        path.find('/', prefix.size()) == std::string::npos)
      out.push_back(path.substr(prefix.size()));
  }
  return out;
}

Result<uint64_t> MemEnv::GetFileSize(const std::string& path) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NotFound(path + ": no such file");
  std::lock_guard flock(it->second->mu);
  return static_cast<uint64_t>(it->second->data.size());
}

Status MemEnv::CreateDirIfMissing(const std::string& dir) {
  std::lock_guard lock(mu_);
  dirs_[dir] = true;
  return Status::Ok();
}

Status MemEnv::RemoveFile(const std::string& path) {
  std::lock_guard lock(mu_);
  if (files_.erase(path) == 0) return NotFound(path + ": no such file");
  return Status::Ok();
}

Status MemEnv::SecureRemoveFile(const std::string& path) {
  {
    std::lock_guard lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return NotFound(path + ": no such file");
    std::lock_guard flock(it->second->mu);
    std::fill(it->second->data.begin(), it->second->data.end(), '\0');
  }
  return RemoveFile(path);
}

Status MemEnv::RenameFile(const std::string& from, const std::string& to) {
  RETURN_IF_ERROR(BeforeRename(from, to));
  std::lock_guard lock(mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return NotFound(from + ": no such file");
  auto f = it->second;
  files_.erase(it);
  files_[to] = f;
  return Status::Ok();
}

Status MemEnv::TruncateFile(const std::string& path, uint64_t size) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NotFound(path + ": no such file");
  std::lock_guard flock(it->second->mu);
  it->second->data.resize(size, '\0');
  it->second->synced = std::min<size_t>(it->second->synced, size);
  return Status::Ok();
}

Status MemEnv::SyncDir(const std::string&) { return Status::Ok(); }

Result<std::unique_ptr<FileLock>> MemEnv::LockFile(const std::string& path) {
  std::lock_guard lock(mu_);
  if (locks_.count(path)) return FailedPrecondition(path + ": locked by another process");
  locks_[path] = true;
  return std::unique_ptr<FileLock>(new MemFileLock(&mu_, &locks_, path));
}

void MemEnv::SimulateCrash(bool torn, uint64_t seed) {
  std::lock_guard lock(mu_);
  std::mt19937_64 rng(seed);
  for (auto& [path, f] : files_) {
    std::lock_guard flock(f->mu);
    size_t keep = f->synced;
    if (torn && f->data.size() > f->synced)
      keep += std::uniform_int_distribution<size_t>(0, f->data.size() - f->synced)(rng);
    f->data.resize(keep);
    f->synced = keep;
  }
}

Result<std::string> MemEnv::Contents(const std::string& path) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return NotFound(path + ": no such file");
  std::lock_guard flock(it->second->mu);
  return it->second->data;
}

Status MemEnv::SetContents(const std::string& path, std::string data) {
  std::lock_guard lock(mu_);
  auto& f = files_[path];
  if (!f) f = std::make_shared<FileState>();
  std::lock_guard flock(f->mu);
  f->data = std::move(data);
  f->synced = f->data.size();
  return Status::Ok();
}

}  // namespace cairn::io
