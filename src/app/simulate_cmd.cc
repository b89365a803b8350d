#include "app/simulate_cmd.h"

#include <CLI/CLI.hpp>
#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "app/import.h"
#include "app/remote_ingestor.h"
#include "base/civil_time.h"
#include "base/clock.h"
#include "base/logging.h"
#include "base/thread_name.h"

namespace cairn::app {
namespace {

constexpr int64_t kDayMs = 86'400'000;

Result<int64_t> ParseDate(const std::string& s) {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  if (std::sscanf(s.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3 || s.size() != 10 || y < 1971 || m < 1 ||
      m > 12 || d < 1 || d > 31)
    return InvalidArgument("--start: expected YYYY-MM-DD (after 1970), got '" + s + "'");
  return DaysFromCivil(y, m, d) * kDayMs;
}

std::string Human(double v) {
  char buf[32];
  if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

uint64_t PeakRssKiB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  return 0;
}

void PrintSummary(const SimulateReport& r) {
  const sim::SimStats& s = r.stats;
  std::fprintf(stderr,
               "simulate: %lu interactions (%lu outbound) from %lu customers in %.1fs (%s interactions/s), peak RSS %lu MiB\n"
               "simulate: conversion %.1f%%, membership churn %.1f%% per renewal, NPS %.0f (%lu answers), "
               "%lu orders, %lu deals won, revenue EUR %.0f, ad spend EUR %.0f, %lu complaints, peak %lu customers in memory\n",
               static_cast<unsigned long>(r.lines), static_cast<unsigned long>(s.outbound),
               static_cast<unsigned long>(s.arrivals), r.seconds, Human(r.lines / std::max(r.seconds, 1e-9)).c_str(),
               static_cast<unsigned long>(PeakRssKiB() / 1024), 100 * s.Conversion(), 100 * s.Churn(), s.Nps(),
               static_cast<unsigned long>(s.nps_responses), static_cast<unsigned long>(s.orders),
               static_cast<unsigned long>(s.deals_won), s.revenue_cents / 100.0, s.ad_spend_cents / 100.0,
               static_cast<unsigned long>(s.complaints), static_cast<unsigned long>(s.peak_live_customers));
}

// The simulator's history as the import's line source.
class SimLines final : public LineSource {
 public:
  explicit SimLines(sim::Simulator* sim) : sim_(sim) {}
  bool Next(std::string* line) override { return sim_->Next(sim_->history_end_ms(), line); }
  double Fraction() const override { return sim_->Progress(); }

 private:
  sim::Simulator* sim_;
};

Result<SimulateReport> Ingest(sim::Simulator* sim, const Config& cfg, const std::string& url,
                              const std::string& write_key, bool progress) {
  ImportOptions io;
  io.url = url;
  io.write_key = write_key;
  io.progress = progress;
  SimLines lines(sim);
  auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(ImportReport ir, RunImportFrom(cfg, io, &lines));
  SimulateReport r;
  r.lines = ir.lines;
  r.accepted = ir.accepted + ir.duplicates;
  r.bad = ir.bad_lines;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.stats = sim->stats();
  if (r.bad > 0) return Internal("the ingest path rejected " + std::to_string(r.bad) + " simulated interactions");
  return r;
}

std::string At(const YAML::Node& n) {
  return "line " + std::to_string(n.Mark().line + 1) + ", column " + std::to_string(n.Mark().column + 1);
}

template <typename T>
Status Read(const YAML::Node& n, const std::string& key, T* out) {
  try {
    *out = n.as<T>();
  } catch (const YAML::Exception&) {
    return InvalidArgument("sim config " + key + " (" + At(n) + "): expected a " +
                           (std::is_same_v<T, std::string> ? "string" : std::is_same_v<T, bool> ? "boolean" : "number"));
  }
  return Status::Ok();
}

Status ReadRange(const YAML::Node& n, const std::string& key, double* lo, double* hi) {
  if (!n.IsSequence() || n.size() != 2) return InvalidArgument("sim config " + key + " (" + At(n) + "): expected [min, max]");
  RETURN_IF_ERROR(Read(n[0], key, lo));
  return Read(n[1], key, hi);
}

Status ApplyPersona(const YAML::Node& n, const std::string& where, sim::Persona* p) {
  if (!n.IsMap()) return InvalidArgument("sim config " + where + " (" + At(n) + "): expected a mapping");
  const std::pair<const char*, double*> fields[] = {
      {"share", &p->share}, {"sessions_per_week", &p->sessions_per_week}, {"mobile_share", &p->mobile_share},
      {"email_affinity", &p->email_affinity}, {"sms_affinity", &p->sms_affinity}, {"phone_affinity", &p->phone_affinity},
      {"signup_propensity", &p->signup_propensity}, {"buy_propensity", &p->buy_propensity},
      {"repeat_propensity", &p->repeat_propensity}, {"value_multiplier", &p->value_multiplier},
      {"patience", &p->patience}, {"subscribe_propensity", &p->subscribe_propensity},
      {"competitor_susceptibility", &p->competitor_susceptibility}, {"survey_propensity", &p->survey_propensity}};
  for (const auto& kv : n) {
    std::string key = kv.first.as<std::string>();
    bool known = false;
    for (const auto& [name, field] : fields)
      if (key == name) {
        RETURN_IF_ERROR(Read(kv.second, where + "." + key, field));
        known = true;
      }
    if (key == "business") {
      RETURN_IF_ERROR(Read(kv.second, where + "." + key, &p->business));
      known = true;
    }
    if (!known) return InvalidArgument("sim config " + where + "." + key + " (" + At(kv.first) + "): unknown key");
  }
  return Status::Ok();
}

Status ApplyCampaign(const YAML::Node& n, const std::string& where, size_t personas, sim::Campaign* c) {
  if (!n.IsMap()) return InvalidArgument("sim config " + where + " (" + At(n) + "): expected a mapping");
  for (const auto& kv : n) {
    std::string key = kv.first.as<std::string>(), k = where + "." + key;
    const YAML::Node& v = kv.second;
    if (key == "name") RETURN_IF_ERROR(Read(v, k, &c->name));
    else if (key == "source") RETURN_IF_ERROR(Read(v, k, &c->source));
    else if (key == "medium") RETURN_IF_ERROR(Read(v, k, &c->medium));
    else if (key == "channel") RETURN_IF_ERROR(Read(v, k, &c->channel));
    else if (key == "budget") RETURN_IF_ERROR(Read(v, k, &c->budget));
    else if (key == "cost_per_click") RETURN_IF_ERROR(Read(v, k, &c->cost_per_click));
    else if (key == "start_day") RETURN_IF_ERROR(Read(v, k, &c->start_day));
    else if (key == "end_day") RETURN_IF_ERROR(Read(v, k, &c->end_day));
    else if (key == "persona_weights") {
      if (!v.IsSequence() || v.size() != personas)
        return InvalidArgument("sim config " + k + " (" + At(v) + "): one weight per persona, in the personas' order");
      c->persona_weights.assign(personas, 0);
      for (size_t i = 0; i < personas; ++i) RETURN_IF_ERROR(Read(v[i], k, &c->persona_weights[i]));
    } else {
      return InvalidArgument("sim config " + k + " (" + At(kv.first) + "): unknown key");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ApplySimConfig(const std::string& path, sim::SimOptions* o) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return InvalidArgument("--sim-config: cannot read " + path);
  } catch (const YAML::Exception& e) {
    return InvalidArgument("sim config " + path + ": line " + std::to_string(e.mark.line + 1) + ", column " +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap()) return InvalidArgument("sim config " + path + ": the top level must be a mapping");
  const std::pair<const char*, double*> scalars[] = {
      {"organic_share", &o->organic_share}, {"growth_per_year", &o->growth_per_year},
      {"weekend_factor", &o->weekend_factor}, {"membership_price", &o->membership_price},
      {"late_delivery_rate", &o->late_delivery_rate}, {"damaged_rate", &o->damaged_rate},
      {"billing_error_rate", &o->billing_error_rate}, {"good_resolution_rate", &o->good_resolution_rate},
      {"competitor_offers_per_year", &o->competitor_offers_per_year},
      {"newsletter_every_days", &o->newsletter_every_days}};
  for (const auto& kv : root) {
    std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    bool done = false;
    for (const auto& [name, field] : scalars)
      if (key == name) {
        RETURN_IF_ERROR(Read(v, key, field));
        done = true;
      }
    if (done) continue;
    if (key == "targets") {
      if (!v.IsMap()) return InvalidArgument("sim config targets (" + At(v) + "): expected a mapping");
      for (const auto& t : v) {
        std::string tk = t.first.as<std::string>();
        if (tk == "conversion") RETURN_IF_ERROR(ReadRange(t.second, "targets.conversion", &o->targets.conversion_min, &o->targets.conversion_max));
        else if (tk == "churn") RETURN_IF_ERROR(ReadRange(t.second, "targets.churn", &o->targets.churn_min, &o->targets.churn_max));
        else if (tk == "nps") RETURN_IF_ERROR(ReadRange(t.second, "targets.nps", &o->targets.nps_min, &o->targets.nps_max));
        else return InvalidArgument("sim config targets." + tk + " (" + At(t.first) + "): unknown key");
      }
    } else if (key == "personas") {
      // By name: a known persona's fields are overridden; a new name adds a persona.
      if (!v.IsMap()) return InvalidArgument("sim config personas (" + At(v) + "): expected a mapping of name: fields");
      for (const auto& p : v) {
        std::string name = p.first.as<std::string>();
        sim::Persona* target = nullptr;
        for (auto& existing : o->personas)
          if (existing.name == name) target = &existing;
        if (!target) {
          o->personas.push_back(sim::Persona{});
          o->personas.back().name = name;
          for (auto& c : o->campaigns)
            if (!c.persona_weights.empty()) c.persona_weights.push_back(0);
          target = &o->personas.back();
        }
        RETURN_IF_ERROR(ApplyPersona(p.second, "personas." + name, target));
      }
    } else if (key == "campaigns") {
      // The whole list (replaces the defaults).
      if (!v.IsSequence()) return InvalidArgument("sim config campaigns (" + At(v) + "): expected a list");
      o->campaigns.clear();
      for (size_t i = 0; i < v.size(); ++i) {
        sim::Campaign c;
        RETURN_IF_ERROR(ApplyCampaign(v[i], "campaigns[" + std::to_string(i) + "]", o->personas.size(), &c));
        o->campaigns.push_back(std::move(c));
      }
    } else {
      return InvalidArgument("sim config " + key + " (" + At(kv.first) + "): unknown key");
    }
  }
  return Status::Ok();
}

void AddSimulateFlags(CLI::App* cmd, SimulateOptions* o) {
  cmd->add_option("--customers", o->customers, "customers arriving over the history (default 50000)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}));
  cmd->add_option("--days", o->days, "days of history (default 365)")->check(CLI::Range(1, 3660));
  cmd->add_option("--seed", o->seed, "random seed: the same seed and options give the same bytes (default 1)");
  cmd->add_option("--start", o->start, "first day, YYYY-MM-DD UTC (default: DAYS days before today)");
  cmd->add_option("--out", o->out, "write JSON Lines to FILE ('-' = stdout, *.gz = gzip)");
  cmd->add_option("--url", o->url, "send to a running server, http://HOST:PORT (needs --write-key)");
  cmd->add_option("--write-key", o->write_key, "write key for --url; with --data it names the source");
  cmd->add_option("--data", o->data, "load into this data directory (not open by a server)");
  cmd->add_flag("!--no-progress", o->progress, "no progress output");
  cmd->add_option("--sim-config", o->sim_config, "the business's parameters, YAML (see config/sim.yaml)");
}

Result<sim::SimOptions> BuildSimOptions(const SimulateOptions& o, int64_t now_ms) {
  int64_t start = (now_ms / kDayMs - o.days) * kDayMs;
  if (!o.start.empty()) {
    ASSIGN_OR_RETURN(start, ParseDate(o.start));
  }
  sim::SimOptions s = sim::DefaultSimOptions(o.customers, o.days, o.seed, start);
  if (!o.sim_config.empty()) RETURN_IF_ERROR(ApplySimConfig(o.sim_config, &s));
  RETURN_IF_ERROR(sim::ValidateSimOptions(s));
  return s;
}

Result<SimulateReport> RunSimulate(const SimulateOptions& o) {
  int sinks = !o.out.empty() + !o.url.empty() + !o.data.empty();
  if (sinks != 1) return InvalidArgument("simulate: give exactly one of --out FILE, --url URL or --data DIR");
  if (!o.url.empty() && o.write_key.empty()) return InvalidArgument("--write-key: required with --url");
  ASSIGN_OR_RETURN(sim::SimOptions so, BuildSimOptions(o, Clock::Real()->NowMillis()));
  ASSIGN_OR_RETURN(std::unique_ptr<sim::Simulator> sim, sim::Simulator::Create(std::move(so)));

  SimulateReport report;
  if (o.out.empty()) {
    CliFlags flags;
    flags.data = o.data;
    Config cfg;
    if (!o.data.empty()) {
      ASSIGN_OR_RETURN(cfg, BuildConfig(flags));
    }
    ASSIGN_OR_RETURN(report, Ingest(sim.get(), cfg, o.url, o.write_key, o.progress));
    PrintSummary(report);
    return report;
  }

  // JSON Lines to a file: plain stdio, or zlib for *.gz (level 1: generation stays the bottleneck).
  bool gz = o.out.size() > 3 && o.out.compare(o.out.size() - 3, 3, ".gz") == 0;
  std::FILE* f = nullptr;
  gzFile g = nullptr;
  if (gz) {
    g = gzopen(o.out.c_str(), "wb1");
    if (!g) return IOError("--out: cannot create " + o.out);
    gzbuffer(g, 1 << 20);
  } else {
    f = o.out == "-" ? stdout : std::fopen(o.out.c_str(), "wb");
    if (!f) return IOError("--out: cannot create " + o.out + ": " + std::strerror(errno));
    std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  }
  auto start = std::chrono::steady_clock::now();
  auto last = start;
  const bool tty = o.progress && ::isatty(2);
  std::string line;
  std::string buf;
  buf.reserve(1 << 20);
  bool write_ok = true;
  auto flush = [&] {
    if (buf.empty()) return;
    if (gz) write_ok &= gzwrite(g, buf.data(), static_cast<unsigned>(buf.size())) == static_cast<int>(buf.size());
    else write_ok &= std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
    buf.clear();
  };
  while (sim->Next(sim->history_end_ms(), &line)) {
    buf += line;
    buf += '\n';
    ++report.lines;
    if (buf.size() >= (1 << 20)) {
      flush();
      if (!write_ok) break;
      auto now = std::chrono::steady_clock::now();
      if (o.progress && now - last > std::chrono::milliseconds(tty ? 250 : 5000)) {
        last = now;
        double secs = std::chrono::duration<double>(now - start).count();
        std::fprintf(stderr, tty ? "\rsimulate: %3.0f%%  %s interactions  %s/s   " : "simulate: %.0f%%, %s interactions, %s/s\n",
                     100 * sim->Progress(), Human(report.lines).c_str(), Human(report.lines / secs).c_str());
      }
    }
  }
  flush();
  if (gz) write_ok &= gzclose(g) == Z_OK;
  else if (f != stdout) write_ok &= std::fclose(f) == 0;
  else write_ok &= std::fflush(f) == 0;
  if (!write_ok) return IOError("--out: writing " + o.out + " failed (disk full?)");
  if (tty) std::fprintf(stderr, "\n");
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.stats = sim->stats();
  PrintSummary(report);
  return report;
}

// ---- the demo's business ----------------------------------------------------------------------------

Result<std::unique_ptr<DemoBusiness>> DemoBusiness::Create(const Options& options) {
  std::unique_ptr<DemoBusiness> d(new DemoBusiness(options));
  // The history ends now, so the live stream continues it without a gap.
  int64_t now = Clock::Real()->NowMillis();
  sim::SimOptions so = sim::DefaultSimOptions(options.customers, options.days, options.seed, now - options.days * kDayMs);
  if (!options.sim_config.empty()) RETURN_IF_ERROR(ApplySimConfig(options.sim_config, &so));
  ASSIGN_OR_RETURN(d->sim_, sim::Simulator::Create(std::move(so)));
  return d;
}

DemoBusiness::~DemoBusiness() { Stop(); }

Result<SimulateReport> DemoBusiness::LoadHistory(const Config& cfg) {
  std::lock_guard l(mu_);
  ASSIGN_OR_RETURN(SimulateReport r, Ingest(sim_.get(), cfg, "", "", options_.progress));
  // Live: compress time so that the business produces about live_rate interactions per second.
  double history_rate = static_cast<double>(r.lines) / (options_.days * 86400.0);
  sim_->SetLiveSpeed(history_rate > 0 ? std::max(1.0, options_.live_rate / history_rate) : 1.0);
  history_ = r.stats;
  return r;
}

Status DemoBusiness::SeedDashboard(dashboard::DashboardService* dashboard) const {
  if (!history_) return FailedPrecondition("no history loaded");
  ASSIGN_OR_RETURN(auto goals, dashboard->ListGoals());
  if (!goals.empty()) return Status::Ok();
  // This calendar quarter, in UTC days since the epoch.
  namespace chr = std::chrono;
  const int64_t today = dashboard->Today();
  const chr::year_month_day ymd{chr::sys_days{chr::days{today}}};
  const unsigned q_first_month = (static_cast<unsigned>(ymd.month()) - 1) / 3 * 3 + 1;
  const chr::year_month q_start{ymd.year(), chr::month{q_first_month}};
  const int64_t start = chr::sys_days{q_start / 1}.time_since_epoch().count();
  const int64_t end = chr::sys_days{(q_start + chr::months{3}) / 1}.time_since_epoch().count() - 1;
  const double per_day = 1.0 / std::max(1, options_.days), quarter_days = static_cast<double>(end - start + 1);
  const sim::SimStats& h = *history_;

  dashboard::Goal revenue;
  revenue.name = "Revenue this quarter";
  revenue.metric = "revenue";
  revenue.target = std::round(h.revenue_cents / 100.0 * per_day * quarter_days * 1.15);
  revenue.start_day = start;
  revenue.deadline_day = end;
  dashboard::Goal signups;
  signups.name = "Sign-ups this quarter";
  signups.metric = "signups";
  signups.target = std::round(static_cast<double>(h.signed_up) * per_day * quarter_days * 1.10);
  signups.start_day = start;
  signups.deadline_day = end;
  for (const auto* g : {&revenue, &signups}) {
    if (g->target <= 0) continue;  // a history too short to set a pace
    RETURN_IF_ERROR(dashboard->CreateGoal(*g).status());
  }
  dashboard::Budget ads;
  ads.name = "Paid acquisition this quarter";
  ads.amount = std::round(h.ad_spend_cents / 100.0 * per_day * quarter_days);
  ads.start_day = start;
  ads.end_day = end;
  if (ads.amount > 0) RETURN_IF_ERROR(dashboard->CreateBudget(ads).status());
  return Status::Ok();
}

Status DemoBusiness::StartLive(const std::string& url, const std::string& write_key) {
  if (live_.joinable()) return FailedPrecondition("the live business is already running");
  ASSIGN_OR_RETURN(auto probe, RemoteIngestor::Create(url, write_key));  // validates the URL
  probe.reset();
  stop_ = false;
  live_ = std::thread([this, url, write_key] {
    NameThisThread("sim-live");
    LiveLoop(url, write_key);
  });
  return Status::Ok();
}

void DemoBusiness::Stop() {
  stop_ = true;
  if (live_.joinable()) live_.join();
}

Status DemoBusiness::OnAction(const sim::Action& action) {
  std::lock_guard l(mu_);
  return sim_->ApplyAction(action, Clock::Real()->NowMillis());
}

void DemoBusiness::LiveLoop(std::string url, std::string write_key) {
  auto remote = RemoteIngestor::Create(url, write_key);
  if (!remote.ok()) {
    LOG_ERROR("demo: live business cannot send to {}: {}", url, remote.status().ToString());
    return;
  }
  std::string line, body;
  while (!stop_) {
    body = "{\"batch\":[";
    size_t n = 0;
    {
      std::lock_guard l(mu_);
      int64_t now = Clock::Real()->NowMillis();
      while (n < 2000 && sim_->Next(now, &line)) {
        if (n++) body += ',';
        body += line;
      }
    }
    body += "]}";
    if (n > 0) {
      ingest::IngestRequest req;
      req.dialect = ingest::Dialect::kSegmentBatch;
      req.body = std::move(body);
      req.received_at_ms = Clock::Real()->NowMillis();
      (*remote)->Ingest(std::move(req), [&](Result<ingest::IngestOutcome> r) {
        if (r.ok()) live_sent_ += r->accepted;
        else LOG_EVERY_N_SEC(kWarn, 30, "demo: live business: sending failed: {}", r.status().ToString());
      });
    }
    for (int i = 0; i < 5 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace cairn::app
