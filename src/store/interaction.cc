#include "store/interaction.h"

#include <cstring>

#include "base/coding.h"
#include "store/encoded_batch.h"

namespace cairn::store {

std::string_view MessageTypeName(MessageType t) {
  switch (t) {
    case MessageType::kIdentify: return "identify";
    case MessageType::kTrack: return "track";
    case MessageType::kPage: return "page";
    case MessageType::kScreen: return "screen";
    case MessageType::kGroup: return "group";
    case MessageType::kAlias: return "alias";
  }
  return "unknown";
}

bool ParseMessageType(std::string_view name, MessageType* out) {
  static constexpr std::pair<std::string_view, MessageType> kNames[] = {
      {"identify", MessageType::kIdentify}, {"track", MessageType::kTrack}, {"page", MessageType::kPage},
      {"screen", MessageType::kScreen},     {"group", MessageType::kGroup}, {"alias", MessageType::kAlias}};
  for (const auto& [n, t] : kNames) {
    if (n == name) {
      *out = t;
      return true;
    }
  }
  return false;
}

namespace {
constexpr uint8_t kBatchVersion = 1;
}

void EncodeBatchPieces(const Batch& batch, EncodedBatch* out) {
  std::string* dst = &out->head;
  dst->clear();
  // One allocation: the exact size is cheap to bound (varints <= 10 bytes, ~6 per row).
  size_t bound = 32;
  for (const auto& op : batch.identity_ops) bound += 32 + op.key.size();
  for (const auto& e : batch.interactions) bound += 80 + e.event.size() + e.channel.size() + e.message_id.size();
  dst->reserve(bound);
  // Where each payload goes: its length prefix ends the head range before it. Offsets, not
  // views, while `head` may still grow.
  std::vector<size_t> cuts;
  cuts.reserve(batch.interactions.size());
  dst->push_back(static_cast<char>(kBatchVersion));
  PutVarint64(dst, batch.first_seq);
  PutVarint64(dst, batch.identity_ops.size());
  for (const auto& op : batch.identity_ops) {
    dst->push_back(static_cast<char>(op.kind));
    PutVarint64(dst, op.customer);
    if (op.kind == IdentityOp::Kind::kMerge) PutVarint64(dst, op.from);
    else PutLengthPrefixed(dst, op.key);
  }
  PutVarint64(dst, batch.interactions.size());
  for (const auto& e : batch.interactions) {
    PutVarint64(dst, e.customer);
    PutVarsint64(dst, e.timestamp_ms);
    // received_at - timestamp, small for live traffic. Wrapping uint64 arithmetic: defined for any
    // values, and DecodeBatch's wrapping addition restores them exactly.
    PutVarsint64(dst, static_cast<int64_t>(static_cast<uint64_t>(e.received_at_ms) - static_cast<uint64_t>(e.timestamp_ms)));
    dst->push_back(static_cast<char>(e.type));
    PutVarint32(dst, e.source);
    PutLengthPrefixed(dst, e.event);
    PutLengthPrefixed(dst, e.channel);
    PutLengthPrefixed(dst, e.message_id);
    uint64_t bits;
    std::memcpy(&bits, &e.revenue, 8);
    PutFixed64(dst, bits);
    PutVarint64(dst, e.payload.size());
    cuts.push_back(dst->size());
  }
  out->pieces.clear();
  out->pieces.reserve(2 * cuts.size() + 1);
  size_t from = 0;
  for (size_t i = 0; i < cuts.size(); ++i) {
    out->pieces.emplace_back(dst->data() + from, cuts[i] - from);
    const std::string& payload = batch.interactions[i].payload;
    if (!payload.empty()) out->pieces.emplace_back(payload);
    from = cuts[i];
  }
  if (from < dst->size()) out->pieces.emplace_back(dst->data() + from, dst->size() - from);
  out->size = dst->size();
  for (const auto& e : batch.interactions) out->size += e.payload.size();
}

void EncodeBatch(const Batch& batch, std::string* dst) {
  EncodedBatch enc;
  EncodeBatchPieces(batch, &enc);
  dst->reserve(dst->size() + enc.size);
  for (std::string_view piece : enc.pieces) dst->append(piece);
}

Result<Batch> DecodeBatch(std::string_view payload) {
  const char* p = payload.data();
  const char* limit = p + payload.size();
  auto bad = [](const char* what) { return Corruption(std::string("batch: bad ") + what); };
  if (p == limit) return bad("version (empty payload)");
  if (static_cast<uint8_t>(*p++) != kBatchVersion) return bad("version");
  Batch b;
  uint64_t n;
  if (!GetVarint64(p, limit, &b.first_seq)) return bad("first_seq");
  if (!GetVarint64(p, limit, &n) || n > payload.size()) return bad("identity op count");
  b.identity_ops.resize(n);
  for (auto& op : b.identity_ops) {
    if (p == limit) return bad("identity op kind");
    uint8_t kind = static_cast<uint8_t>(*p++);
    if (kind != 1 && kind != 2) return bad("identity op kind");
    op.kind = static_cast<IdentityOp::Kind>(kind);
    if (!GetVarint64(p, limit, &op.customer)) return bad("identity op customer");
    if (op.kind == IdentityOp::Kind::kMerge) {
      if (!GetVarint64(p, limit, &op.from)) return bad("identity op from");
    } else {
      std::string_view key;
      if (!GetLengthPrefixed(p, limit, &key)) return bad("identity op key");
      op.key = key;
    }
  }
  if (!GetVarint64(p, limit, &n) || n > payload.size()) return bad("interaction count");
  b.interactions.resize(n);
  uint64_t seq = b.first_seq;
  for (auto& e : b.interactions) {
    int64_t received_delta;
    std::string_view s;
    if (!GetVarint64(p, limit, &e.customer)) return bad("customer");
    if (!GetVarsint64(p, limit, &e.timestamp_ms)) return bad("timestamp");
    if (!GetVarsint64(p, limit, &received_delta)) return bad("received_at");
    e.received_at_ms = static_cast<int64_t>(static_cast<uint64_t>(e.timestamp_ms) + static_cast<uint64_t>(received_delta));
    if (p == limit) return bad("type");
    uint8_t type = static_cast<uint8_t>(*p++);
    if (type < 1 || type > 6) return bad("type");
    e.type = static_cast<MessageType>(type);
    if (!GetVarint32(p, limit, &e.source)) return bad("source");
    if (!GetLengthPrefixed(p, limit, &s)) return bad("event");
    e.event = s;
    if (!GetLengthPrefixed(p, limit, &s)) return bad("channel");
    e.channel = s;
    if (!GetLengthPrefixed(p, limit, &s)) return bad("message_id");
    e.message_id = s;
    if (limit - p < 8) return bad("revenue");
    uint64_t bits = DecodeFixed64(p);
    p += 8;
    std::memcpy(&e.revenue, &bits, 8);
    if (!GetLengthPrefixed(p, limit, &s)) return bad("payload");
    e.payload = s;
    e.seq = seq++;
  }
  if (p != limit) return bad("trailing bytes");
  return b;
}

}  // namespace cairn::store
