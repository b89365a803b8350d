// `cairn backup` of a running server under live ingest (docs/reliability.md, "Backup"): the copy
// verifies, serves as a working hub, and holds every interaction acknowledged before the backup
// started, exactly once. Small memtables make flushes (and compactions) race the copy.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "api/cairn_server.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kCustomers = 4;

std::string Customer(int i) { return "backup-" + std::to_string(i); }

struct Ledger {
  std::mutex mu;
  std::set<std::string> acked;
  std::map<std::string, int> customer_of;
};

void Ingest(uint16_t port, int client_index, std::atomic<bool>* stop, Ledger* ledger) {
  HttpClient client("127.0.0.1", port, seconds(30));
  for (int n = 0; !stop->load(); ++n) {
    std::vector<std::string> messages, ids;
    std::vector<int> customers;
    for (int j = 0; j < 20; ++j) {
      ids.push_back("bk-c" + std::to_string(client_index) + "-" + std::to_string(n) + "-" + std::to_string(j));
      customers.push_back((n + j) % kCustomers);
      messages.push_back(TrackJson(Customer(customers.back()), "Backup Load", ids.back(),
                                   R"("properties":{"pad":")" + std::string(300, 'p') + "\"}"));
    }
    auto r = client.Post("/v1/batch", BatchJson(messages), WriteAuth());
    if (!r.ok()) return;
    if (r->status != 200) continue;
    std::lock_guard l(ledger->mu);
    for (int j = 0; j < 20; ++j) {
      ledger->acked.insert(ids[j]);
      ledger->customer_of[ids[j]] = customers[j];
    }
  }
}

TEST(Backup, OnlineBackupUnderLiveIngestRestoresToAWorkingHubWithEveryEarlierAck) {
  TempDir tmp;
  const std::string data = tmp.Sub("data"), dest = tmp.Sub("backup");
  const std::string config = tmp.Sub("cairn.yaml");
  std::ofstream(config) << "memtable_flush_bytes: 65536\n";
  CairnServer server(data, tmp.Sub("serve"), {"--config", config});
  ASSERT_TRUE(server.Start());

  Ledger ledger;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 2; ++c) clients.emplace_back(Ingest, server.port(), c, &stop, &ledger);
  std::this_thread::sleep_for(seconds(2));  // a few flushes' worth of data first

  std::set<std::string> before;  // acknowledged before the backup started
  {
    std::lock_guard l(ledger.mu);
    before = ledger.acked;
  }
  auto backup = RunToCompletion({CAIRN_BINARY, "backup", "--data", data, dest}, tmp.Sub("backup-run"), seconds(300));
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  std::printf("%s", backup->out.c_str());
  ASSERT_TRUE(backup->status.ExitedWith(0)) << backup->out << backup->err;
  std::this_thread::sleep_for(milliseconds(300));
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_TRUE(server.Stop());
  ASSERT_GT(before.size(), 0u);
  EXPECT_FALSE(std::filesystem::exists(dest + ".partial"));

  auto verify = RunToCompletion({CAIRN_BINARY, "verify", dest}, tmp.Sub("verify"), seconds(120));
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->status.ExitedWith(0)) << verify->out << verify->err;

  // The copy serves: every earlier acknowledgement is there once, nothing unknown, and it takes
  // writes.
  CairnServer restored(dest, tmp.Sub("restored"));
  ASSERT_TRUE(restored.Start());
  auto client = restored.Client();
  std::map<std::string, int> found;
  for (int c = 0; c < kCustomers; ++c)
    for (const auto& [id, n] : MessageIdCounts(*client, Customer(c))) found[id] += n;
  size_t lost = 0;
  for (const auto& id : before)
    if (found[id] != 1 && ++lost <= 5) ADD_FAILURE() << id << " found " << found[id] << " times in the backup";
  EXPECT_EQ(lost, 0u) << "of " << before.size() << " acknowledged before the backup";
  for (const auto& [id, n] : found) {
    EXPECT_EQ(n, 1) << id;
    std::lock_guard l(ledger.mu);
    EXPECT_TRUE(ledger.acked.count(id) || id.rfind("bk-", 0) == 0) << id;
  }
  std::printf("backup: %zu acknowledged before it started, %zu in the copy, %zu acknowledged in all\n", before.size(),
              found.size(), ledger.acked.size());
  auto r = client->Post("/v1/batch", BatchJson({TrackJson(Customer(0), "After Restore", "after-restore-1")}), WriteAuth());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200u) << r->body;
  EXPECT_TRUE(restored.Stop());

  // DEST must be new.
  auto again = RunToCompletion({CAIRN_BINARY, "backup", "--data", data, dest}, tmp.Sub("backup-again"), seconds(60));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->status.ExitedWith(1));
  EXPECT_NE(again->err.find("already exists"), std::string::npos) << again->err;
}

}  // namespace
}  // namespace cairn::testutil
