#include "app/backup.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <thread>

#include "io/env.h"
#include "store/manifest.h"
#include "store/store.h"
#include "store/wal_format.h"

namespace cairn::app {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxStoreAttempts = 8;

bool IsSqliteSidecar(const std::string& name) {
  return name.ends_with(".db-wal") || name.ends_with(".db-shm") || name.ends_with(".db-journal");
}

// Copies src → dst (created) and fsyncs it. NotFound when src vanished (the caller decides).
Status CopyFile(io::Env* env, const std::string& src, const std::string& dst, BackupReport* report) {
  ASSIGN_OR_RETURN(auto in, env->NewSequentialFile(src));
  ASSIGN_OR_RETURN(auto out, env->NewWritableFile(dst));
  std::string scratch(1 << 20, '\0');
  while (true) {
    std::string_view chunk;
    RETURN_IF_ERROR(in->Read(scratch.size(), &chunk, scratch.data()).WithContext(src));
    if (chunk.empty()) break;
    RETURN_IF_ERROR(out->Append(chunk).WithContext(dst));
    report->bytes += chunk.size();
  }
  RETURN_IF_ERROR(out->Sync().WithContext(dst));
  RETURN_IF_ERROR(out->Close().WithContext(dst));
  ++report->files;
  return Status::Ok();
}

// SQLite's online backup API: a consistent snapshot of `src` even while another connection (the
// running server) writes to it; retried while the source is busy.
Status BackupSqlite(io::Env* env, const std::string& src, const std::string& dst, BackupReport* report) {
  sqlite3* from = nullptr;
  sqlite3* to = nullptr;
  auto close = [&] {
    if (from) sqlite3_close_v2(from);
    if (to) sqlite3_close_v2(to);
  };
  auto fail = [&](sqlite3* db, std::string_view what) {
    std::string msg = fmt::format("{}: {}: {}", src, what, db ? sqlite3_errmsg(db) : "out of memory");
    close();
    return IOError(msg);
  };
  // Read-write (never written) so that a WAL-mode database opens without a writable-shm dance.
  if (sqlite3_open_v2(src.c_str(), &from, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) return fail(from, "open");
  sqlite3_busy_timeout(from, 5000);
  if (sqlite3_open_v2(dst.c_str(), &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
    return fail(to, "open backup copy");
  sqlite3_backup* b = sqlite3_backup_init(to, "main", from, "main");
  if (b == nullptr) return fail(to, "backup");
  int rc;
  do {
    rc = sqlite3_backup_step(b, -1);  // all pages in one step: one consistent read transaction
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  const int pages = sqlite3_backup_pagecount(b);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return fail(to, "backup step");
  // The copy inherits WAL mode from the header; fold everything into the main file.
  sqlite3_wal_checkpoint_v2(to, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  close();
  {
    ASSIGN_OR_RETURN(auto f, env->NewAppendableFile(dst));
    RETURN_IF_ERROR(f->Sync().WithContext(dst));
    RETURN_IF_ERROR(f->Close());
  }
  report->bytes += static_cast<uint64_t>(pages) * 4096;  // approximate: page size is the default
  ++report->files;
  ++report->sqlite_dbs;
  return Status::Ok();
}

// Everything but the store: SQLite files through the backup API, the rest copied. Files that
// vanish while we walk (atomic replacements) are skipped.
Status CopyTree(io::Env* env, const fs::path& src, const fs::path& dst, BackupReport* report) {
  std::error_code ec;
  fs::directory_iterator it(src, ec);
  if (ec) return IOError(fmt::format("{}: {}", src.string(), ec.message()));
  RETURN_IF_ERROR(env->CreateDirIfMissing(dst.string()));
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name == "LOCK" || IsSqliteSidecar(name) || name.ends_with(".tmp")) continue;
    std::error_code type_ec;
    if (entry.is_directory(type_ec)) {
      RETURN_IF_ERROR(CopyTree(env, entry.path(), dst / name, report));
      continue;
    }
    if (!entry.is_regular_file(type_ec)) continue;
    Status s = name.ends_with(".db") ? BackupSqlite(env, entry.path().string(), (dst / name).string(), report)
                                     : CopyFile(env, entry.path().string(), (dst / name).string(), report);
    if (s.Is(Code::kNotFound)) continue;
    RETURN_IF_ERROR(s);
  }
  return env->SyncDir(dst.string());
}

// The store: see backup.h, step 2. WAL files first, then MANIFEST and its segments: a WAL file
// deleted before we copy it was flushed into segments listed by every later MANIFEST, and a
// MANIFEST read after the WAL copy covers everything flushed by then. A segment listed by two
// MANIFESTs read before and after its copy was never retired (retirement is for good), so it was
// not zeroed mid-copy; the loop ends when the last MANIFEST read lists only such segments.
Status CopyStore(io::Env* env, const std::string& src, const std::string& dst, BackupReport* report) {
  const std::string src_seg = io::JoinPath(src, "seg"), dst_seg = io::JoinPath(dst, "seg");
  const std::string src_wal = io::JoinPath(src, "wal"), dst_wal = io::JoinPath(dst, "wal");
  RETURN_IF_ERROR(env->CreateDirIfMissing(dst));
  RETURN_IF_ERROR(env->CreateDirIfMissing(dst_seg));
  RETURN_IF_ERROR(env->CreateDirIfMissing(dst_wal));
  // 1. Every WAL file, oldest first; the active one as far as it is written (torn tail: clean end).
  ASSIGN_OR_RETURN(auto names, env->GetChildren(src_wal));
  std::sort(names.begin(), names.end());
  std::set<std::string> wal_copied;
  for (const auto& name : names) {
    if (!store::wal::ParseFileName(name)) continue;
    Status s = CopyFile(env, io::JoinPath(src_wal, name), io::JoinPath(dst_wal, name), report);
    if (s.Is(Code::kNotFound)) continue;  // obsolete and deleted meanwhile
    RETURN_IF_ERROR(s);
    wal_copied.insert(name);
  }
  // WAL files deleted while we copied them were obsolete (possibly zeroed mid-copy): drop them.
  ASSIGN_OR_RETURN(auto now, env->GetChildren(src_wal));
  std::set<std::string> live(now.begin(), now.end());
  for (const auto& name : wal_copied) {
    if (live.count(name)) {
      ++report->wal_files;
    } else {
      RETURN_IF_ERROR(env->RemoveFile(io::JoinPath(dst_wal, name)));
    }
  }
  // 2. MANIFEST and its segments, until a MANIFEST lists only segments copied while listed.
  std::set<std::string> copied;  // copied, and listed by the MANIFEST read before their copy
  for (int attempt = 1; attempt <= kMaxStoreAttempts * 4; ++attempt) {
    report->store_attempts = attempt;
    ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(env, io::JoinPath(src, "MANIFEST")));
    ASSIGN_OR_RETURN(auto manifest, store::Manifest::Decode(text));
    std::set<std::string> listed;
    bool all_copied = true;
    for (const auto& m : manifest.segments) listed.insert(store::SegmentFileName(m.file_number));
    // Copies not listed any more may have been zeroed by their retirement: forget them.
    for (auto it = copied.begin(); it != copied.end();) {
      if (listed.count(*it)) {
        ++it;
      } else {
        RETURN_IF_ERROR(env->RemoveFile(io::JoinPath(dst_seg, *it)));
        it = copied.erase(it);
      }
    }
    std::vector<std::string> fresh;
    for (const auto& name : listed) {
      if (copied.count(name)) continue;
      all_copied = false;
      Status s = CopyFile(env, io::JoinPath(src_seg, name), io::JoinPath(dst_seg, name), report);
      if (s.Is(Code::kNotFound)) continue;  // compacted away since we read MANIFEST
      RETURN_IF_ERROR(s);
      fresh.push_back(name);
    }
    if (all_copied) {
      report->segments = copied.size();
      RETURN_IF_ERROR(io::WriteFileAtomic(env, text, io::JoinPath(dst, "MANIFEST")));
      RETURN_IF_ERROR(env->SyncDir(dst_seg));
      RETURN_IF_ERROR(env->SyncDir(dst_wal));
      return env->SyncDir(dst);
    }
    // The fresh copies count once the next MANIFEST still lists them (checked at the top).
    copied.insert(fresh.begin(), fresh.end());
  }
  return Unavailable(fmt::format("{}: the store kept changing during {} copy passes (flushes or compactions "
                                 "racing the backup); retry",
                                 src, kMaxStoreAttempts * 4));
}

}  // namespace

Result<BackupReport> BackupDataDir(const std::string& data_dir, const std::string& dest) {
  const auto start = std::chrono::steady_clock::now();
  io::Env* env = io::Env::Posix();
  BackupReport report;
  std::error_code ec;
  if (!fs::is_directory(data_dir, ec)) return InvalidArgument(fmt::format("--data {}: not a directory", data_dir));
  if (!fs::is_directory(fs::path(data_dir) / "store", ec))
    return InvalidArgument(fmt::format("--data {}: not a Cairn data directory (no store/)", data_dir));
  if (fs::exists(dest, ec)) return AlreadyExists(fmt::format("{}: already exists (a backup goes to a new directory)", dest));
  const std::string partial = dest + ".partial";
  fs::remove_all(partial, ec);
  RETURN_IF_ERROR(env->CreateDirIfMissing(partial));

  // 1. Everything but the store (derived state: never ahead of the store copied after it).
  {
    fs::directory_iterator it(data_dir, ec);
    if (ec) return IOError(fmt::format("{}: {}", data_dir, ec.message()));
    for (const auto& entry : it) {
      const std::string name = entry.path().filename().string();
      if (name == "store" || name == "LOCK" || IsSqliteSidecar(name) || name.ends_with(".tmp")) continue;
      std::error_code type_ec;
      const std::string to = io::JoinPath(partial, name);
      Status s;
      if (entry.is_directory(type_ec)) s = CopyTree(env, entry.path(), to, &report);
      else if (!entry.is_regular_file(type_ec)) continue;
      else if (name.ends_with(".db")) s = BackupSqlite(env, entry.path().string(), to, &report);
      else s = CopyFile(env, entry.path().string(), to, &report);
      if (s.Is(Code::kNotFound)) continue;
      RETURN_IF_ERROR(s);
    }
  }
  // 2. The store.
  RETURN_IF_ERROR(CopyStore(env, io::JoinPath(data_dir, "store"), io::JoinPath(partial, "store"), &report));
  // 3. Check it, publish it.
  auto verified = store::Store::Verify(env, io::JoinPath(partial, "store"));
  if (!verified.ok())
    return verified.status().WithContext(fmt::format("backup {}: the copied store does not verify (left in {})", dest, partial));
  RETURN_IF_ERROR(env->SyncDir(partial));
  RETURN_IF_ERROR(env->RenameFile(partial, dest));
  RETURN_IF_ERROR(env->SyncDir(io::DirName(fs::absolute(dest).string())));
  report.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return report;
}

void AddBackupCommand(CLI::App* cli) {
  struct Flags {
    std::string data, dest;
  };
  auto flags = std::make_shared<Flags>();
  auto* cmd = cli->add_subcommand("backup", "Consistent copy of a data directory, online or offline (docs/reliability.md)");
  cmd->add_option("--data", flags->data, "data directory (a server may be running on it)")->required();
  cmd->add_option("DEST", flags->dest, "new directory for the copy (must not exist)")->required();
  cmd->final_callback([flags] {
    auto r = BackupDataDir(flags->data, flags->dest);
    if (!r.ok()) {
      std::fprintf(stderr, "cairn backup: error: %s\n", r.status().ToString().c_str());
      throw CLI::RuntimeError(1);
    }
    std::printf("cairn backup: %s → %s: %llu files, %.1f MiB (%llu SQLite databases, %llu segments, %llu WAL files; "
                "%d store pass%s) in %.0f ms\n",
                flags->data.c_str(), flags->dest.c_str(), static_cast<unsigned long long>(r->files),
                static_cast<double>(r->bytes) / (1 << 20), static_cast<unsigned long long>(r->sqlite_dbs),
                static_cast<unsigned long long>(r->segments), static_cast<unsigned long long>(r->wal_files),
                r->store_attempts, r->store_attempts == 1 ? "" : "es", r->elapsed_ms);
    throw CLI::Success();
  });
}

}  // namespace cairn::app
