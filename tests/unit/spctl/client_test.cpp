// spctl's client against a real HTTP server on 127.0.0.1 that answers as an array in a
// failover does: 503 with Retry-After, a connection closed with no answer, a session that
// ended. Every change must go out again with the same Idempotency-Key.

#include "tools/spctl/client/client.hpp"

#include <CppUTest/TestHarness.h>

#include <asio.hpp>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

using namespace dualsp::spctl;

namespace {

struct Seen {
  std::string method, path;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// What the server does with the next request.
struct Reply {
  int status = 200;  // 0: close the connection without an answer
  std::string headers;
  std::string body;
};

class ScriptedServer {
 public:
  ScriptedServer()
      : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    asio::error_code ec;
    asio::ip::tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ec);  // unblocks accept()
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  void then(Reply r) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(r));
  }
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void serve() {
    while (!stop_) {
      asio::ip::tcp::socket socket(io_);
      asio::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) return;
      handle(socket);
    }
  }
  void handle(asio::ip::tcp::socket& socket) {
    asio::error_code ec;
    std::string data;
    char buffer[4096];
    size_t end = std::string::npos;
    for (int i = 0; i < 1000 && end == std::string::npos; ++i) {
      size_t n = socket.read_some(asio::buffer(buffer), ec);
      if (ec) return;
      data.append(buffer, n);
      end = data.find("\r\n\r\n");
    }
    Seen s;
    std::string head = data.substr(0, end);
    std::string body = data.substr(end + 4);
    size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    s.method = request_line.substr(0, request_line.find(' '));
    s.path =
        request_line.substr(s.method.size() + 1, request_line.rfind(' ') - s.method.size() - 1);
    for (size_t at = line_end + 2; at < head.size();) {
      size_t next = head.find("\r\n", at);
      if (next == std::string::npos) next = head.size();
      std::string line = head.substr(at, next - at);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        s.headers[name] = line.substr(colon + 2);
      }
      at = next + 2;
    }
    size_t length = s.headers.count("content-length") ? std::stoul(s.headers["content-length"]) : 0;
    while (body.size() < length) {
      size_t n = socket.read_some(asio::buffer(buffer), ec);
      if (ec) return;
      body.append(buffer, n);
    }
    s.body = body;
    Reply r;
    {
      std::lock_guard lock(mu_);
      seen_.push_back(s);
      if (!script_.empty()) {
        r = script_.front();
        script_.pop_front();
      }
    }
    if (r.status == 0) {
      socket.close(ec);  // read, maybe done, never answered: a failover's cut
      return;
    }
    std::string answer = "HTTP/1.1 " + std::to_string(r.status) +
                         " X\r\nContent-Length: " + std::to_string(r.body.size()) +
                         "\r\nConnection: close\r\n" + r.headers + "\r\n" + r.body;
    asio::write(socket, asio::buffer(answer), ec);
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::deque<Reply> script_;
  std::vector<Seen> seen_;
};

const Reply kLogin{201, "X-Auth-Token: t1\r\nLocation: /redfish/v1/SessionService/Sessions/1\r\n",
                   "{}"};

ClientOptions optionsFor(const ScriptedServer& server, Millis deadline = Millis{10000}) {
  ClientOptions o;
  o.address = "127.0.0.1:" + std::to_string(server.port());
  o.scheme = "http";
  o.deadline = deadline;
  o.attempt_timeout = Millis{2000};
  return o;
}

Client::CredentialSource password() {
  return [](std::string&) { return std::optional<Credentials>(Credentials{"admin", "pw"}); };
}

}  // namespace

TEST_GROUP(Client){};

TEST(Client, AChangeRefusedWith503IsSentAgainWithTheSameKey) {
  ScriptedServer server;
  server.then(kLogin);
  server.then({503, "Retry-After: 0\r\n", "{}"});
  server.then({201, "Location: /redfish/v1/Storage/Array/Volumes/7\r\n", "{\"Id\":\"7\"}"});
  Client c(optionsFor(server), password());
  Result r = c.request("POST", "/redfish/v1/Storage/Array/Volumes", "{\"Name\":\"v\"}");
  LONGS_EQUAL(201, r.response.status);
  LONGS_EQUAL(2, r.attempts);
  auto seen = server.seen();
  LONGS_EQUAL(3, seen.size());
  STRCMP_EQUAL("/redfish/v1/SessionService/Sessions", seen[0].path.c_str());
  CHECK_FALSE(seen[0].headers.count("idempotency-key"));  // a login is not keyed
  STRCMP_EQUAL("t1", seen[1].headers["x-auth-token"].c_str());
  CHECK_FALSE(seen[1].headers["idempotency-key"].empty());
  STRCMP_EQUAL(seen[1].headers["idempotency-key"].c_str(),
               seen[2].headers["idempotency-key"].c_str());
  STRCMP_EQUAL(r.key.c_str(), seen[2].headers["idempotency-key"].c_str());
  STRCMP_EQUAL(seen[1].body.c_str(), seen[2].body.c_str());
}

