#pragma once
// CairnServer: the real `cairn serve` as a child process, for black-box and crash tests. It
// binds 127.0.0.1:0 and reads the port back from the "cairn: serving http://..." line, so tests
// never race for ports. Plus small helpers to build Segment messages and read timelines through
// the API. Header-only: shared by tests/api and tests/recovery.
//
// CAIRN_BINARY (a compile definition) is the path of the binary under test.

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "testutil/http_client.h"
#include "testutil/process.h"

namespace cairn::testutil {

// Keys are 16..256 bytes.
inline constexpr char kWriteKey[] = "wk-blackbox-0123456789abcdef";
inline constexpr char kWriteKey2[] = "wk-blackbox-second-0123456789";
inline constexpr char kAdminKey[] = "ak-blackbox-0123456789abcdef";

// The ASan build starts slowly and runs slowly: generous, but bounded, waits.
inline constexpr std::chrono::seconds kStartTimeout{90};
inline constexpr std::chrono::seconds kStopTimeout{90};

class CairnServer {
 public:
  // `log_prefix`: where the child's stdout/stderr go (…stdout / …stderr); several starts may share
  // a prefix only if earlier logs are no longer needed.
  CairnServer(std::string data_dir, std::string log_prefix, std::vector<std::string> extra_args = {})
      : data_dir_(std::move(data_dir)), log_prefix_(std::move(log_prefix)), extra_args_(std::move(extra_args)) {}

  std::vector<std::string> Argv() const {
    std::vector<std::string> argv = {CAIRN_BINARY, "serve",       "--data",      data_dir_,     "--listen",
                                     "127.0.0.1:0", "--write-key", kWriteKey,     "--write-key", kWriteKey2,
                                     "--admin-key", kAdminKey};
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    return argv;
  }

  // Starts the server and waits until it is serving. Each start gets its own log files.
  ::testing::AssertionResult Start() {
    std::string prefix = log_prefix_ + "." + std::to_string(++starts_);
    auto child = ChildProcess::Start(Argv(), prefix);
    if (!child.ok()) return ::testing::AssertionFailure() << child.status().ToString();
    process_ = std::move(child).value();
    auto line = process_->WaitForLine("cairn: serving http://", kStartTimeout);
    if (!line.ok()) return ::testing::AssertionFailure() << line.status().ToString();
    // "cairn: serving http://127.0.0.1:PORT (data: DIR)"
    std::string_view rest(*line);
    rest.remove_prefix(rest.find("http://") + 7);
    size_t colon = rest.find(':');
    size_t end = rest.find_first_not_of("0123456789", colon + 1);
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(rest.data() + colon + 1, rest.data() + (end == std::string_view::npos ? rest.size() : end), port);
    if (colon == std::string_view::npos || ec != std::errc() || port == 0 || port > 65535)
      return ::testing::AssertionFailure() << "cannot read the port from: " << *line;
    port_ = static_cast<uint16_t>(port);
    return ::testing::AssertionSuccess();
  }

  // SIGTERM and wait: a clean stop exits 0.
  ::testing::AssertionResult Stop() {
    if (!process_) return ::testing::AssertionFailure() << "not started";
    Status s = process_->Signal(SIGTERM);
    if (!s.ok()) return ::testing::AssertionFailure() << s.ToString();
    auto exit = process_->Wait(kStopTimeout);
    if (!exit.ok()) return ::testing::AssertionFailure() << exit.status().ToString();
    if (!exit->ExitedWith(0))
      return ::testing::AssertionFailure() << "cairn serve ended with " << exit->ToString() << "; stderr: "
                                           << process_->ReadStderr();
    return ::testing::AssertionSuccess();
  }

  // kill -9.
  void Crash() {
    if (process_) process_->Kill();
  }

  uint16_t port() const { return port_; }
  ChildProcess* process() { return process_.get(); }
  const std::string& data_dir() const { return data_dir_; }
  std::unique_ptr<HttpClient> Client(std::chrono::milliseconds timeout = std::chrono::seconds(60)) const {
    return std::make_unique<HttpClient>("127.0.0.1", port_, timeout);
  }

