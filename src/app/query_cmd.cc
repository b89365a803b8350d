#include "app/query_cmd.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <type_traits>
#include <unordered_set>

#include "api/dto/insights_dto.h"
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

std::function<Result<std::vector<uint64_t>>(const analytics::Segment&)> MakeSegmentMembers(Hub* hub, analytics::Engine* engine,
                                                                                          int64_t time_limit_ms) {
  return [hub, engine, time_limit_ms](const analytics::Segment& s) -> Result<std::vector<uint64_t>> {
    journey::JourneyEngine* journey = hub->journey();
    if (s.channel.empty() && journey) {
      // Without the event index: a sub-index of ~1M customers copied from a 20M-row index cost
      // seconds a request (bench/README.md "overview_render.js"); the member list is one pass.
      // The index would keep the same customers: the journey's (persona and stage now) that have
      // rows, which every journey state has, less the analytics exclusions (MakeAnalyticsEngine).
      std::vector<store::CustomerId> members = journey->Members({s.persona, s.lifecycle});
      if (ConsentLedger* consents = hub->consents()) {
        auto excluded = consents->AnalyticsExclusions();
        if (!excluded->empty()) std::erase_if(members, [&](store::CustomerId c) { return excluded->contains(c); });
      }
      static_assert(std::is_same_v<store::CustomerId, uint64_t>);
      return members;
    }
    analytics::QueryContext ctx(time_limit_ms);
    ASSIGN_OR_RETURN(auto entry, engine->IndexFor(s, ctx));
    return std::vector<uint64_t>(entry.index->customers().begin(), entry.index->customers().end());
  };
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
  std::string who_cohort, who_breakdown;  // retention's who list (--who-cohort, --who-breakdown)
  int who_cohort_period = 0;              // --who-cohort-period (0 = the cohort's members)
  // trends / lifecycle / stickiness / paths
  std::string event, measure, interval, anchor, direction, exclude, who_node, who_source, who_target, who_period, after;
  int top_n = 0, depth = 0, max_nodes = 0, who_periods = 0;
  bool compare = false, collapse_repeats = false;
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

// A `who` object: `fields` plus the page (--limit, --after).
json::object WhoJson(const QueryFlags& f, json::object fields) {
  fields["limit"] = f.who_limit;
  if (!f.after.empty()) fields["after"] = f.after;
  return fields;
}

void Range(const QueryFlags& f, json::object* o) {
  if (!f.from.empty()) (*o)["from"] = f.from;
  if (!f.to.empty()) (*o)["to"] = f.to;
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
  Range(f, &o);
  if (!f.breakdown.empty()) {
    json::object b = BreakdownJson(f.breakdown);
    if (!f.attribution.empty()) b["attribution"] = f.attribution;
    if (f.attribution_step > 0) b["step"] = f.attribution_step;
    o["breakdown"] = std::move(b);
  }
  if (!f.over_time.empty()) o["over_time"] = f.over_time;
  if (f.who_step > 0) o["who"] = WhoJson(f, {{"step", f.who_step}, {"status", f.who_status}});
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
  Range(f, &o);
  if (!f.breakdown.empty()) o["breakdown"] = BreakdownJson(f.breakdown);
  if (!f.who_cohort.empty()) {
    json::object who{{"cohort", f.who_cohort}, {"period", f.who_cohort_period}};
    if (f.who_status != "reached") who["status"] = f.who_status;  // "reached": the flag's default, not given
    if (!f.who_breakdown.empty()) who["breakdown"] = f.who_breakdown;
    o["who"] = WhoJson(f, std::move(who));
  }
  return json::serialize(o);
}

std::unique_ptr<Hub> OpenHub(const QueryFlags& f) {
  HubOptions ho;
  ho.data_dir = f.data;
  ho.create_keys_if_none = false;
  ho.store.background_work = false;  // read only: no flush or compaction from a query
  ho.seed_dedup = false;              // nor ingest, so no de-duplication table to fill
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

// Opens the data dir, runs `query(engine, ctx)` and closes it again; the answer, or exit (2 for
// an invalid spec, 1 otherwise). `ms` gets the query's time.
template <typename Query>
auto RunOnData(const QueryFlags& f, Query query, double* ms) {
  auto hub = OpenHub(f);
  auto engine = MakeAnalyticsEngine(hub.get());
  analytics::QueryContext ctx(f.time_limit_ms, f.threads);
  const int64_t t0 = ctx.clock()->MonotonicNanos();
  auto r = query(*engine, ctx);
  *ms = static_cast<double>(ctx.clock()->MonotonicNanos() - t0) / 1e6;
  engine.reset();
  (void)hub->Close();
  if (!r.ok()) Fail(r.status(), r.status().Is(Code::kInvalidArgument) ? 2 : 1);
  return std::move(r).value();
}

void PrintWho(const std::vector<uint64_t>& ids, const std::optional<uint64_t>& next) {
  for (auto id : ids) std::printf("c:%llu\n", static_cast<unsigned long long>(id));
  if (next) std::printf("next: c:%llu\n", static_cast<unsigned long long>(*next));
}

void PrintWarnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
}

void RunFunnelCmd(const QueryFlags& f) {
  auto spec = api::DecodeFunnelSpec(FunnelJson(f));
  if (!spec.ok()) Fail(spec.status(), 2);
  if (Status v = analytics::ValidateFunnelSpec(*spec); !v.ok()) Fail(v, 2);  // before opening anything
  double ms = 0;
  auto r = RunOnData(f, [&](analytics::Engine& e, const analytics::QueryContext& ctx) { return e.Funnel(*spec, ctx); },
                     &ms);
  if (f.json) {
    std::printf("%s\n", api::FunnelResultToJson(*spec, r, ms).c_str());
    return;
  }
  size_t w = 5;
  for (const auto& s : r.steps) w = std::max(w, s.event.size());
  std::printf("%-4s  %-*s  %10s  %7s  %12s  %12s\n", "step", static_cast<int>(w), "event", "customers", "conv",
              "median_prev", "median_first");
  const uint64_t first = r.steps.empty() ? 0 : r.steps[0].count;
  for (size_t i = 0; i < r.steps.size(); ++i) {
    const auto& s = r.steps[i];
    std::printf("%-4zu  %-*s  %10llu  %6.1f%%  %12s  %12s\n", i + 1, static_cast<int>(w), s.event.c_str(),
                static_cast<unsigned long long>(s.count), first ? 100.0 * s.count / first : 0.0,
                i && s.from_previous.count ? Duration(s.from_previous.median_ms).c_str() : "-",
                i && s.from_first.count ? Duration(s.from_first.median_ms).c_str() : "-");
  }
  for (const auto& row : r.breakdown) {
    std::printf("breakdown %-20s", row.key.c_str());
    for (auto c : row.counts) std::printf(" %10llu", static_cast<unsigned long long>(c));
    std::printf("\n");
  }
  for (const auto& row : r.over_time) {
    std::printf("cohort %s", row.key.c_str());
    for (auto c : row.counts) std::printf(" %10llu", static_cast<unsigned long long>(c));
    std::printf("\n");
  }
  if (spec->who) PrintWho(r.who, r.who_next);
  PrintWarnings(r.warnings);
  std::printf("(%llu customers, %llu interactions, %.1f ms)\n", static_cast<unsigned long long>(r.customers_scanned),
              static_cast<unsigned long long>(r.rows_scanned), ms);
}

void RunRetentionCmd(const QueryFlags& f) {
  auto req = api::DecodeRetentionRequest(RetentionJson(f));
  if (!req.ok()) Fail(req.status(), 2);
  if (Status v = analytics::ValidateRetentionSpec(req->spec); !v.ok()) Fail(v, 2);
  double ms = 0;
  auto r = RunOnData(
      f, [&](analytics::Engine& e, const analytics::QueryContext& ctx) { return e.Retention(req->spec, ctx); }, &ms);
  if (f.json) {
    std::printf("%s\n", api::RetentionResultToJson(req->spec, r, req->revenue, ms).c_str());
    return;
  }
  const bool bd = req->spec.breakdown != analytics::RetentionSpec::BreakdownKind::kNone;
  if (bd) std::printf("%-16s  ", "breakdown");
  std::printf("%-10s  %8s", "cohort", "size");
  for (size_t k = 1; k <= req->spec.periods; ++k) std::printf("  %7s", fmt::format("+{}", k).c_str());
  std::printf("\n");
  for (const auto& c : r.cohorts) {
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
  if (r.who) PrintWho(r.who->customers, r.who->next);
  PrintWarnings(r.warnings);
  std::printf("(%llu customers, %llu interactions, %.1f ms)\n", static_cast<unsigned long long>(r.customers_scanned),
              static_cast<unsigned long long>(r.rows_scanned), ms);
}

// ---- trends, lifecycle, stickiness, paths (api/dto/insights_dto.h) -------------------------------

std::string TrendsJson(const QueryFlags& f) {
  if (!f.spec.empty()) return SpecText(f);
  json::object o;
  if (!f.event.empty()) o["event"] = f.event;
  if (!f.measure.empty()) o["measure"] = f.measure;
  if (!f.interval.empty()) o["interval"] = f.interval;
  if (!f.breakdown.empty()) o["breakdown"] = f.breakdown;
  if (f.top_n > 0) o["top_n"] = f.top_n;
  if (f.compare) o["compare"] = true;
  Range(f, &o);
  return json::serialize(o);
}

std::string LifecycleJson(const QueryFlags& f) {
  if (!f.spec.empty()) return SpecText(f);
  json::object o;
  if (!f.event.empty()) o["event"] = f.event;
  if (!f.period.empty()) o["period"] = f.period;
  Range(f, &o);
  if (!f.who_period.empty()) o["who"] = WhoJson(f, {{"period", f.who_period}, {"status", f.who_status}});
  return json::serialize(o);
}

std::string StickinessJson(const QueryFlags& f) {
  if (!f.spec.empty()) return SpecText(f);
  json::object o;
  if (!f.event.empty()) o["event"] = f.event;
  if (!f.interval.empty()) o["interval"] = f.interval;
  Range(f, &o);
  if (f.who_periods > 0) o["who"] = WhoJson(f, {{"periods", f.who_periods}});
  return json::serialize(o);
}

std::string PathsJson(const QueryFlags& f) {
  if (!f.spec.empty()) return SpecText(f);
  json::object o;
  o["anchor"] = f.anchor;
  if (!f.direction.empty()) o["direction"] = f.direction;
  if (f.depth > 0) o["depth"] = f.depth;
  if (!f.window.empty()) o["window"] = f.window;
  if (!f.exclude.empty()) {
    json::array ex;
    for (const auto& e : SplitComma(f.exclude)) ex.emplace_back(e);
    o["exclude"] = std::move(ex);
  }
  if (f.collapse_repeats) o["collapse_repeats"] = true;
  if (f.max_nodes > 0) o["max_nodes_per_step"] = f.max_nodes;
  Range(f, &o);
  if (!f.who_node.empty()) o["who"] = WhoJson(f, {{"node", f.who_node}, {"status", f.who_status}});
  if (!f.who_source.empty() || !f.who_target.empty())
    o["who"] = WhoJson(f, {{"source", f.who_source}, {"target", f.who_target}});
  return json::serialize(o);
}

// The answer of an insights query as --json prints it: the API's body plus "ms".
void PrintJson(std::string body, double ms) {
  if (!body.empty() && body.back() == '}') body.insert(body.size() - 1, fmt::format(",\"ms\":{:.3f}", ms));
  std::printf("%s\n", body.c_str());
}

void PrintWhoList(const std::optional<analytics::WhoList>& who) {
  if (who) PrintWho(who->customers, who->next);
}

void RunTrendsCmd(const QueryFlags& f) {
  auto spec = api::ParseTrendsSpec(TrendsJson(f));
  if (!spec.ok()) Fail(spec.status(), 2);
  if (Status v = analytics::ValidateTrendsSpec(*spec); !v.ok()) Fail(v, 2);
  double ms = 0;
  auto r = RunOnData(f, [&](analytics::Engine& e, const analytics::QueryContext& ctx) { return e.Trends(*spec, ctx); },
                     &ms);
  if (f.json) return PrintJson(api::TrendsToJson(r), ms);
  auto table = [](const char* title, const analytics::TrendsPeriod& p) {
    std::printf("%-22s", title);
    for (const auto& s : p.series) std::printf("  %14s", s.label.c_str());
    std::printf("\n");
    for (size_t b = 0; b < p.labels.size(); ++b) {
      std::printf("%-22s", p.labels[b].c_str());
      for (const auto& s : p.series) std::printf("  %14.6g", s.values[b]);
      std::printf("\n");
    }
    std::printf("%-22s", "total");
    for (const auto& s : p.series) std::printf("  %14.6g", s.total);
    std::printf("\n");
  };
  table(analytics::PeriodName(r.interval), r.current);
  if (r.has_previous) {
    std::printf("\n");
    table("previous", r.previous);
  }
  PrintWarnings(r.warnings);
  std::printf("(%.1f ms)\n", ms);
}

void RunLifecycleCmd(const QueryFlags& f) {
  auto spec = api::ParseLifecycleSpec(LifecycleJson(f));
  if (!spec.ok()) Fail(spec.status(), 2);
  if (Status v = analytics::ValidateLifecycleSpec(*spec); !v.ok()) Fail(v, 2);
  double ms = 0;
  auto r = RunOnData(
      f, [&](analytics::Engine& e, const analytics::QueryContext& ctx) { return e.Lifecycle(*spec, ctx); }, &ms);
  if (f.json) return PrintJson(api::LifecycleToJson(r), ms);
  std::printf("%-20s  %10s  %10s  %12s  %10s\n", analytics::PeriodName(r.period), "new", "returning", "resurrecting",
              "dormant");
  for (const auto& row : r.rows)
    std::printf("%-20s  %10llu  %10llu  %12llu  %10llu\n", row.start.c_str(),
                static_cast<unsigned long long>(row.new_customers), static_cast<unsigned long long>(row.returning),
                static_cast<unsigned long long>(row.resurrecting), static_cast<unsigned long long>(row.dormant));
  PrintWhoList(r.who);
  PrintWarnings(r.warnings);
  std::printf("(%.1f ms)\n", ms);
}

void RunStickinessCmd(const QueryFlags& f) {
  auto spec = api::ParseStickinessSpec(StickinessJson(f));
  if (!spec.ok()) Fail(spec.status(), 2);
  if (Status v = analytics::ValidateStickinessSpec(*spec); !v.ok()) Fail(v, 2);
  double ms = 0;
  auto r = RunOnData(
      f, [&](analytics::Engine& e, const analytics::QueryContext& ctx) { return e.Stickiness(*spec, ctx); }, &ms);
  if (f.json) return PrintJson(api::StickinessToJson(r), ms);
  std::printf("%-14s  %10s  %7s\n", fmt::format("{}s active", analytics::PeriodName(r.interval)).c_str(), "customers",
              "share");
  for (size_t k = 1; k <= r.counts.size(); ++k)
    std::printf("%-14zu  %10llu  %6.1f%%\n", k, static_cast<unsigned long long>(r.counts[k - 1]),
                r.customers ? 100.0 * static_cast<double>(r.counts[k - 1]) / static_cast<double>(r.customers) : 0.0);
  std::printf("%llu customers active over %u %ss, average %.2f\n", static_cast<unsigned long long>(r.customers),
              r.periods, analytics::PeriodName(r.interval), r.average);
  PrintWhoList(r.who);
  PrintWarnings(r.warnings);
  std::printf("(%.1f ms)\n", ms);
}

void RunPathsCmd(const QueryFlags& f) {
  auto spec = api::ParsePathsSpec(PathsJson(f));
  if (!spec.ok()) Fail(spec.status(), 2);
  if (Status v = analytics::ValidatePathsSpec(*spec); !v.ok()) Fail(v, 2);
  double ms = 0;
  auto r = RunOnData(f, [&](analytics::Engine& e, const analytics::QueryContext& ctx) { return e.Paths(*spec, ctx); },
                     &ms);
  if (f.json) return PrintJson(api::PathsToJson(r), ms);
  size_t w = 5;
  for (const auto& n : r.nodes) w = std::max(w, n.id.size());
  std::printf("%-*s  %10s  %10s\n", static_cast<int>(w), "node", "customers", "dropped");
  for (const auto& n : r.nodes)
    std::printf("%-*s  %10llu  %10llu\n", static_cast<int>(w), n.id.c_str(), static_cast<unsigned long long>(n.count),
                static_cast<unsigned long long>(n.dropoff));
  for (const auto& l : r.links)
    std::printf("%s -> %s  %llu\n", l.source.c_str(), l.target.c_str(), static_cast<unsigned long long>(l.count));
  std::printf("%llu customers did %s\n", static_cast<unsigned long long>(r.customers), spec->anchor.c_str());
  PrintWhoList(r.who);
  PrintWarnings(r.warnings);
  std::printf("(%.1f ms)\n", ms);
}

void CommonFlags(CLI::App* cmd, QueryFlags* f) {
  cmd->add_option("--data", f->data, "data directory (stopped)")->required();
  cmd->add_option("--spec", f->spec, "the whole JSON spec (as for POST /v1/query/...), or @FILE; replaces the flags");
  cmd->add_flag("--json", f->json, "print the JSON answer instead of a table");
  cmd->add_option("--time-limit", f->time_limit_ms, "query time limit in ms (default none)");
  cmd->add_option("--threads", f->threads, "worker threads (default: all cores)");
  cmd->add_option("--from", f->from, "only interactions from this date/time (UTC)");
  cmd->add_option("--to", f->to, "only interactions before this date/time (UTC)");
}

// The page of a "who" list: --limit and --after.
void PageFlags(CLI::App* cmd, QueryFlags* f) {
  cmd->add_option("--limit", f->who_limit, "customers per page of a who list (default 100)");
  cmd->add_option("--after", f->after, "the page after this cursor (the \"next:\" of the previous page)");
}

}  // namespace

void AddQueryCommands(CLI::App* cli) {
  auto f = std::make_shared<QueryFlags>();
  auto* query = cli->add_subcommand("query", "Run an analytics query on a data directory (docs/analytics.md)");
  query->require_subcommand(1);
  auto* funnel = query->add_subcommand("funnel", "Funnel: customers reaching each step, in order, within a window");
  CommonFlags(funnel, f.get());
  funnel->add_option("--breakdown", f->breakdown, "channel | property:NAME");
  funnel->add_option("--steps", f->steps, "comma-separated event names, e.g. \"Signed Up,Order Completed\"");
  funnel->add_option("--window", f->window, "conversion window (default 14d), e.g. 7d, 12h");
  funnel->add_option("--order", f->order, "ordered (default) | strict | any");
  funnel->add_option("--counting", f->counting, "uniques (default) | totals");
  funnel->add_option("--attribution", f->attribution, "breakdown attribution: first_touch | last_touch | step");
  funnel->add_option("--attribution-step", f->attribution_step, "step number for --attribution step");
  funnel->add_option("--over-time", f->over_time, "conversion by cohort of step-1 date: day | week | month");
  funnel->add_option("--who-step", f->who_step, "list the customers at this step (1-based)");
  funnel->add_option("--who-status", f->who_status, "reached (default) | dropped");
  PageFlags(funnel, f.get());
  funnel->callback([f] {
    if (f->spec.empty() && f->steps.empty()) Fail(InvalidArgument("--steps: required (or --spec)"), 2);
    RunFunnelCmd(*f);
  });
  auto* retention = query->add_subcommand("retention", "Cohort retention by period");
  CommonFlags(retention, f.get());
  retention->add_option("--breakdown", f->breakdown, "channel | property:NAME");
  retention->add_option("--start-event", f->start_event, "cohort event (default: first seen)");
  retention->add_option("--return-event", f->return_event, "return event (default: any)");
  retention->add_option("--period", f->period, "day | week (default) | month");
  retention->add_option("--periods", f->periods, "number of periods (default 8)");
  retention->add_option("--mode", f->mode, "on (default) | on_or_after");
  retention->add_option("--min-returns", f->min_returns, "returns needed within a period (default 1)");
  retention->add_flag("--revenue", f->revenue, "also sum the revenue of returns per period");
  retention->add_option("--who-cohort", f->who_cohort, "list the customers of this cohort (its start, e.g. 2026-01-05)");
  retention->add_option("--who-cohort-period", f->who_cohort_period,
                        "with --who-cohort: 0 = its members (default), k = those counted in returned[k]");
  retention->add_option("--who-status", f->who_status, "with --who-cohort-period k: returned (default) | not_returned");
  retention->add_option("--who-breakdown", f->who_breakdown, "with --breakdown: the cohort's value");
  PageFlags(retention, f.get());
  retention->callback([f] { RunRetentionCmd(*f); });

  auto* trends = query->add_subcommand("trends", "Trends: counts, customers, sum or average per period");
  CommonFlags(trends, f.get());
  trends->add_option("--event", f->event, "which interactions (default: all)");
  trends->add_option("--measure", f->measure, "count (default) | uniques | sum | avg (of revenue)");
  trends->add_option("--interval", f->interval, "hour | day (default) | week | month");
  trends->add_option("--breakdown", f->breakdown, "none (default) | channel | event");
  trends->add_option("--top-n", f->top_n, "series kept with --breakdown; the rest are $other (default 10)");
  trends->add_flag("--compare", f->compare, "also the equally long period just before");
  trends->callback([f] { RunTrendsCmd(*f); });

  auto* lifecycle = query->add_subcommand("lifecycle", "Lifecycle: new / returning / resurrecting / dormant per period");
  CommonFlags(lifecycle, f.get());
  lifecycle->add_option("--event", f->event, "activity that counts (default: any)");
  lifecycle->add_option("--period", f->period, "day | week (default) | month");
  lifecycle->add_option("--who-period", f->who_period, "list the customers of this period (its start, e.g. 2026-01-05)");
  lifecycle->add_option("--who-status", f->who_status, "with --who-period: new | returning | resurrecting | dormant");
  PageFlags(lifecycle, f.get());
  lifecycle->callback([f] {
    if (!f->who_period.empty() && f->who_status == "reached")
      Fail(InvalidArgument("--who-status: required with --who-period (new, returning, resurrecting or dormant)"), 2);
    RunLifecycleCmd(*f);
  });

  auto* stickiness = query->add_subcommand("stickiness", "Stickiness: customers by number of active periods");
  CommonFlags(stickiness, f.get());
  stickiness->add_option("--event", f->event, "activity that counts (default: any)");
  stickiness->add_option("--interval", f->interval, "hour | day (default) | week | month");
  stickiness->add_option("--who-periods", f->who_periods, "list the customers active on exactly this many periods");
  PageFlags(stickiness, f.get());
  stickiness->callback([f] { RunStickinessCmd(*f); });

  auto* paths = query->add_subcommand("paths", "Paths: what customers did after (before) an event, step by step");
  CommonFlags(paths, f.get());
  paths->add_option("--anchor", f->anchor, "the event paths start (or end) at");
  paths->add_option("--direction", f->direction, "next (default) | previous");
  paths->add_option("--depth", f->depth, "steps after (before) the anchor, 1..5 (default 3)");
  paths->add_option("--window", f->window, "only interactions within this time of the anchor, e.g. 30m, 7d");
  paths->add_option("--exclude", f->exclude, "comma-separated events skipped as if absent");
  paths->add_flag("--collapse-repeats", f->collapse_repeats, "one step for repeats of the same event");
  paths->add_option("--max-nodes", f->max_nodes, "nodes per step; the rest are $other (default 10)");
  paths->add_option("--who-node", f->who_node, "list the customers of this node, e.g. \"1:Product Viewed\"");
  paths->add_option("--who-status", f->who_status, "with --who-node: reached (default) | dropped");
  paths->add_option("--who-source", f->who_source, "list the customers of the link from this node ...");
  paths->add_option("--who-target", f->who_target, "... to this node (of the next step)");
  PageFlags(paths, f.get());
  paths->callback([f] {
    if (f->spec.empty() && f->anchor.empty()) Fail(InvalidArgument("--anchor: required (or --spec)"), 2);
    RunPathsCmd(*f);
  });
}

}  // namespace cairn::app
