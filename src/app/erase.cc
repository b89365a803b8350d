#include "app/erase.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>

#include <fmt/format.h>

#include "app/consent_wiring.h"
#include "app/hub.h"
#include "app/rescue_files.h"
#include "base/logging.h"
#include "base/thread_name.h"
#include "store/segment_iterator.h"
#include "store/segment_reader.h"

namespace cairn::app {
namespace {

constexpr uint32_t kApplicationId = 0x43455241;  // "CERA"

// Schema steps (docs/format/erasures.md). Never edit a released step: add a new one.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE secret (id INTEGER PRIMARY KEY CHECK (id = 1), key BLOB NOT NULL);
CREATE TABLE erasures (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subject_hash BLOB NOT NULL,
  requested_at_ms INTEGER NOT NULL,
  requested_by TEXT NOT NULL,
  suppress INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'completed')),
  customers TEXT,
  completed_at_ms INTEGER,
  customers_erased INTEGER NOT NULL DEFAULT 0,
  interactions_erased INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE suppressed (hash BLOB PRIMARY KEY NOT NULL, erasure_id INTEGER NOT NULL) WITHOUT ROWID;
)sql";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string JoinIds(const std::vector<store::CustomerId>& ids) {
  std::string out;
  for (auto id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(id);
  }
  return out;
}

