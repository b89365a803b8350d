#include "app/access_wiring.h"

#include "base/check.h"
#include "io/env.h"

namespace cairn::app {
namespace {

api::KeyView ToView(const entity::KeyInfo& k) {
  api::KeyView v;
  v.id = k.id;
  v.role = ToApiRole(k.role);
  v.source = k.source;
  v.name = k.name;
  v.created_at_ms = k.created_at_ms;
  v.expires_at_ms = k.expires_at_ms;
  v.revoked = k.revoked;
  return v;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

class HubAccess final : public api::AccessService {
 public:
  HubAccess(entity::KeyStore* keys, std::unique_ptr<entity::AuditLog> audit) : keys_(keys), audit_(std::move(audit)) {}

  std::optional<api::Principal> Authenticate(std::string_view key) const override {
    auto info = keys_->Find(key);
    if (!info) return std::nullopt;
    api::Principal p;
    p.key_id = info->id;
    p.key_name = info->name;
    p.role = ToApiRole(info->role);
    p.source = info->source;
    return p;
  }

  bool KeyActive(int64_t id) const override { return keys_->FindActiveById(id).has_value(); }

  std::vector<api::KeyView> ListKeys() const override {
    std::vector<api::KeyView> out;
    for (const entity::KeyInfo& k : keys_->List()) out.push_back(ToView(k));
    return out;
  }

  Result<std::pair<api::KeyView, std::string>> CreateKey(api::Role role, std::string_view name,
                                                         int64_t expires_at_ms) override {
    if (role == api::Role::kNone) return InvalidArgument("role: required");
    ASSIGN_OR_RETURN(entity::CreatedKey created, keys_->CreateKey(ToKeyRole(role), name, expires_at_ms));
    return std::pair{ToView(created.info), std::move(created.key)};
  }

  Status RevokeKey(int64_t id) override { return keys_->Revoke(id); }

  Status Audit(const api::AuditEntry& e) override {
    entity::AuditRecord r;
    r.actor_key_id = e.actor_key_id;
    r.actor_name = e.actor_name;
    r.actor_role = e.actor_role;
    r.session = e.session;
    r.method = e.method;
    r.route = e.route;
    r.customer = e.customer;
    r.status = e.status;
    return audit_->Append(std::move(r)).status();
  }

  Result<std::vector<api::AuditEntry>> QueryAudit(const api::AuditQuery& q) const override {
    entity::AuditFilter f;
    f.actor_key_id = q.actor_key_id;
    f.actor_name = q.actor_name;
    f.customer = q.customer;
    f.from_ms = q.from_ms;
    f.to_ms = q.to_ms;
    f.limit = q.limit;
    f.before_seq = q.before_seq;
    ASSIGN_OR_RETURN(std::vector<entity::AuditRecord> records, audit_->Query(f));
    std::vector<api::AuditEntry> out;
    out.reserve(records.size());
    for (entity::AuditRecord& r : records) {
      api::AuditEntry e;
      e.seq = r.seq;
      e.at_ms = r.at_ms;
      e.actor_key_id = r.actor_key_id;
      e.actor_name = std::move(r.actor_name);
      e.actor_role = std::move(r.actor_role);
      e.session = std::move(r.session);
      e.method = std::move(r.method);
      e.route = std::move(r.route);
      e.customer = std::move(r.customer);
      e.status = r.status;
      e.hash_hex = Hex(r.hash);
      out.push_back(std::move(e));
    }
    return out;
  }

 private:
  entity::KeyStore* const keys_;
  std::unique_ptr<entity::AuditLog> audit_;
};

}  // namespace

api::Role ToApiRole(entity::KeyRole role) {
  switch (role) {
    case entity::KeyRole::kWrite: return api::Role::kWrite;
    case entity::KeyRole::kAnalyst: return api::Role::kAnalyst;
    case entity::KeyRole::kAgent: return api::Role::kAgent;
    case entity::KeyRole::kAdmin: return api::Role::kAdmin;
  }
  return api::Role::kNone;
}

entity::KeyRole ToKeyRole(api::Role role) {
  switch (role) {
    case api::Role::kWrite: return entity::KeyRole::kWrite;
    case api::Role::kAnalyst: return entity::KeyRole::kAnalyst;
    case api::Role::kAgent: return entity::KeyRole::kAgent;
    case api::Role::kAdmin: return entity::KeyRole::kAdmin;
    case api::Role::kNone: break;
  }
  CHECK(false) << "no key role for api::Role::kNone";
  return entity::KeyRole::kAdmin;
}

Result<std::unique_ptr<api::AccessService>> OpenAccessService(entity::KeyStore* keys, const std::string& data_dir,
                                                              Clock* clock) {
  ASSIGN_OR_RETURN(auto audit, entity::AuditLog::Open(io::JoinPath(data_dir, "audit.db"), clock));
  return std::unique_ptr<api::AccessService>(std::make_unique<HubAccess>(keys, std::move(audit)));
}

}  // namespace cairn::app
