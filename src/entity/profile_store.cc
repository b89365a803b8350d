#include "entity/profile_store.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "base/json_string.h"
#include "base/logging.h"

namespace cairn::entity {

using store::Batch;
using store::CustomerId;
using store::IdentityOp;
using store::Interaction;
using store::MessageType;

namespace {

constexpr uint32_t kApplicationId = 0x43505246;  // "CPRF"

// Schema version 1 (docs/format/profiles.md). Never edit a released step: add a new one.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('applied_seq', 0), ('durable_seq', 0);
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  first_seen_ms INTEGER,
  last_seen_ms INTEGER,
  interaction_count INTEGER NOT NULL DEFAULT 0,
  merged_into INTEGER
);
CREATE TABLE identity_ops (
  ord INTEGER PRIMARY KEY AUTOINCREMENT,
  kind INTEGER NOT NULL CHECK (kind IN (1, 2)),
  customer INTEGER NOT NULL,
  from_customer INTEGER,
  key TEXT,
  batch_seq INTEGER NOT NULL
);
CREATE TABLE identities (
  key TEXT PRIMARY KEY NOT NULL,
  customer INTEGER NOT NULL,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  linked_at_ms INTEGER NOT NULL,
  ord INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX identities_by_customer ON identities (customer, ord);
CREATE TABLE merges (
  from_customer INTEGER PRIMARY KEY,
  into_customer INTEGER NOT NULL,
  merged_at_ms INTEGER NOT NULL,
  ord INTEGER NOT NULL
);
CREATE INDEX merges_by_into ON merges (into_customer);
CREATE TABLE traits (
  customer INTEGER NOT NULL,
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  set_at_ms INTEGER NOT NULL,
  set_seq INTEGER NOT NULL,
  once INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (customer, key)
) WITHOUT ROWID;
CREATE TABLE groups (
  customer INTEGER NOT NULL,
  group_id TEXT NOT NULL,
  joined_at_ms INTEGER NOT NULL,
  PRIMARY KEY (customer, group_id)
) WITHOUT ROWID;
CREATE TABLE group_traits (
  group_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  set_at_ms INTEGER NOT NULL,
  set_seq INTEGER NOT NULL,
  PRIMARY KEY (group_id, key)
) WITHOUT ROWID;
)sql";

// Schema version 2 (docs/format/profiles.md "Schema version 2"): the `identities` table goes. It
// was a projection of identity_ops' links that cost three B-tree writes per link (a random leaf
// of the key index, the by-customer index, an ensured customers row) for what one indexed read
// of identity_ops answers: a customer's keys in link order.
constexpr std::string_view kSchemaV2 = R"sql(
DROP INDEX identities_by_customer;
DROP TABLE identities;
CREATE INDEX identity_ops_links ON identity_ops (customer) WHERE kind = 1;
)sql";

// Conditional upserts make last-write-wins by (event time, seq) order-independent, so replays
// and late arrivals need no read-modify-write in C++.
// A set-once value (PostHog $set_once, payload `traitsSetOnce`) holds only while nothing set the
// trait earlier: an ordinary value set before it replaces it, whenever it arrives; of two
// set-once values the earliest wins. Still order-independent, so replays need no care.
//
// Each is written as head, rows, tail: one statement upserts up to kTraitRowsPerStatement traits of
// one owner, ?1 = owner, ?2 = set_at_ms, ?3 = set_seq, then (key, value_json) pairs from ?4 (a row
// is "(?1, ?k, ?v" + the kind's row end). Rows of one statement have distinct keys (Extract), and
// SQLite upserts a multi-row VALUES list row by row, so this equals one statement per trait.
constexpr size_t kTraitRowsPerStatement = 8;
constexpr std::string_view kTraitsHead =
    "INSERT INTO traits (customer, key, value_json, set_at_ms, set_seq, once) VALUES ";
constexpr std::string_view kUpsertTrait =
    "ON CONFLICT (customer, key) DO UPDATE SET value_json = excluded.value_json, "
    "set_at_ms = excluded.set_at_ms, set_seq = excluded.set_seq, once = 0 "
    "WHERE (excluded.set_at_ms, excluded.set_seq) > (traits.set_at_ms, traits.set_seq) OR traits.once = 1";
constexpr std::string_view kInsertTraitOnce =
    "ON CONFLICT (customer, key) DO UPDATE SET value_json = excluded.value_json, "
    "set_at_ms = excluded.set_at_ms, set_seq = excluded.set_seq "
    "WHERE traits.once = 1 AND (excluded.set_at_ms, excluded.set_seq) < (traits.set_at_ms, traits.set_seq)";
constexpr std::string_view kGroupTraitsHead =
    "INSERT INTO group_traits (group_id, key, value_json, set_at_ms, set_seq) VALUES ";
