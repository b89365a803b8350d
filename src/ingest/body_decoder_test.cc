#include "ingest/body_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>

namespace cairn::ingest {
namespace {

using ::testing::HasSubstr;

// Real gzip (RFC 1952) made with zlib.
std::string Gzip(std::string_view in, int level = Z_DEFAULT_COMPRESSION) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string Json(size_t n) {
  std::string s = "{\"batch\":[";
  while (s.size() < n) s += "{\"type\":\"track\",\"event\":\"e\",\"userId\":\"u\"},";
  s.back() = ']';
  return s + "}";
}

TEST(BodyDecoderTest, PlainBodyPassesThrough) {
  auto r = DecodeBody("{\"a\":1}", "", 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "{\"a\":1}");
  r = DecodeBody("{}", " Identity ", 100);
  ASSERT_TRUE(r.ok());
}

TEST(BodyDecoderTest, GzipRoundTrip) {
  std::string json = Json(100000);
  for (std::string_view enc : {"gzip", "GZIP", "x-gzip", " gzip "}) {
    auto r = DecodeBody(Gzip(json), enc, 1 << 20);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, json);
  }
}

TEST(BodyDecoderTest, GzipMagicIsSniffedWhateverTheHeaderSays) {
  std::string json = Json(5000);
  auto r = DecodeBody(Gzip(json), "", 1 << 20);  // e.g. rudder's x-www-form-urlencoded
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, json);
}

TEST(BodyDecoderTest, ConcatenatedMembers) {
  auto r = DecodeBody(Gzip("{\"a\":") + Gzip("1}"), "gzip", 100);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "{\"a\":1}");
}

TEST(BodyDecoderTest, EmptyGzipBody) {
  auto r = DecodeBody(Gzip(""), "gzip", 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "");
}

TEST(BodyDecoderTest, CorruptTruncatedAndTrailingGarbage) {
  std::string gz = Gzip(Json(10000));
  std::string truncated = gz.substr(0, gz.size() / 2);
  auto r = DecodeBody(truncated, "gzip", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(Code::kInvalidArgument));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("truncated"));

  std::string corrupt = gz;
  for (size_t i = 20; i < 60; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  r = DecodeBody(corrupt, "gzip", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(Code::kInvalidArgument));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("gzip body is corrupt at compressed byte"));

  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 1;  // CRC32 in the trailer
  r = DecodeBody(bad_crc, "gzip", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(Code::kInvalidArgument));

  r = DecodeBody(gz + "junk", "gzip", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("4 unexpected bytes after the compressed data"));

  r = DecodeBody("{\"a\":1}", "gzip", 100);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("does not start with the gzip magic"));
}

TEST(BodyDecoderTest, UnknownEncodingIsRejected) {
  auto r = DecodeBody("{}", "br", 100);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(Code::kInvalidArgument));
  EXPECT_EQ(r.status().message(), "unsupported Content-Encoding \"br\" (supported: gzip, identity)");
  EXPECT_FALSE(DecodeBody("{}", "deflate", 100).ok());
}

TEST(BodyDecoderTest, LimitAppliesToDecodedSize) {
  std::string json = Json(5000);
  auto r = DecodeBody(Gzip(json), "gzip", json.size());  // exactly at the limit
  ASSERT_TRUE(r.ok());
  r = DecodeBody(Gzip(json), "gzip", json.size() - 1);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(Code::kResourceExhausted));
  EXPECT_EQ(r.status().message(), "decoded request body exceeds the " + std::to_string(json.size() - 1) + "-byte limit");
  // Unencoded bodies too.
  r = DecodeBody(json, "", json.size() - 1);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(Code::kResourceExhausted));
}

TEST(BodyDecoderTest, GzipBombFailsFastUnderTheCap) {
  // 100 MiB of zeros compress to ~100 KiB. Under a 1 MiB cap decoding must stop at the cap
  // instead of inflating everything.
  const std::string zeros(100 << 20, '\0');
  const std::string bomb = Gzip(zeros, Z_BEST_COMPRESSION);
  ASSERT_LT(bomb.size(), 200u << 10);
  auto start = std::chrono::steady_clock::now();
  auto r = DecodeBody(bomb, "gzip", 1 << 20);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(Code::kResourceExhausted));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("1048576-byte limit"));
  // Inflating all 100 MiB takes ~100 ms even in a sanitizer build; stopping at 1 MiB takes ~1 ms.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 50);
  // The same bomb is accepted under a big enough cap.
  r = DecodeBody(bomb, "", 100 << 20);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), zeros.size());
}

}  // namespace
}  // namespace cairn::ingest
