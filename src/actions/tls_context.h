#pragma once
// TlsContext: the client side of https webhooks — which certificate authorities a webhook
// receiver's certificate must chain to (OpenSSL, through Boost.Asio SSL).
//
// Verification is always on: a receiver whose certificate does not chain to a trusted CA, has
// expired, or does not name the url's host (DNS name or IP address in subjectAltName) is refused
// during the handshake, and the delivery fails with the reason (RFC 5280 verify error) in the
// action's last_error. There is deliberately no switch to turn it off: a signed webhook carries
// customer data, and a private receiver is served by trusting its own CA (`ca_file`).
//
// Thread-safety: immutable after Create; one context serves any number of concurrent
// connections (OpenSSL's SSL_CTX is safe to share for SSL_new once configured).

#include <memory>
#include <string>

#include "base/result.h"

namespace boost::asio::ssl {
class context;
}

namespace cairn::actions {

struct TlsOptions {
  // PEM file of the CA certificates to trust *instead of* the system store ("" = the system store,
  // /etc/ssl/certs via OpenSSL's default paths). For receivers behind a private CA. Default "".
  std::string ca_file;
};

class TlsContext {
 public:
  // InvalidArgument naming `ca_file` when it cannot be read or holds no certificate.
  static Result<std::shared_ptr<const TlsContext>> Create(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  boost::asio::ssl::context& native() const { return *ctx_; }
  // What the receiver's certificate was checked against, for error messages: "the system CA
  // store" or "CA file '<path>'".
  const std::string& trust_description() const { return trust_; }

 private:
  TlsContext() = default;
  std::unique_ptr<boost::asio::ssl::context> ctx_;
  std::string trust_;
};

}  // namespace cairn::actions
