// The erasure proof (issue 8, docs/erasure.md) against the real binary: a customer with a unique
// marker string in their traits, event properties, a complaint (→ case) and a survey comment is
// erased; afterwards, and after `cairn compact`, the marker is in NO byte of the data directory —
// every file read recursively, SQLite -wal/-shm included, inside every zstd frame, and in every
// decoded value of every segment (segment columns are compressed, so a raw grep alone could not
// fail; a flush's LZ4 blocks have no magic number to find them by). Another customer's marker, checked
// by the same scanner, is still there (the scanner can see inside segments), their data is intact
// and countable, and a funnel counts one customer fewer. Also: suppression refuses the erased
// ids at ingest, and an erasure acknowledged just before a kill -9 completes at the restart.
// The erased customer's identifiers (userId, e-mail, anonymousId, phone) — used in audited
// requests (reads, export, consents, the DELETE itself, a read after it) — are in no byte of the
// data directory either: audit.db, rescue.db, actions.db, cases.db, feedback.db, consents.db,
// profiles.db, erasures.db, the WAL, the segments and the journey state.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <zstd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include <sqlite3.h>

#include "api/cairn_server.h"
#include "io/env.h"
#include "store/segment_reader.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

constexpr char kMarker[] = "ZQX-erase-me-7f3a9c1e";     // the erased customer's
constexpr char kKeepMarker[] = "ZQX-keep-me-5b2d8e40";  // another customer's
// The erased customer's identifiers, each unique in the data directory.
constexpr char kVictim[] = "vic-uid-7f3a9c1e";                // userId
constexpr char kVictimEmail[] = "vic-mail-7f3a9c1e@example.com";
constexpr char kVictimAnon[] = "vic-anon-7f3a9c1e";
constexpr char kVictimPhone[] = "+4915550173391";
const std::vector<std::string> kVictimIds = {kVictim, kVictimEmail, kVictimAnon, kVictimPhone, "vic-mail-7f3a9c1e"};

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// True if `needle` is in `data` raw or inside any zstd frame in it.
bool Contains(const std::string& data, const std::string& needle) {
  if (data.find(needle) != std::string::npos) return true;
  static constexpr char kMagic[] = {'\x28', '\xB5', '\x2F', '\xFD'};
  for (size_t at = data.find(std::string_view(kMagic, 4)); at != std::string::npos;
       at = data.find(std::string_view(kMagic, 4), at + 1)) {
    const char* src = data.data() + at;
    size_t avail = data.size() - at;
    size_t frame = ZSTD_findFrameCompressedSize(src, avail);
    if (ZSTD_isError(frame)) continue;
    unsigned long long size = ZSTD_getFrameContentSize(src, frame);
    if (size == ZSTD_CONTENTSIZE_ERROR || size > (256ull << 20)) continue;
    std::string out;
    if (size == ZSTD_CONTENTSIZE_UNKNOWN) {
      ZSTD_DStream* ds = ZSTD_createDStream();
      ZSTD_initDStream(ds);
      ZSTD_inBuffer in{src, frame, 0};
      std::string chunk(1 << 16, '\0');
      while (in.pos < in.size) {
        ZSTD_outBuffer o{chunk.data(), chunk.size(), 0};
        size_t r = ZSTD_decompressStream(ds, &o, &in);
        if (ZSTD_isError(r)) break;
        out.append(chunk.data(), o.pos);
        if (r == 0) break;
      }
      ZSTD_freeDStream(ds);
    } else {
      out.resize(size);
      size_t n = ZSTD_decompress(out.data(), out.size(), src, frame);
      if (ZSTD_isError(n)) continue;
      out.resize(n);
    }
    if (out.find(needle) != std::string::npos) return true;
  }
  return false;
}

