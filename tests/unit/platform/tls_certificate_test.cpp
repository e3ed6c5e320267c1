// The HTTPS certificate code (platform/tls_certificate.hpp) on both of its back ends: OpenSSL 3
// (the host build) and mbedTLS 2.28 (the firmware). The same cases run against each, and across
// them: what one makes the other reads the same, a replacement one accepts the other accepts,
// and both refuse the same replacements with the same words. Certificates the back ends cannot
// make (RSA, weak keys, not yet valid, chains, odd subjects) are made here with OpenSSL.
#include <CppUTest/TestHarness.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tls_backends.hpp"

using namespace dualsp;
using platform::CertificateAndKey;
using platform::CertificateInfo;
using test::TlsBackend;

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

std::vector<TlsBackend> backends() {
  return {test::opensslBackend(), test::mbedtlsBackend()};
}

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

Key newKey(const std::string& kind) {
  if (kind == "RSA 2048") return Key(EVP_RSA_gen(2048));
  if (kind == "RSA 1024") return Key(EVP_RSA_gen(1024));
  if (kind == "EC P-224") return Key(EVP_EC_gen("P-224"));
  if (kind == "EC P-384") return Key(EVP_EC_gen("P-384"));
  return Key(EVP_EC_gen("P-256"));
}

std::string keyText(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  CHECK(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  return bioText(bio.get());
}

std::string certText(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  CHECK(PEM_write_bio_X509(bio.get(), cert) == 1);
  return bioText(bio.get());
}

// A certificate made with OpenSSL directly: any key, validity and subject; self-signed, or
// signed by `issuer` (then the chain is the certificate and the issuer's).
struct Made {
  Key key;
  Cert cert;
  std::string pem;  // the certificate(s)
  std::string key_pem;
};

struct Spec {
  std::string key = "EC P-256";
  long not_before_s = -3600;
  long not_after_s = 30L * 86400;
  std::vector<std::pair<std::string, std::string>> subject = {{"CN", "array.example.com"}};
  const Made* issuer = nullptr;
  long serial = 4242;
};

Made craft(const Spec& spec) {
  Made m;
  m.key = newKey(spec.key);
  CHECK(m.key != nullptr);
  m.cert.reset(X509_new());
  X509* x = m.cert.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), spec.serial);
  X509_gmtime_adj(X509_getm_notBefore(x), spec.not_before_s);
  X509_gmtime_adj(X509_getm_notAfter(x), spec.not_after_s);
  X509_NAME* name = X509_get_subject_name(x);
  for (const auto& [field, value] : spec.subject)
    CHECK(X509_NAME_add_entry_by_txt(name, field.c_str(), MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                     0) == 1);
  X509_set_issuer_name(x, spec.issuer ? X509_get_subject_name(spec.issuer->cert.get()) : name);
  X509_set_pubkey(x, m.key.get());
  EVP_PKEY* signer = spec.issuer ? spec.issuer->key.get() : m.key.get();
  CHECK(X509_sign(x, signer, EVP_sha256()) > 0);
  m.pem = certText(x) + (spec.issuer ? spec.issuer->pem : "");
  m.key_pem = keyText(m.key.get());
  return m;
}

Cert readCert(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

Key readKey(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

void checkSameInfo(const CertificateInfo& a, const CertificateInfo& b, const std::string& what) {
  const char* w = what.c_str();
  STRCMP_EQUAL_TEXT(a.subject.c_str(), b.subject.c_str(), w);
  STRCMP_EQUAL_TEXT(a.issuer.c_str(), b.issuer.c_str(), w);
  STRCMP_EQUAL_TEXT(a.common_name.c_str(), b.common_name.c_str(), w);
  STRCMP_EQUAL_TEXT(a.issuer_common_name.c_str(), b.issuer_common_name.c_str(), w);
  STRCMP_EQUAL_TEXT(a.not_before.c_str(), b.not_before.c_str(), w);
  STRCMP_EQUAL_TEXT(a.not_after.c_str(), b.not_after.c_str(), w);
  STRCMP_EQUAL_TEXT(a.serial.c_str(), b.serial.c_str(), w);
  STRCMP_EQUAL_TEXT(a.fingerprint.c_str(), b.fingerprint.c_str(), w);
  STRCMP_EQUAL_TEXT(a.key_type.c_str(), b.key_type.c_str(), w);
  STRCMP_EQUAL_TEXT(a.certificate.c_str(), b.certificate.c_str(), w);
}

CertificateInfo inspect(const TlsBackend& b, const std::string& pem) {
  std::string error;
  auto info = b.inspectCertificate(pem, error);
  CHECK_TEXT(info.has_value(), (std::string(b.name) + ": " + error).c_str());
  return *info;
}

CertificateAndKey selfSigned(const TlsBackend& b, int days = 3650) {
  std::string error;
  auto made = b.makeSelfSigned(
      {.common_name = "dualsp-array", .ip_addresses = {"198.18.0.10", "198.18.0.11"}, .days = days},
      error);
  CHECK_TEXT(made.has_value(), (std::string(b.name) + ": " + error).c_str());
  return *made;
}

bool hasAltName(X509* cert, int type, const std::string& value) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  bool found = false;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != type) continue;
    const ASN1_STRING* s = type == GEN_DNS ? n->d.dNSName : n->d.iPAddress;
    found = found || std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                 static_cast<size_t>(ASN1_STRING_length(s))) == value;
  }
  GENERAL_NAMES_free(names);
  return found;
}

}  // namespace

