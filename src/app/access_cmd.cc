#include "app/access_cmd.h"

#include <cstdio>
#include <memory>
#include <string>

#include "api/dto/case_dto.h"
#include "api/dto/customer_dto.h"
#include "entity/audit_log.h"
#include "entity/key_store.h"
#include "io/env.h"

namespace cairn::app {
namespace {

struct KeysFlags {
  std::string data;
  std::string role;
  std::string name;
  std::string expires;
  int64_t id = 0;
};

[[noreturn]] void Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "cairn %s: %s\n", what.c_str(), s.ToString().c_str());
  throw CLI::RuntimeError(1);
}

std::unique_ptr<entity::KeyStore> OpenKeys(const KeysFlags& f, const char* what) {
  auto keys = entity::KeyStore::Open(io::JoinPath(f.data, "keys.db"));
  if (!keys.ok()) Fail(what, keys.status());
  return std::move(keys).value();
}

void List(const KeysFlags& f) {
  auto keys = OpenKeys(f, "keys list");
  std::printf("%-5s %-8s %-7s %-24s %-25s %-25s %s\n", "id", "role", "source", "name", "created", "expires", "state");
  for (const entity::KeyInfo& k : keys->List()) {
    std::printf("%-5lld %-8s %-7u %-24s %-25s %-25s %s\n", static_cast<long long>(k.id),
                std::string(entity::KeyRoleName(k.role)).c_str(), k.source, k.name.c_str(),
                api::FormatIsoMillis(k.created_at_ms).c_str(),
                k.expires_at_ms ? api::FormatIsoMillis(k.expires_at_ms).c_str() : "-", k.revoked ? "revoked" : "active");
  }
}

void Create(const KeysFlags& f) {
  entity::KeyRole role;
  if (!entity::ParseKeyRole(f.role, &role)) {
    Fail("keys create", InvalidArgument("--role: expected write, analyst, agent or admin, got '" + f.role + "'"));
  }
  int64_t expires = 0;
  if (!f.expires.empty()) {
    auto t = api::ParseTimeParam("--expires", f.expires);
    if (!t.ok()) Fail("keys create", t.status());
    expires = *t;
  }
  auto keys = OpenKeys(f, "keys create");
  auto created = keys->CreateKey(role, f.name, expires);
  if (!created.ok()) Fail("keys create", created.status());
  std::printf("cairn: created %s key id %lld (shown once, stored hashed): %s\n", f.role.c_str(),
              static_cast<long long>(created->info.id), created->key.c_str());
  std::fprintf(stderr, "cairn: a server already running on %s sees this key after a restart\n", f.data.c_str());
}

void Revoke(const KeysFlags& f) {
  auto keys = OpenKeys(f, "keys revoke");
  Status s = keys->Revoke(f.id);
  if (!s.ok()) Fail("keys revoke", s);
  std::printf("cairn: key %lld revoked\n", static_cast<long long>(f.id));
  std::fprintf(stderr, "cairn: a server already running on %s still accepts it until restarted; "
                       "use DELETE /v1/keys/%lld to revoke it there at once\n",
               f.data.c_str(), static_cast<long long>(f.id));
}

void VerifyAudit(const KeysFlags& f) {
  auto log = entity::AuditLog::Open(io::JoinPath(f.data, "audit.db"));
  if (!log.ok()) Fail("audit verify", log.status());
  auto n = (*log)->Verify();
  if (!n.ok()) Fail("audit verify", n.status());
  std::printf("cairn: audit log intact: %lld records, hash chain verified\n", static_cast<long long>(*n));
}

}  // namespace

void AddAccessCommands(CLI::App* cli) {
  auto flags = std::make_shared<KeysFlags>();
  CLI::App* keys = cli->add_subcommand("keys", "list, create or revoke API keys (offline: docs/access.md)");
  keys->require_subcommand(1);
  CLI::App* list = keys->add_subcommand("list", "list every key (never the keys themselves)");
  list->add_option("--data", flags->data, "data directory")->required();
  list->callback([flags] { List(*flags); });
  CLI::App* create = keys->add_subcommand("create", "create a key and print it once");
  create->add_option("--data", flags->data, "data directory")->required();
  create->add_option("--role", flags->role, "write, analyst, agent or admin")->required();
  create->add_option("--name", flags->name, "a label for the key")->required();
  create->add_option("--expires", flags->expires, "expiry: ISO-8601 time or date (default: never)");
  create->callback([flags] { Create(*flags); });
  CLI::App* revoke = keys->add_subcommand("revoke", "revoke a key by id");
  revoke->add_option("--data", flags->data, "data directory")->required();
  revoke->add_option("id", flags->id, "the key id (cairn keys list)")->required();
  revoke->callback([flags] { Revoke(*flags); });

  CLI::App* audit = cli->add_subcommand("audit", "the audit log (docs/access.md)");
  audit->require_subcommand(1);
  CLI::App* verify = audit->add_subcommand("verify", "recompute audit.db's hash chain");
  verify->add_option("--data", flags->data, "data directory")->required();
  verify->callback([flags] { VerifyAudit(*flags); });
}

}  // namespace cairn::app
