#include "store/manifest.h"

#include <fmt/format.h>

#include <charconv>
#include <sstream>

#include "base/crc32c.h"

namespace cairn::store {

std::string SegmentFileName(uint64_t number) { return fmt::format("{:010d}.seg", number); }

std::string Manifest::Encode() const {
  std::string body = fmt::format("cairn-manifest 1\nnext_file {}\nflushed_seq {}\n", next_file, flushed_seq);
  for (const auto& s : segments)
    body += fmt::format("segment {} rows={} min_seq={} max_seq={}\n", s.file_number, s.rows, s.min_seq, s.max_seq);
  body += fmt::format("crc32c {:08x}\n", crc32c::Value(body));
  return body;
}

namespace {
bool ParseU64(std::string_view s, uint64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}
bool ParseField(std::string_view token, std::string_view name, uint64_t* out) {
  if (token.substr(0, name.size()) != name || token.size() <= name.size() || token[name.size()] != '=') return false;
  return ParseU64(token.substr(name.size() + 1), out);
}
}  // namespace

Result<Manifest> Manifest::Decode(std::string_view text) {
  auto crc_pos = text.rfind("crc32c ");
  if (crc_pos == std::string_view::npos || (crc_pos > 0 && text[crc_pos - 1] != '\n'))
    return Corruption("MANIFEST: no crc32c line");
  std::string_view body = text.substr(0, crc_pos);
  std::string_view crc_line = text.substr(crc_pos + 7);
  if (!crc_line.empty() && crc_line.back() == '\n') crc_line.remove_suffix(1);
  uint32_t want = 0;
  auto [p, ec] = std::from_chars(crc_line.data(), crc_line.data() + crc_line.size(), want, 16);
  if (ec != std::errc() || p != crc_line.data() + crc_line.size()) return Corruption("MANIFEST: bad crc32c line");
  if (crc32c::Value(body) != want) return Corruption("MANIFEST: checksum mismatch");

  Manifest m;
  std::istringstream in{std::string(body)};
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::istringstream ls(line);
    std::string key;
    ls >> key;
    auto bad = [&] { return Corruption(fmt::format("MANIFEST line {}: cannot parse '{}'", n, line)); };
    if (n == 1) {
      if (line != "cairn-manifest 1") return Corruption("MANIFEST: unknown magic or version: " + line);
    } else if (key == "next_file") {
      std::string v;
      if (!(ls >> v) || !ParseU64(v, &m.next_file)) return bad();
    } else if (key == "flushed_seq") {
      std::string v;
      if (!(ls >> v) || !ParseU64(v, &m.flushed_seq)) return bad();
    } else if (key == "segment") {
      SegmentMeta s;
      std::string f, rows, lo, hi;
      if (!(ls >> f >> rows >> lo >> hi) || !ParseU64(f, &s.file_number) || !ParseField(rows, "rows", &s.rows) ||
          !ParseField(lo, "min_seq", &s.min_seq) || !ParseField(hi, "max_seq", &s.max_seq))
        return bad();
      if (!m.segments.empty() && m.segments.back().file_number >= s.file_number) return bad();
      m.segments.push_back(s);
    } else {
      return bad();
    }
  }
  if (n == 0) return Corruption("MANIFEST: empty");
  return m;
}

Result<Manifest> Manifest::Load(io::Env* env, const std::string& path) {
  if (!env->FileExists(path)) return NotFound(path + ": no manifest");
  ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(env, path));
  auto m = Decode(text);
  if (!m.ok()) return m.status().WithContext(path);
  return m;
}

Status Manifest::Save(io::Env* env, const std::string& path) const {
  return io::WriteFileAtomic(env, Encode(), path);
}

}  // namespace cairn::store
