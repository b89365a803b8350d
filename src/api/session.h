#pragma once
// SessionStore: the dashboard's login sessions (docs/access.md "Dashboard login").
//
// POST /v1/session exchanges an analyst/agent/admin key for a random session token, sent as the
// cookie `cairn_session` (HttpOnly, SameSite=Strict, Path=/, Max-Age=43200), and a CSRF token the
// page sends back as `X-CSRF-Token` on every non-GET/HEAD request made with the cookie.
//
// Sessions live in memory only: a restart logs everyone out (documented; the dashboard then asks
// for a key again). A session ends at its expiry (12 h after login), at logout, or when its key
// is revoked or expires (the router re-checks the key on every request).
//
// Tokens: 256-bit session token, 128-bit CSRF token, both from getrandom(2), hex-encoded, so a
// guessed cookie never matches.
// Thread-safe.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/auth.h"
#include "api/http_types.h"
#include "base/clock.h"

namespace cairn::api {

inline constexpr std::string_view kSessionCookie = "cairn_session";
inline constexpr int64_t kSessionMaxAgeSeconds = 43200;  // 12 h: the cookie's Max-Age and the session's life

struct LoginSession {
  Principal principal;  // principal.session holds the session's label ("s<N>")
  std::string csrf;
  int64_t expires_at_ms = 0;
};

class SessionStore {
 public:
  // `clock` must outlive the store. At most `max_sessions` live sessions: creating one more first
  // drops expired ones, then the one that expires soonest.
  explicit SessionStore(Clock* clock, size_t max_sessions = 100'000);

  // A new session for `principal`. Returns the cookie value (the raw token) and the session.
  std::pair<std::string, LoginSession> Create(Principal principal);
  // The live session for cookie value `token`; nullopt if unknown or expired.
  std::optional<LoginSession> Find(std::string_view token) const;
  // Ends the session of `token` (no-op if unknown).
  void Remove(std::string_view token);
  size_t size() const;

 private:
  Clock* const clock_;
  const size_t max_sessions_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, LoginSession> by_token_;  // guarded by mu_; key: the cookie value
  uint64_t next_label_ = 1;                             // guarded by mu_
};

// The value of cookie `name` in a Cookie header value ("a=1; cairn_session=x"), or "".
std::string_view CookieValue(std::string_view cookie_header, std::string_view name);

// `n` random bytes from the kernel CSPRNG, hex-encoded (2n characters).
std::string RandomHex(size_t n);

// Constant-time equality (for CSRF tokens).
bool SecureEquals(std::string_view a, std::string_view b);

}  // namespace cairn::api
