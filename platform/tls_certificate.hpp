#pragma once
// The HTTPS certificate (docs/SECURITY.md "TLS"): a self-signed ECDSA P-256 certificate made
// when none is installed, the checks a replacement must pass, and the fingerprint clients pin.
// Built when spweb serves HTTPS (DUALSP_TLS), on the build's TLS library (DUALSP_TLS_BACKEND):
// OpenSSL 3 on the host (tls_certificate.cpp), mbedTLS 2.28 in the firmware
// (tls_certificate_mbedtls.cpp); both give the same answers (tests/unit/platform/
// tls_certificate_test.cpp runs the same cases against both and across them).

#include <optional>
#include <string>
#include <vector>

namespace dualsp::platform {

struct SelfSignedRequest {
  std::string common_name;                // the subject's CN, also a DNS subjectAltName
  std::vector<std::string> ip_addresses;  // IPv4 subjectAltNames (the management addresses)
  int days = 3650;
};

// A certificate and its private key, each PEM.
struct CertificateAndKey {
  std::string certificate;  // the certificate, then any chain certificates
  std::string key;
};

// The functions live in an inline namespace named after the back end, so that the host's unit
// test can link both back ends into one program; callers write platform::makeSelfSigned.
#if defined(DUALSP_TLS_MBEDTLS)
#define DUALSP_TLS_BACKEND_NAMESPACE mbedtls_backend
#else
#define DUALSP_TLS_BACKEND_NAMESPACE openssl_backend
#endif
inline namespace DUALSP_TLS_BACKEND_NAMESPACE {

// A new ECDSA P-256 key and its self-signed certificate; nullopt with `error` set.
std::optional<CertificateAndKey> makeSelfSigned(const SelfSignedRequest& request,
                                                std::string& error);

// Writes `text` to `path`, mode 0600, through a temporary file renamed into place: a reader
// sees the old file or the whole new one. Returns why it failed, or empty.
std::string writePrivateFile(const std::string& path, const std::string& text);

// makeSelfSigned, written (certificate first, then the key) with writePrivateFile.
std::string writeSelfSignedCertificate(const std::string& path, const SelfSignedRequest& request);

// What a Redfish Certificate resource shows of a certificate.
struct CertificateInfo {
  std::string subject;  // "CN=dualsp-array,O=..." (RFC 2253)
  std::string issuer;
  std::string common_name;  // the subject's CN, or ""
  std::string issuer_common_name;
  std::string not_before;  // ISO 8601, UTC: "2026-12-04T03:30:00Z"
  std::string not_after;
  std::string serial;       // hex bytes, "7F:F4:..." (the Certificate schema's pattern)
  std::string fingerprint;  // SHA-256, "AB:CD:..."
  std::string key_type;     // "EC P-256", "RSA 2048"
  std::string certificate;  // the PEM of the certificates alone (never a key)
};

// The first certificate of `pem` (and the chain after it). nullopt with `error` set when there
// is none or it cannot be read.
std::optional<CertificateInfo> inspectCertificate(const std::string& pem, std::string& error);

// A replacement an administrator offers (Redfish ReplaceCertificate: the certificate and its
// private key in one PEM string, in either order). Refused, with `error` saying why, when the
// certificate or the key is missing or unreadable, an encrypted key, a key that does not
// belong to the certificate, a certificate expired or not yet valid, or a key weaker than
// RSA 2048 or EC P-256. On success, the certificates and the key, re-encoded.
// "Not yet valid" allows kCertificateClockSkewSeconds: a certificate made a moment ago on an
// administrator's workstation whose clock runs ahead of the array's is accepted.
inline constexpr long kCertificateClockSkewSeconds = 300;
std::optional<CertificateAndKey> checkReplacement(const std::string& pem, std::string& error);

// The SHA-256 fingerprint of the first certificate in a PEM file, as "AB:CD:..." (what
// `openssl x509 -fingerprint -sha256` prints), or empty with `error` set.
std::string certificateFingerprint(const std::string& path, std::string& error);

}  // namespace DUALSP_TLS_BACKEND_NAMESPACE
}  // namespace dualsp::platform
