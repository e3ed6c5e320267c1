#pragma once
// spweb's HTTPS certificate (docs/SECURITY.md "TLS"): a self-signed ECDSA P-256 certificate
// made at the first start when none is installed, and the fingerprint clients pin.

#include <string>
#include <vector>

namespace dualsp::web {

struct SelfSignedRequest {
  std::string common_name;                // the subject's CN, also a DNS subjectAltName
  std::vector<std::string> ip_addresses;  // IPv4 subjectAltNames (the management addresses)
  int days = 3650;
};

// Writes a new key and its self-signed certificate (PEM, certificate first) to `path`, mode
// 0600, through a temporary file renamed into place: a reader sees the old file or the whole
// new one. Returns why it failed, or empty.
std::string writeSelfSignedCertificate(const std::string& path, const SelfSignedRequest& request);

// The SHA-256 fingerprint of the first certificate in a PEM file, as "AB:CD:..." (what
// `openssl x509 -fingerprint -sha256` prints), or empty with `error` set.
std::string certificateFingerprint(const std::string& path, std::string& error);

}  // namespace dualsp::web
