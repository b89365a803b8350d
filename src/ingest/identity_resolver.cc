#include "ingest/identity_resolver.h"

#include <algorithm>
#include <cctype>
#include <mutex>

#include <xxhash.h>

#include "base/logging.h"

namespace cairn::ingest {

using store::CustomerId;
using store::IdentityOp;

IdentityOptions DefaultIdentityOptions() {
  IdentityOptions o;
  o.blocked_values = {"", "null", "undefined", "nil", "none", "0", "-1", "anonymous", "unknown", "guest",
                      "test", "[object object]", "n/a", "00000000-0000-0000-0000-000000000000"};
  return o;
}

namespace {
// Ids are handed out in order from 1, and parent_ is dense by id: an op naming an id this large
// was not written by us (8 bytes per id below it would be allocated).
constexpr CustomerId kMaxCustomerId = CustomerId{1} << 36;

std::string_view Trimmed(std::string_view v) {
  size_t b = 0, e = v.size();
  while (b < e && std::isspace(static_cast<unsigned char>(v[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(v[e - 1]))) --e;
  return v.substr(b, e - b);
}
std::string Lower(std::string_view v) {
  std::string s(v);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
// Case-insensitive equality without allocating.
bool EqualsLower(std::string_view value, std::string_view lower) {
  if (value.size() != lower.size()) return false;
  for (size_t i = 0; i < value.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(value[i])) != static_cast<unsigned char>(lower[i])) return false;
  return true;
}
}  // namespace

IdentityResolver::IdentityResolver(IdentityOptions options, metrics::Registry* metrics)
    : options_(std::move(options)) {
  for (const auto& v : options_.blocked_values) blocked_.push_back(Lower(Trimmed(v)));
  std::sort(blocked_.begin(), blocked_.end());
  blocked_.erase(std::unique(blocked_.begin(), blocked_.end()), blocked_.end());
  if (!metrics) metrics = metrics::Registry::Default();
  merges_ = metrics->GetCounter("cairn_identity_merges_total", "Customers merged into another");
  const char* help = "Identity links or merges refused by the guard rails";
  refused_two_users_ = metrics->GetCounter("cairn_identity_merges_refused_total", help, "reason=\"two_user_ids\"");
  refused_cap_ = metrics->GetCounter("cairn_identity_merges_refused_total", help, "reason=\"identity_cap\"");
  blocked_ids_ = metrics->GetCounter("cairn_identity_blocked_ids_total", "Id values ignored because they are blocked");
}

bool IdentityResolver::IsBlocked(std::string_view trimmed) const {
  // A handful of short values: a scan without allocation beats hashing a lowered copy.
  for (const auto& b : blocked_)
    if (EqualsLower(trimmed, b)) return true;
  return false;
}

size_t IdentityResolver::KeyHash::operator()(std::string_view s) const {
  return static_cast<size_t>(XXH3_64bits(s.data(), s.size()));
}

bool IdentityResolver::BuildKey(char kind, std::string_view value, std::string* key) const {
  key->clear();
  std::string_view t = Trimmed(value);
  if (IsBlocked(t)) return false;
  key->reserve(2 + value.size());
  key->push_back(kind);
  key->push_back(':');
  if (kind == 'e') {
    for (char c : t) key->push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  } else if (kind == 'p') {
    for (char c : t)
      if (std::isdigit(static_cast<unsigned char>(c)) || (c == '+' && key->size() == 2)) key->push_back(c);
    if (key->size() <= 3) {  // no digits: not a phone number
      key->clear();
      return false;
    }
  } else {
    key->append(value);  // user and anonymous ids are exact (case-sensitive)
  }
  return true;
}

std::string IdentityResolver::MakeKey(char kind, std::string_view value) const {
  std::string key;
  BuildKey(kind, value, &key);
  return key;
}

CustomerId IdentityResolver::FindLocked(CustomerId id) const {
  if (id >= parent_.size() || parent_[id] == 0) return 0;
  while (parent_[id] != id) id = parent_[id];  // chains are short: survivors absorb members on merge
  return id;
}

void IdentityResolver::AddCustomerLocked(CustomerId id) {
  if (id >= parent_.size()) parent_.resize(std::max<size_t>(id + 1, parent_.size() + parent_.size() / 2));
  if (parent_[id] != 0) return;
  parent_[id] = id;
  ++known_ids_;
  customers_[id].members.push_back(id);
  next_id_ = std::max(next_id_, id + 1);
}

CustomerId IdentityResolver::NewCustomerLocked() {
  CustomerId id = next_id_;
  AddCustomerLocked(id);
  return id;
}

void IdentityResolver::Refuse(const char* reason, std::string_view detail) {
  (std::string_view(reason) == "two_user_ids" ? refused_two_users_ : refused_cap_)->Inc();
  LOG_EVERY_N_SEC(kWarn, 10, "identity merge refused ({}): {}", reason, detail);
}

void IdentityResolver::LinkLocked(const std::string& key, CustomerId c, std::vector<IdentityOp>* ops) {
  auto& st = customers_[c];
  by_key_.insert_or_assign(IdentityKey(key), c);
  st.keys.push_back(key);
  if (key[0] == 'u' && st.user_key.empty()) st.user_key = key;
  ops->push_back({IdentityOp::Kind::kLink, c, 0, key});
}

bool IdentityResolver::MergeLocked(CustomerId into, CustomerId from, bool explicit_alias,
                                   std::vector<IdentityOp>* ops) {
  auto& a = customers_[into];
  auto& b = customers_[from];
  if (!explicit_alias && !a.user_key.empty() && !b.user_key.empty() && a.user_key != b.user_key) {
    Refuse("two_user_ids", a.user_key + " and " + b.user_key);
    return false;
  }
  if (a.keys.size() + b.keys.size() > options_.max_identities_per_customer) {
    Refuse("identity_cap", "customer c:" + std::to_string(into) + " would hold " +
                               std::to_string(a.keys.size() + b.keys.size()) + " identities");
    return false;
  }
  parent_[from] = into;
  a.keys.insert(a.keys.end(), b.keys.begin(), b.keys.end());
  a.members.insert(a.members.end(), b.members.begin(), b.members.end());
  if (a.user_key.empty()) a.user_key = b.user_key;
  customers_.erase(from);  // only survivors hold state
  merges_->Inc();
  if (ops) ops->push_back({IdentityOp::Kind::kMerge, into, from, ""});
  return true;
}

CustomerId IdentityResolver::RootOfLocked(std::string_view key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? 0 : FindLocked(it->second);
}

Result<CustomerId> IdentityResolver::Resolve(const IdentityInput& in, std::vector<IdentityOp>* ops,
                                             const KeyFilter* refuse) {
  return Batch(this).Resolve(in, ops, refuse);
}

Result<CustomerId> IdentityResolver::ResolveLocked(const IdentityInput& in, std::vector<IdentityOp>* ops,
                                                   const KeyFilter* refuse) {
  // Candidate keys in priority order: the userId decides the customer when known. Built into
  // scratch strings kept across calls (under the lock), so a message allocates no key.
  std::string* const keys = scratch_;
  int n = 0, blocked = 0;
  auto add = [&](char kind, std::string_view v) {
    if (v.empty()) return;
    if (!BuildKey(kind, v, &keys[n])) {
      ++blocked;
      return;
    }
    ++n;
  };
  // An explicit merge: alias previousId → userId, or any message naming a previous id (PostHog's
  // $identify carries $anon_distinct_id there). Two userIds may then end up on one customer.
  bool alias = in.type == store::MessageType::kAlias || !in.previous_id.empty();
  add('u', in.user_id);
  add('e', in.email);
  add('a', in.anonymous_id);
  add('p', in.phone);
  std::string& prev_user = prev_user_;
  std::string& prev_anon = prev_anon_;
  prev_user.clear();
  prev_anon.clear();
  if (!in.previous_id.empty()) {
    BuildKey('u', in.previous_id, &prev_user);
    BuildKey('a', in.previous_id, &prev_anon);
  }
  // Suppression sees the same normalised keys, built once; a refused message changes nothing
  // (and counts no blocked ids: it was never resolved).
  if (refuse != nullptr && *refuse) {
    for (int i = 0; i < n; ++i)
      if ((*refuse)(keys[i])) return PermissionDenied("suppressed");
    for (const std::string* k : {&prev_user, &prev_anon})
      if (!k->empty() && (*refuse)(*k)) return PermissionDenied("suppressed");
  }
  if (blocked > 0) blocked_ids_->Inc(blocked);
  if (n == 0 && prev_user.empty()) {
    return InvalidArgument("no usable id: userId/anonymousId/email/phone are missing or blocked values");
  }
  auto root_of = [&](const std::string& k) { return RootOfLocked(k); };

  // Fast path: every key already belongs to one customer (most track/page events, which carry
  // one or two known ids). Nothing would be linked or merged below, and the target found there
  // is that customer.
  if (prev_user.empty()) {
    CustomerId r = root_of(keys[0]);
    for (int i = 1; i < n && r != 0; ++i)
      if (root_of(keys[i]) != r) r = 0;
    if (r != 0) return r;
  }

  bool has_user = n > 0 && keys[0][0] == 'u';
  CustomerId target = has_user ? root_of(keys[0]) : 0;
  if (alias && !prev_user.empty()) {
    // alias previousId -> userId: previousId may have been a userId or an anonymousId.
    CustomerId prev = root_of(prev_user);
    if (!prev) prev = root_of(prev_anon);
    if (target && prev && target != prev) {
      MergeLocked(target, prev, /*explicit_alias=*/true, ops);
    } else if (!target && prev) {
      target = prev;
    }
    if (!target) target = NewCustomerLocked();
    for (const std::string* k : {&prev_user, &prev_anon}) {
      if (root_of(*k) == 0 && customers_[target].keys.size() < options_.max_identities_per_customer)
        LinkLocked(*k, target, ops);
    }
  }
  CustomerId refused = 0;  // a customer already refused for this message: not tried again
  if (!target) {
    for (int i = has_user ? 1 : 0; i < n && !target; ++i) target = root_of(keys[i]);
    if (target && has_user && !customers_[target].user_key.empty()) {
      // The other ids belong to someone with a different userId (a shared device, or a
      // hard-coded id): this userId gets its own customer instead of taking theirs.
      Refuse("two_user_ids", keys[0] + " and " + customers_[target].user_key);
      refused = target;
      target = 0;
    }
    if (!target) target = NewCustomerLocked();
  }
  for (int i = 0; i < n; ++i) {
    CustomerId r = root_of(keys[i]);
    if (r == target || (refused && r == refused)) continue;
    if (r == 0) {
      auto& st = customers_[target];
      if (keys[i][0] == 'u' && !st.user_key.empty() && st.user_key != keys[i] && !alias) {
        Refuse("two_user_ids", keys[i] + " and " + st.user_key);
      } else if (st.keys.size() >= options_.max_identities_per_customer) {
        Refuse("identity_cap", "customer c:" + std::to_string(target) + " is at the cap; not linking " + keys[i]);
      } else {
        LinkLocked(keys[i], target, ops);
      }
    } else {
      MergeLocked(target, r, alias, ops);
    }
  }
  return target;
}

Status IdentityResolver::Apply(const IdentityOp& op) {
  std::unique_lock lock(mu_);
  if (op.customer == 0 || (op.kind == IdentityOp::Kind::kMerge && op.from == 0))
    return Corruption("identity op with customer 0");
  if (op.kind == IdentityOp::Kind::kLink && (op.key.size() < 3 || op.key[1] != ':'))
    return Corruption("identity link with bad key '" + op.key + "'");
  // A customer unknown here was created by a batch whose WAL write failed (it was never
  // acknowledged, so its ops are not in the log) and then referenced by a later, durable batch.
  // Creating it keeps replay total; the failed batch's own links are simply absent.
  for (CustomerId id : {op.customer, op.from})
    if (id >= kMaxCustomerId) return Corruption("identity op with customer id " + std::to_string(id) + " out of range");
  for (CustomerId id : {op.customer, op.from})
    if (id != 0 && FindLocked(id) == 0) AddCustomerLocked(id);
  if (op.kind == IdentityOp::Kind::kLink) {
    auto known = by_key_.find(std::string_view(op.key));
    if (known != by_key_.end() && FindLocked(known->second) == FindLocked(op.customer)) {
      return Status::Ok();  // already applied (a batch replayed from both profiles.db and the WAL)
    }
    auto& st = customers_[FindLocked(op.customer)];
    by_key_.insert_or_assign(IdentityKey(op.key), op.customer);
    st.keys.push_back(op.key);
    if (op.key[0] == 'u' && st.user_key.empty()) st.user_key = op.key;
    return Status::Ok();
  }
  CustomerId into = FindLocked(op.customer), from = FindLocked(op.from);
  if (into != from) MergeLocked(into, from, /*explicit_alias=*/true, nullptr);  // replayed as decided
  return Status::Ok();
}

CustomerId IdentityResolver::Find(CustomerId id) const {
  std::shared_lock lock(mu_);
  return FindLocked(id);
}

CustomerId IdentityResolver::FindOrSelf(CustomerId id) const {
  const CustomerId root = Find(id);
  return root ? root : id;
}

void IdentityResolver::FindMany(std::span<const CustomerId> ids, CustomerId* roots) const {
  std::shared_lock lock(mu_);
  for (size_t i = 0; i < ids.size(); ++i) roots[i] = FindLocked(ids[i]);
}

CustomerId IdentityResolver::Lookup(std::string_view key) const {
  std::shared_lock lock(mu_);
  if (key.substr(0, 2) == "c:") {
    CustomerId id = 0;
    for (char c : key.substr(2)) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || id > UINT64_MAX / 10) return 0;
      id = id * 10 + (c - '0');
    }
    return FindLocked(id);
  }
  return RootOfLocked(key);
}

std::vector<CustomerId> IdentityResolver::Members(CustomerId root) const {
  std::shared_lock lock(mu_);
  auto it = customers_.find(root);
  if (it == customers_.end()) return {};
  auto m = it->second.members;
  std::sort(m.begin(), m.end());
  return m;
}

std::vector<std::string> IdentityResolver::Keys(CustomerId root) const {
  std::shared_lock lock(mu_);
  auto it = customers_.find(root);
  if (it == customers_.end()) return {};
  return it->second.keys;
}

size_t IdentityResolver::customer_count() const {
  std::shared_lock lock(mu_);
  return known_ids_;
}

std::vector<CustomerId> IdentityResolver::Erase(CustomerId root) {
  std::unique_lock lock(mu_);
  root = FindLocked(root);
  auto it = customers_.find(root);
  if (root == 0 || it == customers_.end()) return {};
  std::vector<CustomerId> members = it->second.members;
  for (const std::string& key : it->second.keys) {
    auto k = by_key_.find(std::string_view(key));
    if (k != by_key_.end()) by_key_.erase(k);
  }
  // Keys linked to a member before it was merged are in the root's list too; sweep any stragglers
  // pointing at a member (cheap next to an erasure's I/O).
  std::sort(members.begin(), members.end());
  boost::unordered::erase_if(by_key_, [&](const auto& kv) { return std::binary_search(members.begin(), members.end(), kv.second); });
  for (CustomerId m : members) {
    customers_.erase(m);
    if (m < parent_.size() && parent_[m] != 0) {
      parent_[m] = 0;
      --known_ids_;
    }
  }
  return members;
}

void IdentityResolver::EnsureNextId(CustomerId next) {
  std::unique_lock lock(mu_);
  next_id_ = std::max(next_id_, next);
}

CustomerId IdentityResolver::next_customer_id() const {
  std::shared_lock lock(mu_);
  return next_id_;
}

}  // namespace cairn::ingest