constexpr std::string_view kUpsertGroupTrait =
    "ON CONFLICT (group_id, key) DO UPDATE SET value_json = excluded.value_json, "
    "set_at_ms = excluded.set_at_ms, set_seq = excluded.set_seq "
    "WHERE (excluded.set_at_ms, excluded.set_seq) > (group_traits.set_at_ms, group_traits.set_seq)";
// The three trait upserts as head, row end and tail (see kTraitRowsPerStatement).
struct TraitSql {
  std::string_view head, row_end, tail;
  bool group;  // ?1 is the group id (text), else the customer id
};
constexpr TraitSql kTraitSql{kTraitsHead, ", ?2, ?3, 0)", kUpsertTrait, false};
constexpr TraitSql kTraitOnceSql{kTraitsHead, ", ?2, ?3, 1)", kInsertTraitOnce, false};
constexpr TraitSql kGroupTraitSql{kGroupTraitsHead, ", ?2, ?3)", kUpsertGroupTrait, true};
constexpr std::string_view kUpsertGroup =
    "INSERT INTO groups (customer, group_id, joined_at_ms) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (customer, group_id) DO UPDATE SET joined_at_ms = min(joined_at_ms, excluded.joined_at_ms)";
constexpr std::string_view kUpsertCounters =
    "INSERT INTO customers (id, first_seen_ms, last_seen_ms, interaction_count) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (id) DO UPDATE SET "
    "first_seen_ms = min(coalesce(first_seen_ms, excluded.first_seen_ms), excluded.first_seen_ms), "
    "last_seen_ms = max(coalesce(last_seen_ms, excluded.last_seen_ms), excluded.last_seen_ms), "
    "interaction_count = interaction_count + excluded.interaction_count";
constexpr std::string_view kEnsureCustomer = "INSERT INTO customers (id) VALUES (?1) ON CONFLICT (id) DO NOTHING";