Result<std::vector<store::CustomerId>> ParseIds(std::string_view text) {
  std::vector<store::CustomerId> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    store::CustomerId id = 0;
    auto r = std::from_chars(part.data(), part.data() + part.size(), id);
    if (r.ec != std::errc() || r.ptr != part.data() + part.size()) return Corruption("erasures.db: bad customers list");
    out.push_back(id);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

// Retries a step that another reader or a pending re-derivation may briefly block.
Status Retry(const std::function<Status()>& step, const char* what) {
  Status s;
  for (int attempt = 0; attempt < 50; ++attempt) {
    s = step();
    if (s.ok() || (s.code() != Code::kUnavailable && s.code() != Code::kFailedPrecondition)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return s.ok() ? s : s.WithContext(what);
}

}  // namespace

Eraser::Eraser(Hub* hub) : hub_(hub) {}

Result<std::unique_ptr<Eraser>> Eraser::Open(Hub* hub) {
  std::unique_ptr<Eraser> e(new Eraser(hub));
  RETURN_IF_ERROR(e->Init());
  return e;
}

Eraser::~Eraser() { Stop(); }

Status Eraser::Init() {
  if (sodium_init() < 0) return Internal("libsodium initialisation failed");
  if (const char* d = std::getenv("CAIRN_TEST_ERASURE_DELAY_MS")) test_delay_ms_ = std::atoll(d);
  entity::SqliteOptions so;
  so.full_sync = true;  // a request is durable when acknowledged
  so.cache_bytes = 1u << 20;
  ASSIGN_OR_RETURN(db_, entity::SqliteDb::Open(io::JoinPath(hub_->options_.data_dir, "erasures.db"), so));
  RETURN_IF_ERROR(db_->Migrate(kApplicationId, {kSchemaV1}));
  RETURN_IF_ERROR(db_->SecureDelete());
  {
    ASSIGN_OR_RETURN(entity::Stmt q, db_->Prepare("SELECT key FROM secret WHERE id = 1"));
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) secret_ = std::string(q.Text(0));
  }
  if (secret_.size() != crypto_generichash_KEYBYTES) {
    secret_.assign(crypto_generichash_KEYBYTES, '\0');
    randombytes_buf(secret_.data(), secret_.size());
    ASSIGN_OR_RETURN(entity::Stmt ins, db_->Prepare("INSERT OR REPLACE INTO secret (id, key) VALUES (1, ?1)"));
    RETURN_IF_ERROR(ins.BindBlob(1, secret_).Run());
  }
  {
    ASSIGN_OR_RETURN(entity::Stmt q, db_->Prepare("SELECT hash FROM suppressed"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      suppressed_.insert(std::string(q.Text(0)));
    }
    any_suppressed_ = !suppressed_.empty();
  }
  // Ids of erased customers are never handed out again (the resolver, rebuilt from profiles.db
  // without them, would otherwise restart below them).
  auto floor = db_->QueryInt("SELECT value FROM meta WHERE key = 'next_customer_id'");
  if (floor.ok()) hub_->identity_->EnsureNextId(static_cast<store::CustomerId>(*floor));
  hub_->pipeline_->SetSuppression([this](std::string_view key) { return IsSuppressed(key); });

  // Resume what a crash interrupted, before the hub accepts anything.
  std::vector<std::pair<uint64_t, std::vector<store::CustomerId>>> pending;
  {
    ASSIGN_OR_RETURN(entity::Stmt q, db_->Prepare("SELECT id, customers FROM erasures WHERE status = 'pending' ORDER BY id"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ASSIGN_OR_RETURN(auto ids, ParseIds(q.IsNull(1) ? "" : q.Text(1)));
      pending.emplace_back(static_cast<uint64_t>(q.Int64(0)), std::move(ids));
    }
  }
  for (const auto& [id, customers] : pending) {
    LOG_INFO("erasure {}: resuming ({} customer ids)", id, customers.size());
    RETURN_IF_ERROR(Run(id, customers).WithContext(fmt::format("resuming erasure {}", id)));
  }
  worker_ = std::thread([this] {
    NameThisThread("erasure");
    WorkerLoop();
  });
  return Status::Ok();
}

std::string Eraser::KeyedHash(std::string_view text) const {
  std::string out(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                     reinterpret_cast<const unsigned char*>(secret_.data()), secret_.size());
  return out;
}

bool Eraser::IsSuppressed(std::string_view key) const {
  if (!any_suppressed_.load(std::memory_order_acquire)) return false;
  std::string h = KeyedHash(key);
  std::shared_lock lock(sup_mu_);
  return suppressed_.count(h) > 0;
}

void Eraser::OnErased(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  on_erased_.push_back(std::move(fn));
}

void Eraser::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Result<store::ErasureView> Eraser::Erase(const store::ErasureRequest& request, int64_t wait_ms) {
  if (request.customer.empty()) return InvalidArgument("customer: an identity is required");
  store::CustomerId root = hub_->Resolve(request.customer);
  if (root == 0) return NotFound("no customer with identity '" + request.customer + "'");
  std::vector<store::CustomerId> customers = hub_->identity_->Members(root);
  if (customers.empty()) customers.push_back(root);
  std::vector<std::string> hashes;
  if (request.suppress)
    for (const std::string& key : hub_->identity_->Keys(root)) hashes.push_back(KeyedHash(key));
  uint64_t id = 0;
  {
    // 1. Record: durable (synchronous=FULL) before the caller hears anything.
    std::lock_guard lock(db_mu_);
    ASSIGN_OR_RETURN(entity::Transaction txn, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
    {
      ASSIGN_OR_RETURN(entity::Stmt ins, db_->Prepare(
          "INSERT INTO erasures (subject_hash, requested_at_ms, requested_by, suppress, status, customers) "
          "VALUES (?1, ?2, ?3, ?4, 'pending', ?5)"));
      RETURN_IF_ERROR(ins.BindBlob(1, KeyedHash(request.customer))
                          .Bind(2, NowMs())
                          .Bind(3, request.requested_by.empty() ? std::string_view("unknown") : std::string_view(request.requested_by))
                          .Bind(4, int64_t{request.suppress})
                          .Bind(5, JoinIds(customers))
                          .Run());
    }
    id = static_cast<uint64_t>(db_->last_insert_rowid());
    for (const auto& h : hashes) {
      ASSIGN_OR_RETURN(entity::Stmt ins, db_->Prepare("INSERT OR IGNORE INTO suppressed (hash, erasure_id) VALUES (?1, ?2)"));
      RETURN_IF_ERROR(ins.BindBlob(1, h).Bind(2, static_cast<int64_t>(id)).Run());
    }
    RETURN_IF_ERROR(txn.Commit());
  }
  if (!hashes.empty()) {
    std::unique_lock lock(sup_mu_);
    suppressed_.insert(hashes.begin(), hashes.end());
    any_suppressed_ = true;
  }
  // 2. Hide at once: reads of the customer answer 404 and new snapshots skip their rows.
  for (auto c : customers) hub_->identity_->Erase(c);
  hub_->store_->HideCustomers(customers);
  hub_->dashboard_totals_->Invalidate();  // they counted the hidden rows: rebuilt at the next overview
  LOG_INFO("erasure {}: recorded ({} customer ids{})", id, customers.size(), request.suppress ? ", suppressed" : "");
  {
    std::unique_lock lock(mu_);
    if (stop_) {
      lock.unlock();
      return GetErasure(id);  // resumed at the next open
    }
    queue_.emplace_back(id, customers);
    cv_.notify_all();
    uint64_t target = done_generation_ + queue_.size();
    cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(wait_ms, 0)),
                 [&] { return done_generation_ >= target || stop_; });
  }
  return GetErasure(id);
}

void Eraser::WorkerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    auto [id, customers] = queue_.front();
    lock.unlock();
    if (test_delay_ms_ > 0) {
      lock.lock();
      if (cv_.wait_for(lock, std::chrono::milliseconds(test_delay_ms_), [this] { return stop_; })) return;
      lock.unlock();
    }
    Status s = Run(id, customers);
    if (!s.ok()) LOG_ERROR("erasure {}: {} (resumed at the next start)", id, s.ToString());
    std::vector<std::function<void()>> hooks;
    lock.lock();
    queue_.pop_front();
    ++done_generation_;
    if (s.ok()) hooks = on_erased_;
    cv_.notify_all();
    lock.unlock();
    for (auto& h : hooks) h();  // e.g. the value model refits without them
    lock.lock();
  }
}

