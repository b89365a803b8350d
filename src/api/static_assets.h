#pragma once
// The web dashboard's files, compiled into the binary, and how they are served.
//
// The table is generated at build time (src/api/assets/asset_table_gen.cc, wired by
// cmake/CairnWebAssets.cmake) from web/'s Vite build, or — when the build has no Node.js/npm or
// web/node_modules — from src/api/assets/placeholder.html alone. Either way it holds
// "/index.html"; docs/dashboard-ui.md describes the whole arrangement.
//
// Serving rules (ServeStaticAsset):
//   - GET / and GET /index.html answer index.html, `Cache-Control: no-cache` (revalidated through
//     its ETag), with a Content-Security-Policy that allows this origin only: the page can make no
//     request anywhere else (no CDN fonts, no trackers).
//   - GET /assets/<file>: Vite's content-hashed files, `Cache-Control: public, max-age=31536000,
//     immutable`; an unknown /assets/ path is a JSON 404 (a stale page must not get index.html
//     for a script).
//   - any other GET path that is not under /v1/ and matches no API route (the router decides)
//     is a client-side route of the single-page app (e.g. /customers/u:42): index.html — when
//     the client asks for HTML (Accept: text/html, what a browser navigation sends) or the last
//     path segment has no dot; otherwise 404 (e.g. /favicon.ico when the build has none).
//   - `Accept-Encoding: gzip` gets the build-time gzip copy (Content-Encoding: gzip) where one
//     exists; `Vary: Accept-Encoding` always. ETags are strong and differ per encoding;
//     `If-None-Match` with a current one answers 304 with no body.
// Thread-safe: the table is immutable.

#include <span>
#include <string_view>

#include "api/http_types.h"

namespace cairn::api {

struct StaticAsset {
  std::string_view path;          // URL path, e.g. "/index.html", "/assets/index-3f2a1b.js"
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view etag;          // 16 hex digits of FNV-1a 64 over `bytes` (unquoted)
  std::string_view bytes;         // the file as built
  std::string_view gzip;          // RFC 1952 copy of `bytes`; empty when not worth it
};

// Sorted by path; always contains "/index.html". Defined in the generated web_assets.cc.
extern const std::span<const StaticAsset> kStaticAssets;

// The asset at exactly `path` (no decoding, no query), or null.
const StaticAsset* FindStaticAsset(std::string_view path);

// True when the table holds the built dashboard rather than the placeholder page.
bool HasWebDashboard();

// The answer to GET `request` for a path the router has no API route for (see the rules above).
// Never fails: unknown files get a JSON 404.
ApiResponse ServeStaticAsset(const ApiRequest& request);

}  // namespace cairn::api
