#include "value/rfm_stream.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "store/interaction.h"

namespace cairn::value {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

// Raw storage of `bytes`, 2 MiB aligned so that all of it can be backed by huge pages. Not
// initialised: the pages are faulted in as they are written.
void* Allocate(size_t bytes) {
  if (bytes == 0) return nullptr;
  bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = ::operator new(bytes, std::align_val_t{kHugePage});
#ifdef MADV_HUGEPAGE
  // A hint: ignored (EINVAL) where transparent huge pages are off or unsupported, and then the
  // table costs the ordinary page faults.
  madvise(p, bytes, MADV_HUGEPAGE);
#endif
  return p;
}

void Free(void* p) {
  if (p) ::operator delete(p, std::align_val_t{kHugePage});
}

}  // namespace

SummarySlab::SummarySlab(size_t capacity)
    : capacity_(capacity),
      ids_(static_cast<uint64_t*>(Allocate(capacity * sizeof(uint64_t)))),
      rows_(static_cast<RfmSummary*>(Allocate(capacity * sizeof(RfmSummary)))) {
  static_assert(std::is_trivially_copyable_v<RfmSummary> && std::is_trivially_destructible_v<RfmSummary>,
                "slots are written by assignment into raw storage and moved by memmove");
}

SummarySlab::~SummarySlab() {
  Free(ids_);
  Free(rows_);
}

void SummarySlab::Close(std::span<const Slice> slices) {
  size_t at = 0;
  for (const Slice& s : slices) {
    if (s.offset != at && s.count > 0) {
      std::memmove(ids_ + at, ids_ + s.offset, s.count * sizeof(uint64_t));
      std::memmove(static_cast<void*>(rows_ + at), rows_ + s.offset, s.count * sizeof(RfmSummary));
    }
    at += s.count;
  }
  size_ = at;
}

RfmStream::RfmStream(PurchaseRule rule, RfmOptions options, uint64_t* ids, RfmSummary* rows, size_t capacity)
    : rule_(std::move(rule)), options_(options), ids_(ids), rows_(rows), capacity_(capacity) {}

void RfmStream::BeginSegment(std::span<const std::string> event_names) {
  is_purchase_code_ = PurchaseCodes(event_names, rule_);
}

Status RfmStream::Add(const PurchaseBlock& b) {
  const size_t k = MarkPurchaseRows(b, is_purchase_code_, rule_, &marked_);
  const double* revenue = b.revenue.data();
  purchases_ += static_cast<int64_t>(k);
  const int64_t offset_ms = int64_t{rule_.utc_offset_minutes} * 60'000;
  constexpr int64_t kDay = 86'400'000;
  for (size_t j = 0; j < k; ++j) {
    const size_t i = marked_[j];
    const uint64_t c = b.customer[i];
    if (!have_current_ || c != current_) {
      if (have_current_ && c < current_)
        return FailedPrecondition("RfmStream: customers out of order (" + std::to_string(c) + " after " +
                                  std::to_string(current_) + "): the rows are not in customer order");
      RETURN_IF_ERROR(Flush());
      current_ = c;
      have_current_ = true;
    }
    const int64_t local = b.timestamp_ms[i] + offset_ms;
    buffer_.push_back({local >= 0 ? local / kDay : -((-local + kDay - 1) / kDay), revenue[i]});  // DayOf
  }
  return Status::Ok();
}

Status RfmStream::Flush() {
  if (buffer_.empty()) return Status::Ok();
  // In time order within a segment; a customer continued in a later segment may go back in time.
  if (!std::is_sorted(buffer_.begin(), buffer_.end(), [](const Purchase& a, const Purchase& b) { return a.day < b.day; }))
    std::stable_sort(buffer_.begin(), buffer_.end(), [](const Purchase& a, const Purchase& b) { return a.day < b.day; });
  if (auto s = SummarizeSorted(buffer_, options_)) {
    if (size_ == capacity_)
      return ResourceExhausted("RfmStream: more customers than the " + std::to_string(capacity_) + " sized for");
    ids_[size_] = current_;
    rows_[size_] = *s;
    ++size_;
  }
  buffer_.clear();
  return Status::Ok();
}

Status RfmStream::Finish() {
  RETURN_IF_ERROR(Flush());
  have_current_ = false;
  return Status::Ok();
}

}  // namespace cairn::value
