// libFuzzer target: arbitrary bytes through DecodeBody and ParseRequest in every dialect.
// Beyond "no crash, leak or sanitizer report", it checks the parser's output contract: every
// accepted message's payload and traits_json are valid JSON, and rejections point into the batch.
//
// The first input byte picks the options (Content-Encoding, single-message type, small limits);
// the rest is the body. Seed corpus: src/ingest/testdata (scripts/fuzz-short).

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
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
  for (Dialect dialect : {Dialect::kSegmentBatch, Dialect::kSegmentSingle, Dialect::kPostHogBatch}) {
    auto r = cairn::ingest::ParseRequest(options, dialect, single, *decoded, 1714564800000);
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
