#include "app/erase_cmd.h"

#include <cstdio>

#include "app/erase.h"
#include "app/hub.h"

namespace cairn::app {
namespace {

struct EraseFlags {
  std::string data;
  std::string customer;
  bool suppress = false;
};

int Run(const EraseFlags& f) {
  HubOptions ho;
  ho.data_dir = f.data;
  ho.create_keys_if_none = false;
  ho.store.background_work = false;
  auto hub = Hub::Open(ho);  // also finishes any erasure a crash interrupted
  if (!hub.ok()) {
    std::fprintf(stderr, "cairn erase: %s\n", hub.status().ToString().c_str());
    return 1;
  }
  store::ErasureRequest req;
  req.customer = f.customer;
  req.suppress = f.suppress;
  req.requested_by = "cli";
  auto r = (*hub)->eraser()->Erase(req, /*wait_ms=*/24 * 3600 * 1000LL);
  Status c = (*hub)->Close();
  if (!r.ok()) {
    std::fprintf(stderr, "cairn erase: %s\n", r.status().ToString().c_str());
    return 1;
  }
  if (!c.ok()) {
    std::fprintf(stderr, "cairn erase: closing: %s\n", c.ToString().c_str());
    return 1;
  }
  std::printf("erasure %llu: %s (%llu customer ids, %llu interactions%s)\n", static_cast<unsigned long long>(r->id),
              r->status.c_str(), static_cast<unsigned long long>(r->customers_erased),
              static_cast<unsigned long long>(r->interactions_erased), r->suppress ? ", ids suppressed" : "");
  return r->status == "completed" ? 0 : 1;
}

}  // namespace

void AddEraseCommand(CLI::App* cli) {
  auto flags = std::make_shared<EraseFlags>();
  auto* cmd = cli->add_subcommand("erase", "Erase a customer from every file of a data directory (docs/erasure.md)");
  cmd->add_option("--data", flags->data, "data directory (not in use by a server)")->required();
  cmd->add_flag("--suppress", flags->suppress, "refuse the customer's ids at ingest afterwards (kept as keyed hashes)");
  cmd->add_option("customer", flags->customer, "any identity: u:ID, e:EMAIL, a bare userId, c:<internal id>")->required();
  cmd->final_callback([flags] {
    int rc = Run(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
    throw CLI::Success();
  });
}

}  // namespace cairn::app
