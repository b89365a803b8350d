#include "app/compact_cmd.h"

#include <cstdio>

#include "app/erase.h"
#include "app/hub.h"

namespace cairn::app {
namespace {

int Run(const std::string& data) {
  HubOptions ho;
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
  auto* cmd = cli->add_subcommand("compact", "Rewrite every file of a data directory (segments, WAL, SQLite)");
  cmd->add_option("--data", *data, "data directory (not in use by a server)")->required();
  cmd->final_callback([data] {
    int rc = Run(*data);
    if (rc != 0) throw CLI::RuntimeError(rc);
    throw CLI::Success();
  });
}

}  // namespace cairn::app
