#include "api/auth.h"

#include <cctype>

namespace cairn::api {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits "Scheme credentials"; false when the scheme is not `scheme` (case-insensitive).
bool TakeScheme(std::string_view header, std::string_view scheme, std::string_view* credentials) {
  header = Trim(header);
  if (header.size() < scheme.size()) return false;
  for (size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) return false;
  }
  std::string_view rest = header.substr(scheme.size());
  if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t') return false;  // "Basicx"
  *credentials = Trim(rest);
  return true;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

}  // namespace

Result<std::string> Base64Decode(std::string_view in) {
  in = Trim(in);
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return InvalidArgument("base64: truncated input");
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = Base64Value(c);
    if (v < 0) return InvalidArgument("base64: invalid character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

Result<std::string> BasicWriteKey(std::string_view authorization) {
  std::string_view credentials;
  if (!TakeScheme(authorization, "basic", &credentials)) return std::string();
  auto decoded = Base64Decode(credentials);
  if (!decoded.ok()) return Unauthenticated("malformed Basic Authorization header: not base64");
  std::string key = std::move(decoded).value();
  size_t colon = key.find(':');
  if (colon != std::string::npos) key.resize(colon);
  return key;
}

Status CheckAdminBearer(std::string_view authorization, const Services& services) {
  std::string_view key;
  if (authorization.empty()) return Unauthenticated("missing Authorization: Bearer <admin key>");
  if (!TakeScheme(authorization, "bearer", &key) || key.empty()) {
    return Unauthenticated("expected Authorization: Bearer <admin key>");
  }
  if (services.is_admin_key && services.is_admin_key(key)) return Status::Ok();
  if (services.is_write_key && services.is_write_key(key)) {
    return PermissionDenied("a write key may only ingest; this endpoint needs an admin key");
  }
  return Unauthenticated("unknown key");
}

}  // namespace cairn::api
