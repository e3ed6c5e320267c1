// The mbedTLS 2.28 back end of platform/tls_certificate.hpp (the firmware, docs/TLS-CHOICE.md):
// the same certificates, checks and texts as the OpenSSL back end (tls_certificate.cpp).
#include <arpa/inet.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string_view>

#include "platform/tls_certificate.hpp"

namespace dualsp::platform {
inline namespace DUALSP_TLS_BACKEND_NAMESPACE {
namespace {

// mbedTLS's contexts, freed on every path.
struct Random {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  bool ready = false;
  Random() {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    static const unsigned char kPersonal[] = "dualsp-certificate";
    ready = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, kPersonal,
                                  sizeof kPersonal - 1) == 0;
  }
  ~Random() {
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }
};
struct Key {
  mbedtls_pk_context pk;
  Key() { mbedtls_pk_init(&pk); }
  ~Key() { mbedtls_pk_free(&pk); }
};
struct Certs {
  mbedtls_x509_crt chain;
  Certs() { mbedtls_x509_crt_init(&chain); }
  ~Certs() { mbedtls_x509_crt_free(&chain); }
  bool empty() const { return chain.raw.p == nullptr; }
};
struct Writer {
  mbedtls_x509write_cert crt;
  Writer() { mbedtls_x509write_crt_init(&crt); }
  ~Writer() { mbedtls_x509write_crt_free(&crt); }
};
struct Mpi {
  mbedtls_mpi value;
  Mpi() { mbedtls_mpi_init(&value); }
  ~Mpi() { mbedtls_mpi_free(&value); }
};

std::string hexOf(const unsigned char* bytes, size_t size, bool colons) {
  std::string out;
  char hex[4];
  for (size_t i = 0; i < size; ++i) {
    std::snprintf(hex, sizeof hex, (colons && i) ? ":%02X" : "%02X", bytes[i]);
    out += hex;
  }
  return out;
}

std::string fingerprintOf(const mbedtls_x509_crt& cert) {
  unsigned char digest[32];
  if (mbedtls_sha256_ret(cert.raw.p, cert.raw.len, digest, 0) != 0) return {};
  return hexOf(digest, sizeof digest, true);
}

// One attribute value as OpenSSL's XN_FLAG_RFC2253 prints it: RFC 2253's special characters
// escaped with '\', control and non-ASCII bytes as \XX.
std::string rfc2253Value(const mbedtls_x509_buf& value) {
  std::string out;
  char hex[4];
  for (size_t i = 0; i < value.len; ++i) {
    const unsigned char c = value.p[i];
    const bool edge = (i == 0 && (c == ' ' || c == '#')) || (i + 1 == value.len && c == ' ');
    if (c < 0x20 || c >= 0x7f) {
      std::snprintf(hex, sizeof hex, "\\%02X", c);
      out += hex;
    } else if (edge ||
               std::string_view(",+\"\\<>;").find(static_cast<char>(c)) != std::string_view::npos) {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string attributeName(const mbedtls_x509_buf& oid) {
  const char* name = nullptr;
  if (mbedtls_oid_get_attr_short_name(&oid, &name) == 0 && name) return name;
  char dotted[64];
  int n = mbedtls_oid_get_numeric_string(dotted, sizeof dotted, &oid);
  return n > 0 ? std::string(dotted) : std::string("?");
}

// A distinguished name as RFC 2253 writes it (OpenSSL's XN_FLAG_RFC2253): the last RDN first,
// "," between RDNs, "+" inside a multi-valued one.
std::string nameText(const mbedtls_x509_name* name) {
  std::vector<std::string> rdns;
  std::string rdn;
  for (const mbedtls_x509_name* at = name; at; at = at->next) {
    if (at->oid.p == nullptr) continue;
    if (!rdn.empty()) rdn += '+';
    rdn += attributeName(at->oid) + "=" + rfc2253Value(at->val);
    if (!at->next_merged) {
      rdns.push_back(rdn);
      rdn.clear();
    }
  }
  if (!rdn.empty()) rdns.push_back(rdn);
  std::string out;
  for (auto it = rdns.rbegin(); it != rdns.rend(); ++it) out += (out.empty() ? "" : ",") + *it;
  return out;
}

std::string commonNameOf(const mbedtls_x509_name* name) {
  for (const mbedtls_x509_name* at = name; at; at = at->next)
    if (at->oid.p && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &at->oid) == 0)
      return std::string(reinterpret_cast<const char*>(at->val.p), at->val.len);
  return {};
}

std::string isoTime(const mbedtls_x509_time& t) {
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02dZ", t.year, t.mon, t.day, t.hour,
                t.min, t.sec);
  return text;
}

// UTC seconds since 1970 of a certificate time.
std::time_t secondsOf(const mbedtls_x509_time& t) {
  std::tm tm{};
  tm.tm_year = t.year - 1900;
  tm.tm_mon = t.mon - 1;
  tm.tm_mday = t.day;
  tm.tm_hour = t.hour;
  tm.tm_min = t.min;
  tm.tm_sec = t.sec;
  return ::timegm(&tm);
}

std::string keyTypeOf(const mbedtls_pk_context& key) {
  const size_t bits = mbedtls_pk_get_bitlen(&key);
  switch (mbedtls_pk_get_type(&key)) {
    case MBEDTLS_PK_RSA:
      return "RSA " + std::to_string(bits);
    case MBEDTLS_PK_ECKEY:
    case MBEDTLS_PK_ECKEY_DH:
    case MBEDTLS_PK_ECDSA:
      switch (mbedtls_pk_ec(key)->grp.id) {
        case MBEDTLS_ECP_DP_SECP256R1:
          return "EC P-256";
        case MBEDTLS_ECP_DP_SECP384R1:
          return "EC P-384";
        case MBEDTLS_ECP_DP_SECP521R1:
          return "EC P-521";
        default: {
          // OpenSSL's back end shows the group's name (secp224r1, brainpoolP256r1, ...).
          const mbedtls_ecp_curve_info* curve =
              mbedtls_ecp_curve_info_from_grp_id(mbedtls_pk_ec(key)->grp.id);
          return curve ? std::string("EC ") + curve->name : "EC " + std::to_string(bits);
        }
      }
    default:
      return "other " + std::to_string(bits);
  }
}

// Every certificate of a PEM text, in order; keys and other blocks are skipped.
void readCertificates(const std::string& pem, Certs& certs) {
  if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) return;
  // mbedTLS reads PEM only from a NUL-terminated buffer, the NUL counted.
  mbedtls_x509_crt_parse(&certs.chain, reinterpret_cast<const unsigned char*>(pem.c_str()),
                         pem.size() + 1);
}

std::string certificatesPem(const mbedtls_x509_crt& chain, std::string& error) {
  std::string out;
  for (const mbedtls_x509_crt* c = &chain; c && c->raw.p; c = c->next) {
    std::string block(c->raw.len * 4 / 3 + c->raw.len / 48 + 128, '\0');
    size_t written = 0;
    if (mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n",
                                 c->raw.p, c->raw.len, reinterpret_cast<unsigned char*>(&block[0]),
                                 block.size(), &written) != 0) {
      error = "cannot encode the certificate";
      return {};
    }
    out.append(block.c_str());  // written counts the terminating NUL
  }
  return out;
}

std::string keyPem(mbedtls_pk_context& key) {
  std::string buffer(16000, '\0');
  if (mbedtls_pk_write_key_pem(&key, reinterpret_cast<unsigned char*>(&buffer[0]), buffer.size()) !=
      0)
    return {};
  return buffer.c_str();
}

// mbedTLS's "YYYYMMDDhhmmss", UTC, `seconds` from now.
std::string validityTime(std::time_t now, long long seconds) {
  const std::time_t at = now + static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&at, &tm);
  char text[16];
  std::strftime(text, sizeof text, "%Y%m%d%H%M%S", &tm);
  return text;
}

