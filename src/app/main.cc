// cairn: the one binary. Subcommands: serve, demo, import, verify.
// Startup errors (port in use, unreadable data dir, bad config) print one line and exit 1.

#include <CLI/CLI.hpp>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "api/http_server.h"
#include "app/access_cmd.h"
#include "app/access_wiring.h"
#include "app/backup.h"
#include "app/backup_runner.h"
#include "app/config.h"
#include "app/consent_wiring.h"
#include "app/demo_actions.h"
#include "app/export.h"
#include "app/hub.h"
#include "app/import.h"
#include "app/index_warm_up.h"
#include "app/query_cmd.h"
#include "app/simulate_cmd.h"
#include "app/value_cmd.h"
#include "app/rebuild_cmd.h"
#include "app/erase.h"
#include "app/erase_cmd.h"
#include "app/compact_cmd.h"
#include "base/logging.h"
#include "store/store.h"

namespace cairn::app {
namespace {

[[noreturn]] void Die(const Status& s) {
  std::fprintf(stderr, "cairn: error: %s\n", s.ToString().c_str());
  std::exit(1);
}

// Raises the soft RLIMIT_NOFILE to the hard limit (docs/reliability.md: 10k idle connections).
void RaiseFileLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) LOG_WARN("cairn: cannot raise RLIMIT_NOFILE to {}", rl.rlim_max);
}