// True if a value of a segment file's byte columns (message_id, payload) holds `needle`, decoded by
// the store's reader whatever their frames' codec (zstd, LZ4, raw). A segment that does not read
// is a test failure, and counts as holding it.
bool SegmentValuesContain(const std::filesystem::path& path, const std::string& needle) {
  auto r = store::SegmentReader::Open(io::Env::Posix(), path.string());
  if (!r.ok()) {
    ADD_FAILURE() << r.status().ToString();
    return true;
  }
  store::FixedColumns cols;
  for (size_t b = 0; b < (*r)->block_count(); ++b) {
    if (Status s = (*r)->ReadBlock(b, store::segment::kByteColumns, &cols); !s.ok()) {
      ADD_FAILURE() << s.ToString();
      return true;
    }
    if (cols.payload.data.find(needle) != std::string::npos || cols.message_id.data.find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// Every file under `dir` (recursively) holding `needle`.
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> hits;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    if (Contains(ReadAll(e.path()), needle) || (e.path().extension() == ".seg" && SegmentValuesContain(e.path(), needle))) {
      hits.push_back(e.path().string());
    }
  }
  return hits;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + " ";
  return s;
}

// Fails for every erased identifier still in some file of `dir`.
void ExpectNoVictimId(const std::string& dir) {
  for (const std::string& id : kVictimIds) EXPECT_EQ(FilesContaining(dir, id), std::vector<std::string>{}) << id;
}

// The victim: identify (traits, every kind of id), track (properties), a complaint (→ case and
// rescue) and a survey comment.
std::string VictimBatch(int n) {
  std::string m = kMarker;
  std::string p = std::to_string(n);
  const std::string user = kVictim;
  return BatchJson({
      R"({"type":"identify","userId":")" + user + R"(","anonymousId":")" + kVictimAnon + R"(","messageId":"v-id-)" + p +
          R"(","traits":{"email":")" + kVictimEmail + R"(","phone":")" + kVictimPhone + R"(","name":")" + m + R"("}})",
      TrackJson(user, "Signed Up", "v-su-" + p, R"("properties":{"note":")" + m + R"("})"),
      TrackJson(user, "Order Completed", "v-oc-" + p, R"("properties":{"revenue":42,"gift":")" + m + R"("})"),
      TrackJson(user, "Complaint Filed", "v-cf-" + p,
                R"("properties":{"category":"delivery","description":"late parcel )" + m + R"("})"),
      TrackJson(user, "Survey Responded", "v-sr-" + p, R"("properties":{"nps":3,"comment":"slow )" + m + R"("})"),
  });
}

std::string KeeperBatch(int i) {
  std::string u = "keeper-" + std::to_string(i);
  return BatchJson({
      R"({"type":"identify","userId":")" + u + R"(","messageId":"k-id-)" + std::to_string(i) +
          R"(","traits":{"name":")" + std::string(kKeepMarker) + R"("}})",
      TrackJson(u, "Signed Up", "k-su-" + std::to_string(i), R"("properties":{"note":")" + std::string(kKeepMarker) + R"("})"),
      TrackJson(u, "Order Completed", "k-oc-" + std::to_string(i), R"("properties":{"revenue":10})"),
  });
}

void Send(HttpClient& c, const std::string& body) {
  auto r = c.Post("/v1/batch", body, WriteAuth());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
}

// The victim's first batch, then the batches of keepers 0..keepers-1, each acknowledged.
void SendVictimAndKeepers(HttpClient& c, int keepers) {
  ASSERT_NO_FATAL_FAILURE(Send(c, VictimBatch(1)));
  for (int i = 0; i < keepers; ++i) ASSERT_NO_FATAL_FAILURE(Send(c, KeeperBatch(i)));
}

// Starts `server`, sends SendVictimAndKeepers(keepers) and stops it cleanly (exit 0).
void LoadAndStop(CairnServer& server, int keepers) {
  ASSERT_TRUE(server.Start());
  ASSERT_NO_FATAL_FAILURE(SendVictimAndKeepers(*server.Client(), keepers));
  ASSERT_TRUE(server.Stop());
}

// Customers who did Signed Up then Order Completed.
int64_t FunnelCompleted(HttpClient& c) {
  auto r = c.Post("/v1/query/funnel", R"({"steps":[{"event":"Signed Up"},{"event":"Order Completed"}],"window":"30d"})",
                  AdminAuth());
  if (!r.ok() || r->status != 200) {
    ADD_FAILURE() << (r.ok() ? r->body : r.status().ToString());
    return -1;
  }
  return ParseJson(r->body).at("steps").as_array().at(1).at("count").to_number<int64_t>();
}