// A DER length, short or long form.
void appendDerLength(std::string& der, size_t length) {
  if (length < 0x80) {
    der += static_cast<char>(length);
    return;
  }
  std::string bytes;
  for (size_t n = length; n; n >>= 8) bytes.insert(bytes.begin(), static_cast<char>(n & 0xff));
  der += static_cast<char>(0x80 | bytes.size());
  der += bytes;
}

// subjectAltName as DER (mbedTLS 2.28 has no setter): GeneralNames { [2] dNSName, [7] iPAddress }.
std::optional<std::string> subjectAltNames(const SelfSignedRequest& request) {
  std::string names;
  names += '\x82';
  appendDerLength(names, request.common_name.size());
  names += request.common_name;
  for (const std::string& ip : request.ip_addresses) {
    in_addr address{};
    if (inet_pton(AF_INET, ip.c_str(), &address) != 1) return std::nullopt;
    names += '\x87';
    names += '\x04';
    names.append(reinterpret_cast<const char*>(&address), 4);
  }
  std::string der = "\x30";
  appendDerLength(der, names.size());
  return der + names;
}

// The string mbedtls_x509write_crt_set_subject_name parses: ',' is the one character it
// reads escaped.
std::string subjectName(const std::string& common_name) {
  std::string out = "CN=";
  for (char c : common_name) {
    if (c == ',') out += '\\';
    out += c;
  }
  return out;
}

