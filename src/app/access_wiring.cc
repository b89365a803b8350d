#include "app/access_wiring.h"

#include <fmt/format.h>

#include <algorithm>

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
  HubAccess(entity::KeyStore* keys, const Hub* hub, std::unique_ptr<entity::AuditLog> audit)
      : keys_(keys), hub_(hub), audit_(std::move(audit)) {}

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

  // The customer's internal id while they are known (stable across every id they are asked by,
  // and meaningless once they are erased); otherwise a keyed hash of the reference, so a 404 for
  // an e-mail, or a read after erasure, keeps no e-mail either (docs/format/audit.md).
  std::string AuditSubject(std::string_view reference) const override {
    if (reference.empty()) return {};
    if (hub_ != nullptr) {
      if (store::CustomerId c = hub_->Resolve(std::string(reference))) return fmt::format("c:{}", c);
    }
    return audit_->SubjectHash(reference);
  }

  // Every subject a customer's records may carry: "c:<n>" of each id merged into them (a record
  // names the customer as they were then), the hash of the reference as given, and the hashes of
  // each of their identity keys in the stored form and bare ("e:a@b.c", "a@b.c"), which is how
  // requests that came before the customer existed are found. An unknown "c:<n>" (an erased
  // customer's internal id) also matches records naming it.
  std::vector<std::string> SubjectsOf(const std::string& reference) const {
    std::vector<std::string> out = {audit_->SubjectHash(reference)};
    store::CustomerId root = hub_ != nullptr ? hub_->Resolve(reference) : 0;
    if (root == 0) {
      if (reference.size() > 2 && reference.starts_with("c:") &&
          reference.find_first_not_of("0123456789", 2) == std::string::npos) {
        out.push_back(reference);
      }
      return out;
    }
    for (store::CustomerId m : hub_->identity()->Members(root)) out.push_back(fmt::format("c:{}", m));
    for (const std::string& key : hub_->identity()->Keys(root)) {
      out.push_back(audit_->SubjectHash(key));
      if (key.size() > 2 && key[1] == ':') out.push_back(audit_->SubjectHash(std::string_view(key).substr(2)));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

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
    if (q.customer) f.customers = SubjectsOf(*q.customer);
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
  const Hub* const hub_;  // may be null
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

Result<std::unique_ptr<api::AccessService>> OpenAccessService(entity::KeyStore* keys, const Hub* hub,
                                                              const std::string& data_dir, Clock* clock) {
  ASSIGN_OR_RETURN(auto audit, entity::AuditLog::Open(io::JoinPath(data_dir, "audit.db"), clock));
  return std::unique_ptr<api::AccessService>(std::make_unique<HubAccess>(keys, hub, std::move(audit)));
}

}  // namespace cairn::app
