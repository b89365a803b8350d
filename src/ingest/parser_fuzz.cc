// libFuzzer target: arbitrary bytes through DecodeBody and ParseRequest in every dialect.
// Beyond "no crash, leak or sanitizer report", it checks the parser's output contract: every
// accepted message's payload and traits_json are valid JSON, rejections point into the batch, and
// the fast path (segment_fast_path.cc) gives exactly what the general walk gives.
//
// The first input byte picks the options (Content-Encoding, single-message type, small limits);
// the rest is the body. Seed corpus: src/ingest/testdata (scripts/fuzz-short).

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ingest/body_decoder.h"
#include "ingest/parser.h"

namespace {

using cairn::ingest::Dialect;
using cairn::store::MessageType;

void Check(bool ok, const char* what) {
  if (!ok) {
    __builtin_trap();  // libFuzzer reports the input
  }
  (void)what;
}

bool IsValidJson(simdjson::dom::parser& dom, const std::string& text) {
  return !dom.parse(text).error();
}

bool SameMessage(const cairn::ingest::Message& a, const cairn::ingest::Message& b) {
  return a.type == b.type && a.user_id == b.user_id && a.anonymous_id == b.anonymous_id &&
         a.previous_id == b.previous_id && a.group_id == b.group_id && a.event == b.event && a.channel == b.channel &&
         a.message_id == b.message_id && a.email == b.email && a.phone == b.phone && a.traits_json == b.traits_json &&
         std::memcmp(&a.revenue, &b.revenue, sizeof a.revenue) == 0 && a.timestamp_ms == b.timestamp_ms &&
         a.original_timestamp_ms == b.original_timestamp_ms && a.sent_at_ms == b.sent_at_ms &&
         a.received_at_ms == b.received_at_ms && a.payload == b.payload;
}

using ParseResult = cairn::Result<cairn::ingest::ParsedRequest>;

bool SameResult(const ParseResult& a, const ParseResult& b) {
  if (a.ok() != b.ok()) return false;
  if (!a.ok()) return a.status().ToString() == b.status().ToString();
  if (a->write_key != b->write_key || a->messages.size() != b->messages.size() ||
      a->rejected.size() != b->rejected.size()) {
    return false;
  }
  for (size_t i = 0; i < a->messages.size(); ++i) {
    if (!SameMessage(a->messages[i], b->messages[i])) return false;
  }
  for (size_t i = 0; i < a->rejected.size(); ++i) {
    if (a->rejected[i].index != b->rejected[i].index || a->rejected[i].error != b->rejected[i].error) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  const char* encoding = (control & 1) ? "gzip" : "";
  auto decoded = cairn::ingest::DecodeBody(std::move(body), encoding, 1 << 20);
  if (!decoded.ok()) return 0;

  cairn::ingest::ParseOptions options;
  if (control & 2) {
    options.max_message_bytes = 64;
    options.max_batch_messages = 3;
  }
  options.historical = (control & 4) != 0;
  const MessageType single = static_cast<MessageType>(1 + (control >> 3) % 6);
  static simdjson::dom::parser dom;
  static cairn::ingest::Parser fast, general;
  general.SetFastPathForTesting(false);
  for (Dialect dialect :
       {Dialect::kSegmentBatch, Dialect::kSegmentSingle, Dialect::kPostHogBatch, Dialect::kJsonLines}) {
    auto r = fast.Parse(options, dialect, single, *decoded, 1714564800000);
    Check(SameResult(r, general.Parse(options, dialect, single, *decoded, 1714564800000)), "fast path = general walk");
    if (!r.ok()) continue;
    size_t total = r->messages.size() + r->rejected.size();
    Check(total <= options.max_batch_messages || dialect == Dialect::kSegmentSingle, "batch limit");
    for (const auto& m : r->messages) {
      Check(!m.message_id.empty(), "message id");
      Check(IsValidJson(dom, m.payload), "payload is JSON");
      Check(m.traits_json.empty() || IsValidJson(dom, m.traits_json), "traits are JSON");
      Check(m.payload.size() > 2, "payload non-empty");
    }
    for (const auto& rej : r->rejected) {
      Check(!rej.error.empty(), "rejection reason");
      Check(rej.index < options.max_batch_messages || dialect == Dialect::kSegmentSingle, "rejection index");
    }
  }
  return 0;
}