bool addExtension(mbedtls_x509write_cert& crt, const char* oid, size_t oid_size, bool critical,
                  const std::string& der) {
  return mbedtls_x509write_crt_set_extension(&crt, oid, oid_size, critical ? 1 : 0,
                                             reinterpret_cast<const unsigned char*>(der.data()),
                                             der.size()) == 0;
}

}  // namespace

std::optional<CertificateAndKey> makeSelfSigned(const SelfSignedRequest& request,
                                                std::string& error) {
  auto fail = [&error](std::string why) {
    error = std::move(why);
    return std::nullopt;
  };
  if (request.common_name.empty()) return fail("a certificate needs a common name");
  std::optional<std::string> alt_names = subjectAltNames(request);
  if (!alt_names) return fail("an IP address of the certificate is not IPv4");
  Random random;
  if (!random.ready) return fail("no random numbers (mbedTLS entropy)");
  Key key;
  if (mbedtls_pk_setup(&key.pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
      mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key.pk), mbedtls_ctr_drbg_random,
                          &random.drbg) != 0)
    return fail("cannot make an ECDSA P-256 key");
  unsigned char serial_bytes[16];
  Mpi serial;
  if (mbedtls_ctr_drbg_random(&random.drbg, serial_bytes, sizeof serial_bytes) != 0)
    return fail("no random serial number");
  serial_bytes[0] &= 0x7f;  // positive
  const std::time_t now = std::time(nullptr);
  // a day back: a peer whose clock is a little behind still accepts it
  const std::string not_before = validityTime(now, -24LL * 3600);
  const std::string not_after = validityTime(now, 24LL * 3600 * request.days);
  const std::string subject = subjectName(request.common_name);
  Writer w;
  mbedtls_x509write_crt_set_version(&w.crt, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&w.crt, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&w.crt, &key.pk);
  mbedtls_x509write_crt_set_issuer_key(&w.crt, &key.pk);  // self-signed
  // DER of the extensions OpenSSL's back end writes: basicConstraints critical CA:FALSE (an
  // empty SEQUENCE), extendedKeyUsage serverAuth.
  static const std::string kNotCa("\x30\x00", 2);
  static const std::string kServerAuth(MBEDTLS_OID_SERVER_AUTH,
                                       MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH));
  const std::string ext_key_usage = std::string("\x30") +
                                    static_cast<char>(kServerAuth.size() + 2) + "\x06" +
                                    static_cast<char>(kServerAuth.size()) + kServerAuth;
  const bool ok =
      mbedtls_mpi_read_binary(&serial.value, serial_bytes, sizeof serial_bytes) == 0 &&
      mbedtls_x509write_crt_set_serial(&w.crt, &serial.value) == 0 &&
      mbedtls_x509write_crt_set_validity(&w.crt, not_before.c_str(), not_after.c_str()) == 0 &&
      mbedtls_x509write_crt_set_subject_name(&w.crt, subject.c_str()) == 0 &&
      mbedtls_x509write_crt_set_issuer_name(&w.crt, subject.c_str()) == 0 &&
      addExtension(w.crt, MBEDTLS_OID_BASIC_CONSTRAINTS,
                   MBEDTLS_OID_SIZE(MBEDTLS_OID_BASIC_CONSTRAINTS), true, kNotCa) &&
      mbedtls_x509write_crt_set_key_usage(&w.crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) == 0 &&
      addExtension(w.crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                   MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), false, ext_key_usage) &&
      addExtension(w.crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                   MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), false, *alt_names);
  if (!ok) return fail("cannot make the certificate");
  std::string certificate(4096 + alt_names->size() * 2, '\0');
  if (mbedtls_x509write_crt_pem(&w.crt, reinterpret_cast<unsigned char*>(&certificate[0]),
                                certificate.size(), mbedtls_ctr_drbg_random, &random.drbg) != 0)
    return fail("cannot sign the certificate");
  std::string key_text = keyPem(key.pk);
  if (key_text.empty()) return fail("cannot encode the key");
  return CertificateAndKey{certificate.c_str(), key_text};
}