TEST_GROUP(TlsCertificateBackends){};

// What makeSelfSigned promises, read back by OpenSSL itself for both back ends: v3, ECDSA
// P-256 signed with SHA-256, the CN and the addresses as subjectAltNames, not a CA, for TLS
// servers, 10 years (and a day back), a random serial, and the key belonging to it.
TEST(TlsCertificateBackends, EachMakesTheSameKindOfSelfSignedCertificate) {
  for (const TlsBackend& b : backends()) {
    const char* name = b.name;
    const CertificateAndKey made = selfSigned(b);
    Cert cert = readCert(made.certificate);
    Key key = readKey(made.key);
    CHECK_TEXT(cert && key, name);
    LONGS_EQUAL_TEXT(2, X509_get_version(cert.get()), name);  // v3
    LONGS_EQUAL_TEXT(NID_ecdsa_with_SHA256, X509_get_signature_nid(cert.get()), name);
    CHECK_TEXT(X509_verify(cert.get(), key.get()) == 1, name);
    CHECK_TEXT(X509_check_private_key(cert.get(), key.get()) == 1, name);
    char group[64] = {};
    size_t size = 0;
    CHECK_TEXT(EVP_PKEY_get_group_name(key.get(), group, sizeof group, &size) == 1, name);
    STRCMP_EQUAL_TEXT("prime256v1", group, name);
    CHECK_TEXT(hasAltName(cert.get(), GEN_DNS, "dualsp-array"), name);
    CHECK_TEXT(hasAltName(cert.get(), GEN_IPADD, std::string("\xc6\x12\x00\x0a", 4)), name);
    CHECK_TEXT(hasAltName(cert.get(), GEN_IPADD, std::string("\xc6\x12\x00\x0b", 4)), name);
    LONGS_EQUAL_TEXT(0, X509_check_ca(cert.get()), name);
    const int bc = X509_get_ext_by_NID(cert.get(), NID_basic_constraints, -1);
    CHECK_TEXT(bc >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert.get(), bc)) == 1, name);
    CHECK_TEXT(X509_get_key_usage(cert.get()) & KU_DIGITAL_SIGNATURE, name);
    CHECK_TEXT(X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER, name);
    int days = 0, seconds = 0;
    CHECK(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert.get()),
                         X509_get0_notAfter(cert.get())) == 1);
    LONGS_EQUAL_TEXT(3651, days, name);
    // Random serials: another certificate has another one.
    const CertificateInfo one = inspect(b, made.certificate);
    const CertificateInfo two = inspect(b, selfSigned(b).certificate);
    CHECK_TEXT(one.serial != two.serial, name);
    CHECK_TEXT(one.serial.size() >= 3 * 8 - 1, name);  // at least 8 bytes, "7F:..."
    STRCMP_EQUAL_TEXT("CN=dualsp-array", one.subject.c_str(), name);
    STRCMP_EQUAL_TEXT("EC P-256", one.key_type.c_str(), name);
    LONGS_EQUAL_TEXT(95, one.fingerprint.size(), name);
    LONGS_EQUAL_TEXT(20, one.not_after.size(), name);  // 2036-12-04T03:30:00Z
    CHECK_TEXT(one.certificate.find("PRIVATE") == std::string::npos, name);
    std::string error;
    CHECK_TEXT(!b.makeSelfSigned({.common_name = "", .ip_addresses = {}}, error), name);
  }
}

