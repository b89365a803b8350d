#include "dashboard/daily_totals.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "store/segment_format.h"

namespace cairn::dashboard {

namespace {
constexpr int64_t kDayMs = 86'400'000;
int64_t DayOf(int64_t ms) { return ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs; }
}  // namespace

DailyTotals::DailyTotals(SeriesOptions options, Canonicalizer canonical)
    : options_(std::move(options)), canonical_(std::move(canonical)) {}

void DailyTotals::SetFirstOrder(Data& d, store::CustomerId key, int64_t day) {
  auto [it, inserted] = d.first_order.try_emplace(key, day);
  if (inserted) {
    ++d.days[day].new_customers;
  } else if (day < it->second) {
    --d.days[it->second].new_customers;
    ++d.days[day].new_customers;
    it->second = day;
  }
}

void DailyTotals::Fold(Data& d, store::CustomerId from, store::CustomerId into) {
  if (from == into) return;
  auto it = d.first_order.find(from);
  if (it == d.first_order.end()) return;
  const int64_t day = it->second;
  d.first_order.erase(it);
  --d.days[day].new_customers;
  SetFirstOrder(d, into, day);
}

void DailyTotals::AddRow(Data& d, store::CustomerId customer, int64_t timestamp_ms, const std::string& event,
                         double revenue) const {
  const int64_t day = DayOf(timestamp_ms);
  d.first_data_day = std::min(d.first_data_day, day);
  auto [e, fresh] = d.event_ids.try_emplace(event, static_cast<uint32_t>(d.event_ids.size()));
  const uint32_t id = e->second;
  if (fresh)
    d.is_order.push_back(std::find(options_.order_events.begin(), options_.order_events.end(), event) !=
                         options_.order_events.end());
  Day& t = d.days[day];
  ++t.interactions;
  t.revenue.Add(revenue);
  if (id >= t.events.size()) t.events.resize(id + 1, 0);
  ++t.events[id];
  if (d.is_order[id]) SetFirstOrder(d, canonical_ ? canonical_(customer) : customer, day);
}

void DailyTotals::ApplyBatch(Data& d, const store::Batch& batch) const {
  // The batch's merges first: its rows are canonicalised by the resolver, which already holds them.
  for (const auto& op : batch.identity_ops)
    if (op.kind == store::IdentityOp::Kind::kMerge) Fold(d, op.from, op.customer);
  for (const auto& r : batch.interactions) AddRow(d, r.customer, r.timestamp_ms, r.event, r.revenue);
}

void DailyTotals::OnCommit(const store::Batch& batch) {
  std::lock_guard lock(mu_);
  const uint64_t end = batch.first_seq + batch.interactions.size();
  last_commit_end_ = std::max(last_commit_end_, end);
  if (state_ == State::kReady) {
    if (end <= applied_seq_ && !batch.interactions.empty()) return;  // already counted
    ApplyBatch(data_, batch);
    applied_seq_ = std::max(applied_seq_, end);
  } else if (state_ == State::kBuilding) {
    // Kept for the build to apply from its snapshot's seq on; only the columns the totals read.
    auto slim = std::make_shared<store::Batch>();
    slim->first_seq = batch.first_seq;
    for (const auto& op : batch.identity_ops)
      if (op.kind == store::IdentityOp::Kind::kMerge) slim->identity_ops.push_back(op);
    slim->interactions.reserve(batch.interactions.size());
    for (const auto& r : batch.interactions) {
      store::Interaction row;
      row.customer = r.customer;
      row.timestamp_ms = r.timestamp_ms;
      row.event = r.event;
      row.revenue = r.revenue;
      slim->interactions.push_back(std::move(row));
    }
    pending_.push_back(std::move(slim));
  }
}

void DailyTotals::Invalidate() {
  std::lock_guard lock(mu_);
  ++generation_;
  if (state_ == State::kReady) {
    state_ = State::kStale;
    data_ = Data{};  // frees the memory until the next build
  }
}

bool DailyTotals::ready() const {
  std::lock_guard lock(mu_);
  return state_ == State::kReady;
}

uint64_t DailyTotals::builds() const {
  std::lock_guard lock(mu_);
  return builds_;
}

Status DailyTotals::Build(const SnapshotFn& snapshot, const std::atomic<bool>* cancel) {
  std::lock_guard build(build_mu_);
  while (true) {
    uint64_t generation = 0, seen = 0;
    {
      std::lock_guard lock(mu_);
      if (state_ == State::kReady) return Status::Ok();
      state_ = State::kBuilding;
      pending_.clear();
      generation = generation_;
      seen = last_commit_end_;
    }
    // Every batch from here on is kept in pending_. Those seen before must be in the snapshot:
    // the store calls on_commit just before it makes a batch visible, so wait for that.
    std::shared_ptr<store::Snapshot> snap = snapshot();
    for (int i = 0; snap->seq() < seen && i < 10'000; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      snap = snapshot();
    }
    if (snap->seq() < seen) {
      std::lock_guard lock(mu_);
      state_ = State::kStale;
      pending_.clear();
      return Unavailable("dashboard totals: the store did not make committed batches visible within 10 s");
    }
    Data fresh;
    using store::segment::Bit;
    using store::segment::Column;
    Status s = snap->ForEach(
        [&](const store::Interaction& it) {
          AddRow(fresh, it.customer, it.timestamp_ms, it.event, it.revenue);
          return !cancel || !cancel->load(std::memory_order_relaxed);
        },
        Bit(Column::kCustomer) | Bit(Column::kTimestamp) | Bit(Column::kEvent) | Bit(Column::kRevenue));
    if (s.ok() && cancel && cancel->load()) s = Unavailable("dashboard totals: build cancelled (shutting down)");
    std::lock_guard lock(mu_);
    if (!s.ok()) {
      state_ = State::kStale;
      pending_.clear();
      return s;
    }
    if (generation != generation_) continue;  // invalidated while scanning: the snapshot may be stale
    uint64_t applied = snap->seq();
    for (const auto& b : pending_) {
      const uint64_t end = b->first_seq + b->interactions.size();
      if (b->first_seq < snap->seq()) continue;  // visible to the snapshot: scanned (batches become visible whole)
      ApplyBatch(fresh, *b);
      applied = std::max(applied, end);
    }
    pending_.clear();
    data_ = std::move(fresh);
    applied_seq_ = applied;
    state_ = State::kReady;
    ++builds_;
    return Status::Ok();
  }
}

Result<DailySeries> DailyTotals::Series(const SnapshotFn& snapshot, const std::vector<std::string>& extra_metrics,
                                        int64_t first_day, int64_t last_day, uint64_t* as_of_seq) {
  DailySeries out;
  out.first_day = first_day;
  const size_t n = static_cast<size_t>(std::max<int64_t>(0, last_day - first_day + 1));
  for (const char* m : {"revenue", "orders", "new_customers", "signups", "interactions", "touches", "complaints"})
    out.values[m].assign(n, 0.0);
  std::unique_lock lock(mu_, std::defer_lock);
  for (int attempt = 0;; ++attempt) {  // an erasure may invalidate them between build and read
    RETURN_IF_ERROR(Build(snapshot));
    lock.lock();
    if (state_ == State::kReady) break;
    lock.unlock();
    if (attempt == 2) return Unavailable("dashboard totals: invalidated while answering; try again");
  }
  // Each series as the event ids it counts (a name listed twice counts twice, as in the scan).
  std::vector<std::pair<std::vector<double>*, std::vector<uint32_t>>> counted;
  auto ids = [&](const std::vector<std::string>& names) {
    std::vector<uint32_t> v;
    for (const auto& name : names) {
      auto it = data_.event_ids.find(name);
      if (it != data_.event_ids.end()) v.push_back(it->second);
    }
    return v;
  };
  counted.emplace_back(&out.values["orders"], ids(options_.order_events));
  counted.emplace_back(&out.values["touches"], ids(options_.outbound_events));
  counted.emplace_back(&out.values["complaints"], ids({options_.complaint_event}));
  counted.emplace_back(&out.values["signups"], ids({options_.signup_event}));
  for (const auto& m : extra_metrics) {
    if (!m.starts_with("event:")) continue;
    auto& v = out.values[m];
    if (v.size() == n) continue;  // a fixed series, or listed before
    v.assign(n, 0.0);
    counted.emplace_back(&v, ids({m.substr(6)}));
  }
  auto& revenue = out.values["revenue"];
  auto& interactions = out.values["interactions"];
  auto& fresh = out.values["new_customers"];
  for (auto it = data_.days.lower_bound(first_day); it != data_.days.end() && it->first <= last_day; ++it) {
    const size_t i = static_cast<size_t>(it->first - first_day);
    const Day& d = it->second;
    interactions[i] = static_cast<double>(d.interactions);
    revenue[i] = d.revenue.value();
    fresh[i] = static_cast<double>(d.new_customers);
    for (auto& [series, events] : counted) {
      int64_t c = 0;
      for (uint32_t e : events) c += e < d.events.size() ? d.events[e] : 0;
      (*series)[i] = static_cast<double>(c);
    }
  }
  out.first_data_day = data_.first_data_day == INT64_MAX ? -1 : data_.first_data_day;
  if (as_of_seq) *as_of_seq = applied_seq_;
  return out;
}

}  // namespace cairn::dashboard