std::optional<CertificateInfo> inspectCertificate(const std::string& pem, std::string& error) {
  Certs certs;
  readCertificates(pem, certs);
  if (certs.empty()) {
    error = "no PEM certificate";
    return std::nullopt;
  }
  const mbedtls_x509_crt& cert = certs.chain;
  CertificateInfo info;
  info.subject = nameText(&cert.subject);
  info.issuer = nameText(&cert.issuer);
  info.common_name = commonNameOf(&cert.subject);
  info.issuer_common_name = commonNameOf(&cert.issuer);
  info.not_before = isoTime(cert.valid_from);
  info.not_after = isoTime(cert.valid_to);
  // The integer's magnitude, as OpenSSL shows it: DER's leading zero byte dropped.
  size_t skip = 0;
  while (skip + 1 < cert.serial.len && cert.serial.p[skip] == 0) ++skip;
  info.serial = hexOf(cert.serial.p + skip, cert.serial.len - skip, true);
  info.fingerprint = fingerprintOf(cert);
  info.key_type = keyTypeOf(cert.pk);
  info.certificate = certificatesPem(cert, error);
  if (info.certificate.empty()) return std::nullopt;
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
  Certs certs;
  readCertificates(pem, certs);
  if (certs.empty()) return fail("no PEM certificate (-----BEGIN CERTIFICATE-----)");
  Key key;
  // No password: an encrypted key is not read (checked above too: nothing prompts).
  if (mbedtls_pk_parse_key(&key.pk, reinterpret_cast<const unsigned char*>(pem.c_str()),
                           pem.size() + 1, nullptr, 0) != 0)
    return fail("no private key (-----BEGIN PRIVATE KEY-----) with the certificate");
  const mbedtls_x509_crt& cert = certs.chain;
  if (mbedtls_pk_check_pair(&cert.pk, &key.pk) != 0)
    return fail("the private key does not belong to the certificate");
  const size_t bits = mbedtls_pk_get_bitlen(&key.pk);
  const mbedtls_pk_type_t type = mbedtls_pk_get_type(&key.pk);
  const bool ec =
      type == MBEDTLS_PK_ECKEY || type == MBEDTLS_PK_ECKEY_DH || type == MBEDTLS_PK_ECDSA;
  if ((type == MBEDTLS_PK_RSA && bits < 2048) || (ec && bits < 256) ||
      (type != MBEDTLS_PK_RSA && !ec))
    return fail("the key is " + keyTypeOf(key.pk) + "; RSA 2048 or EC P-256 at least");
  if (mbedtls_x509_time_is_past(&cert.valid_to))
    return fail("the certificate expired on " + isoTime(cert.valid_to));
  if (secondsOf(cert.valid_from) > std::time(nullptr) + kCertificateClockSkewSeconds)
    return fail("the certificate is not valid before " + isoTime(cert.valid_from));
  std::string chain = certificatesPem(cert, error);
  if (chain.empty()) return std::nullopt;
  std::string key_text = keyPem(key.pk);
  if (key_text.empty()) return fail("cannot encode the key");
  return CertificateAndKey{chain, key_text};
}

std::string certificateFingerprint(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return {};
  }
  std::ostringstream text;
  text << in.rdbuf();
  Certs certs;
  readCertificates(text.str(), certs);
  if (certs.empty()) {
    error = "no certificate in " + path;
    return {};
  }
  std::string out = fingerprintOf(certs.chain);
  if (out.empty()) error = "cannot hash the certificate in " + path;
  return out;
}

}  // namespace DUALSP_TLS_BACKEND_NAMESPACE
}  // namespace dualsp::platform
