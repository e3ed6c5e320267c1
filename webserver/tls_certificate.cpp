#include "webserver/tls_certificate.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace dualsp::web {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using Extension = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

// OpenSSL's last error as text, and its queue emptied.
std::string opensslError(const std::string& what) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return what;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return what + ": " + text;
}

bool addExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Extension ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

std::string pemOf(X509* cert, EVP_PKEY* key, std::string& error) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1 ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    error = opensslError("cannot encode the certificate");
    return {};
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string writePrivateFile(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".new";
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return "cannot create " + temporary + ": " + std::strerror(errno);
  fchmod(fd, 0600);  // an older file of that name kept its mode
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = "cannot write " + temporary + ": " + std::strerror(errno);
      close(fd);
      unlink(temporary.c_str());
      return why;
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    unlink(temporary.c_str());
    return "cannot write " + temporary + ": " + std::strerror(errno);
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    std::string why = "cannot rename " + temporary + ": " + std::strerror(errno);
    unlink(temporary.c_str());
    return why;
  }
  return {};
}

}  // namespace

std::string writeSelfSignedCertificate(const std::string& path, const SelfSignedRequest& request) {
  if (request.common_name.empty()) return "a certificate needs a common name";
  Key key(EVP_EC_gen("P-256"));
  if (!key) return opensslError("cannot make an ECDSA P-256 key");
  Cert cert(X509_new());
  if (!cert) return opensslError("cannot make a certificate");
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return opensslError("no random serial number");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(bn);
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* cn = reinterpret_cast<const unsigned char*>(request.common_name.c_str());
  ok = ok && X509_set_version(cert.get(), 2) == 1 &&
       // a day back: a peer whose clock is a little behind still accepts it
       X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600) != nullptr &&
       X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24L * 3600 * request.days) != nullptr &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0) == 1 &&
       X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key.get()) == 1;
  std::string alt_names = "DNS:" + request.common_name;
  for (const std::string& ip : request.ip_addresses) alt_names += ",IP:" + ip;
  ok = ok && addExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
       addExtension(cert.get(), NID_key_usage, "critical,digitalSignature") &&
       addExtension(cert.get(), NID_ext_key_usage, "serverAuth") &&
       addExtension(cert.get(), NID_subject_alt_name, alt_names) &&
       X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) return opensslError("cannot make the certificate");
  std::string error;
  std::string pem = pemOf(cert.get(), key.get(), error);
  if (pem.empty()) return error;
  return writePrivateFile(path, pem);
}

std::string certificateFingerprint(const std::string& path, std::string& error) {
  Bio bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    error = opensslError("cannot read " + path);
    return {};
  }
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    error = opensslError("no certificate in " + path);
    return {};
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(cert.get(), EVP_sha256(), digest, &size) != 1) {
    error = opensslError("cannot hash the certificate in " + path);
    return {};
  }
  std::string out;
  char hex[4];
  for (unsigned int i = 0; i < size; ++i) {
    std::snprintf(hex, sizeof hex, i ? ":%02X" : "%02X", digest[i]);
    out += hex;
  }
  return out;
}

}  // namespace dualsp::web
