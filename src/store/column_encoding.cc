#include "store/column_encoding.h"

#include <algorithm>
#include <cstring>

#include "base/check.h"
#include "base/coding.h"

namespace cairn::store::column {

using bitpack::PackedInts;

namespace {

Status Bad(std::string_view what) { return Corruption(what); }

// Checks the encoding byte and returns the body cursor.
Status Begin(std::string_view chunk, uint8_t encoding, const char** p, const char** limit) {
  if (chunk.empty()) return Bad("empty chunk");
  if (static_cast<uint8_t>(chunk[0]) != encoding) {
    return Bad("unsupported encoding " + std::to_string(static_cast<uint8_t>(chunk[0])));
  }
  *p = chunk.data() + 1;
  *limit = chunk.data() + chunk.size();
  return Status::Ok();
}

Status End(const char* p, const char* limit) {
  return p == limit ? Status::Ok() : Bad("trailing bytes in chunk");
}

}  // namespace

// ---------------- customer ----------------

size_t CustomerRuns::RunOf(size_t row) const {
  // starts is sorted; the run is the last start <= row.
  auto it = std::upper_bound(starts.begin(), starts.end() - 1, static_cast<uint32_t>(row));
  return static_cast<size_t>(it - starts.begin()) - 1;
}

void CustomerRuns::Expand(size_t begin, size_t end, uint64_t* out) const {
  if (begin >= end) return;
  for (size_t r = RunOf(begin); r < values.size() && starts[r] < end; ++r) {
    const size_t lo = std::max<size_t>(starts[r], begin), hi = std::min<size_t>(starts[r + 1], end);
    std::fill(out + (lo - begin), out + (hi - begin), values[r]);
  }
}

void EncodeCustomers(std::span<const uint64_t> customers, std::string* dst) {
  dst->push_back(static_cast<char>(kEncodingRuns));
  std::vector<uint64_t> deltas, lengths;
  uint64_t first = customers.empty() ? 0 : customers[0];
  size_t run_start = 0;
  for (size_t i = 1; i <= customers.size(); ++i) {
    if (i == customers.size() || customers[i] != customers[i - 1]) {
      lengths.push_back(i - run_start);
      if (i < customers.size()) deltas.push_back(customers[i] - customers[i - 1]);
      run_start = i;
    }
  }
  PutVarint64(dst, lengths.size());
  PutVarint64(dst, first);
  bitpack::PutUnsigned(deltas, dst);
  bitpack::PutUnsigned(lengths, dst);
}

Status DecodeCustomers(std::string_view chunk, uint32_t rows, CustomerRuns* out) {
  const char *p, *limit;
  RETURN_IF_ERROR(Begin(chunk, kEncodingRuns, &p, &limit));
  uint64_t runs, first;
  if (!GetVarint64(p, limit, &runs) || runs > rows || (runs == 0) != (rows == 0)) return Bad("bad run count");
  if (!GetVarint64(p, limit, &first) || (rows > 0 && first == 0)) return Bad("bad first customer");
  PackedInts deltas, lengths;
  if (!PackedInts::Parse(p, limit, runs == 0 ? 0 : runs - 1, &deltas)) return Bad("bad customer deltas");
  if (!PackedInts::Parse(p, limit, runs, &lengths)) return Bad("bad run lengths");
  RETURN_IF_ERROR(End(p, limit));
  // Bulk-decode both vectors (the fast unpack path), then prefix-sum them in place.
  out->values.resize(runs);
  out->starts.resize(runs + 1);
  if (runs == 0) {
    out->starts[0] = 0;
    return rows == 0 ? Status::Ok() : Bad("run lengths do not add up to the row count");
  }
  out->values[0] = first;
  deltas.Decode(0, runs - 1, out->values.data() + 1);
  lengths.Decode(0, runs, out->starts.data() + 1);  // lengths fit 32 bits or fail the sum check below
  if (lengths.width() > 17 || lengths.base() > rows) return Bad("run lengths do not add up to the row count");
  uint64_t customer = first, row = 0;
  bool bad = false;
  out->starts[0] = 0;
  for (size_t r = 1; r < runs; ++r) {
    const uint64_t d = out->values[r];
    bad |= (d == 0) | (customer + d < customer);
    customer += d;
    out->values[r] = customer;
  }
  if (bad) return Bad("customer runs not strictly increasing");
  for (size_t r = 1; r <= runs; ++r) {
    const uint32_t len = out->starts[r];
    bad |= len == 0;
    row += len;
    out->starts[r] = static_cast<uint32_t>(row);  // row <= runs * 2^17 < 2^32: no wrap before the check
  }
  if (row != rows) return Bad("run lengths do not add up to the row count");
  return Status::Ok();
}

// ---------------- timestamp_ms ----------------

void EncodeTimestamps(std::span<const int64_t> ts, const CustomerRuns& runs, std::string* dst) {
  dst->push_back(static_cast<char>(kEncodingRunDelta));
  std::vector<int64_t> starts(runs.runs());
  std::vector<uint64_t> deltas;
  deltas.reserve(ts.size() - runs.runs());
  for (size_t r = 0; r < runs.runs(); ++r) {
    starts[r] = ts[runs.starts[r]];
    for (size_t i = runs.starts[r] + 1; i < runs.starts[r + 1]; ++i) {
      DCHECK(ts[i] >= ts[i - 1]);
      deltas.push_back(static_cast<uint64_t>(ts[i]) - static_cast<uint64_t>(ts[i - 1]));
    }
  }
  bitpack::PutSigned(starts, dst);
  bitpack::PutUnsigned(deltas, dst);
}

namespace {

// Writes rows [begin, end) of runs [r0, r1): each run's first timestamp, then running sums of its
// deltas (d points at the first delta of run r0). With kCustomers the customer column is written
// in the same pass: one loop exit (one mispredicted branch) per run instead of two.
template <bool kCustomers>
void EmitTimestamps(const CustomerRuns& runs, size_t r0, size_t r1, size_t begin, size_t end, const uint64_t* first_ts,
                    const uint64_t* d, uint64_t* out, uint64_t* customers) {
  for (size_t r = r0; r < r1; ++r) {
    const size_t s = runs.starts[r], e = std::min<size_t>(runs.starts[r + 1], end);
    uint64_t v = first_ts[r - r0];
    size_t i = s;
    for (; i < begin; ++i) v += *d++;  // only when the range starts inside run r0
    uint64_t* o = out + (i - begin);
    uint64_t* c = kCustomers ? customers + (i - begin) : nullptr;
    const uint64_t customer = runs.values[r];
    const size_t n = e - i;
    o[0] = v;
    if constexpr (kCustomers) c[0] = customer;
    for (size_t k = 1; k < n; ++k) {
      v += d[k - 1];
      o[k] = v;
      if constexpr (kCustomers) c[k] = customer;
    }
    d += n - 1;
  }
}

}  // namespace

Status DecodeTimestamps(std::string_view chunk, const CustomerRuns& runs, size_t begin, size_t end, int64_t* out,
                        std::vector<uint64_t>* scratch, uint64_t* customers) {
  const char *p, *limit;
  RETURN_IF_ERROR(Begin(chunk, kEncodingRunDelta, &p, &limit));
  const size_t rows = runs.starts.empty() ? 0 : runs.starts.back();
  PackedInts starts, deltas;
  if (!PackedInts::Parse(p, limit, runs.runs(), &starts)) return Bad("bad run start timestamps");
  if (!PackedInts::Parse(p, limit, rows - runs.runs(), &deltas)) return Bad("bad timestamp deltas");
  RETURN_IF_ERROR(End(p, limit));
  if (begin >= end) return Status::Ok();
  DCHECK(end <= rows);
  // Row i (not a run start) of run r uses delta index i - r - 1: each run start before it,
  // including its own run's, has no delta.
  const size_t r0 = runs.RunOf(begin);
  const size_t r1 = runs.RunOf(end - 1) + 1;       // one past the last run touched
  const size_t d_first = runs.starts[r0] - r0;     // delta index of run r0's second row
  size_t d_end = end - r1;                         // one past the delta index of row end-1
  if (d_end < d_first) d_end = d_first;
  // scratch = [run starts r0..r1) [deltas d_first..d_end)
  scratch->resize((r1 - r0) + (d_end - d_first));
  uint64_t* first_ts = scratch->data();
  starts.Decode(r0, r1 - r0, first_ts);
  deltas.Decode(d_first, d_end - d_first, first_ts + (r1 - r0));
  const uint64_t* d = first_ts + (r1 - r0);
  if (customers != nullptr) {
    EmitTimestamps<true>(runs, r0, r1, begin, end, first_ts, d, reinterpret_cast<uint64_t*>(out), customers);
  } else {
    EmitTimestamps<false>(runs, r0, r1, begin, end, first_ts, d, reinterpret_cast<uint64_t*>(out), nullptr);
  }
  return Status::Ok();
}

// ---------------- frame of reference ----------------

void EncodeFor(std::span<const uint64_t> values, std::string* dst) {
  dst->push_back(static_cast<char>(kEncodingFor));
  bitpack::PutUnsigned(values, dst);
}

template <typename T>
Status DecodeFor(std::string_view chunk, uint32_t rows, size_t begin, size_t end, T* out, uint64_t limit,
                 uint64_t min_value) {
  const char *p, *limit_p;
  RETURN_IF_ERROR(Begin(chunk, kEncodingFor, &p, &limit_p));
  PackedInts v;
  if (!PackedInts::Parse(p, limit_p, rows, &v)) return Bad("bad packed values");
  RETURN_IF_ERROR(End(p, limit_p));
  if (begin >= end) return Status::Ok();
  v.Decode(begin, end - begin, out);
  if (limit == 0 && min_value == 0) return Status::Ok();
  if (v.base() >= min_value && v.base() < limit && v.width() < 64 &&
      (uint64_t{1} << v.width()) - 1 < limit - v.base()) {
    return Status::Ok();  // even the largest offset the width allows stays below the limit
  }
  // Branch-free so the check vectorises; it runs once per decoded range.
  const T hi = static_cast<T>(limit == 0 ? ~uint64_t{0} : limit - 1), lo = static_cast<T>(min_value);
  T bad = 0;
  for (size_t i = 0; i < end - begin; ++i) bad |= static_cast<T>((out[i] > hi) | (out[i] < lo));
  if (bad) return Bad("value out of range");
  return Status::Ok();
}

template Status DecodeFor<uint8_t>(std::string_view, uint32_t, size_t, size_t, uint8_t*, uint64_t, uint64_t);
template Status DecodeFor<uint32_t>(std::string_view, uint32_t, size_t, size_t, uint32_t*, uint64_t, uint64_t);
template Status DecodeFor<uint64_t>(std::string_view, uint32_t, size_t, size_t, uint64_t*, uint64_t, uint64_t);

void EncodeReceivedAt(std::span<const int64_t> values, std::span<const int64_t> timestamps, std::string* dst) {
  std::vector<int64_t> diff(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    diff[i] = static_cast<int64_t>(static_cast<uint64_t>(values[i]) - static_cast<uint64_t>(timestamps[i]));
  }
  // Ties go to the difference: the form live traffic takes, and the one older files have.
  if (bitpack::SignedFrameOf(values).width < bitpack::SignedFrameOf(diff).width) {
    dst->push_back(static_cast<char>(kEncodingForRaw));
    bitpack::PutSigned(values, dst);
  } else {
    dst->push_back(static_cast<char>(kEncodingForDiff));
    bitpack::PutSigned(diff, dst);
  }
}

Status DecodeReceivedAt(std::string_view chunk, uint32_t rows, size_t begin, size_t end, const int64_t* timestamps,
                        int64_t* out) {
  const bool raw = !chunk.empty() && static_cast<uint8_t>(chunk[0]) == kEncodingForRaw;
  const char *p, *limit;
  RETURN_IF_ERROR(Begin(chunk, raw ? kEncodingForRaw : kEncodingForDiff, &p, &limit));
  PackedInts v;
  if (!PackedInts::Parse(p, limit, rows, &v)) return Bad("bad packed received_at values");
  RETURN_IF_ERROR(End(p, limit));
  if (begin >= end) return Status::Ok();
  auto* u = reinterpret_cast<uint64_t*>(out);  // same object representation; aliasing is allowed
  v.Decode(begin, end - begin, u);
  if (!raw) {
    for (size_t i = 0; i < end - begin; ++i) u[i] += static_cast<uint64_t>(timestamps[i]);
  }
  return Status::Ok();
}

// ---------------- revenue ----------------

void EncodeSparseDoubles(std::span<const double> values, std::string* dst) {
  dst->push_back(static_cast<char>(kEncodingSparse));
  std::vector<uint64_t> positions, bits;
  for (size_t i = 0; i < values.size(); ++i) {
    uint64_t b;
    std::memcpy(&b, &values[i], 8);
    if (b != 0) {
      positions.push_back(i);
      bits.push_back(b);
    }
  }
  PutVarint64(dst, positions.size());
  bitpack::PutUnsigned(positions, dst);
  for (uint64_t b : bits) PutFixed64(dst, b);
}

Status DecodeSparseDoubles(std::string_view chunk, uint32_t rows, size_t begin, size_t end, double* out) {
  const char *p, *limit;
  RETURN_IF_ERROR(Begin(chunk, kEncodingSparse, &p, &limit));
  uint64_t count;
  if (!GetVarint64(p, limit, &count) || count > rows) return Bad("bad non-zero count");
  PackedInts positions;
  if (!PackedInts::Parse(p, limit, count, &positions)) return Bad("bad positions");
  if (static_cast<uint64_t>(limit - p) != count * 8) return Bad("bad value bytes");
  std::fill(out, out + (end - begin), 0.0);
  uint64_t prev = 0;
  for (size_t j = 0; j < count; ++j) {
    const uint64_t pos = positions.Get(j);
    if (pos >= rows || (j > 0 && pos <= prev)) return Bad("positions not strictly increasing below the row count");
    prev = pos;
    const uint64_t b = DecodeFixed64(p + 8 * j);
    if (b == 0) return Bad("stored zero value");
    if (pos >= begin && pos < end) std::memcpy(&out[pos - begin], &b, 8);
  }
  return Status::Ok();
}

}  // namespace cairn::store::column