// "u:abc" → "userId"; empty for an unknown prefix.
std::string_view KindName(std::string_view key) {
  if (key.size() < 3 || key[1] != ':') return {};
  switch (key[0]) {
    case 'u': return "userId";
    case 'a': return "anonymousId";
    case 'e': return "email";
    case 'p': return "phone";
    default: return {};
  }
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

struct TraitKV {
  std::string key;
  std::string value_json;
};

// What an identify/group payload contributes.
struct Extracted {
  std::string group_id;       // group only; empty when absent or unusable
  std::vector<TraitKV> traits;       // unique keys (a repeated key's last occurrence wins)
  std::vector<TraitKV> traits_once;  // identify `traitsSetOnce`: set only where nothing set them earlier
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Writer: the apply logic, with parsers and scratch space reused across calls.

class ProfileStore::Writer {
 public:
  explicit Writer(SqliteDb* db) : db_(db) {}

  // Applies `todo` inside the caller's transaction. Adds to *interactions, *unparsed and
  // *trait_rows (identify traits upserted, ProfileStoreStats::trait_rows_written).
  Status Apply(const std::vector<const ProfileUpdate*>& todo, uint64_t* interactions, uint64_t* unparsed,
               uint64_t* trait_rows);

 private:
  struct Counters {
    int64_t first_seen_ms;
    int64_t last_seen_ms;
    int64_t count;
  };

  // Whether the journal holds a link of `key` to `customer` from a batch at or past `batch_seq`.
  Result<bool> LinkedSince(std::string_view key, CustomerId customer, uint64_t batch_seq);
  // `replayable`: the batch has no interactions, so a replay may bring it again (see Apply).
  Status ApplyOp(const IdentityOp& op, uint64_t batch_seq, int64_t at_ms, bool replayable);
  // The customers row exists (once per customer per call: rows are never deleted mid-call).
  Status EnsureCustomer(CustomerId id);
  // One multi-row upsert per (up to kTraitRowsPerStatement) traits of one customer or group.
  Status UpsertTraits(const TraitSql& sql, std::string_view group_id, CustomerId customer,
                      const std::vector<TraitKV>& list, int64_t at_ms, uint64_t seq);
  Status ApplyPayload(const ProfileRow& in, uint64_t* unparsed);
  // False if the payload is not a JSON object (nothing extracted).
  bool Extract(std::string_view payload, bool group, Extracted* out);
  Status FlushCounters();
  // Identify traits are gathered over the call (Gather) and written once per customer at its end
  // (FlushTraits): of several identifies of one customer only each key's newest value (by
  // (set_at_ms, set_seq), the order the upsert keeps) is written. What the table ends with is the
  // same — an ordinary upsert never changes a row holding a newer ordinary value, and set-once
  // values are written as before — with fewer statements (a customer who identifies twice in the
  // writer's one-second window is one statement, not two).
  void Gather(CustomerId customer, std::vector<TraitKV>&& traits, int64_t at_ms, uint64_t seq);
  Status FlushTraits(uint64_t* rows);

  struct GatheredTrait {
    TraitKV kv;
    int64_t at_ms;
    uint64_t seq;
  };
  struct GatheredCustomer {
    CustomerId customer;
    std::vector<GatheredTrait> traits;  // unique keys, ascending
  };

  SqliteDb* db_;
  simdjson::dom::parser dom_;
  simdjson::ondemand::parser ondemand_;
  std::unordered_map<CustomerId, Counters> counters_;
  std::unordered_set<CustomerId> ensured_;  // customers rows known to exist in this call
  std::string sql_;                         // scratch for multi-row statements
  std::vector<GatheredCustomer> gathered_;                  // in order of first identify
  std::unordered_map<CustomerId, size_t> gathered_index_;  // customer → index in gathered_
};

Status ProfileStore::Writer::Apply(const std::vector<const ProfileUpdate*>& todo, uint64_t* interactions,
                                   uint64_t* unparsed, uint64_t* trait_rows) {
  counters_.clear();
  ensured_.clear();
  gathered_.clear();
  gathered_index_.clear();
  for (const ProfileUpdate* u : todo) {
    for (const IdentityOp& op : u->identity_ops) {
      // linked_at/merged_at come from the batch (at_ms), never the wall clock, so a replay writes
      // the same. Batches with interactions are applied once (Apply skips them below the
      // watermark) and the resolver links only new keys: only op-only batches need the
      // idempotence check.
      Status s = ApplyOp(op, u->first_seq, u->at_ms, /*replayable=*/u->end_seq == u->first_seq);
      if (!s.ok()) return s.WithContext(fmt::format("batch first_seq {}", u->first_seq));
    }
    for (const CustomerSeen& seen : u->seen) {
      // Aggregated over the call: one upsert per distinct customer, however many batches.
      auto [it, inserted] = counters_.try_emplace(seen.customer, Counters{seen.first_seen_ms, seen.last_seen_ms, 0});
      Counters& c = it->second;
      c.first_seen_ms = std::min(c.first_seen_ms, seen.first_seen_ms);
      c.last_seen_ms = std::max(c.last_seen_ms, seen.last_seen_ms);
      c.count += static_cast<int64_t>(seen.count);
    }
    for (const ProfileRow& row : u->rows) RETURN_IF_ERROR(ApplyPayload(row, unparsed));
    *interactions += u->end_seq - u->first_seq;
  }
  RETURN_IF_ERROR(FlushTraits(trait_rows));
  return FlushCounters();
}

void ProfileStore::Writer::Gather(CustomerId customer, std::vector<TraitKV>&& traits, int64_t at_ms, uint64_t seq) {
  if (traits.empty()) return;
  auto [it, fresh] = gathered_index_.try_emplace(customer, gathered_.size());
  if (fresh) {
    GatheredCustomer& g = gathered_.emplace_back();
    g.customer = customer;
    g.traits.reserve(traits.size());
    for (TraitKV& t : traits) g.traits.push_back({std::move(t), at_ms, seq});
    return;
  }
  // Merge two key-sorted lists, keeping each key's newest value.
  std::vector<GatheredTrait>& have = gathered_[it->second].traits;
  std::vector<GatheredTrait> merged;
  merged.reserve(have.size() + traits.size());
  size_t i = 0, j = 0;
  while (i < have.size() || j < traits.size()) {
    if (j == traits.size() || (i < have.size() && have[i].kv.key < traits[j].key)) {
      merged.push_back(std::move(have[i++]));
    } else if (i == have.size() || traits[j].key < have[i].kv.key) {
      merged.push_back({std::move(traits[j++]), at_ms, seq});
    } else {
      if (std::tie(at_ms, seq) > std::tie(have[i].at_ms, have[i].seq)) merged.push_back({std::move(traits[j]), at_ms, seq});
      else merged.push_back(std::move(have[i]));
      ++i, ++j;
    }
  }
  have = std::move(merged);
}

Status ProfileStore::Writer::FlushTraits(uint64_t* rows) {
  std::vector<TraitKV> list;
  for (GatheredCustomer& g : gathered_) {
    // One statement per (set_at_ms, set_seq) of the customer's keys: one in the usual case.
    std::stable_sort(g.traits.begin(), g.traits.end(),
                     [](const GatheredTrait& a, const GatheredTrait& b) { return std::tie(a.at_ms, a.seq) < std::tie(b.at_ms, b.seq); });
    for (size_t first = 0; first < g.traits.size();) {
      size_t end = first;
      list.clear();
      while (end < g.traits.size() && g.traits[end].at_ms == g.traits[first].at_ms && g.traits[end].seq == g.traits[first].seq)
        list.push_back(std::move(g.traits[end++].kv));
      RETURN_IF_ERROR(UpsertTraits(kTraitSql, {}, g.customer, list, g.traits[first].at_ms, g.traits[first].seq));
      *rows += list.size();
      first = end;
    }
  }
  return Status::Ok();
}

Status ProfileStore::Writer::EnsureCustomer(CustomerId id) {
  if (!ensured_.insert(id).second) return Status::Ok();
  ASSIGN_OR_RETURN(Stmt s, db_->Prepare(kEnsureCustomer));
  return s.BindU64(1, id).Run();
}

Result<bool> ProfileStore::Writer::LinkedSince(std::string_view key, CustomerId customer, uint64_t batch_seq) {
  // Ops are journaled in WAL order, so batch_seq never decreases with ord: the ops of batches at
  // or past `batch_seq` are the journal's tail, read backwards until an earlier batch's op. Only
  // op-only batches at the watermark come here, and the tail holds little more than their ops.
  ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT kind, customer, key, batch_seq FROM identity_ops ORDER BY ord DESC"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || q.U64(3) < batch_seq) return false;
    if (q.Int64(0) == 1 && q.U64(1) == customer && q.Text(2) == key) return true;
  }
}

Status ProfileStore::Writer::ApplyOp(const IdentityOp& op, uint64_t batch_seq, int64_t at_ms, bool replayable) {
  if (op.customer == 0) return InvalidArgument("identity op with customer 0");
  if (op.kind == IdentityOp::Kind::kLink) {
    std::string_view kind = KindName(op.key);
    if (kind.empty()) return InvalidArgument(fmt::format("identity link with bad key '{}'", op.key));
    if (replayable) {
      // Idempotence for op-only batches replayed at the watermark (docs/format/profiles.md).
      ASSIGN_OR_RETURN(bool linked, LinkedSince(op.key, op.customer, batch_seq));
      if (linked) return Status::Ok();
    }
    // The link is its journal row alone: profiles list a customer's keys from identity_ops
    // (schema v2), so no projection row and no customers row are written per link.
    ASSIGN_OR_RETURN(Stmt s, db_->Prepare("INSERT INTO identity_ops (kind, customer, from_customer, key, batch_seq) "
                                          "VALUES (1, ?1, NULL, ?2, ?3)"));
    return s.BindU64(1, op.customer).Bind(2, op.key).BindU64(3, batch_seq).Run();
  }
  if (op.kind != IdentityOp::Kind::kMerge) {
    return InvalidArgument(fmt::format("identity op with unknown kind {}", static_cast<int>(op.kind)));
  }
  if (op.from == 0 || op.from == op.customer) {
    return InvalidArgument(fmt::format("identity merge of c:{} into c:{}", op.from, op.customer));
  }
  if (replayable) {
    ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT into_customer FROM merges WHERE from_customer = ?1"));
    ASSIGN_OR_RETURN(bool row, q.BindU64(1, op.from).Step());
    if (row && q.U64(0) == op.customer) return Status::Ok();
  }
  {
    ASSIGN_OR_RETURN(Stmt s, db_->Prepare("INSERT INTO identity_ops (kind, customer, from_customer, key, batch_seq) "
                                          "VALUES (2, ?1, ?2, NULL, ?3)"));
    RETURN_IF_ERROR(s.BindU64(1, op.customer).BindU64(2, op.from).BindU64(3, batch_seq).Run());
  }
  const int64_t ord = db_->last_insert_rowid();
  {
    ASSIGN_OR_RETURN(Stmt s, db_->Prepare(
                                 "INSERT INTO merges (from_customer, into_customer, merged_at_ms, ord) "
                                 "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (from_customer) DO UPDATE SET "
                                 "into_customer = excluded.into_customer, merged_at_ms = excluded.merged_at_ms, "
                                 "ord = excluded.ord"));
    RETURN_IF_ERROR(s.BindU64(1, op.from).BindU64(2, op.customer).Bind(3, at_ms).Bind(4, ord).Run());
  }
  {
    ASSIGN_OR_RETURN(Stmt s, db_->Prepare("INSERT INTO customers (id, merged_into) VALUES (?1, ?2) "
                                          "ON CONFLICT (id) DO UPDATE SET merged_into = excluded.merged_into"));
    RETURN_IF_ERROR(s.BindU64(1, op.from).BindU64(2, op.customer).Run());
  }
  return EnsureCustomer(op.customer);
}

namespace {
// Reads a JSON object's members as (key, raw JSON value) pairs, keys unique (a repeated key's
// last occurrence wins, as in most JSON readers), sorted by key.
bool ReadTraitObject(simdjson::ondemand::object& traits, std::vector<TraitKV>* out) {
  namespace od = simdjson::ondemand;
  for (auto maybe_field : traits) {
    od::field field;
    std::string_view key, raw;
    od::json_type type;
    if (std::move(maybe_field).get(field) || field.unescaped_key().get(key)) return false;
    std::string key_copy(key);  // the view is invalidated by the next unescape
    od::value& v = field.value();
    if (v.type().get(type)) return false;
    if (type == od::json_type::object) {
      od::object o;
      if (v.get_object().get(o) || o.raw_json().get(raw)) return false;
    } else if (type == od::json_type::array) {
      od::array a;
      if (v.get_array().get(a) || a.raw_json().get(raw)) return false;
    } else {
      raw = TrimRight(v.raw_json_token());
    }
    out->push_back({std::move(key_copy), std::string(raw)});
  }
  std::stable_sort(out->begin(), out->end(), [](const TraitKV& a, const TraitKV& b) { return a.key < b.key; });
  auto keep = out->begin();
  for (auto it = out->begin(); it != out->end(); ++it) {
    auto next = it + 1;
    if (next != out->end() && next->key == it->key) continue;
    if (keep != it) *keep = std::move(*it);
    ++keep;
  }
  out->erase(keep, out->end());
  return true;
}
}  // namespace

bool ProfileStore::Writer::Extract(std::string_view payload, bool group, Extracted* out) {
  namespace od = simdjson::ondemand;
  simdjson::padded_string padded(payload);
  // Validate the whole document with the DOM parser (On-Demand only checks what it visits), then
  // read with On-Demand, which hands out each value's raw text: the DOM would re-serialise numbers
  // (1.10 → 1.1) and the trait must be stored as sent.
  simdjson::dom::element root;
  if (dom_.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) return false;

  od::document doc;
  od::object obj;
  if (ondemand_.iterate(padded).get(doc) || doc.get_object().get(obj)) return false;
  if (group) {
    od::value gid;
    od::json_type type;
    if (!obj.find_field_unordered("groupId").get(gid) && !gid.type().get(type)) {
      std::string_view text;
      if (type == od::json_type::string && !gid.get_string().get(text)) {
        out->group_id = std::string(text);
      } else if (type == od::json_type::number) {
        out->group_id = std::string(TrimRight(gid.raw_json_token()));
      }
    }
  }
  if (!group) {
    // Read first and whole: On-Demand may not return to `obj` after descending into `context`.
    od::value v;
    od::json_type type;
    od::object once;
    if (!obj.find_field_unordered("traitsSetOnce").get(v) && !v.type().get(type) && type == od::json_type::object &&
        !v.get_object().get(once)) {
      if (!ReadTraitObject(once, &out->traits_once)) return false;
    }
  }
  od::object traits;
  bool found = false;
  {
    od::value v;
    od::json_type type;
    if (!obj.find_field_unordered("traits").get(v) && !v.type().get(type) && type == od::json_type::object) {
      found = !v.get_object().get(traits);
    }
  }
  if (!found && !group) {
    od::value context, v;
    od::json_type type;
    if (!obj.find_field_unordered("context").get(context) && !context.type().get(type) &&
        type == od::json_type::object && !context.find_field_unordered("traits").get(v) && !v.type().get(type) &&
        type == od::json_type::object) {
      found = !v.get_object().get(traits);
    }
  }
  if (!found) return true;
  return ReadTraitObject(traits, &out->traits);
}

Status ProfileStore::Writer::ApplyPayload(const ProfileRow& in, uint64_t* unparsed) {
  const bool group = in.type == MessageType::kGroup;
  Extracted ex;
  if (!Extract(in.payload, group, &ex)) {
    ++*unparsed;
    LOG_EVERY_N_SEC(kWarn, 10, "profiles: payload of seq {} is not a JSON object; no traits taken", in.seq);
    return Status::Ok();
  }
  if (group) {
    if (ex.group_id.empty()) return Status::Ok();
    {
      ASSIGN_OR_RETURN(Stmt s, db_->Prepare(kUpsertGroup));
      RETURN_IF_ERROR(s.BindU64(1, in.customer).Bind(2, ex.group_id).Bind(3, in.timestamp_ms).Run());
    }
    return UpsertTraits(kGroupTraitSql, ex.group_id, 0, ex.traits, in.timestamp_ms, in.seq);
  }
  Gather(in.customer, std::move(ex.traits), in.timestamp_ms, in.seq);
  return UpsertTraits(kTraitOnceSql, {}, in.customer, ex.traits_once, in.timestamp_ms, in.seq);
}

Status ProfileStore::Writer::UpsertTraits(const TraitSql& sql, std::string_view group_id, CustomerId customer,
                                         const std::vector<TraitKV>& list, int64_t at_ms, uint64_t seq) {
  for (size_t first = 0; first < list.size(); first += kTraitRowsPerStatement) {
    const size_t n = std::min(kTraitRowsPerStatement, list.size() - first);
    sql_.assign(sql.head);
    for (size_t i = 0; i < n; ++i) {
      sql_ += fmt::format("{}(?1, ?{}, ?{}{}", i ? ", " : "", 4 + 2 * i, 5 + 2 * i, sql.row_end);
    }
    sql_ += ' ';
    sql_ += sql.tail;
    ASSIGN_OR_RETURN(Stmt s, db_->Prepare(sql_));
    if (sql.group) s.Bind(1, group_id);
    else s.BindU64(1, customer);
    s.Bind(2, at_ms).BindU64(3, seq);
    for (size_t i = 0; i < n; ++i) {
      const TraitKV& t = list[first + i];
      s.Bind(static_cast<int>(4 + 2 * i), t.key).Bind(static_cast<int>(5 + 2 * i), t.value_json);
    }
    RETURN_IF_ERROR(s.Run());
  }
  return Status::Ok();
}

Status ProfileStore::Writer::FlushCounters() {
  // Ascending ids: B-tree inserts then touch pages in order.
  std::vector<std::pair<CustomerId, Counters>> sorted(counters_.begin(), counters_.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  ASSIGN_OR_RETURN(Stmt s, db_->Prepare(kUpsertCounters));
  for (const auto& [id, c] : sorted) {
    s.Reset();
    RETURN_IF_ERROR(s.BindU64(1, id).Bind(2, c.first_seen_ms).Bind(3, c.last_seen_ms).Bind(4, c.count).Run());
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// ProfileStore

ProfileStore::ProfileStore(std::unique_ptr<SqliteDb> write_db, std::unique_ptr<SqliteDb> read_db, uint64_t applied_seq)
    : write_db_(std::move(write_db)),
      writer_(std::make_unique<Writer>(write_db_.get())),
      read_db_(std::move(read_db)),
      applied_seq_(applied_seq) {}

ProfileStore::~ProfileStore() = default;

Result<std::unique_ptr<ProfileStore>> ProfileStore::Open(const std::string& path) {
  ASSIGN_OR_RETURN(auto write_db, SqliteDb::Open(path, SqliteOptions{}));
  RETURN_IF_ERROR(write_db->Migrate(kApplicationId, {kSchemaV1, kSchemaV2}));
  ASSIGN_OR_RETURN(int64_t applied, write_db->QueryInt("SELECT value FROM meta WHERE key = 'applied_seq'"));
  SqliteOptions read_options;
  read_options.read_only = true;
  ASSIGN_OR_RETURN(auto read_db, SqliteDb::Open(path, read_options));
  auto store = std::unique_ptr<ProfileStore>(
      new ProfileStore(std::move(write_db), std::move(read_db), static_cast<uint64_t>(applied)));
  return store;
}

Status ProfileStore::ApplyBatches(const std::vector<const Batch*>& batches) {
  std::vector<ProfileUpdate> updates;
  updates.reserve(batches.size());
  for (size_t i = 0; i < batches.size(); ++i) {
    const Batch* b = batches[i];
    if (!b) return InvalidArgument(fmt::format("batch #{} is null", i));
    const uint64_t n = b->interactions.size();
    if (b->first_seq > UINT64_MAX - n) return InvalidArgument(fmt::format("batch first_seq {} overflows", b->first_seq));
    for (uint64_t k = 0; k < n; ++k) {
      const Interaction& in = b->interactions[k];
      if (in.seq != b->first_seq + k) {
        return InvalidArgument(fmt::format("batch first_seq {}: interaction {} has seq {}, expected {}", b->first_seq,
                                           k, in.seq, b->first_seq + k));
      }
      if (in.customer == 0) {
        return InvalidArgument(fmt::format("batch first_seq {}: interaction seq {} has customer 0", b->first_seq, in.seq));
      }
    }
    updates.push_back(ProfileUpdateOf(*b, /*count=*/true));
  }
  std::vector<const ProfileUpdate*> ptrs;
  ptrs.reserve(updates.size());
  for (const ProfileUpdate& u : updates) ptrs.push_back(&u);
  return Apply(ptrs);
}

Status ProfileStore::Apply(const std::vector<const ProfileUpdate*>& updates) {
  std::lock_guard lock(write_mu_);
  uint64_t watermark = applied_seq();
  uint64_t skipped = 0;
  std::vector<const ProfileUpdate*> todo;
  for (size_t i = 0; i < updates.size(); ++i) {
    const ProfileUpdate* u = updates[i];
    if (!u) return InvalidArgument(fmt::format("batch #{} is null", i));
    if (i > 0 && u->first_seq < updates[i - 1]->first_seq) {
      return InvalidArgument(fmt::format("batches out of order: first_seq {} after {}", u->first_seq,
                                         updates[i - 1]->first_seq));
    }
    if (u->end_seq < u->first_seq) {
      return InvalidArgument(fmt::format("batch first_seq {}: end_seq {} before it", u->first_seq, u->end_seq));
    }
    uint64_t next = u->first_seq;  // rows are in seq order inside [first_seq, end_seq)
    for (const ProfileRow& r : u->rows) {
      if (r.seq < next || r.seq >= u->end_seq) {
        return InvalidArgument(fmt::format("batch [{}, {}): row seq {} out of order or range", u->first_seq, u->end_seq, r.seq));
      }
      next = r.seq + 1;
      if (r.customer == 0) {
        return InvalidArgument(fmt::format("batch first_seq {}: interaction seq {} has customer 0", u->first_seq, r.seq));
      }
      if (r.type != MessageType::kIdentify && r.type != MessageType::kGroup) {
        return InvalidArgument(fmt::format("batch first_seq {}: row seq {} is neither identify nor group", u->first_seq, r.seq));
      }
    }
    for (const CustomerSeen& c : u->seen) {
      if (c.customer == 0) return InvalidArgument(fmt::format("batch first_seq {}: counters of customer 0", u->first_seq));
    }
    const uint64_t end = u->end_seq;
    // Already reflected: a batch with interactions is covered when all its seqs are below the
    // watermark; an op-only batch when it precedes it (at the watermark its ops are re-applied,
    // idempotently — docs/format/profiles.md).
    if (end > u->first_seq ? end <= watermark : u->first_seq < watermark) {
      ++skipped;
      continue;
    }
    if (u->first_seq < watermark) {
      return Corruption(fmt::format("batch [{}, {}) straddles the applied watermark {}", u->first_seq, end, watermark));
    }
    todo.push_back(u);
    watermark = std::max(watermark, end);
  }
  batches_skipped_.fetch_add(skipped, std::memory_order_relaxed);
  if (todo.empty()) return Status::Ok();

  uint64_t interactions = 0, unparsed = 0, trait_rows = 0;
  ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(write_db_.get(), Transaction::Mode::kImmediate));
  RETURN_IF_ERROR(writer_->Apply(todo, &interactions, &unparsed, &trait_rows));
  {
    ASSIGN_OR_RETURN(Stmt s, write_db_->Prepare("UPDATE meta SET value = ?1 WHERE key = 'applied_seq'"));
    RETURN_IF_ERROR(s.BindU64(1, watermark).Run());
  }
  RETURN_IF_ERROR(txn.Commit());
  applied_seq_.store(watermark, std::memory_order_release);
  batches_applied_.fetch_add(todo.size(), std::memory_order_relaxed);
  interactions_applied_.fetch_add(interactions, std::memory_order_relaxed);
  payloads_unparsed_.fetch_add(unparsed, std::memory_order_relaxed);
  trait_rows_written_.fetch_add(trait_rows, std::memory_order_relaxed);
  return Status::Ok();
}

Status ProfileStore::Sync() {
  std::lock_guard lock(write_mu_);
  RETURN_IF_ERROR(write_db_->Exec("PRAGMA synchronous=FULL"));
  Status s = [&]() -> Status {
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(write_db_.get(), Transaction::Mode::kImmediate));
    {
      ASSIGN_OR_RETURN(Stmt st, write_db_->Prepare("UPDATE meta SET value = ?1 WHERE key = 'durable_seq'"));
      RETURN_IF_ERROR(st.BindU64(1, applied_seq()).Run());
    }
    return txn.Commit();
  }();
  Status restore = write_db_->Exec("PRAGMA synchronous=NORMAL");
  return s.ok() ? restore : s;
}

Status ProfileStore::EraseCustomers(const std::vector<CustomerId>& ids) {
  std::lock_guard lock(write_mu_);
  RETURN_IF_ERROR(write_db_->SecureDelete());
  {
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(write_db_.get(), Transaction::Mode::kImmediate));
    static constexpr std::string_view kDeletes[] = {
        "DELETE FROM customers WHERE id = ?1",
        "DELETE FROM traits WHERE customer = ?1",
        "DELETE FROM groups WHERE customer = ?1",
        "DELETE FROM merges WHERE from_customer = ?1 OR into_customer = ?1",
        "DELETE FROM identity_ops WHERE customer = ?1 OR from_customer = ?1",
    };
    for (CustomerId id : ids) {
      for (std::string_view sql : kDeletes) {
        ASSIGN_OR_RETURN(Stmt st, write_db_->Prepare(sql));
        RETURN_IF_ERROR(st.BindU64(1, id).Run());
      }
    }
    RETURN_IF_ERROR(txn.Commit());
  }
  // The read connection must hold no snapshot for the checkpoint to truncate the -wal file.
  std::lock_guard read_lock(read_mu_);
  return write_db_->Scrub();
}

Result<Profile> ProfileStore::GetProfile(CustomerId root, const std::vector<CustomerId>& members) {
  std::vector<CustomerId> ids(members);
  ids.push_back(root);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  ids.erase(std::remove(ids.begin(), ids.end(), CustomerId{0}), ids.end());

  struct Versioned {
    int64_t set_at_ms;
    int64_t seq;
    std::string value_json;
  };
  Profile p;
  p.id = root;
  bool found = false, seen = false;
  std::vector<std::pair<int64_t, Identity>> identities;  // (ord, identity)
  std::map<std::string, Versioned> traits;
  std::map<std::string, int64_t> groups;  // group_id → joined_at_ms

  std::lock_guard lock(read_mu_);
  SqliteDb* db = read_db_.get();
  // One read transaction: every query below sees the same snapshot, even while the writer commits.
  ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db, Transaction::Mode::kDeferred));
  for (CustomerId id : ids) {
    // Members come from the IdentityResolver, which is authoritative: they are listed even if
    // this file has no row for them yet.
    if (id != root) p.merged_from.push_back(id);
    bool found_id = false;
    {
      ASSIGN_OR_RETURN(Stmt s, db->Prepare("SELECT first_seen_ms, last_seen_ms, interaction_count FROM customers "
                                           "WHERE id = ?1"));
      ASSIGN_OR_RETURN(bool row, s.BindU64(1, id).Step());
      if (row) {
        found_id = true;
        if (!s.IsNull(0)) {
          p.first_seen_ms = seen ? std::min(p.first_seen_ms, s.Int64(0)) : s.Int64(0);
          p.last_seen_ms = seen ? std::max(p.last_seen_ms, s.Int64(1)) : s.Int64(1);
          seen = true;
        }
        p.interaction_count += s.U64(2);
      }
    }
    {
      // Links in the journal (index identity_ops_links). A linked id counts as present, as its
      // customers row did before schema v2 (links no longer write one).
      ASSIGN_OR_RETURN(Stmt s, db->Prepare("SELECT ord, key FROM identity_ops WHERE customer = ?1 AND kind = 1"));
      s.BindU64(1, id);
      while (true) {
        ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        found_id = true;
        const std::string_view key = s.Text(1);
        identities.push_back({s.Int64(0), Identity{std::string(KindName(key)), std::string(key.substr(2))}});
      }
    }
    if (!found_id) continue;  // an id this file has nothing of: no traits or groups read either
    found = true;
    {
      ASSIGN_OR_RETURN(Stmt s,
                       db->Prepare("SELECT key, value_json, set_at_ms, set_seq FROM traits WHERE customer = ?1"));
      s.BindU64(1, id);
      while (true) {
        ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        Versioned v{s.Int64(2), s.Int64(3), std::string(s.Text(1))};
        auto [it, inserted] = traits.try_emplace(std::string(s.Text(0)), v);
        if (!inserted && std::tie(v.set_at_ms, v.seq) > std::tie(it->second.set_at_ms, it->second.seq)) {
          it->second = std::move(v);
        }
      }
    }
    {
      ASSIGN_OR_RETURN(Stmt s, db->Prepare("SELECT group_id, joined_at_ms FROM groups WHERE customer = ?1"));
      s.BindU64(1, id);
      while (true) {
        ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        auto [it, inserted] = groups.try_emplace(std::string(s.Text(0)), s.Int64(1));
        if (!inserted) it->second = std::min(it->second, s.Int64(1));
      }
    }
  }
  if (!found) return NotFound(fmt::format("customer c:{} not found in profiles", root));

  std::sort(identities.begin(), identities.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [ord, identity] : identities) p.identities.push_back(std::move(identity));
  for (auto& [key, v] : traits) p.traits.push_back(Trait{key, std::move(v.value_json), v.set_at_ms});
  for (const auto& [group_id, joined_at] : groups) {
    GroupMembership g{group_id, "{", joined_at};
    ASSIGN_OR_RETURN(Stmt s, db->Prepare("SELECT key, value_json FROM group_traits WHERE group_id = ?1 ORDER BY key"));
    s.Bind(1, group_id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      if (g.traits_json.size() > 1) g.traits_json += ',';
      AppendJsonString(&g.traits_json, s.Text(0));
      g.traits_json += ':';
      g.traits_json += s.Text(1);
    }
    g.traits_json += '}';
    p.groups.push_back(std::move(g));
  }
  RETURN_IF_ERROR(txn.Commit());
  return p;
}

