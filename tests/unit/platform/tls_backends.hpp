#pragma once
// The two back ends of platform/tls_certificate.hpp side by side in one test program: each
// adapter (tls_backend_openssl.cpp, tls_backend_mbedtls.cpp) is compiled with its back end's
// inline namespace and hands out its functions.

#include <optional>
#include <string>

#include "platform/tls_certificate.hpp"

namespace dualsp::test {

struct TlsBackend {
  const char* name;
  std::optional<platform::CertificateAndKey> (*makeSelfSigned)(const platform::SelfSignedRequest&,
                                                               std::string&);
  std::optional<platform::CertificateInfo> (*inspectCertificate)(const std::string&, std::string&);
  std::optional<platform::CertificateAndKey> (*checkReplacement)(const std::string&, std::string&);
  std::string (*certificateFingerprint)(const std::string&, std::string&);
  std::string (*writeSelfSignedCertificate)(const std::string&, const platform::SelfSignedRequest&);
};

TlsBackend opensslBackend();
TlsBackend mbedtlsBackend();

}  // namespace dualsp::test
