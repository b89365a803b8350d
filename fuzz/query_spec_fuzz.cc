// libFuzzer target: arbitrary bytes as the JSON body of POST /v1/query/{funnel,retention,trends,
// lifecycle,stickiness,paths} through the api/dto decoders. The first byte picks the decoder, the
// rest is the body. Beyond "no crash, leak, hang or sanitizer report": a rejection is
// InvalidArgument with a message (the API answers it 400 naming the field), never another code.
// Seeds: the request bodies under tests/queries (scripts/fuzz-short).

#include <cstdint>
#include <string_view>

#include "api/dto/insights_dto.h"
#include "api/dto/query_dto.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();  // libFuzzer reports the input
}

template <typename R>
void CheckRejection(const R& r) {
  if (r.ok()) return;
  Check(r.status().code() == cairn::Code::kInvalidArgument);
  Check(!r.status().message().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view json(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 6) {
    case 0: CheckRejection(cairn::api::DecodeFunnelSpec(json)); break;
    case 1: CheckRejection(cairn::api::DecodeRetentionRequest(json)); break;
    case 2: CheckRejection(cairn::api::ParseTrendsSpec(json)); break;
    case 3: CheckRejection(cairn::api::ParseLifecycleSpec(json)); break;
    case 4: CheckRejection(cairn::api::ParseStickinessSpec(json)); break;
    case 5: CheckRejection(cairn::api::ParsePathsSpec(json)); break;
  }
  return 0;
}
