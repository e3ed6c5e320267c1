#pragma once
// spweb's TLS 1.2 suites (docs/SECURITY.md "TLS"): ECDHE key exchange and AEAD ciphers only,
// for an ECDSA certificate (the self-signed one) and an RSA one (ReplaceCertificate may
// install either), in the names of each TLS library CivetWeb is built on.

namespace dualsp::web {

// OpenSSL 3 (the host build): TLS 1.3's suites are OpenSSL's defaults, all AEAD.
inline constexpr const char* kOpensslCipherList =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";

// mbedTLS 2.28 (the firmware; TLS 1.2 only): the same suites. The patched CivetWeb refuses to
// start on a name mbedTLS does not know (tools/firmware/civetweb-mbedtls-options.patch).
inline constexpr const char* kMbedtlsCipherList =
    "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384:TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384:"
    "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256:TLS-ECDHE-RSA-WITH-CHACHA20-POLY1305-SHA256:"
    "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256:TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256";

}  // namespace dualsp::web
