#include "entity/profile_update.h"

#include <algorithm>

namespace cairn::entity {

size_t ProfileUpdate::bytes() const {
  size_t n = sizeof(*this) + identity_ops.size() * sizeof(store::IdentityOp) + rows.size() * sizeof(ProfileRow) +
             seen.size() * sizeof(CustomerSeen);
  for (const auto& op : identity_ops) n += op.key.size();
  for (const auto& r : rows) n += r.payload.size();
  return n;
}

ProfileUpdate ProfileUpdateOf(const store::Batch& batch, bool count) {
  ProfileUpdate u;
  u.first_seq = batch.first_seq;
  u.end_seq = batch.first_seq + batch.interactions.size();
  u.at_ms = batch.interactions.empty() ? 0 : batch.interactions.front().received_at_ms;
  u.identity_ops = batch.identity_ops;
  for (const store::Interaction& r : batch.interactions) {
    if (r.type != store::MessageType::kIdentify && r.type != store::MessageType::kGroup) continue;
    u.rows.push_back(ProfileRow{r.customer, r.timestamp_ms, r.seq, r.type, r.payload});
  }
  if (count) {
    // Sorted by customer, then one entry per run: a batch is small, and ascending ids are what the
    // writer wants anyway (B-tree upserts in key order).
    std::vector<std::pair<store::CustomerId, int64_t>> v;
    v.reserve(batch.interactions.size());
    for (const store::Interaction& r : batch.interactions) v.emplace_back(r.customer, r.timestamp_ms);
    std::sort(v.begin(), v.end());
    for (const auto& [c, ts] : v) {
      if (u.seen.empty() || u.seen.back().customer != c) u.seen.push_back(CustomerSeen{c, ts, ts, 0});
      CustomerSeen& s = u.seen.back();
      s.last_seen_ms = ts;  // sorted: the run's largest so far
      ++s.count;
    }
  }
  return u;
}

}  // namespace cairn::entity
