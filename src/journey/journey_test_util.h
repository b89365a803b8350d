#pragma once
// Test harness: a real Store (in-memory Env), a real IdentityResolver and a JourneyEngine wired
// like the Hub wires them (store commit hook → engine), with named customers and a fake clock.
// For tests only.

#include <gtest/gtest.h>

#include <cstring>
#include <future>
#include <map>
#include <mutex>

#include "ingest/identity_resolver.h"
#include "io/mem_env.h"
#include "journey/engine.h"
#include "store/store.h"

namespace cairn::journey::testing {

inline constexpr int64_t kBase = 1767225600000;  // 2026-01-01T00:00:00Z

class CollectingListener : public JourneyListener {
 public:
  void OnSignal(const Signal& s) override {
    std::lock_guard lock(mu);
    signals.push_back(s);
  }
  void OnInteraction(store::CustomerId, std::string_view, int64_t, double, bool is_order) override {
    std::lock_guard lock(mu);
    interactions++;
    orders += is_order;
  }
  void OnInteractions(std::span<const Touch> touches) override {
    {
      std::lock_guard lock(mu);
      batches++;
    }
    JourneyListener::OnInteractions(touches);
  }
  std::vector<Signal> Take() {
    std::lock_guard lock(mu);
    return std::exchange(signals, {});
  }
  std::mutex mu;
  std::vector<Signal> signals;
  int interactions = 0, orders = 0;
  int batches = 0;  // OnInteractions calls
};

class Harness {
 public:
  explicit Harness(std::shared_ptr<const JourneyMap> map, std::string dir = "", io::Env* env = nullptr)
      : env_(env ? env : &mem_), dir_(std::move(dir)), map_(std::move(map)) {
    identity_ = std::make_unique<ingest::IdentityResolver>(ingest::DefaultIdentityOptions(), &metrics_);
    OpenEngine();
    OpenStore();
  }
  ~Harness() {
    Close();
    store.reset();  // before the Env and registry they use (declared after them)
    engine.reset();
  }