void RunCli(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv = {CAIRN_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunToCompletion(argv, log, std::chrono::seconds(120));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->status.ExitedWith(0)) << args[0] << ": " << r->status.ToString() << "\n" << r->err;
}

TEST(ErasureTest, MarkerLeavesEveryByteOfTheDataDirectory) {
  TempDir tmp;
  std::string data = tmp.path() + "/data";
  CairnServer server(data, tmp.path() + "/serve");
  ASSERT_NO_FATAL_FAILURE(LoadAndStop(server, 3));
  // The first half goes to a segment, the second stays in the WAL: erasure must reach both.
  RunCli({"compact", "--data", data}, tmp.path() + "/compact0");
  ASSERT_TRUE(server.Start());
  auto c = server.Client();
  Send(*c, VictimBatch(2));
  // Positive control: before erasure the scanner finds both markers (raw and compressed).
  EXPECT_FALSE(FilesContaining(data, kMarker).empty());
  EXPECT_FALSE(FilesContaining(data, kKeepMarker).empty());
  EXPECT_EQ(FunnelCompleted(*c), 4);
  // Audited requests by every kind of id: reads, the export, a consent statement (consents.db).
  for (const std::string& path : {std::string("/v1/customers/u:") + kVictim, std::string("/v1/customers/") + kVictimEmail,
                                 std::string("/v1/customers/a:") + kVictimAnon + "/events",
                                 std::string("/v1/customers/p:") + kVictimPhone + "/journey",
                                 std::string("/v1/customers/") + kVictimEmail + "/export"}) {
    auto r = c->Get(path, AdminAuth());
    ASSERT_TRUE(r.ok()) << path;
    EXPECT_EQ(r->status, 200) << path << ": " << r->body;
  }
  auto consent = c->Request("PUT", std::string("/v1/customers/") + kVictimEmail + "/consents", AdminAuth(),
                            R"({"consents":[{"purpose":"marketing","channel":"email","state":"granted"}]})");
  ASSERT_TRUE(consent.ok());
  EXPECT_EQ(consent->status, 200) << consent->body;
  // Positive control: the scanner finds the ids before erasure, and every file the proof covers
  // is there to be scanned.
  for (const std::string& id : kVictimIds) EXPECT_FALSE(FilesContaining(data, id).empty()) << id;
  for (const char* f : {"audit.db", "rescue.db", "actions.db", "cases.db", "feedback.db", "consents.db", "profiles.db",
                        "erasures.db", "journey", "store/wal"}) {
    EXPECT_TRUE(std::filesystem::exists(data + "/" + f)) << f;
  }

  // By e-mail: the audit log records the customer's internal id, never the e-mail.
  auto del = c->Request("DELETE", std::string("/v1/customers/") + kVictimEmail, AdminAuth(), R"({"suppress":true})");
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  ASSERT_EQ(del->status, 200) << del->body;
  auto erasure = ParseJson(del->body);
  EXPECT_EQ(erasure.at("status").as_string(), "completed");
  EXPECT_EQ(erasure.at("suppress").as_bool(), true);
  // 10 sent, plus what Cairn recorded itself about them (case events on the timeline).
  EXPECT_GE(erasure.at("interactionsErased").to_number<int64_t>(), 10);
  std::string id = std::to_string(erasure.at("id").to_number<int64_t>());
  auto got = c->Get("/v1/erasures/" + id, AdminAuth());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(ParseJson(got->body).at("status").as_string(), "completed");

  // Reads: gone (a read by e-mail after erasure is audited too); aggregates: one customer fewer;
  // the others intact.
  auto after_by_email = c->Get(std::string("/v1/customers/") + kVictimEmail, AdminAuth());
  ASSERT_TRUE(after_by_email.ok());
  EXPECT_EQ(after_by_email->status, 404);
  auto after = c->Get(std::string("/v1/customers/u:") + kVictim, AdminAuth());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 404) << after->body;
  EXPECT_EQ(FunnelCompleted(*c), 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Timeline(*c, "u:keeper-" + std::to_string(i)).size(), 3u);

  // Suppression: the erased ids are refused, the rest of the batch is accepted.
  auto sup = c->Post("/v1/batch",
                     BatchJson({TrackJson(kVictim, "Signed Up", "v-again"), TrackJson("keeper-0", "Page Viewed", "k-pv")}),
                     WriteAuth());
  ASSERT_TRUE(sup.ok());
  ASSERT_EQ(sup->status, 200) << sup->body;
  auto outcome = ParseJson(sup->body);
  EXPECT_EQ(outcome.at("accepted").to_number<int64_t>(), 1) << sup->body;
  ASSERT_EQ(outcome.at("rejected").as_array().size(), 1u) << sup->body;
  EXPECT_NE(std::string(outcome.at("rejected").as_array()[0].at("error").as_string()).find("suppressed"), std::string::npos);
  auto by_email = c->Post("/v1/identify", R"({"anonymousId":"anon-x","traits":{"email":"VIC-MAIL-7f3a9c1e@example.com"},"messageId":"v-em"})",
                          WriteAuth());
  ASSERT_TRUE(by_email.ok());
  EXPECT_EQ(ParseJson(by_email->body).at("rejected").as_array().size(), 1u) << by_email->body;
  EXPECT_EQ(Timeline(*c, "u:keeper-0").size(), 4u);
  c.reset();
  ASSERT_TRUE(server.Stop());

  RunCli({"compact", "--data", data}, tmp.path() + "/compact1");
  EXPECT_EQ(FilesContaining(data, kMarker), std::vector<std::string>{}) << Join(FilesContaining(data, kMarker));
  // The scanner sees inside the compressed segment: the other customer's marker is found there.
  std::vector<std::string> keep = FilesContaining(data, kKeepMarker);
  EXPECT_TRUE(std::any_of(keep.begin(), keep.end(), [](const std::string& f) { return f.find("/seg/") != std::string::npos; }))
      << Join(keep);
  ExpectNoVictimId(data);
  RunCli({"verify", data}, tmp.path() + "/verify");

  // Still right after a restart: nothing comes back from any file.
  ASSERT_TRUE(server.Start());
  c = server.Client();
  auto again = c->Get(std::string("/v1/customers/u:") + kVictim, AdminAuth());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 404);
  EXPECT_EQ(FunnelCompleted(*c), 3);
  c.reset();
  ASSERT_TRUE(server.Stop());
}

