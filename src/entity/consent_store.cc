#include "entity/consent_store.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "entity/sqlite_db.h"
#include "ingest/timestamp.h"

namespace cairn::entity {

namespace {

constexpr uint32_t kApplicationId = 0x43434E53;  // "CCNS"

// Schema version 1 (docs/format/consents.md). Never edit a released step: add a new one.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('applied_seq', 0);
CREATE TABLE consent_records (
  id INTEGER PRIMARY KEY,
  customer INTEGER NOT NULL,
  purpose TEXT NOT NULL,
  channel TEXT NOT NULL,
  state INTEGER NOT NULL CHECK (state IN (1, 2, 3)),
  lawful_basis TEXT NOT NULL,
  source TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  recorded_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER,
  seq INTEGER,
  proof TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX consent_records_seq ON consent_records (seq, purpose, channel) WHERE seq IS NOT NULL;
CREATE INDEX consent_records_customer ON consent_records (customer, purpose, channel, at_ms);
CREATE INDEX consent_records_purpose ON consent_records (purpose, at_ms);
)sql";

constexpr std::string_view kColumns =
    "id, customer, purpose, channel, state, lawful_basis, source, at_ms, recorded_at_ms, expires_at_ms, seq, proof, note";

ConsentRecord ReadRow(const Stmt& s) {
  ConsentRecord r;
  r.id = s.Int64(0);
  r.customer = s.U64(1);
  r.purpose = s.Text(2);
  r.channel = s.Text(3);
  r.state = static_cast<ConsentState>(s.Int64(4));
  r.lawful_basis = s.Text(5);
  r.source = s.Text(6);
  r.at_ms = s.Int64(7);
  r.recorded_at_ms = s.Int64(8);
  if (!s.IsNull(9)) r.expires_at_ms = s.Int64(9);
  if (!s.IsNull(10)) r.seq = s.U64(10);
  r.proof = s.Text(11);
  r.note = s.Text(12);
  return r;
}

bool ReadState(simdjson::dom::element e, ConsentState* out) {
  bool b;
  if (e.get_bool().get(b) == simdjson::SUCCESS) {
    *out = b ? ConsentState::kGranted : ConsentState::kDenied;
    return true;
  }
  std::string_view s;
  return e.get_string().get(s) == simdjson::SUCCESS && ParseConsentState(s, out);
}

// expires_at: ISO-8601 text or epoch milliseconds.
std::optional<int64_t> ReadTime(simdjson::dom::element e) {
  int64_t ms;
  double d;
  std::string_view s;
  if (e.get_int64().get(ms) == simdjson::SUCCESS) return ms;
  if (e.get_double().get(d) == simdjson::SUCCESS) return static_cast<int64_t>(d);
  if (e.get_string().get(s) == simdjson::SUCCESS && ingest::ParseIso8601Ms(s, &ms)) return ms;
  return std::nullopt;
}

std::string ReadString(simdjson::dom::element obj, std::string_view key) {
  std::string_view s;
  if (obj[key].get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return {};
}

// A full statement object {state|granted|status, channel, lawful_basis, expires_at, source};
// false when it has no readable state.
bool ReadStatement(simdjson::dom::element obj, ConsentRecord* r) {
  simdjson::dom::element flag;
  bool have = false;
  for (std::string_view key : {"state", "granted", "status"}) {
    if (obj[key].get(flag) == simdjson::SUCCESS && ReadState(flag, &r->state)) {
      have = true;
      break;
    }
  }
  if (!have) return false;
  std::string channel = ReadString(obj, "consent_channel");
  if (channel.empty()) channel = ReadString(obj, "channel");
  r->channel = channel.empty() ? std::string(kAllChannels) : channel;
  if (std::string basis = ReadString(obj, "lawful_basis"); !basis.empty()) r->lawful_basis = basis;
  simdjson::dom::element t;
  if (obj["expires_at"].get(t) == simdjson::SUCCESS) r->expires_at_ms = ReadTime(t);
  r->note = ReadString(obj, "source");
  return true;
}

bool Later(const ConsentRecord& a, const ConsentRecord& b) { return std::tie(a.at_ms, a.id) > std::tie(b.at_ms, b.id); }

}  // namespace

ConsentStore::ConsentStore(std::unique_ptr<SqliteDb> db, Clock* clock, uint64_t applied_seq)
    : db_(std::move(db)), clock_(clock), applied_seq_(applied_seq) {}

ConsentStore::~ConsentStore() = default;

Result<std::unique_ptr<ConsentStore>> ConsentStore::Open(const std::string& path, ConsentStoreOptions options) {
  SqliteOptions so;
  so.full_sync = true;  // an acknowledged consent survives a power cut; batches: ApplyBatch, Sync
                        // (docs/format/consents.md)
  so.cache_bytes = 4u << 20;
  so.commits = options.commits;
  ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, so));
  RETURN_IF_ERROR(db->Migrate(kApplicationId, {kSchemaV1}));
  ASSIGN_OR_RETURN(int64_t applied, db->QueryInt("SELECT value FROM meta WHERE key = 'applied_seq'"));
  Clock* clock = options.clock ? options.clock : Clock::Real();
  return std::unique_ptr<ConsentStore>(new ConsentStore(std::move(db), clock, static_cast<uint64_t>(applied)));
}

