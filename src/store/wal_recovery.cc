#include "store/wal_recovery.h"

#include <optional>

#include "base/logging.h"

namespace cairn::store {
namespace {

Result<WalRecoveryReport> ReadWalDir(io::Env* env, const std::string& dir, bool repair, const WalApplyFn& apply) {
  WalRecoveryReport report;
  ASSIGN_OR_RETURN(std::vector<uint64_t> numbers, ListWalFiles(env, dir));
  if (numbers.empty()) return report;
  for (size_t i = 1; i < numbers.size(); ++i) {
    if (numbers[i] != numbers[0] + i)
      return Corruption("wal " + dir + ": file " + wal::FileName(numbers[0] + i) + " is missing (files " +
                        wal::FileName(numbers.front()) + " to " + wal::FileName(numbers.back()) + " present)");
  }
  auto path_of = [&](uint64_t n) { return io::JoinPath(dir, wal::FileName(n)); };

  // A newest file whose header is torn (crash while it was being created) holds no record and is
  // dropped; its predecessor then becomes the newest file.
  std::optional<WalFileReport> dropped;
  const uint64_t newest = numbers.back();
  if (auto h = ReadWalFileHeader(env, path_of(newest)); !h.ok()) {
    if (!h.status().Is(Code::kCorruption)) return h.status();
    ASSIGN_OR_RETURN(WalFileReport rep, ScanWalFile(env, path_of(newest), std::nullopt, newest, nullptr));
    if (rep.valid_end != 0 || (rep.end != WalFileEnd::kTornTail && rep.end != WalFileEnd::kZeroTail))
      return rep.corrupt() ? rep.ToStatus() : h.status();
    dropped = std::move(rep);
    numbers.pop_back();
  }

  // Each sealed file's valid size comes from its successor's header.
  std::vector<std::optional<uint64_t>> sealed(numbers.size());
  for (size_t i = 1; i < numbers.size(); ++i) {
    ASSIGN_OR_RETURN(WalFileHeader h, ReadWalFileHeader(env, path_of(numbers[i])));
    if (h.prev_file_size == 0)
      return Corruption("wal " + path_of(numbers[i]) + " offset 0: header records no predecessor, but " +
                        wal::FileName(numbers[i - 1]) + " exists");
    sealed[i - 1] = h.prev_file_size;
  }

  for (size_t i = 0; i < numbers.size(); ++i) {
    const uint64_t n = numbers[i];
    const std::string path = path_of(n);
    WalRecordVisitor visit;
    if (apply) {
      visit = [&](std::string_view payload, uint64_t offset) {
        Status s = apply(payload, n);
        return s.ok() ? s : s.WithContext("wal " + path + " offset " + std::to_string(offset));
      };
    }
    ASSIGN_OR_RETURN(WalFileReport rep, ScanWalFile(env, path, sealed[i], n, visit));
    if (rep.corrupt()) return rep.ToStatus();
    report.files++;
    report.records += rep.records;
    report.payload_bytes += rep.payload_bytes;
    report.bytes_truncated += rep.tail_bytes();
    report.file_reports.push_back(std::move(rep));
  }
  if (dropped) report.bytes_truncated += dropped->file_size;

  // Everything checked: now repair. A cut need not be synced: if a crash undoes it, the bytes
  // are classified the same way again (and past a successor's prev_file_size they are abandoned).
  if (repair) {
    for (const WalFileReport& rep : report.file_reports) {
      // Recovery always starts a new file, so no file here is appended to again. Cutting at
      // valid_end also frees the blocks fallocate reserved past the end (WalWriter preallocates
      // 64 MiB with FALLOC_FL_KEEP_SIZE): otherwise every restart would keep one more such
      // reservation until the file is deleted.
      RETURN_IF_ERROR(env->TruncateFile(rep.path, rep.valid_end));
      if (rep.tail_bytes() == 0) continue;
      if (rep.end == WalFileEnd::kZeroTail) {
        LOG_INFO("wal {}: cut {} zero bytes after the last record at offset {}", rep.path, rep.tail_bytes(),
                 rep.valid_end);
      } else {
        LOG_WARN("wal {}: {} at offset {} ({}): dropped {} bytes", rep.path, WalFileEndName(rep.end), rep.valid_end,
                 rep.damage, rep.tail_bytes());
      }
    }
    if (dropped) {
      RETURN_IF_ERROR(env->RemoveFile(dropped->path));
      RETURN_IF_ERROR(env->SyncDir(dir));
      LOG_WARN("wal {}: torn file header ({}): removed the file, dropped {} bytes", dropped->path, dropped->damage,
               dropped->file_size);
    }
  }

  if (dropped) {
    // Reuse the dropped number so the numbers stay contiguous.
    report.next_file_number = newest;
  } else {
    report.next_file_number = newest + 1;
  }
  report.last_file_size = report.file_reports.empty() ? 0 : report.file_reports.back().valid_end;
  return report;
}

}  // namespace

Result<WalRecoveryReport> RecoverWal(io::Env* env, const std::string& dir, const WalApplyFn& apply) {
  // Files a crash left half-deleted (WalCommitter::DeleteFilesBefore): not part of the log.
  if (env->FileExists(dir)) {
    ASSIGN_OR_RETURN(auto names, env->GetChildren(dir));
    for (const auto& name : names) {
      if (!name.ends_with(wal::kDeadSuffix)) continue;
      LOG_INFO("wal: removing {} (left by an interrupted deletion)", name);
      RETURN_IF_ERROR(env->SecureRemoveFile(io::JoinPath(dir, name)));
    }
  }
  return ReadWalDir(env, dir, /*repair=*/true, apply);
}

Result<WalRecoveryReport> VerifyWal(io::Env* env, const std::string& dir) {
  return ReadWalDir(env, dir, /*repair=*/false, nullptr);
}

}  // namespace cairn::store
