// spweb's HTTPS (docs/SECURITY.md "TLS"): the certificate spweb makes, and CivetWeb's TLS
// port on 127.0.0.1 asked by an OpenSSL client: TLS 1.2 and 1.3 with strong suites only, the
// certificate served is the file's, and plain HTTP redirected when asked.
#include <CppUTest/TestHarness.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "http_test_client.hpp"
#include "platform/tls_certificate.hpp"
#include "test_dispatcher.hpp"
#include "test_status_board.hpp"
#include "webserver/dispatcher.hpp"
#include "webserver/routes/routes.hpp"
#include "webserver/status_board_source.hpp"
#include "webserver/web_server.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::platform;

namespace {

std::string makeTempDir() {
  char tmpl[] = "/tmp/dualsp-tls-XXXXXX";
  CHECK_TRUE(::mkdtemp(tmpl) != nullptr);
  return tmpl;
}

struct TempCertificate {
  std::string dir = makeTempDir();
  std::string path = dir + "/spweb.pem";
  TempCertificate() {
    std::string why = writeSelfSignedCertificate(
        path, {.common_name = "dualsp-test", .ip_addresses = {"127.0.0.1"}});
    if (!why.empty()) FAIL(why.c_str());
  }
  ~TempCertificate() {
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
};

struct TlsServer {
  std::string array_id = test::uniqueArrayId();
  test::TestStatusBoard board{array_id, SpId::A};
  std::unique_ptr<StatusBoardSource> source;
  test::FakeCommandClient fake_bus;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<WebServer> server;

