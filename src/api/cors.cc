#include "api/cors.h"

#include <string>

namespace cairn::api {
namespace {

bool PathIsOrUnder(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

// Header names are RFC 9110 tokens; anything else in Access-Control-Request-Headers is not echoed
// (it would only make a malformed answer).
bool IsTokenList(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~, \t").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool IsCorsPath(std::string_view path) {
  return PathIsOrUnder(path, "/v1") || PathIsOrUnder(path, "/batch") || PathIsOrUnder(path, "/e") ||
         PathIsOrUnder(path, "/capture");
}

void AddCorsOrigin(const ApiRequest& request, ApiResponse* response) {
  std::string_view origin = request.Header("origin");
  if (origin.empty()) {
    response->SetHeader("Access-Control-Allow-Origin", "*");
  } else {
    response->SetHeader("Access-Control-Allow-Origin", std::string(origin));
    response->SetHeader("Vary", "Origin");
  }
}

ApiResponse PreflightResponse(const ApiRequest& request) {
  ApiResponse response;
  response.status = 204;
  response.content_type.clear();
  AddCorsOrigin(request, &response);
  response.SetHeader("Access-Control-Allow-Methods", std::string(kCorsAllowMethods));
  std::string allow(kCorsAllowHeaders);
  std::string_view requested = request.Header("access-control-request-headers");
  if (!requested.empty() && IsTokenList(requested)) {
    allow += ", ";
    allow += requested;
  }
  response.SetHeader("Access-Control-Allow-Headers", std::move(allow));
  response.SetHeader("Access-Control-Max-Age", std::to_string(kCorsMaxAgeSeconds));
  return response;
}

}  // namespace cairn::api
