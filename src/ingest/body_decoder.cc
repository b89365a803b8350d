#include "ingest/body_decoder.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace cairn::ingest {
namespace {

bool IsGzipMagic(std::string_view s) {
  return s.size() >= 2 && static_cast<unsigned char>(s[0]) == 0x1f && static_cast<unsigned char>(s[1]) == 0x8b;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status TooLarge(size_t max) {
  return ResourceExhausted(fmt::format("decoded request body exceeds the {}-byte limit", max));
}

// Owns a z_stream so every exit path releases zlib's state.
class Inflater {
 public:
  Inflater() = default;
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  ~Inflater() {
    if (initialized_) inflateEnd(&zs_);
  }
  bool Init() {
    // 16 + MAX_WBITS: gzip wrapper only (zlib or raw deflate are not gzip).
    initialized_ = inflateInit2(&zs_, 16 + MAX_WBITS) == Z_OK;
    return initialized_;
  }
  z_stream* zs() { return &zs_; }

 private:
  z_stream zs_{};
  bool initialized_ = false;
};

Result<std::string> Gunzip(std::string_view in, size_t max) {
  Inflater inflater;
  if (!inflater.Init()) return Internal("zlib inflateInit2 failed");
  z_stream* zs = inflater.zs();
  zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  // zlib counts in uInt; bodies are far below 4 GiB (the API caps the raw body first).
  if (in.size() > UINT32_MAX) return ResourceExhausted("compressed request body over 4 GiB");
  zs->avail_in = static_cast<uInt>(in.size());

  // One byte more than the limit tells "exactly at the limit" from "over it".
  const size_t cap = max + 1;
  std::string out;
  size_t produced = 0;
  out.resize(std::min(cap, std::max<size_t>(in.size() * 4, 64 * 1024)));
  for (;;) {
    if (produced == out.size()) {
      if (out.size() == cap) return TooLarge(max);
      out.resize(std::min(cap, out.size() * 2));
    }
    size_t room = std::min<size_t>(out.size() - produced, UINT32_MAX);
    zs->next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs->avail_out = static_cast<uInt>(room);
    int rc = inflate(zs, Z_NO_FLUSH);
    produced += room - zs->avail_out;
    if (produced > max) return TooLarge(max);
    if (rc == Z_STREAM_END) {
      if (zs->avail_in == 0) break;
      // Another gzip member follows, or trailing garbage.
      std::string_view rest(reinterpret_cast<const char*>(zs->next_in), zs->avail_in);
      if (!IsGzipMagic(rest)) {
        return InvalidArgument(fmt::format("gzip body has {} unexpected bytes after the compressed data",
                                           rest.size()));
      }
      if (inflateReset(zs) != Z_OK) return Internal("zlib inflateReset failed");
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR) {
      if (zs->avail_in == 0) {
        return InvalidArgument(fmt::format("gzip body is truncated (ends after {} compressed bytes)", in.size()));
      }
      continue;  // no room for output: the loop grows `out` or reports the limit
    }
    const char* why = zs->msg != nullptr ? zs->msg : "corrupt data";
    return InvalidArgument(fmt::format("gzip body is corrupt at compressed byte {}: {}",
                                       in.size() - zs->avail_in, why));
  }
  out.resize(produced);
  return out;
}

}  // namespace

Result<std::string> DecodeBody(std::string body, std::string_view content_encoding, size_t max_decoded_bytes) {
  std::string_view enc = Trim(content_encoding);
  bool gzip = false;
  if (EqualsIgnoreCase(enc, "gzip") || EqualsIgnoreCase(enc, "x-gzip")) {
    gzip = true;
  } else if (!enc.empty() && !EqualsIgnoreCase(enc, "identity")) {
    return InvalidArgument(fmt::format("unsupported Content-Encoding \"{}\" (supported: gzip, identity)",
                                       enc.substr(0, 64)));
  }
  if (IsGzipMagic(body)) return Gunzip(body, max_decoded_bytes);
  if (gzip) {
    return InvalidArgument("Content-Encoding is gzip but the body does not start with the gzip magic bytes 1f 8b");
  }
  if (body.size() > max_decoded_bytes) return TooLarge(max_decoded_bytes);
  return body;
}

}  // namespace cairn::ingest
