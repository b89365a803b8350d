// Disk full against the real `cairn serve` (docs/reliability.md, "Disk full"): the data dir lives
// on a small tmpfs mounted by the test (needs root; skipped with a message otherwise). The disk
// is filled while clients send: the server must answer 503 + Retry-After (not crash, not hang,
// never 2xx for what it could not sync), accept again once space returns (no restart), and after
// a restart hold every interaction it acknowledged, exactly once.

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "api/cairn_server.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A tmpfs of `size` mounted at a fresh directory for the test's lifetime.
class TmpfsMount {
 public:
  explicit TmpfsMount(const std::string& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    const std::string opts = "size=" + size;
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) == 0) mounted_ = true;
    else error_ = std::strerror(errno);
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

// Writes zeros to `path` until the file system says no space; returns bytes written.
size_t FillDisk(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::string block(1 << 16, '\0');
  size_t total = 0;
  while (true) {
    size_t n = std::fwrite(block.data(), 1, block.size(), f);
    total += n;
    if (n < block.size() || std::fflush(f) != 0) break;
  }
  std::fclose(f);
  return total;
}

struct Sent {
  std::set<std::string> acked;
  int next = 0;
};

// Sends one batch of 10 messages; returns the HTTP status (0 on a transport error).
unsigned SendBatch(HttpClient& client, Sent* sent, std::string* body = nullptr) {
  std::vector<std::string> messages, ids;
  for (int j = 0; j < 10; ++j) {
    ids.push_back("df-" + std::to_string(sent->next++));
    messages.push_back(TrackJson("disk-full", "Disk Load", ids.back(),
                                 R"("properties":{"pad":")" + std::string(2000, 'x') + "\"}"));
  }
  auto r = client.Post("/v1/batch", BatchJson(messages), WriteAuth());
  if (!r.ok()) return 0;
  if (body) *body = r->body + " Retry-After: " + r->Header("Retry-After");
  if (r->status / 100 == 2) sent->acked.insert(ids.begin(), ids.end());
  return r->status;
}

TEST(DiskFull, ServerAnswers503ThenAcceptsWhenSpaceReturnsAndLosesNothingAcknowledged) {
  if (::geteuid() != 0) GTEST_SKIP() << "disk-full test needs root to mount a tmpfs (the Env-level tests in "
                                        "store_fault_test cover disk full without it)";
  TempDir tmp;
  const std::string mnt = tmp.Sub("mnt");
  TmpfsMount mount(mnt, "48m");
  if (!mount.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (" << mount.error() << ")";

  // 48 MiB is below the WAL's 64 MiB preallocation, so WAL appends allocate as they go and meet
  // the full disk (with the reservation they would only meet it 64 MiB later).
  CairnServer server(mnt + "/data", tmp.Sub("serve"));
  ASSERT_TRUE(server.Start());
  Sent sent;
  {
    auto client = server.Client(seconds(30));
    for (int i = 0; i < 20; ++i) ASSERT_EQ(SendBatch(*client, &sent), 200u) << "before the disk is full";
  }
  const size_t acked_before = sent.acked.size();

  // Fill the disk, then keep sending: every answer must come (no hang) and none may be 2xx
  // unless it was really made durable — which, with no space left, it cannot be.
  const size_t filled = FillDisk(mnt + "/filler");
  std::printf("disk full: filled %zu KiB of the 48 MiB tmpfs\n", filled >> 10);
  int refused = 0, accepted_while_full = 0;
  std::string last_body;
  {
    auto client = server.Client(seconds(30));
    for (int i = 0; i < 30; ++i) {
      const auto t = std::chrono::steady_clock::now();
      unsigned status = SendBatch(*client, &sent, &last_body);
      const auto ms = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t).count();
      ASSERT_NE(status, 0u) << "the server must answer on a full disk (request " << i << ")";
      EXPECT_LT(ms, 10000) << "answered, but slowly";
      if (status == 503) ++refused;
      else if (status / 100 == 2) ++accepted_while_full;
      else ADD_FAILURE() << "unexpected " << status << ": " << last_body;
    }
    auto health = client->Get("/healthz");
    ASSERT_TRUE(health.ok()) << "the server stays up";
  }
  std::printf("disk full: %d of 30 batches refused with 503 (last: %s), %d accepted\n", refused, last_body.c_str(),
              accepted_while_full);
  EXPECT_GE(refused, 25) << "a full disk is answered 503";
  EXPECT_NE(last_body.find("Retry-After: "), std::string::npos);

  // A personal read while the disk is full: the audit log cannot record it, and personal data is
  // not served unaudited, so the answer is 503 — "not now". A reader that waits such answers out
  // (GetPatiently: the kill -9 loop reads this way) gets the data once space returns.
  {
    auto client = server.Client(seconds(30));
    const std::string target = "/v1/customers/disk-full/events?limit=10";
    auto refused_read = client->Get(target, AdminAuth());
    ASSERT_TRUE(refused_read.ok()) << refused_read.status().ToString();
    EXPECT_EQ(refused_read->status, 503u) << refused_read->body;
    EXPECT_FALSE(refused_read->Header("Retry-After").empty());
    std::thread space_returns([&] {
      std::this_thread::sleep_for(milliseconds(1500));
      std::filesystem::remove(mnt + "/filler");
    });
    size_t retries = 0;
    auto patient = GetPatiently(*client, target, AdminAuth(), seconds(60), &retries);
    space_returns.join();
    ASSERT_TRUE(patient.ok()) << patient.status().ToString();
    EXPECT_EQ(patient->status, 200u) << patient->body;
    EXPECT_GT(retries, 0u) << "the patient read never met the full disk";
  }

  // Space returns (above): the server accepts again without a restart.
  {
    auto client = server.Client(seconds(30));
    unsigned status = 0;
    for (int i = 0; i < 50 && status != 200; ++i) {
      status = SendBatch(*client, &sent);
      if (status != 200) std::this_thread::sleep_for(milliseconds(200));
    }
    EXPECT_EQ(status, 200u) << "accepts again once space returns";
    for (int i = 0; i < 5; ++i) EXPECT_EQ(SendBatch(*client, &sent), 200u);
  }
  EXPECT_GT(sent.acked.size(), acked_before);
  if (::testing::Test::HasFailure()) std::printf("server log:\n%s\n", server.process()->ReadStderr().c_str());

  // Restart: everything acknowledged (before, during and after) is there exactly once.
  server.Crash();
  ASSERT_TRUE(server.Start());
  {
    auto client = server.Client();
    auto counts = MessageIdCounts(*client, "disk-full");
    size_t lost = 0;
    for (const auto& id : sent.acked)
      if (counts[id] != 1 && ++lost <= 5) ADD_FAILURE() << id << " found " << counts[id] << " times";
    EXPECT_EQ(lost, 0u) << "of " << sent.acked.size() << " acknowledged";
  }
  ASSERT_TRUE(server.Stop());
  auto verify = RunToCompletion({CAIRN_BINARY, "verify", mnt + "/data"}, tmp.Sub("verify"), seconds(120));
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->status.ExitedWith(0)) << verify->out << verify->err;
}

}  // namespace
}  // namespace cairn::testutil
