#pragma once
// ServerSuite: one real `cairn serve` for a whole test suite, seeded with one batch — each start
// costs seconds under ASan, so suites that only read (or write what no other test reads) share
// it. Derive; by default the server starts with no options, each test gets a fresh connection in
// client_ and is skipped when the server did not start (the suite's set-up has failed, saying
// why), and the server must stop cleanly (exit 0) after the suite. With options, call StartSuite
// from the suite's own SetUpTestSuite:
//
//   class QueryApi : public ServerSuite {
//    protected:
//     static void SetUpTestSuite() { StartSuite({.seed = {TrackJson(...), ...}}); }
//   };
//
// Header-only. One suite at a time per process (gtest runs suites one after another).

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/cairn_server.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {

// Every member has a default member initializer, so a designated initializer names only what it
// sets ({.seed = {...}}) without -Wmissing-field-initializers for the others.
struct ServerSuiteOptions {
  // Written to cairn.yaml and passed with --config when not empty.
  std::string config_yaml{};
  // Environment set for the server's start only (e.g. CAIRN_TEST_QUERY_DELAY_MS).
  std::vector<std::pair<std::string, std::string>> env{};
  // More `cairn serve` flags (e.g. --enable-test-endpoints).
  std::vector<std::string> extra_args{};
  // Messages posted as one batch (write key) once the server serves; none when empty.
  std::vector<std::string> seed{};
};

class ServerSuite : public ::testing::Test {
 protected:
  static void StartSuite(const ServerSuiteOptions& o) {
    tmp_ = new TempDir();
    std::vector<std::string> args = o.extra_args;
    if (!o.config_yaml.empty()) {
      std::ofstream(tmp_->Sub("cairn.yaml")) << o.config_yaml;
      args.insert(args.begin(), {"--config", tmp_->Sub("cairn.yaml")});
    }
    for (const auto& [k, v] : o.env) ::setenv(k.c_str(), v.c_str(), 1);
    server_ = new CairnServer(tmp_->Sub("data"), tmp_->Sub("serve"), std::move(args));
    const ::testing::AssertionResult started = server_->Start();
    for (const auto& kv : o.env) ::unsetenv(kv.first.c_str());
    ASSERT_TRUE(started);
    if (o.seed.empty()) return;
    auto r = server_->Client()->Post("/v1/batch", BatchJson(o.seed), WriteAuth());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 200u) << r->body;
  }
  static void StopSuite() {
    if (server_) {
      EXPECT_TRUE(server_->Stop());
    }
    delete server_;
    delete tmp_;
    server_ = nullptr;
    tmp_ = nullptr;
  }
  static bool Started() { return server_ != nullptr && server_->port() != 0; }

  static void SetUpTestSuite() { StartSuite({}); }
  static void TearDownTestSuite() { StopSuite(); }
  void SetUp() override {
    if (!Started()) GTEST_SKIP() << "server did not start";
    client_ = server_->Client();
  }

  inline static TempDir* tmp_ = nullptr;
  inline static CairnServer* server_ = nullptr;
  std::unique_ptr<HttpClient> client_;  // a fresh connection per test (SetUp)
};

}  // namespace cairn::testutil
