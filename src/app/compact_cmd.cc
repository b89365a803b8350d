#include "app/compact_cmd.h"

#include <cstdio>

#include "app/config.h"
#include "app/erase.h"
#include "app/hub.h"

namespace cairn::app {
namespace {

// `config` (optional): the server's config file, so that the forced rewrite applies its retention
// policy (docs/consent.md "Retention") and opens the data with the same settings.
int Run(const std::string& data, const std::string& config) {
  HubOptions ho;
  if (!config.empty()) {
    CliFlags flags;
    flags.data = data;
    flags.config = config;
    auto cfg = BuildConfig(flags);
    if (!cfg.ok()) {
      std::fprintf(stderr, "cairn compact: %s\n", cfg.status().ToString().c_str());
      return 1;
    }
    ho = std::move(cfg->hub);
  }
  ho.data_dir = data;
  ho.create_keys_if_none = false;
  ho.store.background_work = false;
  auto hub = Hub::Open(ho);
  if (!hub.ok()) {
    std::fprintf(stderr, "cairn compact: %s\n", hub.status().ToString().c_str());
    return 1;
  }
  Status s = (*hub)->eraser()->CompactAll();
  auto st = (*hub)->store()->Stats();
  Status c = (*hub)->Close();
  if (s.ok()) s = c;
  if (!s.ok()) {
    std::fprintf(stderr, "cairn compact: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("compacted %s: %zu segment(s), %llu interactions, %llu bytes\n", data.c_str(), st.segments,
              static_cast<unsigned long long>(st.segment_rows), static_cast<unsigned long long>(st.segment_bytes));
  return 0;
}

}  // namespace

void AddCompactCommand(CLI::App* cli) {
  auto data = std::make_shared<std::string>();
  auto config = std::make_shared<std::string>();
  auto* cmd = cli->add_subcommand("compact", "Rewrite every file of a data directory (segments, WAL, SQLite)");
  cmd->add_option("--data", *data, "data directory (not in use by a server)")->required();
  cmd->add_option("--config", *config, "the server's config file: its retention policy drops expired interactions");
  cmd->final_callback([data, config] {
    int rc = Run(*data, *config);
    if (rc != 0) throw CLI::RuntimeError(rc);
    throw CLI::Success();
  });
}

}  // namespace cairn::app