TEST(Client, AChangeWhoseConnectionIsCutIsSentAgainWithTheSameKeyAndTheReplayIsSeen) {
  ScriptedServer server;
  server.then(kLogin);
  server.then({0, "", ""});  // read, then the SP died
  server.then({201, "Idempotent-Replayed: true\r\n", "{\"Id\":\"7\"}"});
  Client c(optionsFor(server), password());
  Result r = c.request("POST", "/redfish/v1/Storage/Array/Volumes", "{}", "my-key-1");
  LONGS_EQUAL(201, r.response.status);
  CHECK_TRUE(r.replayed);
  auto seen = server.seen();
  LONGS_EQUAL(3, seen.size());
  STRCMP_EQUAL("my-key-1", seen[1].headers["idempotency-key"].c_str());
  STRCMP_EQUAL("my-key-1", seen[2].headers["idempotency-key"].c_str());
}

TEST(Client, AReadCarriesNoKeyAndARefusalIsNotRepeated) {
  ScriptedServer server;
  server.then(kLogin);
  server.then({400, "", "{\"error\":{}}"});
  Client c(optionsFor(server), password());
  Result r = c.request("GET", "/redfish/v1/Chassis");
  LONGS_EQUAL(400, r.response.status);
  LONGS_EQUAL(1, r.attempts);
  auto seen = server.seen();
  LONGS_EQUAL(2, seen.size());
  CHECK_FALSE(seen[1].headers.count("idempotency-key"));
}

TEST(Client, AnArrayThatNeverRecoversIsGivenUpAtTheDeadline) {
  ScriptedServer server;
  server.then(kLogin);
  for (int i = 0; i < 200; ++i) server.then({503, "", "{}"});
  Client c(optionsFor(server, Millis{1000}), password());
  const auto start = std::chrono::steady_clock::now();
  Result r = c.request("PATCH", "/redfish/v1/Chassis/Enclosure", "{}");
  const auto took = std::chrono::steady_clock::now() - start;
  LONGS_EQUAL(503, r.response.status);
  CHECK(r.attempts > 2);
  CHECK(took < std::chrono::seconds(3));  // bounded by the deadline, not by the script
}

TEST(Client, AnEndedSessionIsOpenedAgainOnce) {
  char pattern[] = "/tmp/spctl-client-XXXXXX";
  const std::string dir = ::mkdtemp(pattern);
  ScriptedServer server;
  ClientOptions o = optionsFor(server);
  o.cache_directory = dir;
  TokenCache(dir, o.address, "admin").store({"stale", ""});
  server.then({401, "", "{}"});  // the cached token is no longer known
  server.then({201, "X-Auth-Token: fresh\r\n", "{}"});
  server.then({200, "", "{\"Id\":\"Enclosure\"}"});
  Client c(o, password());
  Result r = c.request("GET", "/redfish/v1/Chassis/Enclosure");
  LONGS_EQUAL(200, r.response.status);
  auto seen = server.seen();
  LONGS_EQUAL(3, seen.size());
  STRCMP_EQUAL("stale", seen[0].headers["x-auth-token"].c_str());
  STRCMP_EQUAL("fresh", seen[2].headers["x-auth-token"].c_str());
  std::string warning;
  STRCMP_EQUAL("fresh", TokenCache(dir, o.address, "admin").load(warning)->token.c_str());
  std::system(("rm -rf " + dir).c_str());
}

TEST(Client, NobodyListeningIsUnreachableNotCut) {
  unsigned short port = 0;
  {
    ScriptedServer gone;
    port = gone.port();
  }
  ClientOptions o;
  o.address = "127.0.0.1:" + std::to_string(port);
  o.scheme = "http";
  o.deadline = Millis{300};
  Client c(o, password());
  Result r = c.request("GET", "/redfish/v1");
  CHECK(r.response.kind == Outcome::Kind::Unreachable);
  CHECK(r.attempts >= 2);  // retried until the deadline
}
