// Startup errors of `cairn serve`: each exits 1 with one `cairn: error: ...` line on stderr that
// names what is wrong (the address, the path, the config line and column).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/cairn_server.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

using std::chrono::seconds;

// The lines of `err` that start with "cairn: error:".
std::vector<std::string> ErrorLines(const std::string& err) {
  std::vector<std::string> out;
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("cairn: error:")) out.push_back(line);
  }
  return out;
}

RunResult RunServe(const TempDir& tmp, const std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> argv = {CAIRN_BINARY, "serve", "--write-key", kWriteKey, "--admin-key", kAdminKey};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunToCompletion(argv, tmp.Sub(name), seconds(120));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : RunResult{};
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

TEST(Startup, PortInUseExitsOneNamingTheAddress) {
  TempDir tmp;
  // Hold a listening socket on a port so cairn cannot bind it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string address = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  RunResult r = RunServe(tmp, {"--data", tmp.Sub("data"), "--listen", address}, "serve");
  ::close(fd);
  EXPECT_TRUE(r.status.ExitedWith(1)) << r.status.ToString() << "\n" << r.err;
  auto errors = ErrorLines(r.err);
  ASSERT_EQ(errors.size(), 1u) << r.err;
  EXPECT_NE(errors[0].find(address), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("in use"), std::string::npos) << errors[0];
  EXPECT_EQ(r.out.find("cairn: serving"), std::string::npos) << r.out;
}

TEST(Startup, DataDirThatCannotBeCreatedExitsOne) {
  TempDir tmp;
  // A path under a regular file cannot be a directory, whatever the user's privileges (root
  // bypasses permission bits, so chmod 000 would not test anything when run as root).
  WriteFile(tmp.Sub("plain-file"), "not a directory\n");
  const std::string data = tmp.Sub("plain-file") + "/data";
  RunResult r = RunServe(tmp, {"--data", data, "--listen", "127.0.0.1:0"}, "serve");
  EXPECT_TRUE(r.status.ExitedWith(1)) << r.status.ToString() << "\n" << r.err;
  auto errors = ErrorLines(r.err);
  ASSERT_EQ(errors.size(), 1u) << r.err;
  EXPECT_NE(errors[0].find(data), std::string::npos) << "the line should name the path: " << errors[0];
}

TEST(Startup, DataDirUnderProcExitsOne) {
  TempDir tmp;
  RunResult r = RunServe(tmp, {"--data", "/proc/cairn-no-such-dir", "--listen", "127.0.0.1:0"}, "serve");
  EXPECT_TRUE(r.status.ExitedWith(1)) << r.status.ToString() << "\n" << r.err;
  EXPECT_EQ(ErrorLines(r.err).size(), 1u) << r.err;
}

TEST(Startup, UnknownConfigKeyNamesLineAndColumn) {
  TempDir tmp;
  WriteFile(tmp.Sub("cairn.yaml"), "max_message_bytes: 65536\n  # comment\nmemtable_flush_byts: 1000\n");
  RunResult r = RunServe(tmp, {"--data", tmp.Sub("data"), "--listen", "127.0.0.1:0", "--config", tmp.Sub("cairn.yaml")},
                         "serve");
  EXPECT_TRUE(r.status.ExitedWith(1)) << r.status.ToString() << "\n" << r.err;
  auto errors = ErrorLines(r.err);
  ASSERT_EQ(errors.size(), 1u) << r.err;
  EXPECT_NE(errors[0].find("memtable_flush_byts"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("line 3, column 1"), std::string::npos) << errors[0];
}

TEST(Startup, BadYamlSyntaxNamesLineAndColumn) {
  TempDir tmp;
  WriteFile(tmp.Sub("cairn.yaml"), "max_message_bytes: 65536\nblocked_id_values: [\"a\", \"b\"\n");
  RunResult r = RunServe(tmp, {"--data", tmp.Sub("data"), "--listen", "127.0.0.1:0", "--config", tmp.Sub("cairn.yaml")},
                         "serve");
  EXPECT_TRUE(r.status.ExitedWith(1)) << r.status.ToString() << "\n" << r.err;
  auto errors = ErrorLines(r.err);
  ASSERT_EQ(errors.size(), 1u) << r.err;
  EXPECT_NE(errors[0].find("line "), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("column "), std::string::npos) << errors[0];
}

TEST(Startup, WrongValueTypeInConfigNamesKeyAndLine) {
  TempDir tmp;
  WriteFile(tmp.Sub("cairn.yaml"), "# cairn\nmemtable_flush_bytes: lots\n");
  RunResult r = RunServe(tmp, {"--data", tmp.Sub("data"), "--listen", "127.0.0.1:0", "--config", tmp.Sub("cairn.yaml")},
                         "serve");
  EXPECT_TRUE(r.status.ExitedWith(1)) << r.status.ToString() << "\n" << r.err;
  auto errors = ErrorLines(r.err);
  ASSERT_EQ(errors.size(), 1u) << r.err;
  EXPECT_NE(errors[0].find("memtable_flush_bytes"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("line 2"), std::string::npos) << errors[0];
}

TEST(Startup, SecondServerOnTheSameDataDirExitsOneAndTheFirstKeepsServing) {
  TempDir tmp;
  CairnServer first(tmp.Sub("data"), tmp.Sub("first"));
  ASSERT_TRUE(first.Start());
  RunResult r = RunServe(tmp, {"--data", tmp.Sub("data"), "--listen", "127.0.0.1:0"}, "second");
  EXPECT_TRUE(r.status.ExitedWith(1)) << r.status.ToString() << "\n" << r.err;
  EXPECT_EQ(ErrorLines(r.err).size(), 1u) << r.err;
  auto client = first.Client();
  auto health = client->Get("/healthz");
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 200u);
  EXPECT_TRUE(first.Stop());
}

}  // namespace
}  // namespace cairn::testutil

