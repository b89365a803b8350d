#include "api/session.h"

#include <sys/random.h>

#include <cerrno>
#include <functional>

#include "base/check.h"

namespace cairn::api {

std::string RandomHex(size_t n) {
  std::string bytes(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(bytes.data() + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    // getrandom on Linux >= 3.17 cannot fail for small requests once the pool is initialised;
    // a failure here means no secure randomness, and a session must never be guessable.
    CHECK(r > 0) << "getrandom failed: errno " << errno;
    got += static_cast<size_t>(r);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

bool SecureEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string_view CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.remove_suffix(1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    if (part.substr(0, eq) != name) continue;
    std::string_view value = part.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return value;
  }
  return {};
}

SessionStore::SessionStore(Clock* clock, size_t max_sessions)
    : clock_(clock ? clock : Clock::Real()), max_sessions_(max_sessions < 1 ? 1 : max_sessions) {}

std::pair<std::string, LoginSession> SessionStore::Create(Principal principal) {
  std::string token = RandomHex(32);  // 256 bits
  LoginSession s;
  s.csrf = RandomHex(16);  // 128 bits
  s.expires_at_ms = clock_->NowMillis() + kSessionMaxAgeSeconds * 1000;
  std::lock_guard lock(mu_);
  if (by_token_.size() >= max_sessions_) {
    const int64_t now = clock_->NowMillis();
    std::erase_if(by_token_, [now](const auto& kv) { return kv.second.expires_at_ms <= now; });
    while (by_token_.size() >= max_sessions_) {
      auto oldest = by_token_.begin();
      for (auto it = by_token_.begin(); it != by_token_.end(); ++it)
        if (it->second.expires_at_ms < oldest->second.expires_at_ms) oldest = it;
      by_token_.erase(oldest);
    }
  }
  principal.session = "s" + std::to_string(next_label_++);
  s.principal = std::move(principal);
  by_token_[token] = s;
  return {std::move(token), std::move(s)};
}

std::optional<LoginSession> SessionStore::Find(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = by_token_.find(std::string(token));
  if (it == by_token_.end() || it->second.expires_at_ms <= clock_->NowMillis()) return std::nullopt;
  return it->second;
}

void SessionStore::Remove(std::string_view token) {
  if (token.empty()) return;
  std::lock_guard lock(mu_);
  by_token_.erase(std::string(token));
}

size_t SessionStore::size() const {
  std::lock_guard lock(mu_);
  return by_token_.size();
}

}  // namespace cairn::api
