// wal_dump FILE_OR_DIR: prints each WAL record (file, offset, length, seq range, interactions,
// identity ops) and how each file ends (docs/format/wal.md). For a directory it also runs the
// same check as `cairn verify`. Exit status: 0 clean (tails included), 1 corruption or a payload
// that is not a valid Batch, 2 usage or I/O error.

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "io/env.h"
#include "store/interaction.h"
#include "store/wal_format.h"
#include "store/wal_reader.h"
#include "store/wal_recovery.h"

namespace cairn::store {
namespace {

std::string BaseName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Dumps one file; returns false if it is corrupt or holds an undecodable payload.
bool DumpFile(io::Env* env, const std::string& path, std::optional<uint64_t> sealed_size, bool* io_error) {
  const std::string name = BaseName(path);
  bool ok = true;
  auto visit = [&](std::string_view payload, uint64_t offset) {
    auto batch = DecodeBatch(payload);
    if (!batch.ok()) {
      fmt::print("{} offset={} length={} UNDECODABLE: {}\n", name, offset, payload.size(), batch.status().ToString());
      ok = false;
      return Status::Ok();
    }
    const auto n = batch->interactions.size();
    std::string seq = n == 0 ? "-" : fmt::format("{}..{}", batch->first_seq, batch->first_seq + n - 1);
    fmt::print("{} offset={} length={} seq={} interactions={} identity_ops={}\n", name, offset, payload.size(), seq, n,
               batch->identity_ops.size());
    return Status::Ok();
  };
  auto rep = ScanWalFile(env, path, sealed_size, wal::ParseFileName(name), visit);
  if (!rep.ok()) {
    fmt::print(stderr, "wal_dump: {}: {}\n", path, rep.status().ToString());
    *io_error = true;
    return false;
  }
  std::string header = rep->header_valid ? fmt::format("file_number={} prev_file_size={}", rep->header.file_number,
                                                       rep->header.prev_file_size)
                                         : std::string("header damaged");
  fmt::print("{}: {}, size={} records={} payload_bytes={} end={}", name, header, rep->file_size, rep->records,
             rep->payload_bytes, WalFileEndName(rep->end));
  if (rep->end != WalFileEnd::kClean) fmt::print(" at offset {}: {}", rep->damage_offset, rep->damage);
  fmt::print("\n");
  return ok && !rep->corrupt();
}

int Main(int argc, char** argv) {
  if (argc != 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    fmt::print(stderr, "usage: wal_dump FILE_OR_DIR\n");
    return 2;
  }
  io::Env* env = io::Env::Posix();
  const std::string target = argv[1];
  bool io_error = false;
  if (!env->GetChildren(target).ok()) {  // not a directory: dump one file as a newest file
    bool ok = DumpFile(env, target, std::nullopt, &io_error);
    return io_error ? 2 : ok ? 0 : 1;
  }
  auto listed = ListWalFiles(env, target);
  if (!listed.ok()) {
    fmt::print(stderr, "wal_dump: {}: {}\n", target, listed.status().ToString());
    return 2;
  }
  bool ok = true;
  const std::vector<uint64_t>& numbers = *listed;
  for (size_t i = 0; i < numbers.size(); ++i) {
    std::optional<uint64_t> sealed;
    if (i + 1 < numbers.size() && numbers[i + 1] == numbers[i] + 1) {
      auto next = ReadWalFileHeader(env, io::JoinPath(target, wal::FileName(numbers[i + 1])));
      if (next.ok()) sealed = next->prev_file_size;
    }
    ok &= DumpFile(env, io::JoinPath(target, wal::FileName(numbers[i])), sealed, &io_error);
  }
  auto verified = VerifyWal(env, target);
  if (verified.ok()) {
    fmt::print("verify: OK: {} files, {} records, {} payload bytes, {} tail bytes a recovery would cut\n",
               verified->files, verified->records, verified->payload_bytes, verified->bytes_truncated);
  } else {
    fmt::print("verify: {}\n", verified.status().ToString());
    if (verified.status().Is(Code::kCorruption)) ok = false;
    else io_error = true;
  }
  return io_error ? 2 : ok ? 0 : 1;
}

}  // namespace
}  // namespace cairn::store

int main(int argc, char** argv) { return cairn::store::Main(argc, argv); }