namespace cairn::testutil {
namespace {

// journey.enabled: false (docs/journey.md "Turning it off"): the spine takes and keeps
// interactions; the journey endpoints say the engine is not there; a bad value names the key.
TEST(Startup, JourneyOffServesTheSpineAndAnswers503ForJourneys) {
  TempDir tmp;
  WriteFile(tmp.Sub("cairn.yaml"), "journey:\n  enabled: false\n");
  CairnServer server(tmp.Sub("data"), tmp.Sub("serve"), {"--config", tmp.Sub("cairn.yaml")});
  ASSERT_TRUE(server.Start());
  HttpClient client("127.0.0.1", server.port(), seconds(60));
  auto posted = client.Post("/v1/batch", BatchJson({TrackJson("off-1", "Signed Up", "off-m1")}), WriteAuth());
  ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  EXPECT_EQ(posted->status, 200) << posted->body;
  auto overview = client.Get("/v1/journey/overview", AdminAuth());
  ASSERT_TRUE(overview.ok());
  EXPECT_EQ(overview->status, 503) << overview->body;
  EXPECT_NE(overview->body.find("journey engine"), std::string::npos) << overview->body;
  auto profile = GetPatiently(client, "/v1/customers/off-1", AdminAuth(), seconds(30));
  ASSERT_TRUE(profile.ok());
  EXPECT_EQ(profile->status, 200) << profile->body;
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("data") + "/journey/state.bin"));
}

TEST(Startup, JourneyEnabledMustBeABoolean) {
  TempDir tmp;
  WriteFile(tmp.Sub("cairn.yaml"), "journey:\n  enabled: maybe\n");
  RunResult r = RunServe(tmp, {"--data", tmp.Sub("data"), "--listen", "127.0.0.1:0", "--config", tmp.Sub("cairn.yaml")},
                         "serve");
  EXPECT_TRUE(r.status.ExitedWith(1)) << r.status.ToString() << "\n" << r.err;
  auto errors = ErrorLines(r.err);
  ASSERT_EQ(errors.size(), 1u) << r.err;
  EXPECT_NE(errors[0].find("journey.enabled"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("boolean"), std::string::npos) << errors[0];
}

}  // namespace
}  // namespace cairn::testutil