// Serves until SIGINT/SIGTERM, then drains in-flight requests, syncs and returns.
// `live` (demo only, may be null): the simulated business, kept live through HTTP while serving.
int Serve(const Config& cfg, bool demo, DemoBusiness* live = nullptr) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts: they inherit it

  HubOptions hub_options = cfg.hub;
  hub_options.enable_rescue = true;  // serve/demo decide rescues and send actions
  hub_options.build_dashboard_totals_at_open = true;  // the first overview need not wait for a full scan
  // The demo's closed loop (docs/simulator.md): unless the config names a webhook of its own,
  // Cairn's actions go to the simulated business. Rescues still wait in the queue for the team
  // (Act in the dashboard); `rescue.auto_act: true` in the config acts on every one worth it.
  std::unique_ptr<DemoActionReceiver> receiver;
  if (live && hub_options.rescue.webhook.url.empty()) {
    auto r = DemoActionReceiver::Start("", [live](const sim::Action& a) { return live->OnAction(a); });
    if (!r.ok()) Die(r.status());
    receiver = std::move(*r);
    hub_options.rescue.webhook.url = receiver->url();
    hub_options.rescue.webhook.secret = receiver->secret();
    // The simulated customers live on compressed time (days pass in seconds) while actions are
    // stamped by the wall clock: quiet hours by the wall clock would hold every marketing action
    // for the whole night of a demo, during which weeks pass for the customers it is meant for.
    hub_options.rescue.quiet.enabled = false;
  }
  auto hub = Hub::Open(hub_options);
  if (!hub.ok()) Die(hub.status());
  Hub* h = hub->get();

  api::Services services;
  services.ingestor = h->pipeline();
  services.customers = h;
  services.is_admin_key = [h](std::string_view k) { return h->IsAdminKey(k); };
  services.is_write_key = [h](std::string_view k) { return h->IsWriteKey(k); };
  auto access = OpenAccessService(h->keys(), h, cfg.hub.data_dir);  // keys of every role + audit.db (docs/access.md)
  if (!access.ok()) Die(access.status());
  services.access = access->get();
  services.rate_limits = cfg.rate_limits;
  services.metrics = metrics::Registry::Default();
  services.ready = [h] { return h->Ready(); };
  services.journey = h->journey();
  services.dashboard = h->dashboard();
  services.consents = h->consents();  // GET/PUT /v1/customers/{id}/consents (docs/consent.md)
  services.erasure = h->eraser();  // DELETE /v1/customers/{id} (docs/erasure.md)
  if (live) {
    Status ds = live->SeedDashboard(h->dashboard());
    if (!ds.ok()) std::fprintf(stderr, "cairn: demo: no goals pre-configured: %s\n", ds.ToString().c_str());
  }
  services.cases = h->cases();
  services.feedback = h->cases();
  services.rescues = h->rescue() ? h->rescue()->engine() : nullptr;
  services.actions = h->rescue() ? h->rescue()->dispatcher() : nullptr;
  auto analytics_engine = MakeAnalyticsEngine(h);
  services.analytics = analytics_engine.get();
  // The page filters' segments (api/dto/page_filter.h): whom a query with that segment counts, so
  // a filtered gauge counts them too (persona / stage from the journey, channel from the index).
  services.segment_members = MakeSegmentMembers(h, analytics_engine.get(), cfg.query_time_limit_ms);
  services.analytics_time_limit_ms = cfg.query_time_limit_ms;
  services.analytics_test_delay_ms = cfg.query_test_delay_ms;
  // Queries run here, not on the I/O threads (docs/analytics.md "Where a query runs"). Stopped
  // after the server has drained, before anything its tasks use goes away.
  api::QueryPool query_pool(cfg.query_pool);
  services.query_pool = &query_pool;
  auto value_engine = MakeValueEngine(h, cfg.value);  // customer value: refits periodically (app/value_cmd.h)
  value_engine->Start();
  services.value = value_engine.get();
  services.export_customer = ExportFunction(h, value_engine.get());  // GET /v1/customers/{id}/export
  h->eraser()->OnErased([ve = value_engine.get(), ae = analytics_engine.get()] {
    ae->Invalidate();  // the index rebuilds without them at the next query
    (void)ve->Fit();   // value scores refit without them
  });
  // The journey engine's value at stake takes the predicted CLV into account (docs/journey.md):
  // without it an existing customer's stake is only the next purchase at their funnel stage.
  if (h->journey()) {
    h->journey()->SetClvModel([ve = value_engine.get()](store::CustomerId c) {
      auto v = ve->ValueOf(c);
      return v ? v->clv : 0.0;
    });
    SetJourneyValueFacts(h->journey(), value_engine.get());  // persona rules over value (docs/journey.md)
  }
  // New cases take their value tier from the predicted CLV (docs/cases.md, config cases.value_tiers).
  Status tiers = h->cases()->SetValueModel(
      [ve = value_engine.get()](uint64_t c) -> std::optional<double> {
        auto v = ve->ValueOf(c);
        return v ? std::optional<double>(v->clv) : std::nullopt;
      },
      cfg.hub.cases.value_tiers);
  if (!tiers.ok()) Die(tiers);
  SetSurveyDimensions(h, value_engine.get());  // NPS by persona / phase (docs/cases.md "Surveys")

  // POST /v1/admin/backup, when a backup directory is configured (docs/reliability.md).
  std::unique_ptr<BackupRunner> backups;
  if (!cfg.backup_dir.empty()) {
    backups = std::make_unique<BackupRunner>(cfg.hub.data_dir, cfg.backup_dir);
    services.backup = [b = backups.get()](const std::string& name, auto done) { return b->Start(name, std::move(done)); };
  }

  RaiseFileLimit();  // connections are descriptors: max_connections follows RLIMIT_NOFILE
  api::HttpServer server(services, cfg.http);
  Status s = server.Start();
  if (!s.ok()) {
    value_engine->Stop();  // as on a normal exit: its thread reads the store the hub closes
    (void)h->Close();
    Die(s);
  }
  std::optional<IndexWarmUp> warm_up;  // the first query need not wait for a full scan
  if (cfg.query_warm_at_start) warm_up.emplace(analytics_engine.get());
  std::string url = "http://" + cfg.http.address + ":" + std::to_string(server.port());
  std::printf("cairn: serving %s (data: %s)\n", url.c_str(), cfg.hub.data_dir.c_str());
  for (const auto& [role, key] : h->created_keys())
    std::printf("cairn: created %s key (shown once, stored hashed): %s\n", role.c_str(), key.c_str());
  if (demo) {
    std::string write_key = !cfg.hub.write_keys.empty() ? cfg.hub.write_keys.front() : "";
    for (const auto& [role, key] : h->created_keys())
      if (role == "write") write_key = key;
    std::printf("\n  Cairn is running: %s\n  Dashboard:  %s/\n  Write key:  %s\n  Try:        curl -u '%s:' %s/v1/track -d '{\"userId\":\"u1\",\"event\":\"Signed Up\"}'\n\n",
                url.c_str(), url.c_str(), write_key.empty() ? "(as configured)" : write_key.c_str(),
                write_key.c_str(), url.c_str());
  }
  if (live) {
    std::string write_key = !cfg.hub.write_keys.empty() ? cfg.hub.write_keys.front() : "";
    for (const auto& [role, key] : h->created_keys())
      if (role == "write") write_key = key;
    std::string self = "http://" + std::string(cfg.http.address == "0.0.0.0" ? "127.0.0.1" : cfg.http.address) + ":" +
                       std::to_string(server.port());
    Status ls = write_key.empty() ? FailedPrecondition("no write key to send with") : live->StartLive(self, write_key);
    if (ls.ok()) std::printf("  The simulated business is live: a few interactions per second.\n\n");
    else std::fprintf(stderr, "cairn: demo: the business stays still: %s\n", ls.ToString().c_str());
  }
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  LOG_INFO("cairn: {} received: draining", sig == SIGINT ? "SIGINT" : "SIGTERM");
  if (live) live->Stop();
  if (warm_up) warm_up->Stop();
  server.Stop(std::chrono::seconds(10));
  query_pool.Stop();
  value_engine->Stop();  // its refit thread reads the store: stop it before the hub closes
  s = h->Close();
  if (!s.ok()) {
    std::fprintf(stderr, "cairn: error while closing: %s\n", s.ToString().c_str());
    return 1;
  }
  LOG_INFO("cairn: stopped cleanly");
  return 0;
}

}  // namespace
}  // namespace cairn::app

