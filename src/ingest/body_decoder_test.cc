#include "ingest/body_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>

#include "testutil/gzip.h"

namespace cairn::ingest {
namespace {

using ::testing::HasSubstr;
using testutil::Gzip;
using testutil::GzipZeros;

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

// The optional header fields of RFC 1952 (what the gzip CLI and some HTTP stacks write: the file
// name, a comment, extra data, a header CRC) are parsed and skipped.
TEST(BodyDecoderTest, GzipHeaderWithOptionalFields) {
  const std::string json = Json(3000);
  const std::string plain = Gzip(json);
  ASSERT_GE(plain.size(), 18u);
  std::string head = plain.substr(0, 10);
  head[3] = static_cast<char>(0x04 | 0x08 | 0x10 | 0x02);  // FEXTRA, FNAME, FCOMMENT, FHCRC
  head += std::string("\x04\x00" "ab\x00\x01", 6);           // XLEN 4 and its bytes
  head += std::string("batch.json\0", 11);
  head += std::string("a comment\0", 10);
  const uint32_t hcrc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(head.data()),
                                                    static_cast<uInt>(head.size())));
  head += static_cast<char>(hcrc & 0xff);
  head += static_cast<char>((hcrc >> 8) & 0xff);
  auto r = DecodeBody(head + plain.substr(10), "gzip", 1 << 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, json);
}

// Every proper prefix of a gzip body is an error naming the problem (never a crash, never a
// partial body accepted as whole), except the one that ends where the first member does (itself
// a whole gzip body); the whole body decodes.
TEST(BodyDecoderTest, EveryTruncationIsRefused) {
  const std::string json = Json(20000);
  const std::string first = Gzip(json);
  const std::string gz = first + Gzip("");  // two members: a cut can fall in either
  for (size_t n = 1; n < gz.size(); ++n) {
    if (n == first.size()) continue;
    auto r = DecodeBody(gz.substr(0, n), "gzip", 1 << 20);
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " of " << gz.size() << " bytes decoded";
    EXPECT_TRUE(r.status().Is(Code::kInvalidArgument)) << n << ": " << r.status().ToString();
  }
  auto r = DecodeBody(gz, "gzip", 1 << 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, json);
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
  // instead of inflating everything: compare with the time a full inflate takes (a ratio, so a
  // loaded machine does not make the test flaky).
  const size_t kBombBytes = 100 << 20;
  const std::string bomb = GzipZeros(kBombBytes);
  ASSERT_LT(bomb.size(), 200u << 10);
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  auto capped = DecodeBody(bomb, "gzip", 1 << 20);
  auto capped_time = Clock::now() - start;
  ASSERT_FALSE(capped.ok());
  EXPECT_TRUE(capped.status().Is(Code::kResourceExhausted));
  EXPECT_THAT(std::string(capped.status().message()), HasSubstr("1048576-byte limit"));

  start = Clock::now();
  auto full = DecodeBody(bomb, "", kBombBytes);  // sniffed; exactly at the limit is accepted
  auto full_time = Clock::now() - start;
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->size(), kBombBytes);
  EXPECT_LT(capped_time * 10, full_time);
}

}  // namespace
}  // namespace cairn::ingest
