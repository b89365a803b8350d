#include "value/purchase_columns.h"

#include <algorithm>
#include <numeric>
#include <thread>

#include "store/interaction.h"

namespace cairn::value {

std::vector<uint8_t> PurchaseCodes(std::span<const std::string> event_names, const PurchaseRule& rule) {
  std::vector<uint8_t> codes(event_names.size() + 1, 0);  // + a 0 for codes out of range
  for (size_t c = 0; c < event_names.size(); ++c)
    codes[c] = std::find(rule.events.begin(), rule.events.end(), event_names[c]) != rule.events.end();
  return codes;
}

size_t MarkPurchaseRows(const PurchaseBlock& b, std::span<const uint8_t> codes, const PurchaseRule& rule,
                        std::vector<uint32_t>* rows) {
  static const uint8_t kNone[1] = {0};
  if (codes.empty()) codes = kNone;  // no dictionary: revenue only
  const size_t n = b.customer.size();
  const uint8_t track = static_cast<uint8_t>(store::MessageType::kTrack);
  const bool by_revenue = rule.any_positive_revenue;
  const uint8_t* code = codes.data();
  const uint32_t ncodes = static_cast<uint32_t>(codes.size() - 1);
  const double* revenue = b.revenue.data();
  const uint8_t* type = b.type.data();
  const uint32_t* event = b.event.data();
  // Every row's index is written, and the cursor moves on only past purchases (~4% of rows in
  // commerce data): no branch to mispredict.
  rows->resize(n);
  uint32_t* out = rows->data();
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t e = event[i] < ncodes ? event[i] : ncodes;
    const bool by_event = (type[i] == track) & (code[e] != 0);
    out[k] = static_cast<uint32_t>(i);
    k += (by_revenue & (revenue[i] > 0)) | by_event;
  }
  return k;
}

void PurchaseColumns::BeginSegment(std::span<const std::string> event_names) {
  is_purchase_code_ = PurchaseCodes(event_names, rule_);
  offset_ms_ = int64_t{rule_.utc_offset_minutes} * 60'000;
}

void PurchaseColumns::Add(const PurchaseBlock& b) {
  constexpr int64_t kDay = 86'400'000;
  // Purchases are marked first, then the few marked rows copied into space reserved once per block.
  thread_local std::vector<uint32_t> rows;
  const size_t k = MarkPurchaseRows(b, is_purchase_code_, rule_, &rows);
  const double* revenue = b.revenue.data();
  if (customer_.capacity() < customer_.size() + k) {
    const size_t want = std::max(customer_.size() + k, 2 * customer_.capacity());
    customer_.reserve(want);
    purchase_.reserve(want);
  }
  for (size_t j = 0; j < k; ++j) {
    const size_t i = rows[j];
    const int64_t local = b.timestamp_ms[i] + offset_ms_;
    customer_.push_back(b.customer[i]);
    purchase_.push_back({local >= 0 ? local / kDay : -((-local + kDay - 1) / kDay), revenue[i]});  // DayOf
  }
}

void PurchaseColumns::Append(PurchaseColumns&& other) {
  customer_.insert(customer_.end(), other.customer_.begin(), other.customer_.end());
  purchase_.insert(purchase_.end(), other.purchase_.begin(), other.purchase_.end());
  other = PurchaseColumns(other.rule_);
}