std::vector<ConsentRecord> ConsentStore::FromInteraction(const store::Interaction& in) {
  std::vector<ConsentRecord> out;
  const bool is_track = in.type == store::MessageType::kTrack && in.event == "Consent Updated";
  const bool is_identify = in.type == store::MessageType::kIdentify;
  if (!is_track && !is_identify) return out;
  if (is_identify && in.payload.find("\"consent") == std::string::npos) return out;  // cheap skip
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(in.payload).get(doc) != simdjson::SUCCESS) return out;

  ConsentRecord base;
  base.customer = in.customer;
  base.at_ms = in.timestamp_ms;
  base.seq = in.seq;
  base.proof = in.message_id.empty() ? fmt::format("seq:{}", in.seq) : "message:" + in.message_id;
  base.source = is_track ? "event" : "identify";

  if (is_track) {
    simdjson::dom::element props;
    if (doc["properties"].get(props) != simdjson::SUCCESS) return out;
    ConsentRecord r = base;
    r.purpose = ReadString(props, "purpose");
    if (!r.purpose.empty() && ReadStatement(props, &r)) out.push_back(std::move(r));
    return out;
  }

  simdjson::dom::element traits;
  if (doc["traits"].get(traits) != simdjson::SUCCESS) return out;
  simdjson::dom::array list;
  if (traits["consents"].get_array().get(list) == simdjson::SUCCESS) {
    for (simdjson::dom::element e : list) {
      ConsentRecord r = base;
      r.purpose = ReadString(e, "purpose");
      if (!r.purpose.empty() && ReadStatement(e, &r)) out.push_back(std::move(r));
    }
  }
  simdjson::dom::object consent;
  if (traits["consent"].get_object().get(consent) == simdjson::SUCCESS) {
    for (auto [key, value] : consent) {
      ConsentRecord r = base;
      ConsentState state;
      simdjson::dom::object obj;
      if (ReadState(value, &state)) {  // "marketing": true | "marketing.email": "denied"
        size_t dot = key.find('.');
        r.purpose = std::string(key.substr(0, dot));
        r.channel = dot == std::string_view::npos ? std::string(kAllChannels) : std::string(key.substr(dot + 1));
        r.state = state;
        if (!r.purpose.empty() && !r.channel.empty()) out.push_back(std::move(r));
      } else if (value.get_object().get(obj) == simdjson::SUCCESS) {
        r.purpose = std::string(key);
        if (ReadStatement(value, &r)) {  // {"state": ..., "channel": ...}
          out.push_back(std::move(r));
          continue;
        }
        for (auto [channel, flag] : obj) {  // {"email": true, "sms": "denied"}
          ConsentRecord c = base;
          c.purpose = std::string(key);
          c.channel = std::string(channel);
          if (ReadState(flag, &c.state) && !c.channel.empty()) out.push_back(std::move(c));
        }
      }
    }
  }
  return out;
}

