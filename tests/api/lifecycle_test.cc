// Process lifecycle against the real binary: graceful shutdown under load (every acknowledged
// request survives), `cairn verify` after a clean stop, and `cairn import` (bad lines reported by
// number, good lines stored, re-import idempotent).

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "api/cairn_server.h"
#include "testutil/gzip.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

RunResult RunCairn(const std::vector<std::string>& argv, const std::string& log_prefix) {
  auto r = RunToCompletion(argv, log_prefix, seconds(180));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : RunResult{ExitStatus{true, -1, 0}, "", ""};
}

void ExpectVerifyOk(const TempDir& tmp, const std::string& data, const std::string& name) {
  RunResult v = RunCairn({CAIRN_BINARY, "verify", data}, tmp.Sub(name));
  EXPECT_TRUE(v.status.ExitedWith(0)) << v.status.ToString() << "\n" << v.out << v.err;
  EXPECT_NE(v.out.find("cairn verify: ok"), std::string::npos) << v.out;
}

TEST(Lifecycle, SigtermUnderLoadKeepsEveryAcknowledgedRequest) {
  TempDir tmp;
  CairnServer server(tmp.Sub("data"), tmp.Sub("serve"));
  ASSERT_TRUE(server.Start());
  constexpr int kThreads = 4;
  constexpr int kPerBatch = 10;
  std::mutex mu;
  std::vector<std::set<std::string>> acked(kThreads), sent(kThreads);
  std::atomic<int> acked_requests{0};
  std::atomic<bool> give_up{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client("127.0.0.1", server.port(), seconds(60));
      const std::string user = "load-" + std::to_string(t);
      for (int n = 0; !give_up; ++n) {
        std::vector<std::string> messages, ids;
        for (int j = 0; j < kPerBatch; ++j) {
          ids.push_back(user + "-" + std::to_string(n) + "-" + std::to_string(j));
          messages.push_back(TrackJson(user, "Load", ids.back()));
        }
        {
          std::lock_guard l(mu);
          sent[t].insert(ids.begin(), ids.end());
        }
        auto r = client.Post("/v1/batch", BatchJson(messages), WriteAuth());
        if (!r.ok()) {
          // Refused or reset: the server is going (or gone). Try once more to see it closed.
          auto again = client.Post("/healthz", "");
          if (!again.ok()) return;
          continue;
        }
        if (r->status != 200) continue;  // e.g. 503 while draining: not acknowledged
        auto v = ParseJson(r->body);
        ASSERT_EQ(v.at("accepted").to_number<int>(), kPerBatch) << r->body;
        std::lock_guard l(mu);
        acked[t].insert(ids.begin(), ids.end());
        ++acked_requests;
      }
    });
  }
  // Let load build up, then SIGTERM while the clients are still sending.
  auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (acked_requests < 40 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
  ASSERT_TRUE(server.process()->Signal(SIGTERM).ok());
  auto exit = server.process()->Wait(kStopTimeout);
  give_up = true;
  for (auto& th : threads) th.join();
  ASSERT_TRUE(exit.ok()) << exit.status().ToString();
  EXPECT_TRUE(exit->ExitedWith(0)) << exit->ToString() << "\n" << server.process()->ReadStderr();
  ASSERT_GE(acked_requests.load(), 40);

  ExpectVerifyOk(tmp, tmp.Sub("data"), "verify1");

  ASSERT_TRUE(server.Start());
  auto client = server.Client();
  size_t total_acked = 0;
  for (int t = 0; t < kThreads; ++t) {
    auto counts = MessageIdCounts(*client, "load-" + std::to_string(t));
    for (const auto& id : acked[t]) EXPECT_EQ(counts[id], 1) << "acknowledged " << id << " lost after SIGTERM";
    for (const auto& [id, n] : counts) {
      EXPECT_EQ(n, 1) << id;
      EXPECT_TRUE(sent[t].count(id)) << "never sent: " << id;
    }
    total_acked += acked[t].size();
  }
  EXPECT_GE(total_acked, 400u);
  ASSERT_TRUE(server.Stop());
  ExpectVerifyOk(tmp, tmp.Sub("data"), "verify2");
}

