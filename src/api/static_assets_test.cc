// The embedded dashboard's serving rules (static_assets.h), on whatever table this build embedded:
// web/'s Vite build (with hashed /assets/ files) or the placeholder page alone.
#include "api/static_assets.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn::api {
namespace {

ApiRequest Get(std::string path, std::vector<std::pair<std::string, std::string>> headers = {}) {
  ApiRequest r;
  r.method = "GET";
  r.path = std::move(path);
  r.headers = std::move(headers);
  return r;
}

const StaticAsset& Index() {
  const StaticAsset* a = FindStaticAsset("/index.html");
  EXPECT_NE(a, nullptr);
  return *a;
}

TEST(StaticAssetsTest, TableIsSortedAndHasIndex) {
  ASSERT_FALSE(kStaticAssets.empty());
  for (size_t i = 1; i < kStaticAssets.size(); ++i) EXPECT_LT(kStaticAssets[i - 1].path, kStaticAssets[i].path);
  const StaticAsset& index = Index();
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.bytes.find("<html"), std::string_view::npos);
  EXPECT_EQ(index.etag.size(), 16u);
  EXPECT_EQ(FindStaticAsset("/nope.html"), nullptr);
}

TEST(StaticAssetsTest, RootServesIndexRevalidatedWithCsp) {
  ApiResponse r = ServeStaticAsset(Get("/"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.body, Index().bytes);
  EXPECT_EQ(r.GetHeader("Cache-Control"), "no-cache");
  EXPECT_EQ(r.GetHeader("ETag"), "\"" + std::string(Index().etag) + "\"");
  EXPECT_NE(r.GetHeader("Content-Security-Policy").find("default-src 'self'"), std::string_view::npos);
  EXPECT_EQ(r.GetHeader("Content-Encoding"), "");
}

TEST(StaticAssetsTest, ClientRoutesServeIndex) {
  for (std::string path : {"/customers/u%3A42", "/customers", "/rescues", "/analyze"}) {
    ApiResponse r = ServeStaticAsset(Get(path));
    EXPECT_EQ(r.status, 200u) << path;
    EXPECT_EQ(r.body, Index().bytes) << path;
  }
  // A dotted last segment is a client route only when a browser navigates (Accept: text/html).
  EXPECT_EQ(ServeStaticAsset(Get("/customers/alice@example.com")).status, 404u);
  ApiResponse nav = ServeStaticAsset(Get("/customers/alice@example.com", {{"accept", "text/html,application/xhtml+xml"}}));
  EXPECT_EQ(nav.status, 200u);
  EXPECT_EQ(nav.body, Index().bytes);
}

TEST(StaticAssetsTest, UnknownFilesAndApiPathsAre404Json) {
  // /assets/ and /v1/ never fall back to index.html, even for a browser navigation.
  for (std::string path : {"/assets/index-gone.js", "/v1/nothing"}) {
    ApiResponse r = ServeStaticAsset(Get(path, {{"accept", "text/html"}}));
    EXPECT_EQ(r.status, 404u) << path;
    EXPECT_EQ(r.content_type, "application/json") << path;
  }
  ApiResponse icon = ServeStaticAsset(Get("/favicon-missing.ico", {{"accept", "image/avif,image/webp,*/*"}}));
  EXPECT_EQ(icon.status, 404u);
}

TEST(StaticAssetsTest, HashedAssetsAreImmutable) {
  bool any = false;
  for (const StaticAsset& a : kStaticAssets) {
    if (!a.path.starts_with("/assets/")) continue;
    any = true;
    ApiResponse r = ServeStaticAsset(Get(std::string(a.path)));
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, a.bytes);
    EXPECT_EQ(r.content_type, a.content_type);
    EXPECT_EQ(r.GetHeader("Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(r.GetHeader("Content-Security-Policy"), "");
  }
  EXPECT_EQ(any, HasWebDashboard());
}

TEST(StaticAssetsTest, GzipIsNegotiatedAndHasItsOwnEtag) {
  for (const StaticAsset& a : kStaticAssets) {
    if (a.gzip.empty()) continue;
    EXPECT_LT(a.gzip.size(), a.bytes.size());
    ApiResponse gz = ServeStaticAsset(Get(std::string(a.path), {{"accept-encoding", "br, gzip, deflate"}}));
    EXPECT_EQ(gz.GetHeader("Content-Encoding"), "gzip");
    EXPECT_EQ(gz.body, a.gzip);
    EXPECT_EQ(gz.GetHeader("Vary"), "Accept-Encoding");
    EXPECT_EQ(gz.GetHeader("ETag"), "\"" + std::string(a.etag) + "-gz\"");
    ApiResponse refused = ServeStaticAsset(Get(std::string(a.path), {{"accept-encoding", "gzip;q=0, identity"}}));
    EXPECT_EQ(refused.GetHeader("Content-Encoding"), "");
    EXPECT_EQ(refused.body, a.bytes);
    ApiResponse plain = ServeStaticAsset(Get(std::string(a.path)));
    EXPECT_EQ(plain.body, a.bytes);
  }
}

TEST(StaticAssetsTest, IfNoneMatchAnswers304) {
  const std::string etag = "\"" + std::string(Index().etag) + "\"";
  ApiResponse r = ServeStaticAsset(Get("/", {{"if-none-match", "\"other\", " + etag}}));
  EXPECT_EQ(r.status, 304u);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.GetHeader("ETag"), etag);
  // The identity ETag does not validate the gzip representation.
  if (!Index().gzip.empty()) {
    ApiResponse gz = ServeStaticAsset(Get("/", {{"if-none-match", etag}, {"accept-encoding", "gzip"}}));
    EXPECT_EQ(gz.status, 200u);
  }
  EXPECT_EQ(ServeStaticAsset(Get("/", {{"if-none-match", "W/\"0000\""}})).status, 200u);
}

}  // namespace
}  // namespace cairn::api
