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

// POST /v1/admin/backup (admin) writes into the configured backup_dir; the copy holds keys.db and
// audit.db as well as the events: restored, an agent key created before the backup still works,
// the audit log still finds the agent's read and verifies, and the customer is served.
TEST(Backup, AdminBackupOverTheApiKeepsKeysAndAuditAndServes) {
  TempDir tmp;
  const std::string data = tmp.Sub("data"), backups = tmp.Sub("backups");
  const std::string config = tmp.Sub("cairn.yaml");
  std::ofstream(config) << "backup_dir: " << backups << "\n";
  CairnServer server(data, tmp.Sub("serve"), {"--config", config});
  ASSERT_TRUE(server.Start());
  auto client = server.Client();
  auto ingest = client->Post("/v1/batch", BatchJson({TrackJson("bk-api-1", "Signed Up", "bk-api-m1"),
                                                     TrackJson("bk-api-1", "Order Completed", "bk-api-m2")}),
                             WriteAuth());
  ASSERT_TRUE(ingest.ok());
  ASSERT_EQ(ingest->status, 200u) << ingest->body;
  auto created = client->Post("/v1/keys", R"({"role":"agent","name":"desk-backup"})", AdminAuth());
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->status, 201u) << created->body;
  const HttpHeaders agent = {{"Authorization", "Bearer " + std::string(ParseJson(created->body).at("key").as_string())}};
  auto read = client->Get("/v1/customers/bk-api-1", agent);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->status, 200u) << read->body;

  // Admin only; the name is a directory entry, never a path.
  auto as_agent = client->Post("/v1/admin/backup", R"({"name":"x"})", agent);
  ASSERT_TRUE(as_agent.ok());
  EXPECT_EQ(as_agent->status, 403u) << as_agent->body;
  for (const char* bad : {R"({"name":"../escape"})", R"({"name":".hidden"})", R"({"name":7})", R"({"dest":"/tmp"})", "[1]"}) {
    auto r = client->Post("/v1/admin/backup", bad, AdminAuth());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400u) << bad << ": " << r->body;
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("escape")));
  auto made = client->Post("/v1/admin/backup", R"({"name":"first"})", AdminAuth());
  ASSERT_TRUE(made.ok());
  ASSERT_EQ(made->status, 201u) << made->body;
  auto outcome = ParseJson(made->body).as_object();
  EXPECT_EQ(outcome.at("name").as_string(), "first");
  EXPECT_EQ(outcome.at("path").as_string(), backups + "/first");
  EXPECT_GE(outcome.at("sqliteDbs").as_int64(), 3) << made->body;  // keys.db, audit.db, profiles.db, ...
  auto again = client->Post("/v1/admin/backup", R"({"name":"first"})", AdminAuth());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 409u) << again->body;
  auto unnamed = client->Post("/v1/admin/backup", "", AdminAuth());  // a name from the time
  ASSERT_TRUE(unnamed.ok());
  EXPECT_EQ(unnamed->status, 201u) << unnamed->body;
  // The backup request itself is in the audit log (an admin change).
  auto audit = client->Get("/v1/audit?limit=1000", AdminAuth());
  ASSERT_TRUE(audit.ok());
  EXPECT_NE(audit->body.find(R"("method":"POST","route":"/v1/admin/backup")"), std::string::npos) << audit->body;
  client.reset();
  ASSERT_TRUE(server.Stop());

  const std::string copy = backups + "/first";
  for (const char* f : {"keys.db", "audit.db", "profiles.db", "store/MANIFEST"})
    EXPECT_TRUE(std::filesystem::exists(copy + "/" + f)) << f;
  auto verify = RunToCompletion({CAIRN_BINARY, "verify", copy}, tmp.Sub("verify"), seconds(120));
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->status.ExitedWith(0)) << verify->out << verify->err;
  auto chain = RunToCompletion({CAIRN_BINARY, "audit", "verify", "--data", copy}, tmp.Sub("audit-verify"), seconds(60));
  ASSERT_TRUE(chain.ok());
  EXPECT_TRUE(chain->status.ExitedWith(0)) << chain->out << chain->err;

  CairnServer restored(copy, tmp.Sub("restored"));
  ASSERT_TRUE(restored.Start());
  auto rc = restored.Client();
  auto served = rc->Get("/v1/customers/bk-api-1", agent);  // the agent key came along (keys.db)
  ASSERT_TRUE(served.ok());
  EXPECT_EQ(served->status, 200u) << served->body;
  EXPECT_EQ(MessageIdCounts(*rc, "bk-api-1").size(), 2u);
  auto reads = rc->Get("/v1/audit?customer=bk-api-1&actor=desk-backup", AdminAuth());  // audit.db came along
  ASSERT_TRUE(reads.ok());
  ASSERT_EQ(reads->status, 200u) << reads->body;
  // The read before the backup; the read just now on the copy is recorded too.
  EXPECT_EQ(ParseJson(reads->body).at("entries").as_array().size(), 2u) << reads->body;
  rc.reset();
  EXPECT_TRUE(restored.Stop());
}

}  // namespace
}  // namespace cairn::testutil
