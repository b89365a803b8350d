#pragma once
// EncodedBatch: a Batch's WAL payload (docs/format/wal.md, "Batch payload") as pieces, without
// copying the interactions' payloads, which are the bulk of a batch. Implemented in
// interaction.cc beside EncodeBatch, which is built on it.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "store/interaction.h"

namespace cairn::store {

// `head` holds every byte but the payloads; `pieces`, written back to back, are exactly
// EncodeBatch's bytes: ranges of `head` and the payload strings of the encoded Batch itself. The
// pieces point into `head` and into that Batch: neither may move or change while the pieces are
// in use (keep both in one heap object, as Store::Append does).
struct EncodedBatch {
  std::string head;
  std::vector<std::string_view> pieces;
  size_t size = 0;  // total bytes of the pieces
};

void EncodeBatchPieces(const Batch& batch, EncodedBatch* out);

}  // namespace cairn::store
