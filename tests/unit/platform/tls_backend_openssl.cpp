// The OpenSSL back end's functions for tls_certificate_test.cpp (tls_backends.hpp).
#include "tls_backends.hpp"

namespace dualsp::test {

TlsBackend opensslBackend() {
  return {"OpenSSL",
          &platform::makeSelfSigned,
          &platform::inspectCertificate,
          &platform::checkReplacement,
          &platform::certificateFingerprint,
          &platform::writeSelfSignedCertificate};
}

}  // namespace dualsp::test
