#include "api/auth.h"

#include <fmt/format.h>

#include <cctype>

#include "api/services.h"

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

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kWrite: return "write";
    case Role::kAnalyst: return "analyst";
    case Role::kAgent: return "agent";
    case Role::kAdmin: return "admin";
    case Role::kNone: break;
  }
  return "none";
}

bool ParseRole(std::string_view text, Role* out) {
  if (text == "write") *out = Role::kWrite;
  else if (text == "analyst") *out = Role::kAnalyst;
  else if (text == "agent") *out = Role::kAgent;
  else if (text == "admin") *out = Role::kAdmin;
  else return false;
  return true;
}

Role RequiredRole(Access access) {
  switch (access) {
    case Access::kAnalyst: return Role::kAnalyst;
    case Access::kAgent: return Role::kAgent;
    case Access::kAdmin: return Role::kAdmin;
    case Access::kPublic:
    case Access::kIngest: break;
  }
  return Role::kNone;
}

bool Allows(Access access, Role role) {
  const Role need = RequiredRole(access);
  if (need == Role::kNone) return true;
  // write keys are outside the analyst < agent < admin order: they only ingest.
  if (role == Role::kWrite || role == Role::kNone) return false;
  return static_cast<uint8_t>(role) >= static_cast<uint8_t>(need);
}

std::optional<std::string_view> BearerKey(std::string_view authorization) {
  std::string_view key;
  if (!TakeScheme(authorization, "bearer", &key) || key.empty()) return std::nullopt;
  return key;
}

Result<Principal> AuthenticateBearer(std::string_view authorization, const Services& services) {
  if (Trim(authorization).empty()) return Unauthenticated("missing Authorization: Bearer <key>");
  std::optional<std::string_view> key = BearerKey(authorization);
  if (!key) return Unauthenticated("expected Authorization: Bearer <key>");
  if (services.access != nullptr) {
    if (auto p = services.access->Authenticate(*key)) return *std::move(p);
    return Unauthenticated("unknown, revoked or expired key");
  }
  // Services without an AccessService (unit tests): the two yes/no checks.
  Principal p;
  if (services.is_admin_key && services.is_admin_key(*key)) {
    p.role = Role::kAdmin;
    p.key_name = "admin";
    return p;
  }
  if (services.is_write_key && services.is_write_key(*key)) {
    p.role = Role::kWrite;
    p.key_name = "write";
    return p;
  }
  return Unauthenticated("unknown, revoked or expired key");
}

Status CheckAdminBearer(std::string_view authorization, const Services& services) {
  ASSIGN_OR_RETURN(Principal p, AuthenticateBearer(authorization, services));
  if (p.role == Role::kAdmin) return Status::Ok();
  if (p.role == Role::kWrite) return PermissionDenied("a write key may only ingest; this endpoint needs an admin key");
  return PermissionDenied(fmt::format("this endpoint needs the admin role; the key has role {}", RoleName(p.role)));
}

}  // namespace cairn::api
