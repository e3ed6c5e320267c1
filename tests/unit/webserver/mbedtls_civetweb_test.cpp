// The firmware's HTTPS on the host: CivetWeb built as the firmware builds it (USE_MBEDTLS,
// patched by tools/firmware/civetweb-mbedtls-options.patch) with spweb's TLS options and a
// certificate from the mbedTLS back end, asked by an OpenSSL client at security level 0 (so a
// refusal is the server's): TLS 1.2 only, AEAD suites only, ECDSA and RSA certificates, and a
// suite list mbedTLS cannot read stops the start instead of falling back to its defaults.
#include <CppUTest/TestHarness.h>
#include <arpa/inet.h>
#include <civetweb.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "platform/tls_certificate.hpp"
#include "webserver/tls_cipher_lists.hpp"

using namespace dualsp;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/dualsp-mbedtls-XXXXXX";
    CHECK(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::system(("rm -rf " + path).c_str()); }
};

int answer(mg_connection* conn) {
  mg_printf(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  return 1;
}

// CivetWeb with spweb's TLS options (web_server.cpp) on 127.0.0.1, a free port; nullptr when
// mg_start refuses.
struct Server {
  mg_context* ctx = nullptr;
  int port = 0;
  Server(const std::string& certificate, const char* ciphers, const char* threads = "2") {
    static bool ready = (mg_init_library(0), true);
    (void)ready;
    const char* options[] = {"listening_ports",
                             "127.0.0.1:0s",
                             "ssl_certificate",
                             certificate.c_str(),
                             "ssl_protocol_version",
                             "4",
                             "ssl_cipher_list",
                             ciphers,
                             "num_threads",
                             threads,
                             nullptr};
    mg_callbacks callbacks{};
    callbacks.begin_request = answer;
    ctx = mg_start(&callbacks, nullptr, options);
    if (!ctx) return;
    mg_server_port ports[2] = {};
    if (mg_get_server_ports(ctx, 2, ports) > 0) port = ports[0].port;
  }
  ~Server() {
    if (ctx) mg_stop(ctx);
  }
};

struct Handshake {
  bool ok = false;
  std::string version, cipher, reply;
  unsigned long error = 0;
};

// How a client ends its connection after the handshake, before any request.
enum class Close { Request, NotifyOnly, TcpOnly };

Handshake tlsGet(int port, int min, int max, const char* ciphers = "ALL:@SECLEVEL=0",
                 Close close = Close::Request) {
  Handshake out;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  SSL_CTX_set_security_level(ctx.get(), 0);
  SSL_CTX_set_min_proto_version(ctx.get(), min);
  SSL_CTX_set_max_proto_version(ctx.get(), max);
  SSL_CTX_set_cipher_list(ctx.get(), ciphers);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval five{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  CHECK(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  SSL_set_fd(ssl.get(), fd);
  ERR_clear_error();
  if (SSL_connect(ssl.get()) == 1) {
    out.ok = true;
    out.version = SSL_get_version(ssl.get());
    out.cipher = SSL_get_cipher_name(ssl.get());
    if (close != Close::Request) {
      if (close == Close::NotifyOnly) SSL_shutdown(ssl.get());
      ::close(fd);
      return out;
    }
    const std::string request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    SSL_write(ssl.get(), request.data(), static_cast<int>(request.size()));
    char buf[1024];
    int got;
    while ((got = SSL_read(ssl.get(), buf, sizeof buf)) > 0) out.reply.append(buf, got);
    SSL_shutdown(ssl.get());  // close_notify, as curl and browsers send
  } else {
    out.error = ERR_peek_error();
  }
  ERR_clear_error();
  ::close(fd);
  return out;
}

std::string selfSignedFile(const TempDir& dir) {
  const std::string path = dir.path + "/spweb.pem";
  std::string why = platform::writeSelfSignedCertificate(
      path, {.common_name = "dualsp-test", .ip_addresses = {"127.0.0.1"}});
  STRCMP_EQUAL("", why.c_str());
  return path;
}

// An RSA 2048 certificate and key, as an administrator may install (made with OpenSSL).
std::string rsaFile(const TempDir& dir) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("rsa.example.com"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  X509_set_pubkey(cert.get(), key.get());
  CHECK(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
  const std::string path = dir.path + "/rsa.pem";
  std::FILE* f = std::fopen(path.c_str(), "w");
  CHECK(f != nullptr);
  PEM_write_X509(f, cert.get());
  PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  return path;
}

}  // namespace

TEST_GROUP(MbedtlsHttps){};

TEST(MbedtlsHttps, ServesTls12WithAnAeadSuiteOnly) {
  TempDir dir;
  Server s(selfSignedFile(dir), web::kMbedtlsCipherList);
  CHECK_TEXT(s.ctx != nullptr, "mg_start refused spweb's options");
  Handshake v12 = tlsGet(s.port, TLS1_2_VERSION, TLS1_3_VERSION);
  CHECK_TRUE(v12.ok);
  STRCMP_EQUAL("TLSv1.2", v12.version.c_str());                       // mbedTLS 2.28: no TLS 1.3
  STRCMP_EQUAL("ECDHE-ECDSA-AES256-GCM-SHA384", v12.cipher.c_str());  // the list's first
  CHECK(v12.reply.rfind("HTTP/1.1 200", 0) == 0);
  // Each suite of the list for an ECDSA certificate, offered alone, is served.
  for (const char* suite : {"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES128-GCM-SHA256"}) {
    Handshake h = tlsGet(s.port, TLS1_2_VERSION, TLS1_2_VERSION, suite);
    CHECK_TEXT(h.ok, suite);
    STRCMP_EQUAL(suite, h.cipher.c_str());
  }
}

TEST(MbedtlsHttps, RefusesTls11AndTls10) {
  TempDir dir;
  Server s(selfSignedFile(dir), web::kMbedtlsCipherList);
  CHECK(s.ctx != nullptr);
  for (int version : {TLS1_1_VERSION, TLS1_VERSION}) {
    Handshake old = tlsGet(s.port, version, version);
    CHECK_FALSE(old.ok);
    // The server's protocol_version alert, not this client's refusal.
    LONGS_EQUAL(SSL_R_TLSV1_ALERT_PROTOCOL_VERSION, ERR_GET_REASON(old.error));
  }
}

TEST(MbedtlsHttps, RefusesCbcAndSha1Suites) {
  TempDir dir;
  Server s(selfSignedFile(dir), web::kMbedtlsCipherList);
  CHECK(s.ctx != nullptr);
  Handshake weak = tlsGet(s.port, TLS1_2_VERSION, TLS1_2_VERSION,
                          "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:"
                          "ECDHE-ECDSA-AES128-SHA256:@SECLEVEL=0");
  CHECK_FALSE(weak.ok);
  LONGS_EQUAL(SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE, ERR_GET_REASON(weak.error));
}

TEST(MbedtlsHttps, ServesAnInstalledRsaCertificateWithEcdheRsa) {
  TempDir dir;
  Server s(rsaFile(dir), web::kMbedtlsCipherList);
  CHECK(s.ctx != nullptr);
  Handshake h = tlsGet(s.port, TLS1_2_VERSION, TLS1_2_VERSION);
  CHECK_TRUE(h.ok);
  STRCMP_EQUAL("ECDHE-RSA-AES256-GCM-SHA384", h.cipher.c_str());
  Handshake cbc = tlsGet(s.port, TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-RSA-AES128-SHA:AES128-SHA");
  CHECK_FALSE(cbc.ok);
}

// Fail closed: a list mbedTLS cannot read (OpenSSL's names, a name over-long, an empty one)
// stops the start rather than leaving mbedTLS's default suites on.
TEST(MbedtlsHttps, AListMbedtlsCannotReadStopsTheStart) {
  TempDir dir;
  const std::string cert = selfSignedFile(dir);
  const std::string too_long = "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384" + std::string(60, 'X');
  const std::string too_many = [] {
    std::string list = "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384";
    for (int i = 0; i < 32; ++i) list += ":TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384";
    return list;
  }();
  for (const std::string& list :
       {std::string(web::kOpensslCipherList), too_long, too_many,
        std::string(
            "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384::TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384")}) {
    Server s(cert, list.c_str());
    CHECK_TEXT(s.ctx == nullptr, list.c_str());
  }
  Server good(cert, "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256");
  CHECK(good.ctx != nullptr);
}

// A client ending its connection, with a close_notify or by closing TCP without one, is how
// TLS connections end: CivetWeb's mbedTLS read path printed "SSL read failed" on stderr (the
// SP's console) for each.
TEST(MbedtlsHttps, AClientEndingItsConnectionPrintsNothing) {
  TempDir dir;
  Server s(selfSignedFile(dir), web::kMbedtlsCipherList, "1");  // one worker: in order
  CHECK(s.ctx != nullptr);
  const std::string log = dir.path + "/stderr";
  std::fflush(stderr);
  const int saved = ::dup(2);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ::dup2(fd, 2);
  ::close(fd);
  const bool notify =
      tlsGet(s.port, TLS1_2_VERSION, TLS1_2_VERSION, "ALL:@SECLEVEL=0", Close::NotifyOnly).ok;
  const bool tcp =
      tlsGet(s.port, TLS1_2_VERSION, TLS1_2_VERSION, "ALL:@SECLEVEL=0", Close::TcpOnly).ok;
  // The one worker answers this only once it is done with both connections before it.
  const Handshake after = tlsGet(s.port, TLS1_2_VERSION, TLS1_2_VERSION);
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  CHECK(notify && tcp && after.ok);
  CHECK(after.reply.rfind("HTTP/1.1 200", 0) == 0);
  std::FILE* f = std::fopen(log.c_str(), "r");
  std::string text(4096, '\0');
  text.resize(std::fread(&text[0], 1, text.size(), f));
  std::fclose(f);
  STRCMP_EQUAL("", text.c_str());
}
