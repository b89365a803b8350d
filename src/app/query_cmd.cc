#include "app/query_cmd.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_set>

#include "api/dto/query_dto.h"
#include "app/consent_wiring.h"
#include "app/hub.h"

namespace cairn::app {

namespace json = boost::json;

std::unique_ptr<analytics::Engine> MakeAnalyticsEngine(Hub* hub) {
  const ingest::IdentityResolver* identity = hub->identity();
  analytics::EngineOptions options;
  // Customers who denied `analytics` consent are left out of every query (docs/consent.md).
  if (ConsentLedger* consents = hub->consents()) {
    options.excluded = [consents](store::CustomerId canonical) { return consents->ExcludedFromAnalytics(canonical); };
    // The ledger hands out a new set whenever it recomputes (writes, merges, every minute); only
    // a different content invalidates the index.
    struct Seen {
      std::mutex mu;
      std::shared_ptr<const std::unordered_set<store::CustomerId>> set;
    };
    options.excluded_changed = [consents, seen = std::make_shared<Seen>()] {
      auto now = consents->AnalyticsExclusions();
      std::lock_guard lock(seen->mu);
      bool changed = seen->set != nullptr && now != seen->set && *now != *seen->set;
      seen->set = std::move(now);
      return changed;
    };
  }
  // The segment filter's persona / lifecycle stage now (analytics/spec/segment.h) come from the
  // journey engine; the acquisition channel is the analytics index's own.
  if (journey::JourneyEngine* journey = hub->journey()) {
    options.segment_members = [journey](const analytics::Segment& s) -> Result<std::vector<store::CustomerId>> {
      return journey->Members({s.persona, s.lifecycle});
    };
  }
  return std::make_unique<analytics::Engine>(
      hub->store(), [identity](store::CustomerId c) { return identity->Find(c); }, std::move(options));
}

namespace {

struct QueryFlags {
  std::string data;
  std::string spec;  // JSON text or @file
  bool json = false;
  int64_t time_limit_ms = 0;
  unsigned threads = 0;
  // funnel
  std::string steps, window, order, counting, from, to, breakdown, attribution, over_time, who_status = "reached";
  int attribution_step = 0, who_step = 0, who_limit = 100;
  // retention
  std::string start_event, return_event, period, mode;
  int periods = 0, min_returns = 0;
  bool revenue = false;
};

[[noreturn]] void Fail(const Status& s, int code = 1) {
  std::fprintf(stderr, "cairn query: error: %s\n", s.ToString().c_str());
  throw CLI::RuntimeError(code);
}

std::string SpecText(const QueryFlags& f) {
  if (f.spec.empty() || f.spec[0] != '@') return f.spec;
  std::ifstream in(f.spec.substr(1));
  if (!in) Fail(NotFound(fmt::format("--spec: cannot read {}", f.spec.substr(1))));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b <= s.size()) {
    size_t e = s.find(',', b);
    if (e == std::string::npos) e = s.size();
    std::string part = s.substr(b, e - b);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (!part.empty()) out.push_back(part);
    b = e + 1;
  }
  return out;
}

json::object BreakdownJson(const std::string& b) {
  json::object o;
  if (b == "channel") {
    o["by"] = "channel";
  } else if (b.starts_with("property:")) {
    o["by"] = "property";
    o["property"] = b.substr(9);
  } else {
    Fail(InvalidArgument("--breakdown: expected channel or property:NAME"), 2);
  }
  return o;
}

std::string FunnelJson(const QueryFlags& f) {
  if (!f.spec.empty()) return SpecText(f);
  json::object o;
  json::array steps;
  for (const auto& s : SplitComma(f.steps)) steps.push_back(json::object{{"event", s}});
  o["steps"] = std::move(steps);
  if (!f.window.empty()) o["window"] = f.window;
  if (!f.order.empty()) o["order"] = f.order;
  if (!f.counting.empty()) o["counting"] = f.counting;
  if (!f.from.empty()) o["from"] = f.from;
  if (!f.to.empty()) o["to"] = f.to;
  if (!f.breakdown.empty()) {
    json::object b = BreakdownJson(f.breakdown);
    if (!f.attribution.empty()) b["attribution"] = f.attribution;
    if (f.attribution_step > 0) b["step"] = f.attribution_step;
    o["breakdown"] = std::move(b);
  }
  if (!f.over_time.empty()) o["over_time"] = f.over_time;
  if (f.who_step > 0) o["who"] = json::object{{"step", f.who_step}, {"status", f.who_status}, {"limit", f.who_limit}};
  return json::serialize(o);
}

std::string RetentionJson(const QueryFlags& f) {
  if (!f.spec.empty()) return SpecText(f);
  json::object o;
  if (!f.start_event.empty()) o["start_event"] = f.start_event;
  if (!f.return_event.empty() && f.return_event != "any") o["return_event"] = f.return_event;
  if (!f.period.empty()) o["period"] = f.period;
  if (f.periods > 0) o["periods"] = f.periods;
  if (!f.mode.empty()) o["mode"] = f.mode;
  if (f.min_returns > 0) o["min_returns"] = f.min_returns;
  if (f.revenue) o["revenue"] = true;
  if (!f.from.empty()) o["from"] = f.from;
  if (!f.to.empty()) o["to"] = f.to;
  if (!f.breakdown.empty()) o["breakdown"] = BreakdownJson(f.breakdown);
  return json::serialize(o);
}

std::unique_ptr<Hub> OpenHub(const QueryFlags& f) {
  HubOptions ho;
  ho.data_dir = f.data;
  ho.create_keys_if_none = false;
  ho.store.background_work = false;  // read only: no flush or compaction from a query
  auto hub = Hub::Open(ho);
  if (!hub.ok()) Fail(hub.status());
  return std::move(*hub);
}

std::string Duration(int64_t ms) {
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 60'000) return fmt::format("{:.1f}s", ms / 1e3);
  if (ms < 3'600'000) return fmt::format("{:.1f}m", ms / 6e4);
  if (ms < 86'400'000) return fmt::format("{:.1f}h", ms / 3.6e6);
  return fmt::format("{:.1f}d", ms / 8.64e7);
}

void RunFunnelCmd(const QueryFlags& f) {
  auto spec = api::DecodeFunnelSpec(FunnelJson(f));
  if (!spec.ok()) Fail(spec.status(), 2);
  if (Status v = analytics::ValidateFunnelSpec(*spec); !v.ok()) Fail(v, 2);  // before opening anything
  auto hub = OpenHub(f);
  auto engine = MakeAnalyticsEngine(hub.get());
  analytics::QueryContext ctx(f.time_limit_ms, f.threads);
  const int64_t t0 = ctx.clock()->MonotonicNanos();
  auto r = engine->Funnel(*spec, ctx);
  const double ms = (ctx.clock()->MonotonicNanos() - t0) / 1e6;
  engine.reset();
  (void)hub->Close();
  if (!r.ok()) Fail(r.status(), r.status().Is(Code::kInvalidArgument) ? 2 : 1);
  if (f.json) {
    std::printf("%s\n", api::FunnelResultToJson(*spec, *r, ms).c_str());
    return;
  }
  size_t w = 5;
  for (const auto& s : r->steps) w = std::max(w, s.event.size());
  std::printf("%-4s  %-*s  %10s  %7s  %12s  %12s\n", "step", static_cast<int>(w), "event", "customers", "conv",
              "median_prev", "median_first");
  const uint64_t first = r->steps.empty() ? 0 : r->steps[0].count;
  for (size_t i = 0; i < r->steps.size(); ++i) {
    const auto& s = r->steps[i];
    std::printf("%-4zu  %-*s  %10llu  %6.1f%%  %12s  %12s\n", i + 1, static_cast<int>(w), s.event.c_str(),
                static_cast<unsigned long long>(s.count), first ? 100.0 * s.count / first : 0.0,
                i && s.from_previous.count ? Duration(s.from_previous.median_ms).c_str() : "-",
                i && s.from_first.count ? Duration(s.from_first.median_ms).c_str() : "-");
  }
  for (const auto& row : r->breakdown) {
    std::printf("breakdown %-20s", row.key.c_str());
    for (auto c : row.counts) std::printf(" %10llu", static_cast<unsigned long long>(c));
    std::printf("\n");
  }
  for (const auto& row : r->over_time) {
    std::printf("cohort %s", row.key.c_str());
    for (auto c : row.counts) std::printf(" %10llu", static_cast<unsigned long long>(c));
    std::printf("\n");
  }
  if (spec->who) {
    for (auto id : r->who) std::printf("c:%llu\n", static_cast<unsigned long long>(id));
    if (r->who_next) std::printf("next: c:%llu\n", static_cast<unsigned long long>(*r->who_next));
  }
  for (const auto& wmsg : r->warnings) std::fprintf(stderr, "warning: %s\n", wmsg.c_str());
  std::printf("(%llu customers, %llu interactions, %.1f ms)\n", static_cast<unsigned long long>(r->customers_scanned),
              static_cast<unsigned long long>(r->rows_scanned), ms);
}

void RunRetentionCmd(const QueryFlags& f) {
  auto req = api::DecodeRetentionRequest(RetentionJson(f));
  if (!req.ok()) Fail(req.status(), 2);
  if (Status v = analytics::ValidateRetentionSpec(req->spec); !v.ok()) Fail(v, 2);
  auto hub = OpenHub(f);
  auto engine = MakeAnalyticsEngine(hub.get());
  analytics::QueryContext ctx(f.time_limit_ms, f.threads);
  const int64_t t0 = ctx.clock()->MonotonicNanos();
  auto r = engine->Retention(req->spec, ctx);
  const double ms = (ctx.clock()->MonotonicNanos() - t0) / 1e6;
  engine.reset();
  (void)hub->Close();
  if (!r.ok()) Fail(r.status(), r.status().Is(Code::kInvalidArgument) ? 2 : 1);
  if (f.json) {
    std::printf("%s\n", api::RetentionResultToJson(req->spec, *r, req->revenue, ms).c_str());
    return;
  }
  const bool bd = req->spec.breakdown != analytics::RetentionSpec::BreakdownKind::kNone;
  if (bd) std::printf("%-16s  ", "breakdown");
  std::printf("%-10s  %8s", "cohort", "size");
  for (size_t k = 1; k <= req->spec.periods; ++k) std::printf("  %7s", fmt::format("+{}", k).c_str());
  std::printf("\n");
  for (const auto& c : r->cohorts) {
    if (bd) std::printf("%-16s  ", c.breakdown.c_str());
    std::printf("%-10s  %8llu", c.start.c_str(), static_cast<unsigned long long>(c.size));
    for (auto v : c.returned) std::printf("  %7llu", static_cast<unsigned long long>(v));
    std::printf("\n");
    if (req->revenue) {
      std::printf("%-10s  %8s", "  revenue", "");
      for (auto v : c.revenue) std::printf("  %7.0f", v);
      std::printf("\n");
    }
  }
  for (const auto& wmsg : r->warnings) std::fprintf(stderr, "warning: %s\n", wmsg.c_str());
  std::printf("(%llu customers, %llu interactions, %.1f ms)\n", static_cast<unsigned long long>(r->customers_scanned),
              static_cast<unsigned long long>(r->rows_scanned), ms);
}

void CommonFlags(CLI::App* cmd, QueryFlags* f) {
  cmd->add_option("--data", f->data, "data directory (stopped)")->required();
  cmd->add_option("--spec", f->spec, "the whole JSON spec (as for POST /v1/query/...), or @FILE; replaces the flags");
  cmd->add_flag("--json", f->json, "print the JSON answer instead of a table");
  cmd->add_option("--time-limit", f->time_limit_ms, "query time limit in ms (default none)");
  cmd->add_option("--threads", f->threads, "worker threads (default: all cores)");
  cmd->add_option("--from", f->from, "only interactions from this date/time (UTC)");
  cmd->add_option("--to", f->to, "only interactions before this date/time (UTC)");
  cmd->add_option("--breakdown", f->breakdown, "channel | property:NAME");
}

}  // namespace