TEST(ErasureTest, AcknowledgedErasureCompletesAfterKill) {
  TempDir tmp;
  std::string data = tmp.path() + "/data";
  CairnServer server(data, tmp.path() + "/serve");
  // The worker waits 10 min before erasing: the kill lands between acknowledgement and work.
  ::setenv("CAIRN_TEST_ERASURE_DELAY_MS", "600000", 1);
  bool started = server.Start();
  ::unsetenv("CAIRN_TEST_ERASURE_DELAY_MS");
  ASSERT_TRUE(started);
  auto c = server.Client();
  ASSERT_NO_FATAL_FAILURE(SendVictimAndKeepers(*c, 1));
  auto del = c->Request("DELETE", std::string("/v1/customers/u:") + kVictim, AdminAuth());
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  ASSERT_EQ(del->status, 202) << del->body;
  std::string id = std::to_string(ParseJson(del->body).at("id").to_number<int64_t>());
  EXPECT_EQ(ParseJson(del->body).at("status").as_string(), "pending");
  auto hidden = c->Get(std::string("/v1/customers/u:") + kVictim, AdminAuth());  // hidden at once
  ASSERT_TRUE(hidden.ok());
  EXPECT_EQ(hidden->status, 404);
  c.reset();
  server.Crash();

  ASSERT_TRUE(server.Start());  // resumes the pending erasure before serving
  c = server.Client();
  auto got = c->Get("/v1/erasures/" + id, AdminAuth());
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->status, 200) << got->body;
  EXPECT_EQ(ParseJson(got->body).at("status").as_string(), "completed") << got->body;
  auto gone = c->Get(std::string("/v1/customers/u:") + kVictim, AdminAuth());
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(Timeline(*c, "u:keeper-0").size(), 3u);
  c.reset();
  ASSERT_TRUE(server.Stop());
  RunCli({"compact", "--data", data}, tmp.path() + "/compact");
  EXPECT_EQ(FilesContaining(data, kMarker), std::vector<std::string>{}) << Join(FilesContaining(data, kMarker));
  EXPECT_FALSE(FilesContaining(data, kKeepMarker).empty());
  ExpectNoVictimId(data);
}