TEST(Lifecycle, ImportReportsBadLinesByNumberAndIsIdempotent) {
  TempDir tmp;
  const std::string data = tmp.Sub("data");
  const std::string file = tmp.Sub("events.jsonl");
  {
    std::ofstream out(file);
    out << TrackJson("u-imp", "E", "imp-1") << "\n"
        << TrackJson("u-imp", "E", "imp-2") << "\n"
        << TrackJson("u-imp", "E", "imp-3") << "\n"
        << R"({"type":"track","userId":"u-imp","event":)" << "\n"  // line 4: malformed
        << TrackJson("u-imp", "E", "imp-5") << "\n"
        << "\n"  // line 6: blank, skipped
        << TrackJson("u-imp", "E", "imp-7") << "\n"
        << R"({"type":"track","event":"no ids","messageId":"imp-8"})" << "\n"  // line 8: no ids
        << TrackJson("u-imp", "E", "imp-9") << "\n"
        << TrackJson("u-imp", "Old", "imp-10", R"("timestamp":"1990-05-01T00:00:00Z")") << "\n";  // historical: ok
  }
  const std::vector<std::string> import = {CAIRN_BINARY, "import", "--data", data, file, "--write-key", kWriteKey,
                                           "--no-progress"};
  RunResult first = RunCairn(import, tmp.Sub("import1"));
  EXPECT_TRUE(first.status.ExitedWith(2)) << first.status.ToString() << "\n" << first.err;
  EXPECT_NE(first.err.find("line 4:"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("line 8:"), std::string::npos) << first.err;
  for (const char* wrong : {"line 1:", "line 2:", "line 3:", "line 5:", "line 6:", "line 7:", "line 9:", "line 10:"})
    EXPECT_EQ(first.err.find(wrong), std::string::npos) << wrong << "\n" << first.err;
  EXPECT_NE(first.err.find("7 accepted"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("2 bad"), std::string::npos) << first.err;

  const std::map<std::string, int> good = {{"imp-1", 1}, {"imp-2", 1}, {"imp-3", 1}, {"imp-5", 1},
                                           {"imp-7", 1}, {"imp-9", 1}, {"imp-10", 1}};
  CairnServer server(data, tmp.Sub("serve"));
  ASSERT_TRUE(server.Start());
  {
    auto client = server.Client();
    EXPECT_EQ(MessageIdCounts(*client, "u-imp"), good);
    // The server de-duplicates against what was imported with the same write key.
    auto r = client->Post("/v1/batch", BatchJson({TrackJson("u-imp", "E", "imp-1")}), WriteAuth());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(ParseJson(r->body).at("duplicates"), 1) << r->body;
  }
  ASSERT_TRUE(server.Stop());

  RunResult second = RunCairn(import, tmp.Sub("import2"));
  EXPECT_TRUE(second.status.ExitedWith(2)) << second.status.ToString() << "\n" << second.err;
  EXPECT_NE(second.err.find("7 accepted (7 already present)"), std::string::npos) << second.err;
  ASSERT_TRUE(server.Start());
  {
    auto client = server.Client();
    EXPECT_EQ(MessageIdCounts(*client, "u-imp"), good);
  }
  ASSERT_TRUE(server.Stop());
  ExpectVerifyOk(tmp, data, "verify");

  // A file with only good lines exits 0; a missing file exits 1 naming it.
  const std::string clean = tmp.Sub("clean.jsonl");
  std::ofstream(clean) << TrackJson("u-imp2", "E", "imp2-1") << "\n";
  RunResult ok = RunCairn({CAIRN_BINARY, "import", "--data", data, clean, "--write-key", kWriteKey, "--no-progress"},
                     tmp.Sub("import3"));
  EXPECT_TRUE(ok.status.ExitedWith(0)) << ok.status.ToString() << "\n" << ok.err;
  RunResult missing = RunCairn({CAIRN_BINARY, "import", "--data", data, tmp.Sub("nope.jsonl"), "--no-progress"},
                          tmp.Sub("import4"));
  EXPECT_TRUE(missing.status.ExitedWith(1)) << missing.status.ToString() << "\n" << missing.err;
  EXPECT_NE(missing.err.find("nope.jsonl"), std::string::npos) << missing.err;
}

// `cairn import` of gzip files (told by their magic bytes): several members are one file, and a
// file cut short is refused (exit 1, naming the damage) after storing the lines before the cut,
// which a re-import of the whole file then skips as already present.
TEST(Lifecycle, ImportReadsGzipAndStopsAtATruncatedOne) {
  TempDir tmp;
  const std::string data = tmp.Sub("data");
  std::string first, second;
  for (int i = 1; i <= 3000; ++i) {
    (i <= 1000 ? first : second) += TrackJson("u-gz", "E", "gz-" + std::to_string(i),
                                              R"("properties":{"n":)" + std::to_string(i) + "}") + "\n";
  }
  const std::string whole = Gzip(first) + Gzip(second, 1);
  const std::string cut_file = tmp.Sub("cut.jsonl.gz");
  std::ofstream(cut_file, std::ios::binary) << whole.substr(0, whole.size() - 1000);
  const std::string whole_file = tmp.Sub("whole.jsonl.gz");
  std::ofstream(whole_file, std::ios::binary) << whole;

  RunResult cut = RunCairn({CAIRN_BINARY, "import", "--data", data, cut_file, "--write-key", kWriteKey, "--no-progress"},
                           tmp.Sub("import-cut"));
  EXPECT_TRUE(cut.status.ExitedWith(1)) << cut.status.ToString() << "\n" << cut.err;
  EXPECT_NE(cut.err.find("truncated"), std::string::npos) << cut.err;
  EXPECT_NE(cut.err.find("import stopped after line"), std::string::npos) << cut.err;
  EXPECT_NE(cut.err.find(", 0 bad,"), std::string::npos) << "no partial line was parsed:\n" << cut.err;

  RunResult ok = RunCairn({CAIRN_BINARY, "import", "--data", data, whole_file, "--write-key", kWriteKey, "--no-progress"},
                          tmp.Sub("import-whole"));
  ASSERT_TRUE(ok.status.ExitedWith(0)) << ok.status.ToString() << "\n" << ok.err;
  EXPECT_NE(ok.err.find("3000 lines, 3000 accepted ("), std::string::npos) << ok.err;
  EXPECT_EQ(ok.err.find("3000 lines, 3000 accepted (0 already present)"), std::string::npos)
      << "the cut file's lines were kept:\n" << ok.err;

  CairnServer server(data, tmp.Sub("serve"));
  ASSERT_TRUE(server.Start());
  {
    auto client = server.Client();
    auto counts = MessageIdCounts(*client, "u-gz");
    EXPECT_EQ(counts.size(), 3000u);
    for (const auto& [id, n] : counts) EXPECT_EQ(n, 1) << id;
  }
  ASSERT_TRUE(server.Stop());
}

// `cairn import` parses on several threads and commits in the file's order: the first of two
// lines with the same messageId is the one kept (the second is a duplicate), an anonymous
// visitor's lines before and after their identify far apart end up on one customer, and lines
// large enough that a thousand of them exceed the request limit are split into smaller chunks
// rather than refused.
TEST(Lifecycle, ImportKeepsTheFilesOrderOnSeveralThreads) {
  TempDir tmp;
  const std::string data = tmp.Sub("data");
  const std::string file = tmp.Sub("events.jsonl");
  const std::string filler = "\"note\":\"" + std::string(1500, 'x') + "\"";  // 1,000 lines > 1 MiB
  constexpr int kLines = 6000;
  {
    std::ofstream out(file);
    for (int i = 1; i <= kLines; ++i) {
      const std::string id = "ord-" + std::to_string(i);
      if (i == 3) {
        out << R"({"type":"track","anonymousId":"anon-ord","event":"First","messageId":"dup-1","properties":{)" << filler
            << "}}\n";
      } else if (i == 3000) {
        out << R"({"type":"identify","userId":"u-ord","anonymousId":"anon-ord","messageId":"ident-1"})" << "\n";
      } else if (i == 5990) {
        out << R"({"type":"track","anonymousId":"anon-ord","event":"Second","messageId":"dup-1"})" << "\n";
      } else {
        const bool anon = i < 3000 && i % 7 == 0;
        out << "{\"type\":\"track\",\"" << (anon ? "anonymousId\":\"anon-ord" : "userId\":\"u-ord")
            << "\",\"event\":\"E\",\"messageId\":\"" << id << "\",\"properties\":{" << filler << "}}\n";
      }
    }
  }
  RunResult r = RunCairn({CAIRN_BINARY, "import", "--data", data, file, "--write-key", kWriteKey, "--no-progress",
                          "--threads", "2"},
                         tmp.Sub("import"));
  ASSERT_TRUE(r.status.ExitedWith(0)) << r.status.ToString() << "\n" << r.err;
  EXPECT_NE(r.err.find("6000 lines, 6000 accepted (1 already present), 0 bad"), std::string::npos) << r.err;

  CairnServer server(data, tmp.Sub("serve"));
  ASSERT_TRUE(server.Start());
  {
    auto client = server.Client();
    auto rows = Timeline(*client, "u-ord");
    EXPECT_EQ(rows.size(), static_cast<size_t>(kLines - 1)) << "every line but the duplicate, on one customer";
    int dups = 0;
    for (const auto& row : rows) {
      if (row.at("messageId").as_string() != "dup-1") continue;
      ++dups;
      EXPECT_EQ(row.at("event").as_string(), "First") << "the later line with the same messageId won";
    }
    EXPECT_EQ(dups, 1);
    EXPECT_EQ(Timeline(*client, "anon-ord").size(), rows.size()) << "the anonymous id resolves to the merged customer";
  }
  ASSERT_TRUE(server.Stop());
  ExpectVerifyOk(tmp, data, "verify");
}

}  // namespace
}  // namespace cairn::testutil