Status ConsentStore::InsertLocked(const ConsentRecord& r, int64_t now_ms) {
  ASSIGN_OR_RETURN(Stmt s, db_->Prepare(
                               "INSERT OR IGNORE INTO consent_records (customer, purpose, channel, state, lawful_basis, "
                               "source, at_ms, recorded_at_ms, expires_at_ms, seq, proof, note) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
  s.BindU64(1, r.customer).Bind(2, r.purpose).Bind(3, r.channel).Bind(4, static_cast<int64_t>(r.state));
  s.Bind(5, r.lawful_basis).Bind(6, r.source.empty() ? std::string_view("api") : std::string_view(r.source));
  s.Bind(7, r.at_ms).Bind(8, now_ms);
  if (r.expires_at_ms) s.Bind(9, *r.expires_at_ms);
  else s.BindNull(9);
  if (r.seq != 0) s.BindU64(10, r.seq);
  else s.BindNull(10);
  s.Bind(11, r.proof).Bind(12, r.note);
  return s.Run();
}

Status ConsentStore::ApplyBatch(const store::Batch& batch) {
  if (batch.interactions.empty()) return Status::Ok();
  const uint64_t last = batch.first_seq + batch.interactions.size() - 1;
  if (last <= applied_seq()) return Status::Ok();  // recorded before (WAL replay)
  std::vector<ConsentRecord> records;
  for (const auto& in : batch.interactions) {
    auto found = FromInteraction(in);
    for (auto& r : found) records.push_back(std::move(r));
  }
  if (records.empty()) return Status::Ok();  // the common case: no write at all
  std::lock_guard lock(mu_);
  const int64_t now = clock_->NowMillis();
  // The connection is FULL for API writes; a batch's statements commit without their own fsync.
  RETURN_IF_ERROR(db_->Exec("PRAGMA synchronous=NORMAL"));
  Status written = [&]() -> Status {
    ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get(), Transaction::Mode::kImmediate));
    for (const auto& r : records) RETURN_IF_ERROR(InsertLocked(r, now));
    {
      ASSIGN_OR_RETURN(Stmt s, db_->Prepare("UPDATE meta SET value = ?1 WHERE key = 'applied_seq'"));
      RETURN_IF_ERROR(s.BindU64(1, last).Run());
    }
    return tx.Commit();
  }();
  Status restored = db_->Exec("PRAGMA synchronous=FULL");
  RETURN_IF_ERROR(written);
  RETURN_IF_ERROR(restored);
  if (unsynced_from_.load(std::memory_order_relaxed) == UINT64_MAX) {
    unsynced_from_.store(batch.first_seq, std::memory_order_release);
  }
  applied_seq_.store(last, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

Status ConsentStore::Sync() {
  std::lock_guard lock(mu_);
  if (unsynced_from_.load(std::memory_order_relaxed) == UINT64_MAX) return Status::Ok();
  // A FULL commit fsyncs SQLite's WAL file, which holds every earlier NORMAL commit too.
  ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get(), Transaction::Mode::kImmediate));
  {
    ASSIGN_OR_RETURN(Stmt s, db_->Prepare("UPDATE meta SET value = ?1 WHERE key = 'applied_seq'"));
    RETURN_IF_ERROR(s.BindU64(1, applied_seq()).Run());
  }
  RETURN_IF_ERROR(tx.Commit());
  unsynced_from_.store(UINT64_MAX, std::memory_order_release);
  return Status::Ok();
}

Status ConsentStore::Record(store::CustomerId customer, std::vector<ConsentRecord> records) {
  if (customer == 0) return InvalidArgument("customer: required");
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    if (r.purpose.empty()) return InvalidArgument(fmt::format("consents[{}].purpose: required", i));
    if (r.channel.empty()) return InvalidArgument(fmt::format("consents[{}].channel: required", i));
    if (r.lawful_basis.empty()) return InvalidArgument(fmt::format("consents[{}].lawful_basis: required", i));
  }
  std::lock_guard lock(mu_);
  const int64_t now = clock_->NowMillis();
  ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get(), Transaction::Mode::kImmediate));
  for (auto& r : records) {
    r.customer = customer;
    r.seq = 0;
    if (r.source.empty()) r.source = "api";
    RETURN_IF_ERROR(InsertLocked(r, now));
  }
  RETURN_IF_ERROR(tx.Commit());
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

