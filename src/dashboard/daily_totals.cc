#include "dashboard/daily_totals.h"

#include "dashboard/member_set.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "store/segment_format.h"
#include "store/segment_reader.h"

namespace cairn::dashboard {

namespace {
constexpr int64_t kDayMs = 86'400'000;
int64_t DayOf(int64_t ms) { return ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs; }
}  // namespace

DailyTotals::DailyTotals(SeriesOptions options, Canonicalizer canonical, JourneyKeysFn journey_keys,
                         CanonicalizeMany canonical_many)
    : options_(std::move(options)),
      canonical_(std::move(canonical)),
      journey_keys_(std::move(journey_keys)),
      canonical_many_(canonical_ ? std::move(canonical_many) : nullptr) {}

namespace {
// Adds or (sign −1) takes away one row's contribution to a day.
template <typename DayT>
void Count(DayT& t, uint32_t event_id, const RevenueSum& r, int sign) {
  t.interactions += sign;
  if (sign > 0) t.revenue += r;
  else t.revenue -= r;
  if (event_id >= t.events.size()) t.events.resize(event_id + 1, 0);
  t.events[event_id] += sign;
}
template <typename DayT>
void Count(DayT& t, uint32_t event_id, double revenue, int sign) {
  RevenueSum r;
  r.Add(revenue);
  Count(t, event_id, r, sign);
}
// `into` += sign × `from`, day by day; days left with no interaction are removed (every row
// counts one, so such a day holds nothing), which keeps begin() the first day with data.
template <typename DaysT>
void AddDays(DaysT& into, const DaysT& from, int sign) {
  for (const auto& [day, f] : from) {
    auto& t = into[day];
    t.interactions += sign * f.interactions;
    if (sign > 0) t.revenue += f.revenue;
    else t.revenue -= f.revenue;
    if (f.events.size() > t.events.size()) t.events.resize(f.events.size(), 0);
    for (size_t e = 0; e < f.events.size(); ++e) t.events[e] += sign * f.events[e];
    if (t.interactions == 0) into.erase(day);
  }
}
void AddUnique(std::vector<store::CustomerId>& v, store::CustomerId id) {
  if (std::find(v.begin(), v.end(), id) == v.end()) v.push_back(id);
}
}  // namespace

uint32_t DailyTotals::CellFor(Data& d, const std::optional<std::pair<std::string, std::string>>& journey,
                              const std::string& channel) {
  std::string key = journey ? "j" + journey->first + '\x1f' + journey->second : std::string("?");
  key += '\x1f';
  key += channel;
  auto [it, fresh] = d.cell_ids.try_emplace(std::move(key), static_cast<uint32_t>(d.cells.size()));
  if (fresh) {
    Cell c;
    c.journey_known = journey.has_value();
    if (journey) c.persona = journey->first, c.lifecycle = journey->second;
    c.channel = channel;
    d.cells.push_back(std::move(c));
  }
  return it->second;
}

void DailyTotals::FileNew(Data& d, store::CustomerId stored, const std::string& channel,
                          const std::optional<std::pair<std::string, std::string>>& journey,
                          store::CustomerId canonical) const {
  const uint32_t cell = CellFor(d, journey, channel);
  d.filed.Insert(stored, cell);
  ++d.cells[cell].ids;
  const store::CustomerId c = canonical ? canonical : Canonical(stored);
  if (c != stored) AddUnique(d.absorbed[c], stored);
}

void DailyTotals::UnlistFirstOrder(Data& d, store::CustomerId key, const Data::FirstOrder& f) {
  --d.days[f.day].new_customers;
  auto list = d.first_orders_on.find(f.day);
  // Swap with the last and pop: the moved customer's slot follows.
  const store::CustomerId moved = list->second.back();
  list->second[f.slot] = moved;
  list->second.pop_back();
  if (moved != key) d.first_order.at(moved).slot = f.slot;
  if (list->second.empty()) d.first_orders_on.erase(list);
}

void DailyTotals::SetFirstOrder(Data& d, store::CustomerId key, int64_t day) {
  auto [it, inserted] = d.first_order.try_emplace(key);
  if (!inserted) {
    if (day >= it->second.day) return;
    UnlistFirstOrder(d, key, it->second);
  }
  auto& list = d.first_orders_on[day];
  it->second = {day, static_cast<uint32_t>(list.size())};
  list.push_back(key);
  ++d.days[day].new_customers;
}

void DailyTotals::Fold(Data& d, store::CustomerId from, store::CustomerId into) const {
  if (from == into) return;
  if (journey_keys_) {
    // `from`'s rows (and those of the ids merged into it) now count for `into`'s segment.
    auto& list = d.absorbed[into];
    AddUnique(list, from);
    auto a = d.absorbed.find(from);
    if (a != d.absorbed.end()) {
      for (store::CustomerId id : a->second) AddUnique(list, id);
      d.absorbed.erase(a);
    }
  }
  auto it = d.first_order.find(from);
  if (it == d.first_order.end()) return;
  const int64_t day = it->second.day;
  UnlistFirstOrder(d, from, it->second);
  d.first_order.erase(it);
  SetFirstOrder(d, into, day);
}

uint32_t DailyTotals::EventId(Data& d, const std::string& event) const {
  auto [e, fresh] = d.event_ids.try_emplace(event, static_cast<uint32_t>(d.event_ids.size()));
  if (fresh)
    d.is_order.push_back(std::find(options_.order_events.begin(), options_.order_events.end(), event) !=
                         options_.order_events.end());
  return e->second;
}

void DailyTotals::AddRow(Data& d, store::CustomerId customer, int64_t timestamp_ms, uint32_t id, double revenue,
                         const std::string& channel, store::CustomerId canonical) const {
  const int64_t day = DayOf(timestamp_ms);
  d.first_data_day = std::min(d.first_data_day, day);
  RevenueSum r;
  r.Add(revenue);
  // Rows come clustered by customer and time (a build's scan; a batch mostly): the last day's
  // Day, the last customer's cell and its day are reused (map nodes never move).
  if (!d.last_total || d.last_total_day != day) d.last_total = &d.days[day], d.last_total_day = day;
  Count(*d.last_total, id, r, +1);
  if (d.is_order[id]) SetFirstOrder(d, canonical ? canonical : Canonical(customer), day);
  if (journey_keys_) {
    if (d.last_cell == UINT32_MAX || d.last_customer != customer) {
      const uint32_t* f = d.filed.Find(customer);
      if (!f) {
        FileNew(d, customer, channel, std::nullopt, canonical);  // the journey sees this batch after the totals
        f = d.filed.Find(customer);
      }
      d.last_customer = customer;
      d.last_cell = *f;
      d.last_cell_day = nullptr;
    }
    if (!d.last_cell_day || d.last_cell_day_day != day)
      d.last_cell_day = &d.cells[d.last_cell].days[day], d.last_cell_day_day = day;
    Count(*d.last_cell_day, id, r, +1);
  }
}

void DailyTotals::ApplyBatch(Data& d, const store::Batch& batch) const {
  // The batch's merges first: its rows are canonicalised by the resolver, which already holds them.
  for (const auto& op : batch.identity_ops)
    if (op.kind == store::IdentityOp::Kind::kMerge) Fold(d, op.from, op.customer);
  const auto& rows = batch.interactions;
  if (!canonical_many_) {
    for (const auto& r : rows) AddRow(d, r.customer, r.timestamp_ms, EventId(d, r.event), r.revenue, r.channel, 0);
    return;
  }
  // The rows whose customer's survivor AddRow needs — order rows, and (with cells) the rows of
  // customers not filed yet — get it from one canonical_many_ call: the resolver's lock once per
  // batch instead of once per such row (its cache line is shared with the ingest threads).
  std::vector<uint32_t> events(rows.size());
  std::vector<uint32_t> asked;  // row indexes, ascending
  std::vector<store::CustomerId> ids;
  bool unfiled = false;
  for (size_t i = 0; i < rows.size(); ++i) {
    events[i] = EventId(d, rows[i].event);
    if (journey_keys_ && (i == 0 || rows[i].customer != rows[i - 1].customer)) unfiled = !d.filed.Find(rows[i].customer);
    if (d.is_order[events[i]] || unfiled) {
      asked.push_back(static_cast<uint32_t>(i));
      ids.push_back(rows[i].customer);
    }
  }
  std::vector<store::CustomerId> roots(ids.size());
  if (!ids.empty()) canonical_many_(ids, roots.data());
  for (size_t i = 0, k = 0; i < rows.size(); ++i) {
    const store::CustomerId canonical = k < asked.size() && asked[k] == i ? roots[k++] : 0;
    AddRow(d, rows[i].customer, rows[i].timestamp_ms, events[i], rows[i].revenue, rows[i].channel, canonical);
  }
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
      if (journey_keys_) row.channel = r.channel;
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

uint64_t DailyTotals::refiled() const {
  std::lock_guard lock(mu_);
  return refiled_;
}

size_t DailyTotals::cells() const {
  std::lock_guard lock(mu_);
  return data_.cells.size();
}

Status DailyTotals::Scan(const store::Snapshot& snap, const std::atomic<bool>* cancel, Data& d) const {
  using store::segment::Bit;
  using store::segment::Column;
  // With segment cells, each stored id is filed at its first row under the journey's key now
  // (rows come clustered by customer within a source, so that is one call per customer run).
  store::CustomerId last = 0;
  bool have_last = false;
  auto add = [&](store::CustomerId customer, int64_t timestamp_ms, uint32_t event_id, double revenue,
                 const std::string& channel) {
    if (journey_keys_ && (!have_last || customer != last)) {
      have_last = true;
      last = customer;
      if (!d.filed.Find(customer))
        FileNew(d, customer, channel, journey_keys_({Canonical(customer)})[0], 0);
    }
    AddRow(d, customer, timestamp_ms, event_id, revenue, channel, 0);
  };
  // Segments column by column: events and channels stay dictionary codes (a segment's code maps
  // to an event id once), so no row is materialised and no name hashed per row — the rows
  // (and their order) are those Snapshot::ForEach visits.
  const uint32_t columns = Bit(Column::kCustomer) | Bit(Column::kTimestamp) | Bit(Column::kEvent) |
                           Bit(Column::kRevenue) | (journey_keys_ ? Bit(Column::kChannel) : 0);
  const std::string no_channel;
  for (const auto& seg : snap.segments()) {
    constexpr uint32_t kUnmapped = UINT32_MAX;
    std::vector<uint32_t> event_ids(seg->events().size(), kUnmapped);  // segment code → event id
    store::ScanOptions scan;
    scan.columns = columns;
    RETURN_IF_ERROR(seg->Scan(scan, [&](const store::FixedColumns& c) -> Status {
      for (size_t i = 0; i < c.rows; ++i) {
        const store::CustomerId customer = c.customer[i];
        if (snap.HidesAny() && snap.Hidden(customer)) continue;
        uint32_t& e = event_ids[c.event[i]];
        if (e == kUnmapped) e = EventId(d, seg->events()[c.event[i]]);
        add(customer, c.timestamp_ms[i], e, c.revenue[i], journey_keys_ ? seg->channels()[c.channel[i]] : no_channel);
      }
      if (cancel && cancel->load(std::memory_order_relaxed)) return Unavailable("dashboard totals: build cancelled (shutting down)");
      return Status::Ok();
    }));
  }
  for (const auto& r : snap.MemTableRows()) add(r.customer, r.timestamp_ms, EventId(d, r.event), r.revenue, r.channel);
  return Status::Ok();
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
    Status s = Scan(*snap, cancel, fresh);
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

void DailyTotals::Fill(const Days& days, const std::vector<std::string>& extra_metrics, int64_t first_day,
                       int64_t last_day, DailySeries* out) const {
  out->first_day = first_day;
  const size_t n = static_cast<size_t>(std::max<int64_t>(0, last_day - first_day + 1));
  for (const char* m : {"revenue", "orders", "new_customers", "signups", "interactions", "touches", "complaints"})
    out->values[m].assign(n, 0.0);
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
  counted.emplace_back(&out->values["orders"], ids(options_.order_events));
  counted.emplace_back(&out->values["touches"], ids(options_.outbound_events));
  counted.emplace_back(&out->values["complaints"], ids({options_.complaint_event}));
  counted.emplace_back(&out->values["signups"], ids({options_.signup_event}));
  for (const auto& m : extra_metrics) {
    if (!m.starts_with("event:")) continue;
    auto& v = out->values[m];
    if (v.size() == n) continue;  // a fixed series, or listed before
    v.assign(n, 0.0);
    counted.emplace_back(&v, ids({m.substr(6)}));
  }
  auto& revenue = out->values["revenue"];
  auto& interactions = out->values["interactions"];
  auto& fresh = out->values["new_customers"];
  for (auto it = days.lower_bound(first_day); it != days.end() && it->first <= last_day; ++it) {
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
}

Result<DailySeries> DailyTotals::Series(const SnapshotFn& snapshot, const std::vector<std::string>& extra_metrics,
                                        int64_t first_day, int64_t last_day, uint64_t* as_of_seq) {
  std::unique_lock lock(mu_, std::defer_lock);
  for (int attempt = 0;; ++attempt) {  // an erasure may invalidate them between build and read
    RETURN_IF_ERROR(Build(snapshot));
    lock.lock();
    if (state_ == State::kReady) break;
    lock.unlock();
    if (attempt == 2) return Unavailable("dashboard totals: invalidated while answering; try again");
  }
  DailySeries out;
  Fill(data_.days, extra_metrics, first_day, last_day, &out);
  out.first_data_day = data_.first_data_day == INT64_MAX ? -1 : data_.first_data_day;
  if (as_of_seq) *as_of_seq = applied_seq_;
  return out;
}

Result<DailySeries> DailyTotals::SegmentSeries(const SnapshotFn& snapshot, const SegmentFilter& segment,
                                               const std::vector<uint64_t>& members,
                                               const std::vector<std::string>& extra_metrics, int64_t first_day,
                                               int64_t last_day, uint64_t* as_of_seq) {
  if (!journey_keys_) return FailedPrecondition("dashboard totals: no segment cells (no journey keys)");
  std::unique_lock lock(mu_, std::defer_lock);
  std::shared_ptr<store::Snapshot> snap;
  bool rebuilt = false;
  // The survivors to re-file (and correct for): found once, under the lock kept from here on.
  std::vector<store::CustomerId> groups;
  for (int attempt = 0;; ++attempt) {
    RETURN_IF_ERROR(Build(snapshot));
    // A misfiled customer is read back from a snapshot holding every row the totals counted
    // (the store calls on_commit just before a batch becomes visible: wait for that). Taken
    // before mu_: the commit thread may hold the store's locks while it waits for mu_.
    snap = snapshot();
    lock.lock();
    if (state_ == State::kReady && snap->seq() >= applied_seq_) {
      // Many misfiled (the journey had not derived them when the totals were built, e.g. at a
      // start that rebuilds the journey): one rescan files everyone instead of a read each.
      const size_t limit = rebuilt ? SIZE_MAX : std::max<size_t>(1000, data_.filed.size() / 20);
      if (Misfiled(segment, members, limit, &groups)) break;
      ++generation_;
      state_ = State::kStale;
      data_ = Data{};
      rebuilt = true;
      lock.unlock();
      continue;
    }
    lock.unlock();
    if (attempt == 10'000) return Unavailable("dashboard totals: the store did not catch up; try again");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Re-file the misfiled customers under the journey's key now, and correct for those whose key
  // still disagrees with `members` (the caller's segment may be older than the journey's state).
  if (!groups.empty()) data_.last_cell = UINT32_MAX, data_.last_cell_day = nullptr;  // re-filing erases days
  Days add, sub;  // rows of members filed outside the matching cells, of others filed inside
  if (!groups.empty()) {
    const auto keys = journey_keys_(groups);
    using store::segment::Bit;
    using store::segment::Column;
    for (size_t g = 0; g < groups.size(); ++g) {
      const store::CustomerId root = groups[g];
      std::vector<store::CustomerId> ids{root};
      if (auto a = data_.absorbed.find(root); a != data_.absorbed.end()) ids.insert(ids.end(), a->second.begin(), a->second.end());
      const bool member = std::binary_search(members.begin(), members.end(), root);
      std::optional<uint32_t> to;  // the new cell, known at the group's first row (its acquisition channel)
      bool correct = false;
      Status st = snap->VisitCustomers(
          ids,
          [&](const store::Interaction& r) {
            if (r.seq >= applied_seq_) return true;  // not counted by the totals yet
            if (!to) {
              to = CellFor(data_, keys[g], r.channel);
              correct = CellMatches(data_.cells[*to], segment) != member;
            }
            const uint32_t* f = data_.filed.Find(r.customer);
            if (!f) return true;  // cannot happen: counted rows are filed
            const int64_t day = DayOf(r.timestamp_ms);
            const uint32_t e = data_.event_ids.at(r.event);
            auto& old_days = data_.cells[*f].days;
            auto od = old_days.find(day);
            Count(od->second, e, r.revenue, -1);
            if (od->second.interactions == 0) old_days.erase(od);
            Count(data_.cells[*to].days[day], e, r.revenue, +1);
            if (correct) Count((member ? add : sub)[day], e, r.revenue, +1);
            return true;
          },
          Bit(Column::kCustomer) | Bit(Column::kTimestamp) | Bit(Column::kEvent) | Bit(Column::kRevenue) |
              Bit(Column::kChannel) | Bit(Column::kSeq));
      if (!st.ok()) {  // a half-moved customer: the cells no longer add up; rebuild at the next call
        ++generation_;
        state_ = State::kStale;
        data_ = Data{};
        return st;
      }
      if (!to) continue;  // no counted rows (all arrived after applied_seq_)
      for (store::CustomerId id : ids) {
        uint32_t* f = data_.filed.Find(id);
        if (!f || *f == *to) continue;
        --data_.cells[*f].ids;
        ++data_.cells[*to].ids;
        *f = *to;
        ++refiled_;
      }
    }
  }
  Days days;
  for (const Cell& c : data_.cells)
    if (CellMatches(c, segment)) AddDays(days, c.days, +1);
  AddDays(days, add, +1);
  AddDays(days, sub, -1);
  DailySeries out;
  Fill(days, extra_metrics, first_day, last_day, &out);
  // New customers: the segment's members whose first order ever falls in the range — those in
  // the range's first-order lists (O(new customers in the range), a membership test each).
  auto& fresh = out.values["new_customers"];
  const MemberSet in_segment(members);
  for (auto it = data_.first_orders_on.lower_bound(first_day); it != data_.first_orders_on.end() && it->first <= last_day;
       ++it) {
    int64_t n = 0;
    for (store::CustomerId c : it->second) n += in_segment.Contains(c);
    fresh[static_cast<size_t>(it->first - first_day)] += static_cast<double>(n);
  }
  out.first_data_day = days.empty() ? -1 : days.begin()->first;
  if (as_of_seq) *as_of_seq = applied_seq_;
  return out;
}

bool DailyTotals::CellMatches(const Cell& c, const SegmentFilter& s) {
  if ((!s.persona.empty() || !s.lifecycle.empty()) && !c.journey_known) return false;
  return (s.persona.empty() || c.persona == s.persona) && (s.lifecycle.empty() || c.lifecycle == s.lifecycle) &&
         (s.channel.empty() || c.channel == s.channel);
}

bool DailyTotals::Misfiled(const SegmentFilter& segment, const std::vector<uint64_t>& members, size_t limit,
                           std::vector<store::CustomerId>* groups) const {
  // A stored id counts for the segment when its survivor is a member; it is in the matching
  // cells' sums when its cell matches. Members are checked through their own ids and the ids
  // merged into them (O(members)); the ids filed in matching cells but not reached that way are
  // looked for only when the counts say some exist (O(stored ids)).
  std::vector<char> match(data_.cells.size());
  int64_t in_matching = 0;
  for (size_t i = 0; i < data_.cells.size(); ++i)
    if ((match[i] = CellMatches(data_.cells[i], segment))) in_matching += data_.cells[i].ids;
  std::vector<store::CustomerId> found;
  int64_t hits = 0;
  auto check = [&](store::CustomerId id) {  // 1: filed in a matching cell, 0: elsewhere, -1: no rows
    const uint32_t* f = data_.filed.Find(id);
    return !f ? -1 : match[*f] ? 1 : 0;
  };
  for (uint64_t m : members) {
    bool bad = false;
    int r = check(m);
    hits += r == 1;
    bad |= r == 0;
    if (auto a = data_.absorbed.find(m); a != data_.absorbed.end())
      for (store::CustomerId id : a->second) {
        r = check(id);
        hits += r == 1;
        bad |= r == 0;
      }
    if (bad) {
      found.push_back(m);
      if (found.size() > limit) return false;
    }
  }
  if (hits < in_matching) {
    bool over = false;
    data_.filed.ForEach([&](store::CustomerId id, uint32_t cell) {
      if (over || !match[cell]) return;
      const store::CustomerId c = Canonical(id);
      if (std::binary_search(members.begin(), members.end(), c)) return;
      found.push_back(c);
      over = found.size() > limit;
    });
    if (over) return false;
  }
  if (groups) {
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    *groups = std::move(found);
  }
  return true;
}

}  // namespace cairn::dashboard
