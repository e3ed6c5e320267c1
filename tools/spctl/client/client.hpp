#pragma once
// spctl's client of the array (docs/SPCTL.md): a Redfish session (token cached per user),
// and every request retried through a failover within one deadline: requests that may be
// repeated (GET, PUT, DELETE) and changes that carry an Idempotency-Key, which the array
// makes at most once (docs/WEB.md "Idempotent retries"). Tests use it too.

#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <string>

#include "tools/spctl/client/http.hpp"
#include "tools/spctl/client/retry.hpp"
#include "tools/spctl/client/secrets.hpp"

namespace dualsp::spctl {

struct ClientOptions {
  std::string address;  // host or host:port of the management address
  std::string scheme = "https";
  TlsOptions tls;
  Millis deadline{60000};  // for one request, all its retries included
  Millis attempt_timeout{10000};
  RetryPolicy retry;
  std::string user = "admin";   // whose token the cache holds (the password is asked later)
  std::string cache_directory;  // "" = no token cache
  std::function<void(const std::string&)> log;  // -v: each retry and why (may be empty)
};

struct Result {
  HttpResponse response;  // the last attempt's
  int attempts = 0;
  bool replayed = false;  // Idempotent-Replayed: the array returned the first result
  std::string key;        // the Idempotency-Key sent ("" for none)
  bool answered() const { return response.kind == Outcome::Kind::Answered; }
};

// A fresh key: 128 random bits in hex.
std::string newIdempotencyKey();

// The outcome of an attempt for the retry decision.
Outcome outcomeOf(const HttpResponse& response);

class Client {
 public:
  using CredentialSource = std::function<std::optional<Credentials>(std::string& error)>;
  using Transport = std::function<HttpResponse(const HttpRequest&)>;

  Client(ClientOptions options, CredentialSource credentials);

  // method + path (from /redfish/...), body as JSON text ("" for none). A change (POST,
  // PATCH, PUT, DELETE) gets `key` as its Idempotency-Key, a fresh one when empty.
  Result request(const std::string& method, const std::string& path, const std::string& body = {},
                 std::string key = {});
  // No session: the service root and other NoAuth resources.
  Result anonymous(const std::string& path);
  // Logs in (POST Sessions) unless a token is cached. Empty on success, else why.
  std::string ensureSession();
  // Deletes the session on the array and the cached token.
  Result logout();

  std::string url(const std::string& path) const;
  // The session's token (after ensureSession or a request), for a stream of its own.
  const std::string& token() const { return token_; }
  const ClientOptions& options() const { return options_; }
  void setTransport(Transport transport) { transport_ = std::move(transport); }
  // The login's failure, when request() could not log in (an Answered 401/403 or a refusal).
  const std::optional<Result>& loginFailure() const { return login_failure_; }

 private:
  Result send(const std::string& method, const std::string& path, const std::string& body,
              const std::string& key, bool with_session,
              std::chrono::steady_clock::time_point deadline);
  std::string login(std::chrono::steady_clock::time_point deadline);
  void note(const std::string& text) const;

  ClientOptions options_;
  CredentialSource credentials_;
  Transport transport_;
  std::optional<TokenCache> cache_;
  std::string token_;
  std::string session_;
  bool token_from_cache_ = false;
  std::optional<Result> login_failure_;
  std::mt19937_64 random_;
};

}  // namespace dualsp::spctl