 private:
  std::string data_dir_;
  std::string log_prefix_;
  std::vector<std::string> extra_args_;
  int starts_ = 0;
  std::unique_ptr<ChildProcess> process_;
  uint16_t port_ = 0;
};

inline HttpHeaders WriteAuth(std::string_view key = kWriteKey) { return {{"Authorization", BasicAuth(key)}}; }
// The value of a metric line `name value` in Prometheus text (name with its labels, if any, e.g.
// `cairn_http_requests_total{route="/x",code="200"}`), or -1 when absent.
inline double MetricValue(const std::string& text, const std::string& name) {
  size_t pos = 0;
  while ((pos = text.find(name + " ", pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') return std::strtod(text.c_str() + pos + name.size() + 1, nullptr);
    pos += name.size();
  }
  return -1;
}

inline HttpHeaders AdminAuth() { return {{"Authorization", std::string("Bearer ") + kAdminKey}}; }

// The body parsed as JSON; null (and a test failure) when it is not JSON.
inline boost::json::value ParseJson(const std::string& body) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec) {
    ADD_FAILURE() << "not JSON (" << ec.message() << "): " << body.substr(0, 500);
    return nullptr;
  }
  return v;
}

// One Segment track message as JSON text.
inline std::string TrackJson(std::string_view user_id, std::string_view event, std::string_view message_id,
                             std::string_view extra_fields = "") {
  std::string s = "{\"type\":\"track\",\"userId\":\"" + std::string(user_id) + "\",\"event\":\"" + std::string(event) +
                  "\",\"messageId\":\"" + std::string(message_id) + "\"";
  if (!extra_fields.empty()) s += "," + std::string(extra_fields);
  return s + "}";
}

// An ISO-8601 UTC time `days_ago` days before now, at noon ("2026-01-02T12:00:00.000Z"): for
// "timestamp" fields of historical interactions.
inline std::string DaysAgo(int days_ago) {
  using namespace std::chrono;
  const auto day = floor<days>(system_clock::now()) - days(days_ago);
  const year_month_day ymd{day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT12:00:00.000Z", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

inline std::string BatchJson(const std::vector<std::string>& messages) {
  std::string s = "{\"batch\":[";
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i) s += ",";
    s += messages[i];
  }
  return s + "]}";
}

// GET `target`, waiting out "not now" answers: a 503 or 429 (overload, a store or audit log that
// is briefly unavailable, a full disk) is retried with back-off — Retry-After seconds when the
// server sends it, else 100 ms doubling to 2 s — for at most `patience`. Whatever comes after
// that is returned as is, so the caller's failure names the answer that persisted. Transport
// errors are returned at once: a server that went away is not "not now". `patience` 0: one try.
inline Result<HttpResponse> GetPatiently(HttpClient& client, std::string_view target, const HttpHeaders& headers,
                                         std::chrono::milliseconds patience, size_t* retries = nullptr) {
  using namespace std::chrono;
  const auto deadline = steady_clock::now() + patience;
  milliseconds backoff(100);
  for (;;) {
    auto r = client.Get(target, headers);
    if (!r.ok() || (r->status != 503 && r->status != 429)) return r;
    milliseconds wait = backoff;
    const std::string retry_after = r->Header("Retry-After");
    unsigned s = 0;
    auto parsed = std::from_chars(retry_after.data(), retry_after.data() + retry_after.size(), s);
    if (parsed.ec == std::errc() && s > 0) wait = seconds(std::min(s, 5u));
    if (steady_clock::now() + wait > deadline) return r;
    std::this_thread::sleep_for(wait);
    backoff = std::min(backoff * 2, milliseconds(2000));
    if (retries) ++*retries;
  }
}

// Every interaction on a customer's timeline (newest first), following `nextBefore` cursors.
// Fails the test (and returns what it has) on a non-200 answer or a cursor loop.
inline std::vector<boost::json::object> Timeline(HttpClient& client, const std::string& id, size_t page_size = 1000,
                                                 size_t* pages = nullptr) {
  std::vector<boost::json::object> out;
  std::string before;
  for (size_t page = 0; page < 100000; ++page) {
    std::string target = "/v1/customers/" + id + "/events?limit=" + std::to_string(page_size);
    if (!before.empty()) target += "&before=" + before;  // cursors are "<ms>:<seq>": URL-safe
    auto r = client.Get(target, AdminAuth());
    if (!r.ok()) {
      ADD_FAILURE() << target << ": " << r.status().ToString();
      return out;
    }
    if (r->status != 200) {
      ADD_FAILURE() << target << ": " << r->status << " " << r->body;
      return out;
    }
    boost::json::value v = ParseJson(r->body);
    if (!v.is_object()) return out;
    for (const auto& item : v.at("interactions").as_array()) out.push_back(item.as_object());
    if (pages) *pages = page + 1;
    const auto& next = v.at("nextBefore");
    if (next.is_null()) return out;
    std::string cursor(next.as_string());
    if (cursor == before) {
      ADD_FAILURE() << "cursor did not advance: " << cursor;
      return out;
    }
    before = cursor;
  }
  ADD_FAILURE() << "too many pages";
  return out;
}

// messageId → how many times it is on the timeline of `id` (empty when the customer is unknown).
inline std::map<std::string, int> MessageIdCounts(HttpClient& client, const std::string& id) {
  std::map<std::string, int> counts;
  auto probe = client.Get("/v1/customers/" + id, AdminAuth());
  if (probe.ok() && probe->status == 404) return counts;
  for (const auto& row : Timeline(client, id)) ++counts[std::string(row.at("messageId").as_string())];
  return counts;
}

}  // namespace cairn::testutil
