// Cases and surveys through the real binary: agents and policies over the API, a case's life with
// an invalid transition (409 naming the allowed moves), approval above an agent's authority,
// complaints and survey answers arriving as interactions, NPS, the analysis, and a restart
// (nothing lost, nothing opened twice by WAL replay).

#include <gtest/gtest.h>

#include <thread>

#include "api/cairn_server.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

struct Answer {
  unsigned status = 0;
  boost::json::value json;
};

Answer Call(HttpClient& c, std::string_view method, const std::string& target, const std::string& body = "") {
  auto r = c.Request(method, target, AdminAuth(), body);
  EXPECT_TRUE(r.ok()) << target << ": " << r.status().ToString();
  if (!r.ok()) return {};
  Answer a{r->status, nullptr};
  a.json = ParseJson(r->body);
  return a;
}

std::string Str(const boost::json::value& v, std::string_view key) {
  if (!v.is_object() || !v.as_object().contains(key) || !v.at(key).is_string()) return "";
  return std::string(v.at(key).as_string());
}

TEST(CasesApi, LifecycleApprovalStreamAndRestart) {
  TempDir tmp;
  CairnServer server(tmp.Sub("data"), tmp.Sub("serve"));
  ASSERT_TRUE(server.Start());
  uint64_t case_id = 0, stream_case = 0;
  {
    auto c = server.Client();
    // Auth: a write key may not touch cases.
    auto denied = c->Request("GET", "/v1/cases", WriteAuth(), "");
    ASSERT_TRUE(denied.ok());
    EXPECT_NE(denied->status, 200u);

    EXPECT_EQ(Call(*c, "PUT", "/v1/agents/ann", R"({"name":"Ann","team":"red","level":"agent","skills":["billing"]})").status, 200u);
    EXPECT_EQ(Call(*c, "PUT", "/v1/agents/meg", R"({"name":"Meg","team":"red","level":"manager"})").status, 200u);
    auto bad_agent = Call(*c, "PUT", "/v1/agents/x", R"({"level":"boss"})");
    EXPECT_EQ(bad_agent.status, 400u);
    EXPECT_NE(Str(bad_agent.json, "error").find("level"), std::string::npos) << bad_agent.json;
    auto cal = Call(*c, "PUT", "/v1/sla/calendars/berlin",
                    R"({"timezone":"Europe/Berlin","hours":{"mon":["09:00-17:00"],"tue":["09:00-17:00"]},"holidays":["2026-12-25"]})");
    EXPECT_EQ(cal.status, 200u) << cal.json;
    auto bad_cal = Call(*c, "PUT", "/v1/sla/calendars/mars", R"({"timezone":"Mars/Base","hours":{"mon":["09:00-17:00"]}})");
    EXPECT_EQ(bad_cal.status, 400u);
    EXPECT_NE(Str(bad_cal.json, "error").find("timezone"), std::string::npos);
    EXPECT_EQ(Call(*c, "PUT", "/v1/sla/policies",
                   R"({"severity":"high","tier":"standard","firstResponseMinutes":60,"resolutionMinutes":480,"calendar":"berlin"})")
                  .status,
              200u);

    // Open through the API: customer must exist, so send an identify first.
    auto ingest = c->Post("/v1/batch",
                          BatchJson({R"({"type":"identify","userId":"u-1","messageId":"id-1","traits":{"plan":"pro"}})"}),
                          WriteAuth());
    ASSERT_TRUE(ingest.ok());
    ASSERT_EQ(ingest->status, 200u) << ingest->body;
    auto opened = Call(*c, "POST", "/v1/cases",
                       R"({"customer":"u-1","channel":"email","category":"billing","severity":"high","description":"charged twice"})");
    ASSERT_EQ(opened.status, 201u) << opened.json;
    case_id = opened.json.at("id").to_number<uint64_t>();
    EXPECT_EQ(Str(opened.json, "status"), "new");
    EXPECT_EQ(Str(opened.json, "assignee"), "ann");
    EXPECT_EQ(Str(opened.json.at("sla"), "calendar"), "berlin");
    EXPECT_EQ(Call(*c, "POST", "/v1/cases", R"({"customer":"nobody-at-all"})").status, 404u);
    EXPECT_EQ(Call(*c, "POST", "/v1/cases", R"({"customer":"u-1","severity":"urgent"})").status, 400u);

    const std::string base = "/v1/cases/" + std::to_string(case_id);
    auto invalid = Call(*c, "POST", base + "/transition", R"({"to":"closed"})");
    EXPECT_EQ(invalid.status, 409u);
    ASSERT_TRUE(invalid.json.is_object());
    EXPECT_EQ(boost::json::serialize(invalid.json.at("allowed")), R"(["triaged","in_progress"])");
    EXPECT_EQ(Call(*c, "POST", base + "/transition", R"({"to":"in_progress","actor":"ann"})").status, 200u);
    // 500 is above an agent's default limit (50): it waits for approval (202).
    auto pending = Call(*c, "POST", base + "/transition",
                        R"({"to":"resolved","actor":"ann","resolution":{"type":"refund","amount":500}})");
    EXPECT_EQ(pending.status, 202u) << pending.json;
    EXPECT_EQ(Str(pending.json, "status"), "in_progress");
    EXPECT_EQ(Str(pending.json.at("pendingResolution"), "approvalLevel"), "manager");
    EXPECT_EQ(Call(*c, "POST", base + "/approve", R"({"approver":"ann"})").status, 403u);
    auto approved = Call(*c, "POST", base + "/approve", R"({"approver":"meg"})");
    EXPECT_EQ(approved.status, 200u) << approved.json;
    EXPECT_EQ(Str(approved.json, "status"), "resolved");
    EXPECT_EQ(Call(*c, "POST", base + "/comments", R"({"author":"ann","body":"refund sent"})").status, 201u);
    // Stale version: 409.
    EXPECT_EQ(Call(*c, "PATCH", base, R"({"rootCause":"double charge","version":1})").status, 409u);
    EXPECT_EQ(Call(*c, "PATCH", base, R"({"rootCause":"double charge"})").status, 200u);
    auto detail = Call(*c, "GET", base);
    ASSERT_EQ(detail.status, 200u);
    EXPECT_EQ(detail.json.at("comments").as_array().size(), 1u);
    EXPECT_GE(detail.json.at("audit").as_array().size(), 5u);

    // Complaints and survey answers as interactions.
    std::vector<std::string> msgs = {
        TrackJson("u-2", "Complaint Filed", "cf-1", R"("properties":{"category":"delivery","severity":"low","description":"late"})"),
        TrackJson("u-3", "Survey Responded", "sr-1", R"("properties":{"survey":"nps","score":10,"segment":"smb"})"),
        TrackJson("u-4", "Survey Responded", "sr-2", R"("properties":{"survey":"nps","score":9,"segment":"smb"})"),
        TrackJson("u-5", "Survey Responded", "sr-3", R"("properties":{"survey":"nps","score":2,"comment":"slow delivery","segment":"ent"})"),
        TrackJson("u-6", "Survey Responded", "sr-4", R"("properties":{"survey":"nps","score":7,"segment":"ent"})"),
    };
    auto sent = c->Post("/v1/batch", BatchJson(msgs), WriteAuth());
    ASSERT_TRUE(sent.ok());
    ASSERT_EQ(sent->status, 200u) << sent->body;
    Answer list;
    for (int i = 0; i < 100; ++i) {  // the intake runs as the batch commits; allow a moment
      list = Call(*c, "GET", "/v1/cases?customer=u-2");
      if (list.status == 200 && !list.json.at("cases").as_array().empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(list.json.at("cases").as_array().size(), 1u) << list.json;
    stream_case = list.json.at("cases").as_array()[0].at("id").to_number<uint64_t>();
    EXPECT_EQ(Str(list.json.at("cases").as_array()[0], "origin"), "interaction");

    auto nps = Call(*c, "GET", "/v1/feedback/nps");
    ASSERT_EQ(nps.status, 200u);
    // 10, 9 promoters; 7 passive; 2 detractor → (2 − 1) / 4 = 25.
    EXPECT_EQ(nps.json.at("responses").as_int64(), 4);
    EXPECT_EQ(nps.json.at("promoters").as_int64(), 2);
    EXPECT_EQ(nps.json.at("passives").as_int64(), 1);
    EXPECT_EQ(nps.json.at("detractors").as_int64(), 1);
    EXPECT_DOUBLE_EQ(nps.json.at("nps").to_number<double>(), 25.0);
    auto by = Call(*c, "GET", "/v1/feedback/nps?by=segment");
    ASSERT_EQ(by.json.at("groups").as_array().size(), 2u);
    EXPECT_EQ(Call(*c, "GET", "/v1/feedback/nps?by=planet").status, 400u);
    auto rec = Call(*c, "POST", "/v1/feedback/responses", R"({"customer":"u-1","survey":"csat","score":5,"caseId":)" +
                                                              std::to_string(case_id) + "}");
    EXPECT_EQ(rec.status, 201u) << rec.json;
    EXPECT_EQ(Call(*c, "POST", "/v1/feedback/responses", R"({"survey":"csat","score":9})").status, 400u);
    auto themes = Call(*c, "GET", "/v1/feedback/themes?survey=nps");
    EXPECT_EQ(themes.status, 200u);
    EXPECT_EQ(themes.json.at("comments").as_int64(), 1);

    auto analysis = Call(*c, "GET", "/v1/complaints/analysis");
    ASSERT_EQ(analysis.status, 200u);
    EXPECT_EQ(analysis.json.at("cases").as_int64(), 3);  // API, complaint, detractor comment
    EXPECT_EQ(analysis.json.at("csatAfterResolution").at("responses").as_int64(), 1);
    EXPECT_FALSE(analysis.json.at("categories").as_array().empty());
  }
  ASSERT_TRUE(server.Stop());
  ASSERT_TRUE(server.Start());
  {
    auto c = server.Client();
    auto all = Call(*c, "GET", "/v1/cases?limit=100");
    ASSERT_EQ(all.status, 200u);
    EXPECT_EQ(all.json.at("cases").as_array().size(), 3u);  // WAL replay opened nothing twice
    auto again = Call(*c, "GET", "/v1/cases/" + std::to_string(case_id));
    EXPECT_EQ(Str(again.json.at("case"), "status"), "resolved");
    EXPECT_EQ(Str(again.json.at("case"), "rootCause"), "double charge");
    EXPECT_EQ(Call(*c, "GET", "/v1/cases/" + std::to_string(stream_case)).status, 200u);
    EXPECT_EQ(Call(*c, "GET", "/v1/feedback/nps").json.at("responses").as_int64(), 4);
  }
  ASSERT_TRUE(server.Stop());
}

}  // namespace
}  // namespace cairn::testutil