PurchaseColumns::Result PurchaseColumns::SummariesOf(std::vector<PurchaseColumns>& parts, const RfmOptions& options,
                                                     const std::function<uint64_t(uint64_t)>& canonical, int threads) {
  std::vector<PurchaseColumns*> live;
  for (auto& p : parts)
    if (!p.customer_.empty()) live.push_back(&p);
  // A customer whose purchases continue at the head of the next part: moved whole into the
  // earlier part (a few rows; Summaries re-sorts that part only if its days are then out of order).
  for (size_t k = 0; k + 1 < live.size(); ++k) {
    PurchaseColumns& a = *live[k];
    PurchaseColumns& b = *live[k + 1];
    size_t run = 0;
    while (run < b.customer_.size() && b.customer_[run] == a.customer_.back()) ++run;
    if (run == 0) continue;
    a.customer_.insert(a.customer_.end(), b.customer_.begin(), b.customer_.begin() + static_cast<ptrdiff_t>(run));
    a.purchase_.insert(a.purchase_.end(), b.purchase_.begin(), b.purchase_.begin() + static_cast<ptrdiff_t>(run));
    b.customer_.erase(b.customer_.begin(), b.customer_.begin() + static_cast<ptrdiff_t>(run));
    b.purchase_.erase(b.purchase_.begin(), b.purchase_.begin() + static_cast<ptrdiff_t>(run));
    if (b.customer_.empty()) {  // b was that one customer: compare a with the part after it
      live.erase(live.begin() + static_cast<ptrdiff_t>(k) + 1);
      --k;
    }
  }
  // Parts are disjoint when each one's customers all lie above the previous one's (ranges only:
  // inside a part, Summaries orders what it must).
  bool disjoint = !canonical && threads > 1 && live.size() > 1;
  std::vector<std::pair<uint64_t, uint64_t>> range;
  for (PurchaseColumns* p : live) {
    const auto [lo, hi] = std::minmax_element(p->customer_.begin(), p->customer_.end());
    range.emplace_back(*lo, *hi);
  }
  for (size_t k = 1; k < range.size() && disjoint; ++k) disjoint = range[k].first > range[k - 1].second;
  if (!disjoint) {
    if (parts.empty()) return Result{};
    for (size_t k = 1; k < parts.size(); ++k) parts[0].Append(std::move(parts[k]));
    return parts[0].Summaries(options, canonical);
  }
  std::vector<Result> results(live.size());
  const size_t workers = std::min(live.size(), static_cast<size_t>(threads));
  auto work = [&](size_t w) {  // contiguous parts per worker
    for (size_t k = live.size() * w / workers; k < live.size() * (w + 1) / workers; ++k)
      results[k] = live[k]->Summaries(options);
  };
  std::vector<std::thread> pool;
  for (size_t w = 1; w < workers; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  Result out;
  size_t total = 0;
  for (const Result& r : results) total += r.ids.size();
  out.ids.reserve(total);
  out.rows.reserve(total);
  for (Result& r : results) {
    out.ids.insert(out.ids.end(), r.ids.begin(), r.ids.end());
    out.rows.insert(out.rows.end(), r.rows.begin(), r.rows.end());
    out.purchases += r.purchases;
  }
  return out;
}

PurchaseColumns::Result PurchaseColumns::Summaries(const RfmOptions& options,
                                                   const std::function<uint64_t(uint64_t)>& canonical) {
  Result out;
  const size_t n = customer_.size();
  out.purchases = static_cast<int64_t>(n);
  if (canonical) {
    for (size_t i = 0; i < n;) {
      const uint64_t id = customer_[i], to = canonical(id);
      for (; i < n && customer_[i] == id; ++i) customer_[i] = to;
    }
  }
  // A compacted store gives (customer, day) order already; several segments or merges do not.
  bool sorted = true;
  size_t runs = n > 0;
  for (size_t i = 1; i < n && sorted; ++i) {
    sorted = customer_[i - 1] < customer_[i] || (customer_[i - 1] == customer_[i] && purchase_[i - 1].day <= purchase_[i].day);
    runs += customer_[i - 1] != customer_[i];
  }
  if (!sorted) {
    std::vector<uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return customer_[a] != customer_[b] ? customer_[a] < customer_[b] : purchase_[a].day < purchase_[b].day;
    });
    std::vector<uint64_t> c(n);
    std::vector<Purchase> p(n);
    runs = n > 0;
    for (size_t i = 0; i < n; ++i) {
      c[i] = customer_[order[i]];
      p[i] = purchase_[order[i]];
      runs += i > 0 && c[i] != c[i - 1];
    }
    customer_.swap(c);
    purchase_.swap(p);
  }
  out.ids.reserve(runs);
  out.rows.reserve(runs);
  const std::span<const Purchase> all(purchase_);
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && customer_[j] == customer_[i]) ++j;
    if (auto s = SummarizeSorted(all.subspan(i, j - i), options)) {
      out.ids.push_back(customer_[i]);
      out.rows.push_back(*s);
    }
    i = j;
  }
  return out;
}

}  // namespace cairn::value
