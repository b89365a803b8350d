#pragma once
// Codecs of the fixed-width column chunks of a segment block (docs/format/segment.md, "Column
// chunks"). Encoders append `encoding:u8 body` to a string (the builder adds the chunk's crc);
// decoders take that same `encoding body` view, already checksum-verified by the caller, and
// check every structural bound themselves: a malformed chunk is Corruption, never a crash or an
// out-of-range read. Decoders write a row range [begin, end) of the block so that a per-customer
// read pays for its own rows only; whole-block decodes take the fast paths.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/column_bitpack.h"

namespace cairn::store::column {

// Encoding bytes (stored on disk: never renumber).
inline constexpr uint8_t kEncodingRuns = 1;      // customer
inline constexpr uint8_t kEncodingRunDelta = 1;  // timestamp_ms
inline constexpr uint8_t kEncodingFor = 1;       // event, type, channel, source, seq
inline constexpr uint8_t kEncodingForDiff = 1;   // received_at_ms as its difference from timestamp_ms
inline constexpr uint8_t kEncodingForRaw = 2;    // received_at_ms as itself (segment format version 2)
inline constexpr uint8_t kEncodingSparse = 1;    // revenue

// ---- customer: run-length ----

// The customer runs of a block: run r is rows [starts[r], starts[r+1]) of customer values[r].
struct CustomerRuns {
  std::vector<uint64_t> values;  // strictly increasing, never 0
  std::vector<uint32_t> starts;  // size values.size() + 1; starts[0] == 0, back() == rows

  size_t runs() const { return values.size(); }
  // Index of the run containing row i (i < rows).
  size_t RunOf(size_t row) const;
  // Writes the customer of rows [begin, end) to out.
  void Expand(size_t begin, size_t end, uint64_t* out) const;
};

// customers: the block's customer column, non-decreasing and non-zero (the builder checks).
void EncodeCustomers(std::span<const uint64_t> customers, std::string* dst);
Status DecodeCustomers(std::string_view chunk, uint32_t rows, CustomerRuns* out);

// ---- timestamp_ms: per-run deltas ----

// ts must be non-decreasing inside each run of `runs`.
void EncodeTimestamps(std::span<const int64_t> ts, const CustomerRuns& runs, std::string* dst);
// Writes rows [begin, end); `scratch` is reused between calls to avoid allocation. When
// `customers` is not null, the customer of each row is written there in the same pass (the
// cheapest way to expand the customer column too).
Status DecodeTimestamps(std::string_view chunk, const CustomerRuns& runs, size_t begin, size_t end,
                        int64_t* out, std::vector<uint64_t>* scratch, uint64_t* customers = nullptr);

// ---- frame-of-reference integer columns ----

void EncodeFor(std::span<const uint64_t> values, std::string* dst);
// Writes rows [begin, end) as T. Every value written must lie in [min_value, limit) (limit 0:
// no upper bound), else Corruption: dictionary codes and enum values are checked here, once, so
// nothing downstream indexes out of range. (Values wider than T are truncated before the check;
// the chunk crc, not this check, is what rules out such values in a file we wrote.)
template <typename T>
Status DecodeFor(std::string_view chunk, uint32_t rows, size_t begin, size_t end, T* out, uint64_t limit = 0,
                 uint64_t min_value = 0);

// ---- received_at_ms ----

// Stored as its difference from the row's timestamp (encoding 1: live traffic, where the two are
// milliseconds apart) or as itself (encoding 2: an import of history, where the difference is each
// event's age but the values span only the seconds the import took), whichever packs narrower.
void EncodeReceivedAt(std::span<const int64_t> values, std::span<const int64_t> timestamps, std::string* dst);
// Either encoding. `timestamps` holds rows [begin, end) of the timestamp column (encoding 1 adds
// them back; out may not alias it).
Status DecodeReceivedAt(std::string_view chunk, uint32_t rows, size_t begin, size_t end, const int64_t* timestamps,
                        int64_t* out);

// ---- revenue: sparse doubles ----

void EncodeSparseDoubles(std::span<const double> values, std::string* dst);
Status DecodeSparseDoubles(std::string_view chunk, uint32_t rows, size_t begin, size_t end, double* out);

}  // namespace cairn::store::column
