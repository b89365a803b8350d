#include "actions/tls_context.h"

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>

#include "io/env.h"

namespace cairn::actions {

namespace ssl = boost::asio::ssl;

TlsContext::~TlsContext() = default;

Result<std::shared_ptr<const TlsContext>> TlsContext::Create(const TlsOptions& options) {
  std::shared_ptr<TlsContext> out(new TlsContext());
  try {
    out->ctx_ = std::make_unique<ssl::context>(ssl::context::tls_client);
    // TLS 1.2 is the oldest version without known protocol breaks; every current receiver has it.
    SSL_CTX_set_min_proto_version(out->ctx_->native_handle(), TLS1_2_VERSION);
    out->ctx_->set_verify_mode(ssl::verify_peer);
    if (options.ca_file.empty()) {
      boost::system::error_code ec;
      out->ctx_->set_default_verify_paths(ec);
      if (ec) return Internal(fmt::format("tls: cannot load the system CA store: {}", ec.message()));
      out->trust_ = "the system CA store";
    } else {
      // Read through Env like every file Cairn opens; the certificates are parsed from memory.
      auto pem = io::ReadFileToString(io::Env::Posix(), options.ca_file);
      if (!pem.ok()) {
        return InvalidArgument(fmt::format("ca_file: cannot read '{}': {}", options.ca_file, pem.status().message()));
      }
      boost::system::error_code ec;
      out->ctx_->add_certificate_authority(boost::asio::buffer(*pem), ec);
      if (ec) {
        return InvalidArgument(
            fmt::format("ca_file: '{}' holds no PEM certificate that can be used ({})", options.ca_file, ec.message()));
      }
      out->trust_ = fmt::format("CA file '{}'", options.ca_file);
    }
  } catch (const std::exception& e) {
    return Internal(fmt::format("tls: cannot set up the client context: {}", e.what()));
  }
  return std::shared_ptr<const TlsContext>(std::move(out));
}

}  // namespace cairn::actions
