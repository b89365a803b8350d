#pragma once
// Test certificates made at test time with the OpenSSL API (nothing checked in, nothing that
// expires in the repository): a self-signed P-256 certificate valid for one day, naming the
// given DNS names and IP addresses in subjectAltName, written as PEM files.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace cairn::testutil {

struct TestCert {
  std::string cert_file;  // PEM certificate (also the CA to trust: it is self-signed)
  std::string key_file;   // PEM private key
};

// `san`: e.g. "IP:127.0.0.1,DNS:localhost". Throws on an OpenSSL failure (tests only).
inline TestCert MakeSelfSignedCert(const std::string& dir, const std::string& name, const std::string& san) {
  auto fail = [](const char* what) { throw std::runtime_error(std::string("test cert: ") + what); };
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) fail("EVP_EC_gen");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* subject = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(x, subject);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, san}, std::pair{NID_basic_constraints, std::string("critical,CA:TRUE")}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) fail("extension");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x, key, EVP_sha256()) == 0) fail("X509_sign");
  TestCert out{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  FILE* f = std::fopen(out.cert_file.c_str(), "w");
  if (f == nullptr || PEM_write_X509(f, x) != 1) fail("write cert");
  std::fclose(f);
  f = std::fopen(out.key_file.c_str(), "w");
  if (f == nullptr || PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) != 1) fail("write key");
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace cairn::testutil
