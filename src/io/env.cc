#include "io/env.h"

namespace cairn::io {

Status WriteStringToFile(Env* env, std::string_view data, const std::string& path, bool sync) {
  ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  RETURN_IF_ERROR(file->Append(data));
  if (sync) RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

Status WriteFileAtomic(Env* env, std::string_view data, const std::string& path) {
  std::string tmp = path + ".tmp";
  RETURN_IF_ERROR(WriteStringToFile(env, data, tmp, /*sync=*/true));
  RETURN_IF_ERROR(env->RenameFile(tmp, path));
  return env->SyncDir(DirName(path));
}

Result<std::string> ReadFileToString(Env* env, const std::string& path) {
  ASSIGN_OR_RETURN(auto file, env->NewSequentialFile(path));
  std::string out;
  std::string scratch(64 * 1024, '\0');
  while (true) {
    std::string_view chunk;
    RETURN_IF_ERROR(file->Read(scratch.size(), &chunk, scratch.data()));
    if (chunk.empty()) break;
    out.append(chunk);
  }
  return out;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out += '/';
  out += name;
  return out;
}

std::string DirName(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace cairn::io
