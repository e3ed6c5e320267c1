// The back-end-neutral part of platform/tls_certificate.hpp: writing the certificate file.
// Compiled with each back end (its inline namespace).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "platform/tls_certificate.hpp"

namespace dualsp::platform {
inline namespace DUALSP_TLS_BACKEND_NAMESPACE {

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

std::string writeSelfSignedCertificate(const std::string& path, const SelfSignedRequest& request) {
  std::string error;
  std::optional<CertificateAndKey> made = makeSelfSigned(request, error);
  if (!made) return error;
  return writePrivateFile(path, made->certificate + made->key);
}

}  // namespace DUALSP_TLS_BACKEND_NAMESPACE
}  // namespace dualsp::platform