void AddQueryCommands(CLI::App* cli) {
  auto f = std::make_shared<QueryFlags>();
  auto* query = cli->add_subcommand("query", "Run an analytics query on a data directory (docs/analytics.md)");
  query->require_subcommand(1);
  auto* funnel = query->add_subcommand("funnel", "Funnel: customers reaching each step, in order, within a window");
  CommonFlags(funnel, f.get());
  funnel->add_option("--steps", f->steps, "comma-separated event names, e.g. \"Signed Up,Order Completed\"");
  funnel->add_option("--window", f->window, "conversion window (default 14d), e.g. 7d, 12h");
  funnel->add_option("--order", f->order, "ordered (default) | strict | any");
  funnel->add_option("--counting", f->counting, "uniques (default) | totals");
  funnel->add_option("--attribution", f->attribution, "breakdown attribution: first_touch | last_touch | step");
  funnel->add_option("--attribution-step", f->attribution_step, "step number for --attribution step");
  funnel->add_option("--over-time", f->over_time, "conversion by cohort of step-1 date: day | week | month");
  funnel->add_option("--who-step", f->who_step, "list the customers at this step (1-based)");
  funnel->add_option("--who-status", f->who_status, "reached (default) | dropped");
  funnel->add_option("--limit", f->who_limit, "customers per page for --who-step (default 100)");
  funnel->callback([f] {
    if (f->spec.empty() && f->steps.empty()) Fail(InvalidArgument("--steps: required (or --spec)"), 2);
    RunFunnelCmd(*f);
  });
  auto* retention = query->add_subcommand("retention", "Cohort retention by period");
  CommonFlags(retention, f.get());
  retention->add_option("--start-event", f->start_event, "cohort event (default: first seen)");
  retention->add_option("--return-event", f->return_event, "return event (default: any)");
  retention->add_option("--period", f->period, "day | week (default) | month");
  retention->add_option("--periods", f->periods, "number of periods (default 8)");
  retention->add_option("--mode", f->mode, "on (default) | on_or_after");
  retention->add_option("--min-returns", f->min_returns, "returns needed within a period (default 1)");
  retention->add_flag("--revenue", f->revenue, "also sum the revenue of returns per period");
  retention->callback([f] { RunRetentionCmd(*f); });
}

}  // namespace cairn::app