  void OpenEngine() {
    EngineOptions o;
    o.dir = dir_;
    o.env = env_;
    o.clock = &clock;
    o.background = false;
    o.metrics = &metrics_;
    auto e = JourneyEngine::Open(map_, o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine = std::move(*e);
    engine->SetIdentity(identity_.get());
    engine->SetResolver([this](const std::string& name) -> store::CustomerId {
      auto it = ids_.find(name);
      return it == ids_.end() ? 0 : identity_->Find(it->second);
    });
    engine->AddListener(&listener);
    // What the value module would say of each customer (golden `value` lines); none by default.
    engine->SetValueFacts([this](store::CustomerId c) -> std::optional<ValueFacts> {
      std::lock_guard lock(facts_mu);
      auto it = value_facts.find(c);
      if (it == value_facts.end()) return std::nullopt;
      return it->second;
    });
  }
  void OpenStore() {
    store::StoreOptions so;
    so.background_work = false;
    so.metrics = &metrics_;
    store::StoreListener sl;
    sl.on_commit = [this](const store::Batch& b, bool recovered) { engine->OnCommit(b, recovered); };
    auto s = store::Store::Open(env_, "/store", so, sl);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store = std::move(*s);
    engine->SetStore(store.get());
    ASSERT_TRUE(engine->FinishRecovery().ok());
  }
  // Simulates a restart: the engine persists, both close, both reopen (identity state survives,
  // as profiles.db would keep it).
  void Restart() {
    ASSERT_TRUE(store->Close().ok());
    ASSERT_TRUE(engine->Close().ok());
    store.reset();
    engine.reset();
    OpenEngine();
    OpenStore();
  }
  void Close() {
    if (store) (void)store->Close();
    if (engine) (void)engine->Close();
  }

  store::CustomerId Id(const std::string& name, std::vector<store::IdentityOp>* ops) {
    auto it = ids_.find(name);
    if (it != ids_.end()) return identity_->Find(it->second);
    store::IdentityOp op;
    op.kind = store::IdentityOp::Kind::kLink;
    op.customer = next_id_++;
    op.key = "u:" + name;
    EXPECT_TRUE(identity_->Apply(op).ok());
    ops->push_back(op);
    ids_[name] = op.customer;
    return op.customer;
  }
  ingest::IdentityResolver* identity() { return identity_.get(); }
  store::CustomerId Root(const std::string& name) {
    auto it = ids_.find(name);
    return it == ids_.end() ? 0 : identity_->Find(it->second);
  }

  void Append(store::Batch b) {
    std::promise<Status> p;
    auto f = p.get_future();
    Status s = store->Append(std::move(b), [&p](Status st) { p.set_value(st); });
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(f.get().ok());
    // Generous: under TSan on a loaded 2-core machine the default 5 s has run out.
    ASSERT_TRUE(engine->Drain(60'000));
  }

  // One interaction; `props` is the JSON object of properties (traits for identify).
  void Send(const std::string& name, store::MessageType type, const std::string& event, int64_t ts, const std::string& props = "{}",
            double revenue = 0) {
    store::Batch b;
    store::Interaction r;
    r.customer = Id(name, &b.identity_ops);
    r.timestamp_ms = ts;
    r.received_at_ms = ts;
    r.type = type;
    r.event = event;
    r.revenue = revenue;
    r.message_id = "m" + std::to_string(++msg_);
    std::string field = type == store::MessageType::kIdentify ? "traits" : "properties";
    r.payload = "{\"type\":\"" + std::string(store::MessageTypeName(type)) + "\",\"userId\":\"" + name + "\"" +
                (event.empty() ? "" : ",\"event\":\"" + event + "\"") + ",\"" + field + "\":" + props + "}";
    b.interactions.push_back(std::move(r));
    Append(std::move(b));
  }
  void Track(const std::string& name, const std::string& event, int64_t ts, const std::string& props = "{}", double revenue = 0) {
    Send(name, store::MessageType::kTrack, event, ts, props, revenue);
  }

  // `from` is merged into `into`.
  void Merge(const std::string& into, const std::string& from) {
    store::Batch b;
    store::IdentityOp op;
    op.kind = store::IdentityOp::Kind::kMerge;
    op.customer = Id(into, &b.identity_ops);
    op.from = Id(from, &b.identity_ops);
    ASSERT_TRUE(identity_->Apply(op).ok());
    b.identity_ops.push_back(op);
    Append(std::move(b));
  }

  // Live states must equal a full re-derivation, byte for byte (episode bits are timer-owned).
  void ExpectRebuildEqual() {
    auto live = engine->AllStates();
    ASSERT_TRUE(engine->Rebuild().ok());
    auto rebuilt = engine->AllStates();
    ASSERT_EQ(live.size(), rebuilt.size());
    for (size_t i = 0; i < live.size(); ++i) {
      EXPECT_EQ(0, std::memcmp(&live[i].first, &rebuilt[i].first, sizeof(CustomerState)))
          << "customer " << live[i].first.customer << " differs after rebuild";
      EXPECT_TRUE(live[i].second == rebuilt[i].second) << "history of customer " << live[i].first.customer;
    }
  }

  FakeClock clock{kBase};
  CollectingListener listener;
  std::unique_ptr<JourneyEngine> engine;
  std::mutex facts_mu;
  std::unordered_map<store::CustomerId, ValueFacts> value_facts;  // guarded by facts_mu; canonical ids
  std::unique_ptr<store::Store> store;

 private:
  io::MemEnv mem_;
  io::Env* env_;
  std::string dir_;
  std::shared_ptr<const JourneyMap> map_;
  metrics::Registry metrics_;
  std::unique_ptr<ingest::IdentityResolver> identity_;
  std::map<std::string, store::CustomerId> ids_;
  store::CustomerId next_id_ = 1;
  int msg_ = 0;
};

inline std::shared_ptr<const JourneyMap> DefaultMap() {
  auto m = JourneyMap::Parse(JourneyMap::DefaultYaml());
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return *m;
}

}  // namespace cairn::journey::testing
