#include "store/interaction.h"

#include <gtest/gtest.h>

#include <cmath>

#include "store/encoded_batch.h"

namespace cairn::store {
namespace {

Batch Sample() {
  Batch b;
  b.first_seq = 1000;
  b.identity_ops.push_back({IdentityOp::Kind::kLink, 7, 0, "u:alice"});
  b.identity_ops.push_back({IdentityOp::Kind::kMerge, 7, 9, ""});
  Interaction e;
  e.customer = 7;
  e.timestamp_ms = 1767225600123;
  e.received_at_ms = 1767225600500;
  e.seq = 1000;
  e.type = MessageType::kTrack;
  e.source = 3;
  e.event = "Order Completed";
  e.channel = "web";
  e.message_id = "m-1";
  e.revenue = 99.5;
  e.payload = R"({"type":"track","properties":{"revenue":99.5}})";
  b.interactions.push_back(e);
  e.seq = 1001;
  e.type = MessageType::kIdentify;
  e.event.clear();
  e.received_at_ms = e.timestamp_ms - 5000;  // a timestamp in the future of arrival is allowed
  e.revenue = 0;
  b.interactions.push_back(e);
  return b;
}

TEST(BatchTest, RoundTrip) {
  Batch b = Sample();
  std::string enc;
  EncodeBatch(b, &enc);
  auto got = DecodeBatch(enc);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, b);
}

// EncodeBatchPieces: the same bytes as EncodeBatch, with each non-empty payload a piece of its
// own that points at the batch's string (not a copy): what lets the WAL write a batch without
// encoding its payloads into a second buffer.
TEST(BatchTest, PiecesAreTheEncodingAndPointAtThePayloads) {
  Batch b = Sample();
  b.interactions.push_back(b.interactions[0]);
  b.interactions.back().payload.clear();  // an empty payload adds no piece
  b.interactions.push_back(b.interactions[0]);
  b.interactions.back().payload = std::string(5000, 'p');
  for (size_t i = 0; i < b.interactions.size(); ++i) b.interactions[i].seq = b.first_seq + i;
  EncodedBatch enc;
  EncodeBatchPieces(b, &enc);
  std::string joined;
  for (std::string_view piece : enc.pieces) joined.append(piece);
  std::string expected;
  EncodeBatch(b, &expected);
  EXPECT_EQ(joined, expected);
  EXPECT_EQ(enc.size, expected.size());
  auto got = DecodeBatch(joined);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, b);
  size_t shared = 0;
  for (std::string_view piece : enc.pieces) {
    for (const auto& e : b.interactions) {
      if (!e.payload.empty() && piece.data() == e.payload.data() && piece.size() == e.payload.size()) ++shared;
    }
  }
  EXPECT_EQ(shared, 3u) << "every non-empty payload is written from where it is";
}

TEST(BatchTest, ExtremeTimesRoundTrip) {
  Batch b = Sample();
  b.interactions[0].timestamp_ms = INT64_MIN;
  b.interactions[0].received_at_ms = INT64_MAX;
  b.interactions[1].timestamp_ms = INT64_MAX;
  b.interactions[1].received_at_ms = INT64_MIN;
  std::string enc;
  EncodeBatch(b, &enc);
  auto got = DecodeBatch(enc);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, b);
}

TEST(BatchTest, EveryTruncationIsCorruption) {
  std::string enc;
  EncodeBatch(Sample(), &enc);
  for (size_t n = 0; n < enc.size(); ++n) {
    auto got = DecodeBatch(std::string_view(enc.data(), n));
    EXPECT_EQ(got.status().code(), Code::kCorruption) << "prefix " << n;
  }
  EXPECT_EQ(DecodeBatch(enc + "x").status().code(), Code::kCorruption);
}

TEST(BatchTest, MessageTypeNames) {
  for (int i = 1; i <= 6; ++i) {
    MessageType t = static_cast<MessageType>(i), back;
    ASSERT_TRUE(ParseMessageType(MessageTypeName(t), &back));
    EXPECT_EQ(back, t);
  }
  MessageType t;
  EXPECT_FALSE(ParseMessageType("$pageview", &t));
}

}  // namespace
}  // namespace cairn::store
