#include "app/rebuild_cmd.h"

#include <chrono>
#include <cstdio>

#include "app/hub.h"

namespace cairn::app {
namespace {

struct RebuildFlags {
  std::string data;
  std::string journey_map;
  bool progress = true;
};

// "[##########          ]  50%  1234567 / 2469134 interactions" on one refreshed stderr line.
void Bar(uint64_t done, uint64_t total) {
  constexpr int kWidth = 30;
  double f = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  if (f > 1) f = 1;
  int fill = static_cast<int>(f * kWidth);
  std::string bar(fill, '#');
  bar.append(kWidth - fill, ' ');
  std::fprintf(stderr, "\r  [%s] %3d%%  %llu / %llu interactions", bar.c_str(), static_cast<int>(f * 100),
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
  std::fflush(stderr);
}

int Run(const RebuildFlags& f) {
  HubOptions ho;
  ho.data_dir = f.data;
  ho.journey_map = f.journey_map;
  ho.create_keys_if_none = false;
  ho.store.background_work = false;
  auto hub = Hub::Open(ho);
  if (!hub.ok()) {
    std::fprintf(stderr, "cairn rebuild: %s\n", hub.status().ToString().c_str());
    return 1;
  }
  journey::JourneyEngine* engine = (*hub)->journey();
  std::fprintf(stderr, "cairn rebuild: re-deriving journey state in %s\n", f.data.c_str());
  auto start = std::chrono::steady_clock::now();
  Status s = engine->Rebuild(f.progress ? std::function<void(uint64_t, uint64_t)>(Bar) : nullptr);
  if (f.progress) std::fprintf(stderr, "\n");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (s.ok()) {
    // Rebuild leaves nothing pending, so this writes state.bin as of the snapshot.
    auto st = engine->Stats();
    std::fprintf(stderr, "cairn rebuild: %llu customers up to seq %llu in %.2f s\n", static_cast<unsigned long long>(st.customers),
                 static_cast<unsigned long long>(st.applied_seq), secs);
  }
  Status c = (*hub)->Close();  // persists state.bin
  if (s.ok()) s = c;
  if (!s.ok()) {
    std::fprintf(stderr, "cairn rebuild: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void AddRebuildCommand(CLI::App* cli) {
  auto flags = std::make_shared<RebuildFlags>();
  auto* cmd = cli->add_subcommand("rebuild", "Re-derive every customer's journey state from the event store");
  cmd->add_option("--data", flags->data, "data directory (not in use by a server)")->required();
  cmd->add_option("--journey-map", flags->journey_map, "journey map YAML (when none was PUT; default: built-in)");
  cmd->add_flag("!--no-progress", flags->progress, "no progress bar");
  cmd->final_callback([flags] {
    int rc = Run(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
    throw CLI::Success();
  });
}

}  // namespace cairn::app