// What one back end makes, both read the same: every field of a Certificate resource.
TEST(TlsCertificateBackends, ACertificateReadsTheSameOnBoth) {
  const auto all = backends();
  for (const TlsBackend& maker : all) {
    const CertificateAndKey made = selfSigned(maker);
    checkSameInfo(inspect(all[0], made.certificate + made.key),
                  inspect(all[1], made.certificate + made.key),
                  std::string("made by ") + maker.name);
  }
  // Ones neither makes: RSA, a chain, a subject of several attributes with characters RFC 2253
  // escapes, a serial whose first byte has its top bit set.
  const Made ca = craft(
      {.key = "EC P-384", .subject = {{"C", "DE"}, {"O", "Example, Inc."}, {"CN", "Example CA"}}});
  const Made crafted[] = {
      craft({.key = "RSA 2048", .serial = 0x80}),
      craft({.subject = {{"O", "M\xc3\xbcller+Partner"}, {"OU", "#storage"}, {"CN", "sp <a>"}},
             .issuer = &ca}),
      craft({.key = "EC P-224", .serial = 1}),
  };
  for (const Made& m : crafted) {
    const CertificateInfo a = inspect(all[0], m.pem);
    checkSameInfo(a, inspect(all[1], m.pem), a.subject);
  }
  STRCMP_EQUAL("RSA 2048", inspect(all[1], crafted[0].pem).key_type.c_str());
  STRCMP_EQUAL("80", inspect(all[1], crafted[0].pem).serial.c_str());  // DER has 00 80
  STRCMP_EQUAL("EC secp224r1", inspect(all[1], crafted[2].pem).key_type.c_str());
  STRCMP_EQUAL("CN=Example CA,O=Example\\, Inc.,C=DE",
               inspect(all[1], crafted[1].pem).issuer.c_str());
  STRCMP_CONTAINS("END CERTIFICATE-----\n-----BEGIN",
                  inspect(all[1], crafted[1].pem).certificate.c_str());
  for (const TlsBackend& b : all) {
    std::string error;
    CHECK_TEXT(!b.inspectCertificate("nothing", error), b.name);
    CHECK_TEXT(!b.inspectCertificate(crafted[0].key_pem, error), b.name);
  }
}

// A replacement one back end accepts, the other accepts too, in either order, and what comes
// back is the same certificate with a key that still belongs to it.
TEST(TlsCertificateBackends, AReplacementEitherAcceptsTheOtherAcceptsToo) {
  const auto all = backends();
  std::vector<std::pair<std::string, std::string>> offers;  // (certificate, key)
  for (const TlsBackend& maker : all) {
    const CertificateAndKey made = selfSigned(maker);
    offers.emplace_back(made.certificate, made.key);
  }
  const Made ca = craft({.key = "EC P-384", .subject = {{"CN", "Example CA"}}});
  const Made crafted[] = {craft({.key = "RSA 2048"}), craft({.issuer = &ca})};
  for (const Made& m : crafted) offers.emplace_back(m.pem, m.key_pem);
  for (const auto& [certificate, key] : offers) {
    for (const std::string& pem : {certificate + key, key + certificate}) {
      std::optional<CertificateAndKey> got[2];
      for (int i = 0; i < 2; ++i) {
        std::string error;
        got[i] = all[i].checkReplacement(pem, error);
        CHECK_TEXT(got[i].has_value(), (std::string(all[i].name) + ": " + error).c_str());
      }
      STRCMP_EQUAL(got[0]->certificate.c_str(), got[1]->certificate.c_str());
      STRCMP_EQUAL(certificate.c_str(), got[1]->certificate.c_str());
      // Each one's re-encoded key passes the other's check with the certificate.
      for (int i = 0; i < 2; ++i) {
        std::string error;
        CHECK_TEXT(all[1 - i].checkReplacement(got[i]->certificate + got[i]->key, error),
                   error.c_str());
      }
    }
  }
}