Status Eraser::SyncDerived() {
  Hub* h = hub_;
  if (!h->WaitProfilesCurrent(30'000)) return Unavailable("profiles writer is behind");
  uint64_t applied = h->profiles_->applied_seq();
  RETURN_IF_ERROR(h->profiles_->Sync());
  {
    std::lock_guard lock(h->pw_mu_);
    h->pw_synced_seq_ = std::max(h->pw_synced_seq_, applied);
  }
  if (!h->journey_) return Status::Ok();  // journey.enabled: false (no state.bin is kept then)
  h->journey_->Drain(10'000);
  return h->journey_->Persist();
}

Status Eraser::EraseRelational(const std::vector<store::CustomerId>& customers) {
  Hub* h = hub_;
  RETURN_IF_ERROR(Retry([&] { return h->profiles_->EraseCustomers(customers); }, "profiles.db"));
  if (h->journey_) RETURN_IF_ERROR(Retry([&] { return h->journey_->EraseCustomers(customers); }, "journey state"));
  RETURN_IF_ERROR(Retry([&] { return h->cases_->EraseCustomers(customers).status(); }, "cases.db / feedback.db"));
  if (h->consent_) RETURN_IF_ERROR(Retry([&] { return h->consent_->EraseCustomers(customers); }, "consents.db"));
  // Rescue decisions and actions: through the live modules when serving, else the files directly
  // (offline commands run without the rescue stack, and must not send webhooks).
  ASSIGN_OR_RETURN(auto rescue_files, RescueFiles::Open(h->rescue_.get(), h->options_.data_dir));
  if (auto* engine = rescue_files->engine()) {
    RETURN_IF_ERROR(Retry([&] { return engine->EraseCustomers(customers).status(); }, "rescue.db"));
  }
  if (auto* dispatcher = rescue_files->dispatcher()) {
    RETURN_IF_ERROR(Retry([&] { return dispatcher->EraseCustomers(customers).status(); }, "actions.db"));
  }
  return Status::Ok();
}

Status Eraser::Run(uint64_t id, const std::vector<store::CustomerId>& customers) {
  std::lock_guard run(run_mu_);
  Hub* h = hub_;
  // 2. Hide (again, after a restart): the resolver was rebuilt from files that may still hold them.
  for (auto c : customers) h->identity_->Erase(c);
  h->store_->HideCustomers(customers);
  h->dashboard_totals_->Invalidate();
  // 3. Everything acknowledged so far reaches a segment and the profile writer.
  RETURN_IF_ERROR(h->store_->Flush().WithContext("store flush"));
  RETURN_IF_ERROR(Retry([&] { return SyncDerived(); }, "syncing derived state"));
  // De-dup keys of their interactions, read before the rows go. The snapshot filter hides them,
  // so this reads the raw segments (after the flush above they hold every row).
  std::vector<std::pair<uint32_t, std::string>> message_keys;
  if (!customers.empty()) {
    auto snap = h->store_->GetSnapshot();
    std::vector<store::CustomerId> sorted(customers);
    std::sort(sorted.begin(), sorted.end());
    for (const auto& seg : snap->segments()) {
      auto it = seg->NewIterator(store::segment::Bit(store::segment::Column::kSource) |
                                 store::segment::Bit(store::segment::Column::kMessageId) |
                                 store::segment::Bit(store::segment::Column::kCustomer));
      for (it->Seek(sorted.front()); it->Valid(); it->Next()) {
        if (it->customer() > sorted.back()) break;
        if (std::binary_search(sorted.begin(), sorted.end(), it->customer()))
          message_keys.emplace_back(it->row().source, it->row().message_id);
      }
      RETURN_IF_ERROR(it->status().WithContext("reading segments"));
    }
  }
  // 4. Relational and derived state.
  RETURN_IF_ERROR(EraseRelational(customers));
  // 5. De-dup keys, then the interactions themselves: segments rewritten, WAL dropped.
  h->pipeline_->Forget(message_keys);
  uint64_t rows = 0;
  RETURN_IF_ERROR(Retry(
      [&] {
        RETURN_IF_ERROR(SyncDerived());
        return h->store_->Erase(customers, &rows);  // adds up: a retried call drops nothing twice
      },
      "store"));
  // 6. Done: the proof stays, the internal ids go.
  return Complete(id, customers, rows);
}

Status Eraser::Complete(uint64_t id, const std::vector<store::CustomerId>& customers, uint64_t rows) {
  std::lock_guard lock(db_mu_);
  {
    ASSIGN_OR_RETURN(entity::Transaction txn, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
    {
      ASSIGN_OR_RETURN(entity::Stmt up, db_->Prepare(
          "UPDATE erasures SET status = 'completed', customers = NULL, completed_at_ms = ?2, customers_erased = ?3, "
          "interactions_erased = interactions_erased + ?4 WHERE id = ?1 AND status = 'pending'"));
      RETURN_IF_ERROR(up.Bind(1, static_cast<int64_t>(id))
                          .Bind(2, NowMs())
                          .Bind(3, static_cast<int64_t>(customers.size()))
                          .Bind(4, static_cast<int64_t>(rows))
                          .Run());
    }
    store::CustomerId next = 0;
    for (auto c : customers) next = std::max(next, c + 1);
    {
      ASSIGN_OR_RETURN(entity::Stmt m, db_->Prepare(
          "INSERT INTO meta (key, value) VALUES ('next_customer_id', ?1) "
          "ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)"));
      RETURN_IF_ERROR(m.Bind(1, static_cast<int64_t>(next)).Run());
    }
    RETURN_IF_ERROR(txn.Commit());
  }
  RETURN_IF_ERROR(db_->Scrub());
  LOG_INFO("erasure {}: completed ({} customer ids, {} interactions)", id, customers.size(), rows);
  return Status::Ok();
}

Result<store::ErasureView> Eraser::GetErasure(uint64_t id) {
  std::lock_guard lock(db_mu_);
  return Load(id);
}

Result<store::ErasureView> Eraser::Load(uint64_t id) {
  // REQUIRES db_mu_ held.
  ASSIGN_OR_RETURN(entity::Stmt q, db_->Prepare(
      "SELECT id, status, requested_at_ms, COALESCE(completed_at_ms, 0), requested_by, suppress, customers_erased, "
      "interactions_erased FROM erasures WHERE id = ?1"));
  q.Bind(1, static_cast<int64_t>(id));
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFound(fmt::format("no erasure {}", id));
  store::ErasureView v;
  v.id = static_cast<uint64_t>(q.Int64(0));
  v.status = std::string(q.Text(1));
  v.requested_at_ms = q.Int64(2);
  v.completed_at_ms = q.Int64(3);
  v.requested_by = std::string(q.Text(4));
  v.suppress = q.Int64(5) != 0;
  v.customers_erased = static_cast<uint64_t>(q.Int64(6));
  v.interactions_erased = static_cast<uint64_t>(q.Int64(7));
  return v;
}

Status Eraser::CompactAll() {
  std::lock_guard run(run_mu_);
  Hub* h = hub_;
  RETURN_IF_ERROR(h->store_->Flush().WithContext("store flush"));
  RETURN_IF_ERROR(Retry([&] { return SyncDerived(); }, "syncing derived state"));
  // Erasing nobody still runs every file's rewrite: VACUUM + wal_checkpoint(TRUNCATE).
  RETURN_IF_ERROR(EraseRelational({}));
  RETURN_IF_ERROR(Retry(
      [&] {
        RETURN_IF_ERROR(SyncDerived());
        return h->store_->Erase({});
      },
      "store"));
  std::lock_guard lock(db_mu_);
  return db_->Scrub();
}

}  // namespace cairn::app
