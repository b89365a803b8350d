#include "api/static_assets.h"

#include <algorithm>
#include <string>

#include "api/responses.h"

namespace cairn::api {
namespace {

// Everything the page loads comes from this origin. 'unsafe-inline' for styles only: ECharts
// positions its tooltips and the page sizes chart boxes through style attributes.
constexpr std::string_view kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether Accept-Encoding allows gzip: a "gzip" (or "*") coding without q=0.
bool AcceptsGzip(std::string_view header) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = Trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view coding = Trim(item.substr(0, semi));
    if (coding != "gzip" && coding != "x-gzip" && coding != "*") continue;
    if (semi != std::string_view::npos) {
      std::string_view params = Trim(item.substr(semi + 1));
      if (params.starts_with("q=") || params.starts_with("Q=")) {
        std::string_view q = params.substr(2);
        // q=0, q=0.0, q=0.00, q=0.000 refuse; anything else accepts.
        if (!q.empty() && q.find_first_not_of("0.") == std::string_view::npos) return false;
      }
    }
    return true;
  }
  return false;
}

// Whether If-None-Match lists `etag` (quoted, maybe weak-prefixed) or is "*".
bool Matches(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = Trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
  }
  return false;
}

ApiResponse Serve(const ApiRequest& request, const StaticAsset& asset) {
  const bool gzip = !asset.gzip.empty() && AcceptsGzip(request.Header("accept-encoding"));
  std::string etag = "\"" + std::string(asset.etag) + (gzip ? "-gz\"" : "\"");
  ApiResponse r;
  r.SetHeader("ETag", etag);
  r.SetHeader("Vary", "Accept-Encoding");
  r.SetHeader("Cache-Control", asset.path.starts_with("/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
  r.SetHeader("X-Content-Type-Options", "nosniff");
  if (asset.content_type.starts_with("text/html")) {
    r.SetHeader("Content-Security-Policy", std::string(kCsp));
    r.SetHeader("Referrer-Policy", "same-origin");
  }
  if (Matches(request.Header("if-none-match"), etag)) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.status = 200;
  r.content_type = std::string(asset.content_type);
  if (gzip) {
    r.SetHeader("Content-Encoding", "gzip");
    r.body.assign(asset.gzip);
  } else {
    r.body.assign(asset.bytes);
  }
  return r;
}

}  // namespace

const StaticAsset* FindStaticAsset(std::string_view path) {
  auto it = std::lower_bound(kStaticAssets.begin(), kStaticAssets.end(), path,
                             [](const StaticAsset& a, std::string_view p) { return a.path < p; });
  return it != kStaticAssets.end() && it->path == path ? &*it : nullptr;
}

bool HasWebDashboard() {
  return std::any_of(kStaticAssets.begin(), kStaticAssets.end(),
                     [](const StaticAsset& a) { return a.path.starts_with("/assets/"); });
}

ApiResponse ServeStaticAsset(const ApiRequest& request) {
  std::string_view path = request.path;
  if (path == "/") path = "/index.html";
  if (const StaticAsset* asset = FindStaticAsset(path)) return Serve(request, *asset);
  const bool wants_html = request.Header("accept").find("text/html") != std::string_view::npos;
  const std::string_view last = path.substr(path.rfind('/') + 1);
  const bool spa_route = !path.starts_with("/assets/") && !path.starts_with("/v1/") && path != "/v1" &&
                         (wants_html || last.find('.') == std::string_view::npos);
  if (spa_route) return Serve(request, *FindStaticAsset("/index.html"));
  return JsonError(404, "no such file: " + std::string(path));
}

}  // namespace cairn::api