// Both refuse the same replacements, with the same words.
TEST(TlsCertificateBackends, BothRefuseTheSameReplacementsAlike) {
  const auto all = backends();
  const Made mine = craft({});
  const Made other = craft({});
  const Made expired = craft({.not_before_s = -10L * 86400, .not_after_s = -86400});
  const Made future = craft({.not_before_s = 86400, .not_after_s = 10L * 86400});
  const Made rsa1024 = craft({.key = "RSA 1024"});
  const Made p224 = craft({.key = "EC P-224"});
  Bio encrypted(BIO_new(BIO_s_mem()));
  CHECK(PEM_write_bio_PKCS8PrivateKey(encrypted.get(), mine.key.get(), EVP_aes_256_cbc(),
                                      const_cast<char*>("secret"), 6, nullptr, nullptr) == 1);
  struct Case {
    std::string pem;
    const char* why;
  } refused[] = {
      {"", "no PEM certificate"},
      {"garbage", "no PEM certificate"},
      {mine.key_pem, "no PEM certificate"},
      {mine.pem, "no private key"},
      {mine.pem + other.key_pem, "does not belong to the certificate"},
      {mine.pem + bioText(encrypted.get()), "encrypted"},
      {expired.pem + expired.key_pem, "the certificate expired on 20"},
      {future.pem + future.key_pem, "the certificate is not valid before 20"},
      {rsa1024.pem + rsa1024.key_pem, "the key is RSA 1024; RSA 2048 or EC P-256 at least"},
      {p224.pem + p224.key_pem, "the key is EC secp224r1; RSA 2048 or EC P-256 at least"},
      {mine.pem + std::string(65 * 1024, '\n') + mine.key_pem, "larger than 64 KiB"},
  };
  for (const Case& c : refused) {
    std::string errors[2];
    for (int i = 0; i < 2; ++i) {
      CHECK_TEXT(!all[i].checkReplacement(c.pem, errors[i]), c.why);
      STRCMP_CONTAINS_TEXT(c.why, errors[i].c_str(), all[i].name);
    }
    STRCMP_EQUAL_TEXT(errors[0].c_str(), errors[1].c_str(), c.why);
  }
}

// A certificate made a moment ago by a workstation whose clock runs ahead of the array's is
// accepted by both (the QEMU guests' clocks trail the host by up to a second); one that starts
// beyond the allowance is refused by both.
TEST(TlsCertificateBackends, BothAllowTheSameClockSkew) {
  const auto all = backends();
  const Made ahead = craft({.not_before_s = 60, .not_after_s = 86400});
  const Made beyond =
      craft({.not_before_s = platform::kCertificateClockSkewSeconds + 120, .not_after_s = 86400});
  for (const TlsBackend& b : all) {
    std::string error;
    CHECK_TEXT(b.checkReplacement(ahead.pem + ahead.key_pem, error),
               (std::string(b.name) + ": " + error).c_str());
    CHECK_TEXT(!b.checkReplacement(beyond.pem + beyond.key_pem, error), b.name);
    STRCMP_CONTAINS_TEXT("not valid before", error.c_str(), b.name);
  }
}

// The file spweb serves: mode 0600, the certificate then the key; its fingerprint the same
// through either back end and the one inspectCertificate shows.
TEST(TlsCertificateBackends, TheWrittenFileIsPrivateAndItsFingerprintAgrees) {
  char tmpl[] = "/tmp/dualsp-tls-backends-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const auto all = backends();
  for (const TlsBackend& writer : all) {
    const std::string path = dir + "/" + writer.name + ".pem";
    STRCMP_EQUAL(
        "", writer.writeSelfSignedCertificate(path, {.common_name = "dualsp-x", .ip_addresses = {}})
                .c_str());
    struct stat st {};
    CHECK(::stat(path.c_str(), &st) == 0);
    LONGS_EQUAL(0600, st.st_mode & 0777);
    std::string error;
    const std::string fingerprint = all[0].certificateFingerprint(path, error);
    LONGS_EQUAL_TEXT(95, fingerprint.size(), error.c_str());
    STRCMP_EQUAL(fingerprint.c_str(), all[1].certificateFingerprint(path, error).c_str());
    std::FILE* f = std::fopen(path.c_str(), "r");
    std::string text(8192, '\0');
    text.resize(std::fread(&text[0], 1, text.size(), f));
    std::fclose(f);
    STRCMP_EQUAL(fingerprint.c_str(), inspect(all[1], text).fingerprint.c_str());
    CHECK(text.find("-----BEGIN CERTIFICATE") < text.find("PRIVATE KEY-----"));
    // ... and the file passes both back ends' replacement check as it is.
    for (const TlsBackend& b : all) CHECK_TEXT(b.checkReplacement(text, error), error.c_str());
    ::unlink(path.c_str());
  }
  for (const TlsBackend& b : all) {
    std::string error;
    STRCMP_EQUAL("", b.certificateFingerprint(dir + "/missing.pem", error).c_str());
    STRCMP_CONTAINS_TEXT("missing.pem", error.c_str(), b.name);
    std::FILE* f = std::fopen((dir + "/key-only.pem").c_str(), "w");
    std::fputs(craft({}).key_pem.c_str(), f);
    std::fclose(f);
    error.clear();
    STRCMP_EQUAL("", b.certificateFingerprint(dir + "/key-only.pem", error).c_str());
    STRCMP_CONTAINS_TEXT("no certificate in", error.c_str(), b.name);
    ::unlink((dir + "/key-only.pem").c_str());
  }
  ::rmdir(dir.c_str());
}
