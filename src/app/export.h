#pragma once
// CustomerExporter: one customer's data as one JSON bundle (portability, DOMAIN.md §11; schema
// and field list in docs/export.md, "format": "cairn.customer-export", "version": 1), produced
// piece by piece so that a customer with millions of interactions is never held in memory: each
// Next() returns the next piece (~64 KiB, at most one decoded segment block of interactions).
//
// Used by `GET /v1/customers/{id}/export` (chunked response, pulled by the HTTP server) and by
// `cairn export --data DIR --customer ID [--out FILE]`.
//
// Consistency: interactions come from one store snapshot taken at Open; profile, consents,
// journey, cases, rescues, actions, surveys and value are read at Open too (each consistent on
// its own).
// Thread-safety: one exporter is used by one thread at a time; it keeps its snapshot alive.

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/hub.h"
#include "base/result.h"
#include "store/store.h"

namespace cairn::value {
class ValueService;
}

namespace cairn::app {

inline constexpr int kExportVersion = 1;

struct ExportSources {
  Hub* hub = nullptr;                     // required
  value::ValueService* value = nullptr;   // optional: "value" is null (with value_note) without it
  size_t piece_bytes = 64u << 10;         // target size of one Next() piece; default 64 KiB
};

class CustomerExporter {
 public:
  // Resolves the customer (NotFound before anything is produced) and reads the small sections.
  static Result<std::unique_ptr<CustomerExporter>> Open(const ExportSources& sources, const std::string& any_identity);
  ~CustomerExporter();

  // The next piece of the bundle; "" once it is complete. An error leaves the bundle truncated
  // (the caller must not present it as complete).
  Result<std::string> Next();

  store::CustomerId customer() const { return root_; }
  uint64_t interactions_written() const { return interactions_; }

 private:
  CustomerExporter() = default;
  void WriteInteraction(const store::Interaction& in, std::string* out);
  Status FillInteractions(std::string* out);

  ExportSources sources_;
  store::CustomerId root_ = 0;
  std::vector<store::CustomerId> members_;  // sorted
  std::shared_ptr<store::Snapshot> snapshot_;
  std::string head_;  // everything before the interactions, built at Open
  enum class Phase { kHead, kSegments, kMemTable, kTail, kDone } phase_ = Phase::kHead;
  size_t segment_ = 0, block_ = 0;
  std::vector<store::Interaction> mem_rows_;
  size_t mem_next_ = 0;
  bool first_interaction_ = true;
  uint64_t interactions_ = 0;
  std::vector<std::string> survey_answers_;  // payloads of Survey Responded (few per customer)
  size_t rescues_ = 0, actions_ = 0, surveys_ = 0;  // written at Open, counted at the end
};

// api::Services::export_customer over `hub` (and `value`, which may be null): opens an exporter
// (NotFound before any byte) and returns its Next as the producer of the chunked answer.
std::function<Result<std::function<Result<std::string>()>>(const std::string&)> ExportFunction(
    Hub* hub, value::ValueService* value);

// `cairn export --data DIR --customer ID [--out FILE]`: writes the bundle to FILE (written to
// FILE.tmp, fsync'd, renamed: a complete bundle or none) or stdout. The data dir must not be in use
// by a running server. Registered by main; runs from its CLI11 callback (exit 1 on failure, with
// one line on stderr; NotFound names the id).
void AddExportCommand(CLI::App* cli);

}  // namespace cairn::app