TEST(ErasureTest, OfflineEraseCommand) {
  TempDir tmp;
  std::string data = tmp.path() + "/data";
  CairnServer server(data, tmp.path() + "/serve");
  ASSERT_NO_FATAL_FAILURE(LoadAndStop(server, 1));
  RunCli({"erase", "--data", data, std::string("u:") + kVictim}, tmp.path() + "/erase");
  EXPECT_EQ(FilesContaining(data, kMarker), std::vector<std::string>{}) << Join(FilesContaining(data, kMarker));
  ExpectNoVictimId(data);
  EXPECT_FALSE(FilesContaining(data, kKeepMarker).empty());
  auto missing = RunToCompletion({CAIRN_BINARY, "erase", "--data", data, "u:nobody"}, tmp.path() + "/erase2",
                                 std::chrono::seconds(60));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->status.ExitedWith(0));
  EXPECT_NE(missing->err.find("no customer"), std::string::npos) << missing->err;
}

// A data directory upgraded from a version whose audit log kept the ids as requested (audit.db
// schema 1, src/entity/testdata/audit_schema1.sql: the victim named by e-mail, "u:" userId and
// phone): the upgrade rewrites those records to keyed subjects (schema 3, docs/format/audit.md),
// so after the customer's erasure no byte of any of their ids is left, old audit records
// included; the old records are still found by the customer's ids and the chain verifies.
TEST(ErasureTest, AuditRecordsWrittenBeforeSubjectsKeepNoRawIdAfterUpgradeAndErasure) {
  TempDir tmp;
  std::string data = tmp.path() + "/data";
  std::filesystem::create_directories(data);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((data + "/audit.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const std::string sql = ReadAll(std::string(CAIRN_ENTITY_TESTDATA) + "/audit_schema1.sql");
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  // Positive control: the fixture holds the victim's e-mail, userId and phone in plain.
  for (const char* id : {kVictimEmail, kVictim, kVictimPhone}) EXPECT_FALSE(FilesContaining(data, id).empty()) << id;

  CairnServer server(data, tmp.path() + "/serve");
  ASSERT_TRUE(server.Start());
  auto c = server.Client();
  ASSERT_NO_FATAL_FAILURE(SendVictimAndKeepers(*c, 1));
  // The records written by schema 1 about the victim (1: by e-mail, 2: by userId, 4: by phone)
  // are found by the customer's e-mail, as records written later are.
  auto audit = c->Get(std::string("/v1/audit?limit=1000&customer=") + kVictimEmail, AdminAuth());
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->status, 200) << audit->body;
  std::set<int64_t> seqs;
  const boost::json::value entries = ParseJson(audit->body);
  for (const auto& e : entries.at("entries").as_array()) seqs.insert(e.at("seq").to_number<int64_t>());
  for (int64_t seq : {1, 2, 4}) EXPECT_TRUE(seqs.count(seq)) << "schema-1 record " << seq << ": " << audit->body;
  EXPECT_FALSE(seqs.count(3)) << audit->body;
  EXPECT_FALSE(seqs.count(5)) << audit->body;

  auto del = c->Request("DELETE", std::string("/v1/customers/u:") + kVictim, AdminAuth(), R"({"suppress":true})");
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  ASSERT_EQ(del->status, 200) << del->body;
  c.reset();
  ASSERT_TRUE(server.Stop());
  RunCli({"compact", "--data", data}, tmp.path() + "/compact");
  ExpectNoVictimId(data);
  EXPECT_EQ(FilesContaining(data, kMarker), std::vector<std::string>{}) << Join(FilesContaining(data, kMarker));
  RunCli({"audit", "verify", "--data", data}, tmp.path() + "/audit-verify");
}

}  // namespace
}  // namespace cairn::testutil
