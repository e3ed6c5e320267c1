#pragma once
// A minimal HTTP/1.1 client for the tests (STYLE.md: hermetic, no new library): one TCP
// connection to 127.0.0.1, requests with Content-Length responses, keep-alive reuse.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace dualsp::web::test {

struct HttpReply {
  int status = 0;
  std::string status_line;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::optional<std::string> header(const std::string& name) const {
    auto it = headers.find(name);
    if (it == headers.end()) return std::nullopt;
    return it->second;
  }
};

class HttpTestClient {
 public:
  explicit HttpTestClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("cannot connect to port " + std::to_string(port));
  }
  ~HttpTestClient() {
    if (fd_ >= 0) close(fd_);
  }
  HttpTestClient(const HttpTestClient&) = delete;
  HttpTestClient& operator=(const HttpTestClient&) = delete;

  HttpReply request(const std::string& method, const std::string& path) {
    sendRaw(method + " " + path +
            " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n");
    return readReply(method == "HEAD");
  }

  // A request with a JSON body.
  HttpReply request(const std::string& method, const std::string& path, const std::string& body) {
    sendRaw(method + " " + path +
            " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
            "Content-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body);
    return readReply(false);
  }

  void sendRaw(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      sent += static_cast<size_t>(n);
    }
  }

  // Reads one response; without Content-Length, reads until the server closes.
  HttpReply readReply(bool head = false) {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) throw std::runtime_error("connection closed before the headers ended");
    HttpReply reply;
    std::string head_text = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    size_t line_end = head_text.find("\r\n");
    reply.status_line = head_text.substr(0, line_end);
    reply.status = std::stoi(reply.status_line.substr(9, 3));
    size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
    while (pos < head_text.size()) {
      size_t eol = head_text.find("\r\n", pos);
      if (eol == std::string::npos) eol = head_text.size();
      std::string line = head_text.substr(pos, eol - pos);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
      size_t v = line.find_first_not_of(' ', colon + 1);
      reply.headers.emplace(name, v == std::string::npos ? "" : line.substr(v));
      pos = eol + 2;
    }
    auto length = reply.header("content-length");
    if (head) return reply;
    if (length) {
      size_t want = std::stoul(*length);
      while (buffer_.size() < want)
        if (!fill()) throw std::runtime_error("connection closed inside the body");
      reply.body = buffer_.substr(0, want);
      buffer_.erase(0, want);
    } else {
      while (fill()) {
      }
      reply.body = std::move(buffer_);
      buffer_.clear();
    }
    return reply;
  }

  // True when the server has closed the connection (within timeout_ms).
  bool closedByServer(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char c;
    return recv(fd_, &c, 1, MSG_PEEK) == 0;
  }

 private:
  bool fill() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) throw std::runtime_error("no answer within 5 s");
    char chunk[4096];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace dualsp::web::test