  TlsServer(const std::string& certificate, bool redirect_plain) {
    board.publish(test::snapshot(array_id, SpId::A, Role::Active));
    source = std::make_unique<StatusBoardSource>(board.name());
    dispatcher = std::make_unique<Dispatcher>(
        buildRouteTable(), ServiceConfig{SpId::A, ServeMode::Full, array_id, {}},
        [this] { return source->read(); }, fake_bus, systemWallClockMs, test::asAdministrator());
    server = std::make_unique<WebServer>(*dispatcher);
    std::string error;
    if (!server->start({.address = "127.0.0.1",
                        .port = 0,
                        .tls_port = 0,
                        .tls_certificate = certificate,
                        .redirect_plain = redirect_plain},
                       error))
      FAIL(error.c_str());
  }
  ~TlsServer() { server->stop(); }
};

int connectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval five{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    FAIL("cannot connect");
  return fd;
}

struct Handshake {
  bool ok = false;
  std::string version;      // "TLSv1.2", "TLSv1.3"
  std::string fingerprint;  // of the certificate the server sent
  unsigned long error = 0;  // OpenSSL's first error when not ok
  std::string reply;        // the answer to GET /redfish/v1/ when ok
};

// One TLS connection, as a client allowing min..max and `ciphers` (TLS 1.2 names) at OpenSSL's
// security level 0: whatever is refused is refused by the server.
Handshake tlsGet(int port, int min, int max, const char* ciphers = "ALL:@SECLEVEL=0") {
  Handshake out;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  SSL_CTX_set_security_level(ctx.get(), 0);
  SSL_CTX_set_min_proto_version(ctx.get(), min);
  SSL_CTX_set_max_proto_version(ctx.get(), max);
  SSL_CTX_set_cipher_list(ctx.get(), ciphers);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  int fd = connectTo(port);
  SSL_set_fd(ssl.get(), fd);
  ERR_clear_error();
  if (SSL_connect(ssl.get()) == 1) {
    out.ok = true;
    out.version = SSL_get_version(ssl.get());
    X509* cert = SSL_get0_peer_certificate(ssl.get());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (cert && X509_digest(cert, EVP_sha256(), md, &n) == 1) {
      char hex[4];
      for (unsigned int i = 0; i < n; ++i) {
        std::snprintf(hex, sizeof hex, i ? ":%02X" : "%02X", md[i]);
        out.fingerprint += hex;
      }
    }
    std::string request =
        "GET /redfish/v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    SSL_write(ssl.get(), request.data(), static_cast<int>(request.size()));
    char buf[4096];
    int got;
    while ((got = SSL_read(ssl.get(), buf, sizeof buf)) > 0) out.reply.append(buf, got);
  } else {
    out.error = ERR_peek_error();
  }
  ERR_clear_error();
  ::close(fd);
  return out;
}

}  // namespace

TEST_GROUP(TlsCertificate){};

TEST(TlsCertificate, IsWrittenPrivateWithAFingerprintClientsCanPin) {
  TempCertificate cert;
  struct stat st {};
  CHECK_EQUAL(0, ::stat(cert.path.c_str(), &st));
  LONGS_EQUAL(0600, st.st_mode & 0777);
  std::string error;
  std::string fingerprint = certificateFingerprint(cert.path, error);
  STRCMP_EQUAL("", error.c_str());
  LONGS_EQUAL(32 * 3 - 1, fingerprint.size());  // "AB:CD:..." of SHA-256
  // A new key each time: two arrays never share one.
  TempCertificate other;
  std::string second = certificateFingerprint(other.path, error);
  CHECK(fingerprint != second);
}

TEST(TlsCertificate, AFileWithoutACertificateIsAClearError) {
  std::string dir = makeTempDir();
  std::string path = dir + "/garbage.pem";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("not a certificate\n", f);
  std::fclose(f);
  std::string error;
  STRCMP_EQUAL("", certificateFingerprint(path, error).c_str());
  CHECK(error.find("no certificate in " + path) == 0);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST_GROUP(Https){};

TEST(Https, ServesTls12AndTls13WithTheInstalledCertificate) {
  TempCertificate cert;
  TlsServer s(cert.path, false);
  CHECK(s.server->tlsPort() > 0);
  CHECK(s.server->tlsPort() != s.server->port());
  std::string error;
  std::string pinned = certificateFingerprint(cert.path, error);

  Handshake v13 = tlsGet(s.server->tlsPort(), TLS1_3_VERSION, TLS1_3_VERSION);
  CHECK_TRUE(v13.ok);
  STRCMP_EQUAL("TLSv1.3", v13.version.c_str());
  STRCMP_EQUAL(pinned.c_str(), v13.fingerprint.c_str());
  CHECK(v13.reply.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(v13.reply.find("\"RootService\"") != std::string::npos);

  Handshake v12 = tlsGet(s.server->tlsPort(), TLS1_2_VERSION, TLS1_2_VERSION);
  CHECK_TRUE(v12.ok);
  STRCMP_EQUAL("TLSv1.2", v12.version.c_str());

  // Plain HTTP is still served on its own port unless asked to redirect.
  test::HttpTestClient plain(s.server->port());
  LONGS_EQUAL(200, plain.request("GET", "/redfish/v1/").status);
}

TEST(Https, RefusesTls11AndOlder) {
  TempCertificate cert;
  TlsServer s(cert.path, false);
  Handshake old = tlsGet(s.server->tlsPort(), TLS1_VERSION, TLS1_1_VERSION);
  CHECK_FALSE(old.ok);
  // The server's refusal (a protocol_version alert), not this client's.
  LONGS_EQUAL(SSL_R_TLSV1_ALERT_PROTOCOL_VERSION, ERR_GET_REASON(old.error));
}

TEST(Https, RefusesWeakTls12Suites) {
  TempCertificate cert;
  TlsServer s(cert.path, false);
  // ECDHE with the server's ECDSA key but CBC and SHA-1: offered alone, none in common.
  Handshake weak = tlsGet(s.server->tlsPort(), TLS1_2_VERSION, TLS1_2_VERSION,
                          "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:@SECLEVEL=0");
  CHECK_FALSE(weak.ok);
  LONGS_EQUAL(SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE, ERR_GET_REASON(weak.error));
  Handshake strong =
      tlsGet(s.server->tlsPort(), TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256");
  CHECK_TRUE(strong.ok);
}

TEST(Https, RedirectsPlainHttpWhenAsked) {
  TempCertificate cert;
  TlsServer s(cert.path, true);
  test::HttpTestClient plain(s.server->port());
  test::HttpReply reply = plain.request("GET", "/redfish/v1/Managers?$top=1");
  LONGS_EQUAL(308, reply.status);
  // To the address the client connected to (on an SP: the floating address), HTTPS port.
  std::string want =
      "https://127.0.0.1:" + std::to_string(s.server->tlsPort()) + "/redfish/v1/Managers?$top=1";
  STRCMP_EQUAL(want.c_str(), reply.header("location").value_or("").c_str());
}

TEST(Https, AMissingCertificateIsAClearStartError) {
  std::string array_id = test::uniqueArrayId();
  test::TestStatusBoard board{array_id, SpId::A};
  test::FakeCommandClient bus;
  Dispatcher dispatcher(
      buildRouteTable(), ServiceConfig{SpId::A, ServeMode::Full, array_id, {}},
      [] { return std::optional<ipc::StatusSnapshot>{}; }, bus, systemWallClockMs,
      test::asAdministrator());
  WebServer server(dispatcher);
  std::string error;
  CHECK_FALSE(server.start({.address = "127.0.0.1",
                            .port = 0,
                            .tls_port = 0,
                            .tls_certificate = "/nonexistent/spweb.pem"},
                           error));
  CHECK(!error.empty());
  LONGS_EQUAL(-1, server.tlsPort());
}