Result<std::vector<IdentityOp>> ProfileStore::LoadIdentityOps() {
  std::lock_guard lock(read_mu_);
  std::vector<IdentityOp> ops;
  ASSIGN_OR_RETURN(Stmt s,
                   read_db_->Prepare("SELECT kind, customer, from_customer, key FROM identity_ops ORDER BY ord"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    IdentityOp op;
    op.kind = s.Int64(0) == 2 ? IdentityOp::Kind::kMerge : IdentityOp::Kind::kLink;
    op.customer = s.U64(1);
    if (op.kind == IdentityOp::Kind::kMerge) {
      op.from = s.U64(2);
    } else {
      op.key = std::string(s.Text(3));
    }
    ops.push_back(std::move(op));
  }
  return ops;
}

ProfileStoreStats ProfileStore::stats() const {
  ProfileStoreStats st;
  st.batches_applied = batches_applied_.load(std::memory_order_relaxed);
  st.batches_skipped = batches_skipped_.load(std::memory_order_relaxed);
  st.interactions_applied = interactions_applied_.load(std::memory_order_relaxed);
  st.payloads_unparsed = payloads_unparsed_.load(std::memory_order_relaxed);
  st.trait_rows_written = trait_rows_written_.load(std::memory_order_relaxed);
  return st;
}

}  // namespace cairn::entity
