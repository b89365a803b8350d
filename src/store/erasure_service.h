#pragma once
// ErasureService: the interface the HTTP layer calls to erase a customer (docs/erasure.md).
// Implemented by app::Eraser (src/app/erase.h); header-only so api/ links no core library.

#include <cstdint>
#include <string>

#include "base/result.h"

namespace cairn::store {

struct ErasureRequest {
  std::string customer;      // any identity: "u:alice", "e:a@b.c", a bare userId, "c:<internal id>"
  bool suppress = false;     // refuse the customer's ids at ingest afterwards (keyed hashes only)
  std::string requested_by;  // who asked ("api", "cli", a key's name) — stored in the proof
};

struct ErasureView {
  uint64_t id = 0;
  std::string status;  // "pending" | "completed"
  int64_t requested_at_ms = 0;
  int64_t completed_at_ms = 0;  // 0 while pending
  std::string requested_by;
  bool suppress = false;
  uint64_t customers_erased = 0;     // internal ids (the customer and every id merged into it)
  uint64_t interactions_erased = 0;  // rows removed from segments
};

class ErasureService {
 public:
  virtual ~ErasureService() = default;
  // Records the request durably, then runs it; waits up to `wait_ms` for it to finish. The view's
  // status says which ("completed", or "pending": it goes on in the background and survives a
  // crash). NotFound for an unknown customer.
  virtual Result<ErasureView> Erase(const ErasureRequest& request, int64_t wait_ms) = 0;
  // NotFound for an unknown erasure id.
  virtual Result<ErasureView> GetErasure(uint64_t id) = 0;
};

}  // namespace cairn::store