Result<std::vector<ConsentRecord>> ConsentStore::History(const std::vector<store::CustomerId>& members) {
  std::vector<ConsentRecord> out;
  std::lock_guard lock(mu_);
  for (store::CustomerId c : members) {
    ASSIGN_OR_RETURN(Stmt s, db_->Prepare(fmt::format("SELECT {} FROM consent_records WHERE customer = ?1", kColumns)));
    s.BindU64(1, c);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadRow(s));
    }
  }
  std::sort(out.begin(), out.end(), [](const ConsentRecord& a, const ConsentRecord& b) { return Later(b, a); });
  return out;
}

Result<std::vector<ConsentRecord>> ConsentStore::RecordsForPurpose(std::string_view purpose) {
  std::vector<ConsentRecord> out;
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Stmt s, db_->Prepare(fmt::format(
                               "SELECT {} FROM consent_records WHERE purpose = ?1 ORDER BY at_ms, id", kColumns)));
  s.Bind(1, purpose);
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadRow(s));
  }
  return out;
}

Status ConsentStore::EraseCustomers(const std::vector<uint64_t>& ids) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(db_->Exec("PRAGMA secure_delete = ON"));
  {
    ASSIGN_OR_RETURN(auto tx, Transaction::Begin(db_.get(), Transaction::Mode::kImmediate));
    for (uint64_t id : ids) {
      ASSIGN_OR_RETURN(Stmt s, db_->Prepare("DELETE FROM consent_records WHERE customer = ?1"));
      RETURN_IF_ERROR(s.BindU64(1, id).Run());
    }
    RETURN_IF_ERROR(tx.Commit());
  }
  // Freed pages were zeroed by secure_delete; VACUUM rewrites the file without them and the
  // checkpoint empties SQLite's WAL, which still held the deleted rows' old pages.
  RETURN_IF_ERROR(db_->Exec("VACUUM"));
  RETURN_IF_ERROR(db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

std::vector<ConsentCurrent> ConsentStore::Current(const std::vector<ConsentRecord>& history, int64_t now_ms) {
  std::map<std::pair<std::string, std::string>, const ConsentRecord*> latest;
  for (const auto& r : history) {
    auto& slot = latest[{r.purpose, r.channel}];
    if (slot == nullptr || Later(r, *slot)) slot = &r;
  }
  std::vector<ConsentCurrent> out;
  out.reserve(latest.size());
  for (const auto& [key, r] : latest) {
    ConsentCurrent c;
    c.purpose = key.first;
    c.channel = key.second;
    c.expired = r->expires_at_ms && *r->expires_at_ms <= now_ms;
    c.record = *r;
    out.push_back(std::move(c));
  }
  return out;
}

ConsentVerdict ConsentStore::Decide(const std::vector<ConsentRecord>& history, std::string_view purpose,
                                    std::string_view channel, int64_t now_ms) {
  const ConsentRecord* exact = nullptr;
  const ConsentRecord* all = nullptr;
  for (const auto& r : history) {
    if (r.purpose != purpose) continue;
    const ConsentRecord** slot = r.channel == channel ? &exact : r.channel == kAllChannels ? &all : nullptr;
    if (slot != nullptr && (*slot == nullptr || Later(r, **slot))) *slot = &r;
  }
  auto live = [now_ms](const ConsentRecord* r) { return r && !(r->expires_at_ms && *r->expires_at_ms <= now_ms); };
  const ConsentRecord* pick = nullptr;
  if (live(exact) && live(all)) pick = exact->at_ms >= all->at_ms ? exact : all;
  else if (live(exact)) pick = exact;
  else if (live(all)) pick = all;
  ConsentVerdict v;
  if (pick != nullptr) {
    v.state = pick->state;
    v.record = *pick;
  } else if (exact != nullptr || all != nullptr) {
    v.expired = true;
    v.record = exact ? *exact : *all;
  }
  return v;
}

}  // namespace cairn::entity
