// The OpenSSL 3 back end of platform/tls_certificate.hpp (the host build).
#include "platform/tls_certificate.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

namespace dualsp::platform {
inline namespace DUALSP_TLS_BACKEND_NAMESPACE {
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

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

std::optional<CertificateAndKey> pemOf(const std::vector<X509*>& certs, EVP_PKEY* key,
                                       std::string& error) {
  Bio cert_bio(BIO_new(BIO_s_mem()));
  Bio key_bio(BIO_new(BIO_s_mem()));
  bool ok =
      cert_bio && key_bio &&
      PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  for (X509* c : certs) ok = ok && PEM_write_bio_X509(cert_bio.get(), c) == 1;
  if (!ok) {
    error = opensslError("cannot encode the certificate");
    return std::nullopt;
  }
  return CertificateAndKey{bioText(cert_bio.get()), bioText(key_bio.get())};
}

std::string hexOf(const unsigned char* bytes, size_t size, bool colons) {
  std::string out;
  char hex[4];
  for (size_t i = 0; i < size; ++i) {
    std::snprintf(hex, sizeof hex, (colons && i) ? ":%02X" : "%02X", bytes[i]);
    out += hex;
  }
  return out;
}

std::string fingerprintOf(X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &size) != 1) return {};
  return hexOf(digest, size, true);
}

std::string nameText(X509_NAME* name) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  return bioText(bio.get());
}

std::string commonNameOf(X509_NAME* name) {
  int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (at < 0) return {};
  ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  unsigned char* utf8 = nullptr;
  int size = ASN1_STRING_to_UTF8(&utf8, value);
  if (size < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(size));
  OPENSSL_free(utf8);
  return out;
}

std::string isoTime(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return {};
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string keyTypeOf(EVP_PKEY* key) {
  const int bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return "RSA " + std::to_string(bits);
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t size = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof group, &size) == 1)
        return std::string("EC ") + (std::strcmp(group, "prime256v1") == 0  ? "P-256"
                                     : std::strcmp(group, "secp384r1") == 0 ? "P-384"
                                     : std::strcmp(group, "secp521r1") == 0 ? "P-521"
                                                                            : group);
      return "EC " + std::to_string(bits);
    }
    case EVP_PKEY_ED25519:
      return "Ed25519";
    default:
      return "other " + std::to_string(bits);
  }
}

// Every certificate of a PEM text, in order (none: empty).
std::vector<Cert> readCertificates(const std::string& pem) {
  std::vector<Cert> out;
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return out;
  for (;;) {
    Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    out.push_back(std::move(cert));
  }
  ERR_clear_error();  // the end of the text reads as an error
  return out;
}

// A password callback that refuses: an encrypted key is not read (nothing prompts).
int noPassword(char*, int, int, void*) {
  return -1;
}

}  // namespace

std::optional<CertificateAndKey> makeSelfSigned(const SelfSignedRequest& request,
                                                std::string& error) {
  auto fail = [&error](std::string why) {
    error = std::move(why);
    return std::nullopt;
  };
  if (request.common_name.empty()) return fail("a certificate needs a common name");
  Key key(EVP_EC_gen("P-256"));
  if (!key) return fail(opensslError("cannot make an ECDSA P-256 key"));
  Cert cert(X509_new());
  if (!cert) return fail(opensslError("cannot make a certificate"));
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return fail(opensslError("no random serial number"));
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
  if (!ok) return fail(opensslError("cannot make the certificate"));
  return pemOf({cert.get()}, key.get(), error);
}

std::optional<CertificateInfo> inspectCertificate(const std::string& pem, std::string& error) {
  std::vector<Cert> certs = readCertificates(pem);
  if (certs.empty()) {
    error = "no PEM certificate";
    return std::nullopt;
  }
  X509* cert = certs.front().get();
  CertificateInfo info;
  info.subject = nameText(X509_get_subject_name(cert));
  info.issuer = nameText(X509_get_issuer_name(cert));
  info.common_name = commonNameOf(X509_get_subject_name(cert));
  info.issuer_common_name = commonNameOf(X509_get_issuer_name(cert));
  info.not_before = isoTime(X509_get0_notBefore(cert));
  info.not_after = isoTime(X509_get0_notAfter(cert));
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  info.serial = hexOf(serial->data, static_cast<size_t>(serial->length), true);
  info.fingerprint = fingerprintOf(cert);
  if (EVP_PKEY* key = X509_get0_pubkey(cert)) info.key_type = keyTypeOf(key);
  Bio bio(BIO_new(BIO_s_mem()));
  for (const Cert& c : certs)
    if (!bio || PEM_write_bio_X509(bio.get(), c.get()) != 1) {
      error = opensslError("cannot encode the certificate");
      return std::nullopt;
    }
  info.certificate = bioText(bio.get());
  return info;
}

std::optional<CertificateAndKey> checkReplacement(const std::string& pem, std::string& error) {
  auto fail = [&error](std::string why) {
    error = std::move(why);
    return std::nullopt;
  };
  if (pem.size() > 64 * 1024) return fail("the PEM text is larger than 64 KiB");
  if (pem.find("ENCRYPTED") != std::string::npos)
    return fail("the private key is encrypted; give it without a passphrase");
  std::vector<Cert> certs = readCertificates(pem);
  if (certs.empty()) return fail("no PEM certificate (-----BEGIN CERTIFICATE-----)");
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Key key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr) : nullptr);
  ERR_clear_error();
  if (!key) return fail("no private key (-----BEGIN PRIVATE KEY-----) with the certificate");
  X509* cert = certs.front().get();
  if (X509_check_private_key(cert, key.get()) != 1) {
    ERR_clear_error();
    return fail("the private key does not belong to the certificate");
  }
  const int bits = EVP_PKEY_get_bits(key.get());
  const int type = EVP_PKEY_get_base_id(key.get());
  if ((type == EVP_PKEY_RSA && bits < 2048) || (type == EVP_PKEY_EC && bits < 256) ||
      (type != EVP_PKEY_RSA && type != EVP_PKEY_EC))
    return fail("the key is " + keyTypeOf(key.get()) + "; RSA 2048 or EC P-256 at least");
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
    return fail("the certificate expired on " + isoTime(X509_get0_notAfter(cert)));
  std::time_t latest = std::time(nullptr) + kCertificateClockSkewSeconds;
  if (X509_cmp_time(X509_get0_notBefore(cert), &latest) > 0)
    return fail("the certificate is not valid before " + isoTime(X509_get0_notBefore(cert)));
  std::vector<X509*> chain;
  for (const Cert& c : certs) chain.push_back(c.get());
  return pemOf(chain, key.get(), error);
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
  std::string out = fingerprintOf(cert.get());
  if (out.empty()) error = opensslError("cannot hash the certificate in " + path);
  return out;
}

}  // namespace DUALSP_TLS_BACKEND_NAMESPACE
}  // namespace dualsp::platform
