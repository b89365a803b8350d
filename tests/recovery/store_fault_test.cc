// Store fault sweeps through the fault-injecting Env (io/fault_injection_env.h), LevelDB
// fault_injection_test style: for every n, the nth write (disk full), the nth fsync (EIO) or the
// nth rename fails once in the middle of a workload of appends, flushes and compactions; then the
// power goes (everything not synced is dropped, with a torn tail), the store reopens and must hold
// every acknowledged interaction exactly once and nothing never appended. Plus disk full without
// a restart: appends fail while the disk is full and succeed again once space returns.

#include <gtest/gtest.h>

#include <cstdlib>
#include <future>
#include <map>
#include <set>
#include <string>

#include "io/fault_injection_env.h"
#include "store/store.h"

namespace cairn::store {
namespace {

constexpr int kBatches = 40;
constexpr int kPerBatch = 5;
constexpr int kCustomers = 4;

enum class Fault { kWrite, kSync, kRename };

const char* Name(Fault f) {
  switch (f) {
    case Fault::kWrite: return "write";
    case Fault::kSync: return "sync";
    case Fault::kRename: return "rename";
  }
  return "?";
}

Batch MakeBatch(int b) {
  Batch batch;
  for (int i = 0; i < kPerBatch; ++i) {
    Interaction r;
    r.customer = static_cast<CustomerId>(1 + (b + i) % kCustomers);
    r.timestamp_ms = 1'700'000'000'000 + b * 1000 + i;
    r.received_at_ms = r.timestamp_ms;
    r.event = "Fault Load";
    r.message_id = "b" + std::to_string(b) + "-" + std::to_string(i);
    r.payload = R"({"type":"track","event":"Fault Load","pad":")" + std::string(200 + 37 * i, 'p') + "\"}";
    batch.interactions.push_back(std::move(r));
  }
  return batch;
}

// Appends and waits. The Status is done's, or Append's own when it refused (done not called).
Status AppendSync(Store* s, Batch b) {
  auto p = std::make_shared<std::promise<Status>>();
  auto f = p->get_future();
  Status st = s->Append(std::move(b), [p](Status r) { p->set_value(r); });
  if (!st.ok()) return st;
  return f.get();
}

StoreOptions Options() {
  StoreOptions o;
  o.background_work = false;        // flushes and compactions at known points of the workload
  o.memtable_flush_bytes = 4 << 10;
  o.max_segments = 3;
  o.wal_file_bytes = 8 << 10;       // WAL rolls happen too
  return o;
}

// message_id → times found, over every customer.
std::map<std::string, int> ReadAll(Store* s) {
  std::map<std::string, int> found;
  std::vector<CustomerId> all;
  for (int c = 1; c <= kCustomers; ++c) all.push_back(static_cast<CustomerId>(c));
  auto rows = s->GetSnapshot()->ReadCustomers(all);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (rows.ok())
    for (const auto& r : *rows) ++found[r.message_id];
  return found;
}

struct Outcome {
  bool injected = false;
  size_t acked = 0;
};

// One scenario: arm the fault, run the workload, crash, reopen, check. Failures name the scenario.
Outcome RunScenario(Fault fault, uint64_t n) {
  Outcome out;
  const std::string where = std::string(Name(fault)) + " #" + std::to_string(n);
  io::FaultInjectionEnv env;
  std::set<std::string> acked, sent;
  {
    auto opened = Store::Open(&env, "/db", Options());
    if (!opened.ok()) {
      ADD_FAILURE() << where << ": open before the fault: " << opened.status().ToString();
      return out;
    }
    Store* s = opened->get();
    switch (fault) {
      case Fault::kWrite: env.FailNthWrite(n); break;
      case Fault::kSync: env.FailNthSync(n); break;
      case Fault::kRename: env.FailNthRename(n); break;
    }
    for (int b = 0; b < kBatches; ++b) {
      Batch batch = MakeBatch(b);
      for (const auto& r : batch.interactions) sent.insert(r.message_id);
      std::vector<std::string> ids;
      for (const auto& r : batch.interactions) ids.push_back(r.message_id);
      Status st = AppendSync(s, std::move(batch));
      if (st.ok()) acked.insert(ids.begin(), ids.end());
      // Maintenance errors are reported, never fatal to acknowledged data.
      if (b % 5 == 4) (void)s->Flush();
      if (b % 15 == 14) (void)s->Compact();
    }
    out.injected = env.injected_failures() > 0;
    // No Close(): the power goes with the store open (its destructor still runs; what it writes
    // unsynced is dropped by the crash below).
    env.FailNthWrite(0);
    env.FailNthSync(0);
    env.FailNthRename(0);
    (void)s->Close();
  }
  env.SimulateCrash(/*torn=*/true, /*seed=*/n);
  auto reopened = Store::Open(&env, "/db", Options());
  if (!reopened.ok()) {
    ADD_FAILURE() << where << ": reopen after the crash: " << reopened.status().ToString();
    return out;
  }
  auto found = ReadAll(reopened->get());
  size_t lost = 0;
  for (const auto& id : acked)
    if (found.count(id) == 0 && ++lost <= 3) ADD_FAILURE() << where << ": acknowledged " << id << " lost";
  for (const auto& [id, times] : found) {
    if (times != 1) ADD_FAILURE() << where << ": " << id << " found " << times << " times";
    if (sent.count(id) == 0) ADD_FAILURE() << where << ": " << id << " never appended";
  }
  EXPECT_EQ(lost, 0u) << where << " (of " << acked.size() << " acknowledged)";
  // The reopened store takes writes again.
  EXPECT_TRUE(AppendSync(reopened->get(), MakeBatch(kBatches)).ok()) << where;
  out.acked = acked.size();
  return out;
}

// CAIRN_FAULT_SWEEP_STEP=1 tries every n (by hand); CI tries every third (default 3), which
// keeps the suite to a few seconds on a quiet machine.
uint64_t SweepStep() {
  const char* v = std::getenv("CAIRN_FAULT_SWEEP_STEP");
  const uint64_t step = v ? std::strtoull(v, nullptr, 10) : 3;
  return step == 0 ? 1 : step;
}

void Sweep(Fault fault, uint64_t max_n) {
  size_t injected = 0, acked = 0, scenarios = 0;
  for (uint64_t n = 1; n <= max_n; n += SweepStep()) {
    ++scenarios;
    Outcome o = RunScenario(fault, n);
    injected += o.injected;
    acked += o.acked;
    if (::testing::Test::HasFailure()) return;
  }
  std::printf("store fault sweep: %s #1..#%llu step %llu: %zu of %zu scenarios hit the fault, %zu acknowledged rows checked\n",
              Name(fault), static_cast<unsigned long long>(max_n), static_cast<unsigned long long>(SweepStep()),
              injected, scenarios, acked);
  // The sweep reaches past the first faults into flushes, compactions and WAL rolls.
  EXPECT_GE(injected * 4, scenarios * 3) << "most scenarios must actually inject their fault";
}

TEST(StoreFault, EveryNthWriteFailingLosesNothingAcknowledged) { Sweep(Fault::kWrite, 120); }
TEST(StoreFault, EveryNthSyncFailingLosesNothingAcknowledged) { Sweep(Fault::kSync, 60); }
TEST(StoreFault, EveryNthRenameFailingLosesNothingAcknowledged) { Sweep(Fault::kRename, 12); }

TEST(StoreFault, DiskFullRefusesThenRecoversWhenSpaceReturns) {
  io::FaultInjectionEnv env;
  std::set<std::string> acked;
  {
    auto opened = Store::Open(&env, "/db", Options());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Store* s = opened->get();
    int b = 0;
    for (; b < 5; ++b) {
      Batch batch = MakeBatch(b);
      std::vector<std::string> ids;
      for (const auto& r : batch.interactions) ids.push_back(r.message_id);
      ASSERT_TRUE(AppendSync(s, std::move(batch)).ok());
      acked.insert(ids.begin(), ids.end());
    }
    env.SetWriteBudget(0);  // the disk is full
    int refused = 0;
    for (; b < 10; ++b) {
      Status st = AppendSync(s, MakeBatch(b));
      EXPECT_FALSE(st.ok()) << "batch " << b << " acknowledged on a full disk";
      // The API maps these to 503 (Unavailable) or 500 — never 2xx. Disk full surfaces as
      // ResourceExhausted or Unavailable from the WAL.
      refused += !st.ok();
    }
    EXPECT_EQ(refused, 5);
    EXPECT_FALSE(s->Flush().ok()) << "a flush on a full disk reports the error";
    env.SetWriteBudget(-1);  // space returns: no restart needed
    for (; b < 15; ++b) {
      Batch batch = MakeBatch(b);
      std::vector<std::string> ids;
      for (const auto& r : batch.interactions) ids.push_back(r.message_id);
      Status st = AppendSync(s, std::move(batch));
      EXPECT_TRUE(st.ok()) << "batch " << b << " after space returned: " << st.ToString();
      if (st.ok()) acked.insert(ids.begin(), ids.end());
    }
    EXPECT_TRUE(s->Flush().ok());
    (void)s->Close();
  }
  env.SimulateCrash(/*torn=*/true, 7);
  auto reopened = Store::Open(&env, "/db", Options());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto found = ReadAll(reopened->get());
  for (const auto& id : acked) EXPECT_EQ(found[id], 1) << id;
  EXPECT_EQ(acked.size(), 10u * kPerBatch);
}

}  // namespace
}  // namespace cairn::store