#ifdef CAIRN_WITH_JEMALLOC
// jemalloc reads this before its first allocation (MALLOC_CONF in the environment still applies
// on top). thp:always backs its extents with transparent huge pages: ingest writes ~0.5 KB of
// fresh memory per interaction (parse buffers, the WAL record, the memtable's rows), and with 4 KiB
// pages the page faults were a quarter of an import worker's CPU. `cairn import` of 200k
// gen_events lines: 3.34 -> 2.56 CPU-s, peak RSS +15..50 MB.
// dirty_decay_ms:60000 keeps freed pages for a minute (jemalloc's default: 10 s) before giving them
// back to the OS. Under load the memtable is filled and freed every few seconds; with the default a
// good part of what a flush freed was purged before the next fill, which then faulted and zeroed
// it again (~4 ms of kernel time per 2 MiB huge page on this VM). ingest_bench --events 1000000
// --warmup 300000 --batch 1000 --connections 4, x4 interleaved, load 13-15: events per server
// CPU-s 118k -> 133k (medians; every pair faster), peak RSS +10..20 MiB. A burst's memory still
// goes back within a minute or so of not being reused.
extern "C" const char* malloc_conf = "thp:always,dirty_decay_ms:60000";
#endif

int main(int argc, char** argv) {
  using namespace cairn;
  using namespace cairn::app;
  // Request bodies (up to 1 MiB) and batches are allocated and freed constantly. glibc's defaults
  // serve blocks over 128 KiB with mmap and give freed memory back to the OS at once, so every
  // request paid page faults and munmap. Keep such memory in the heap instead.
  // (glibc's malloc only: with jemalloc linked in, these would tune an allocator nobody uses.)
#ifndef CAIRN_WITH_JEMALLOC
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 16 << 20);
#endif
  if (const char* lvl = std::getenv("CAIRN_LOG_LEVEL")) {
    log::Level level;
    if (log::ParseLevel(lvl, &level)) log::SetLevel(level);
  }
  CLI::App cli{"Cairn: the customer journey engine"};
  cli.require_subcommand(1);

  CliFlags flags;
  auto* serve = cli.add_subcommand("serve", "Serve the HTTP API (ingest, customers, admin) on one port");
  AddServeFlags(serve, &flags, /*data_required=*/true);
  auto* demo = cli.add_subcommand("demo", "Start a hub on a fresh data dir and print its URL and write key");
  AddServeFlags(demo, &flags, /*data_required=*/false);
  DemoBusiness::Options demo_business;
  bool demo_history = true;
  demo->add_option("--customers", demo_business.customers, "simulated customers in the history (default 20000)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}));
  demo->add_option("--days", demo_business.days, "days of simulated history (default 365)")->check(CLI::Range(1, 3660));
  demo->add_option("--seed", demo_business.seed, "simulation seed (default 1)");
  demo->add_option("--live-rate", demo_business.live_rate, "live interactions per second (default 3)");
  demo->add_flag("!--no-simulation", demo_history, "no simulated business: an empty hub");
  demo->add_option("--sim-config", demo_business.sim_config, "the business's parameters, YAML (see config/sim.yaml)");

  SimulateOptions simulate_options;
  auto* simulate = cli.add_subcommand("simulate", "Generate the simulated business's history (docs/simulator.md)");
  AddSimulateFlags(simulate, &simulate_options);

  std::string import_file, import_url;
  bool import_progress = true;
  int import_threads = 2;
  auto* import = cli.add_subcommand("import", "Import a JSON Lines file of Segment messages (.gz too)");
  import->add_option("--data", flags.data, "data directory (stopped)");
  import->add_option("FILE", import_file, "JSON Lines file")->required();
  import->add_option("--write-key", flags.write_keys, "write key naming the source");
  import->add_option("--url", import_url, "send to a running server instead of a data dir");
  import->add_flag("!--no-progress", import_progress, "no progress output");
  import->add_option("--threads", import_threads, "threads parsing lines into --data (default 2; order is kept)")
      ->check(CLI::Range(1, 64));

  std::string verify_dir;
  auto* verify = cli.add_subcommand("verify", "Check every file of a data directory (read only)");
  verify->add_option("DIR", verify_dir, "data directory")->required();

  AddValueCommands(&cli);  // `value ...`: runs from its own callbacks during parse
  AddQueryCommands(&cli);  // `query funnel|retention`: likewise
  AddEraseCommand(&cli);    // `erase --data DIR ID` (app/erase_cmd.h)
  AddCompactCommand(&cli);  // `compact --data DIR` (app/compact_cmd.h)
  AddExportCommand(&cli);  // `export --data DIR --customer ID`: likewise (app/export.h)
  AddRebuildCommand(&cli);  // `rebuild --data DIR`: likewise (app/rebuild_cmd.h)
  AddBackupCommand(&cli);  // `backup --data DIR DEST`: likewise (app/backup.h)
  AddAccessCommands(&cli);  // `keys list|create|revoke`, `audit verify` (app/access_cmd.h)

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }

  if (*serve || *demo) {
    if (*demo && flags.data.empty()) {
      char tmpl[] = "/tmp/cairn-demo-XXXXXX";
      if (!::mkdtemp(tmpl)) Die(IOError("cannot create a temporary data dir"));
      flags.data = tmpl;
    }
    auto cfg = BuildConfig(flags);
    if (!cfg.ok()) Die(cfg.status());
    std::unique_ptr<DemoBusiness> business;
    if (demo->parsed() && demo_history) {
      // A year of the simulated business first (docs/simulator.md), then it stays live.
      auto b = DemoBusiness::Create(demo_business);
      if (!b.ok()) Die(b.status());
      business = std::move(*b);
      std::fprintf(stderr, "cairn demo: loading %lu simulated customers, %d days of history into %s\n",
                   static_cast<unsigned long>(demo_business.customers), demo_business.days, flags.data.c_str());
      auto loaded = business->LoadHistory(*cfg);
      if (!loaded.ok()) Die(loaded.status());
    }
    return Serve(*cfg, demo->parsed(), business.get());
  }
  if (*import) {
    if (import_url.empty() && flags.data.empty()) Die(InvalidArgument("import needs --data DIR or --url URL"));
    auto cfg = BuildConfig(flags);
    if (!cfg.ok()) Die(cfg.status());
    ImportOptions io;
    io.file = import_file;
    io.url = import_url;
    io.write_key = flags.write_keys.empty() ? "" : flags.write_keys.front();
    io.progress = import_progress;
    io.threads = import_threads;
    auto r = RunImport(*cfg, io);
    if (!r.ok()) Die(r.status());
    return r->bad_lines > 0 ? 2 : 0;
  }
  if (*simulate) {
    auto r = RunSimulate(simulate_options);
    if (!r.ok()) Die(r.status());
    return 0;
  }
  if (*verify) {
    auto report = store::Store::Verify(io::Env::Posix(), io::JoinPath(verify_dir, "store"));
    if (!report.ok()) {
      std::fprintf(stderr, "%s", std::string(report.status().message()).c_str());
      std::fprintf(stderr, "cairn verify: CORRUPTION found in %s\n", verify_dir.c_str());
      return 1;
    }
    std::printf("%scairn verify: ok\n", report->c_str());
    return 0;
  }
  return 0;
}
