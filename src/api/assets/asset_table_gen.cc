// asset_table_gen DIR OUT.cc: the build step that compiles the web dashboard's built files
// (web/dist, or a directory holding only the placeholder page) into the binary.
//
// Every regular file under DIR becomes one row of `cairn::api::kStaticAssets` (static_assets.h):
// its URL path ("/" + path relative to DIR), content type (from the extension), an entity tag
// (FNV-1a 64 of the bytes, 16 hex digits), the bytes, and a gzip copy when that saves at least 10% (text
// types only: images and fonts are compressed already). Files are listed sorted by path, so the
// output is byte-identical for identical input (ccache hits, reproducible builds).
//
// A build tool, not part of the server: it links zlib only and exits non-zero with a message on
// any I/O error (a missing DIR is an error: the build must not silently embed nothing).
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Asset {
  std::string path;
  std::string type;
  std::string bytes;
  std::string gzip;  // empty: not worth it
};

std::string ContentType(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

bool Compressible(const std::string& type) {
  return type.starts_with("text/") || type == "application/json" || type == "image/svg+xml";
}

// gzip (RFC 1952) at level 9; "" on failure.
std::string Gzip(const std::string& in) {
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return "";
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : "";
}

std::string Etag(const std::string& bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// A C++ string literal holding `bytes` exactly (hex escapes for everything but plain ASCII
// letters/digits, split into lines; a literal's hex escape would swallow a following hex digit,
// so a new literal starts after each escape that precedes one).
void WriteLiteral(std::ostream& out, const std::string& bytes) {
  out << "\"";
  size_t col = 0;
  bool last_hex = false;
  for (unsigned char c : bytes) {
    if (col >= 120) {
      out << "\"\n    \"";
      col = 0;
      last_hex = false;
    }
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
                       c == '.' || c == ',' || c == '(' || c == ')' || c == '=' || c == '+' || c == '-' ||
                       c == '_' || c == ';' || c == ':' || c == '{' || c == '}' || c == '[' || c == ']' || c == '<' ||
                       c == '>' || c == '/' || c == '*' || c == '!' || c == '&' || c == '|' || c == '#' || c == '%';
    if (plain) {
      if (last_hex && std::isxdigit(c)) {
        out << "\"\"";
        col += 2;
      }
      out << c;
      ++col;
      last_hex = false;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out << buf;
      col += 4;
      last_hex = true;
    }
  }
  out << "\"";
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: asset_table_gen DIR OUT.cc\n");
    return 2;
  }
  const fs::path dir = argv[1];
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    std::fprintf(stderr, "asset_table_gen: %s is not a directory\n", argv[1]);
    return 1;
  }
  std::vector<Asset> assets;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    Asset a;
    a.path = "/" + fs::relative(entry.path(), dir).generic_string();
    std::ifstream in(entry.path(), std::ios::binary);
    a.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "asset_table_gen: cannot read %s\n", entry.path().c_str());
      return 1;
    }
    a.type = ContentType(a.path);
    if (Compressible(a.type) && a.bytes.size() > 256) {
      std::string gz = Gzip(a.bytes);
      if (!gz.empty() && gz.size() * 10 <= a.bytes.size() * 9) a.gzip = std::move(gz);
    }
    assets.push_back(std::move(a));
  }
  std::sort(assets.begin(), assets.end(), [](const Asset& x, const Asset& y) { return x.path < y.path; });
  if (std::none_of(assets.begin(), assets.end(), [](const Asset& a) { return a.path == "/index.html"; })) {
    std::fprintf(stderr, "asset_table_gen: %s has no index.html\n", argv[1]);
    return 1;
  }

  std::ostringstream out;
  out << "// Generated by asset_table_gen from " << Escape(dir.string()) << ". Do not edit.\n"
      << "#include \"api/static_assets.h\"\n\nnamespace cairn::api {\nnamespace {\n";
  for (size_t i = 0; i < assets.size(); ++i) {
    out << "constexpr char kBytes" << i << "[] = ";
    WriteLiteral(out, assets[i].bytes);
    out << ";\n";
    if (!assets[i].gzip.empty()) {
      out << "constexpr char kGzip" << i << "[] = ";
      WriteLiteral(out, assets[i].gzip);
      out << ";\n";
    }
  }
  out << "constexpr StaticAsset kTable[] = {\n";
  for (size_t i = 0; i < assets.size(); ++i) {
    const Asset& a = assets[i];
    out << "    {\"" << Escape(a.path) << "\", \"" << a.type << "\", " << "\"" << Etag(a.bytes) << "\", "
        << "std::string_view(kBytes" << i << ", " << a.bytes.size() << "), ";
    if (a.gzip.empty()) out << "std::string_view()";
    else out << "std::string_view(kGzip" << i << ", " << a.gzip.size() << ")";
    out << "},\n";
  }
  out << "};\n}  // namespace\n\n"
      << "const std::span<const StaticAsset> kStaticAssets(kTable, " << assets.size() << ");\n\n"
      << "}  // namespace cairn::api\n";

  std::ofstream f(argv[2], std::ios::binary | std::ios::trunc);
  f << out.str();
  f.close();
  if (!f) {
    std::fprintf(stderr, "asset_table_gen: cannot write %s\n", argv[2]);
    return 1;
  }
  return 0;
}
