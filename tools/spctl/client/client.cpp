#include "tools/spctl/client/client.hpp"

#include <nlohmann/json.hpp>
#include <thread>

namespace dualsp::spctl {

namespace {

constexpr const char* kSessions = "/redfish/v1/SessionService/Sessions";

bool isChange(const std::string& method) {
  return method == "POST" || method == "PATCH" || method == "PUT" || method == "DELETE";
}

RequestKind kindOf(const std::string& method, bool keyed) {
  return RequestKind{
      .idempotent = method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE",
      .keyed = keyed};
}

}  // namespace

std::string newIdempotencyKey() {
  std::random_device device;
  std::string out;
  static const char* digits = "0123456789abcdef";
  for (int i = 0; i < 4; ++i) {
    uint32_t word = device();
    for (int j = 0; j < 8; ++j, word >>= 4) out += digits[word & 15];
  }
  return out;
}

Outcome outcomeOf(const HttpResponse& response) {
  Outcome o;
  o.kind = response.kind;
  o.status = response.status;
  if (response.kind != Outcome::Kind::Answered) return o;
  if (std::string after = response.header("retry-after"); !after.empty())
    o.retry_after = parseRetryAfter(after);
  o.outcome_unknown =
      response.status == 500 && (response.body.find("may have been applied") != std::string::npos ||
                                 response.body.find("OperationTimeout") != std::string::npos);
  return o;
}

Client::Client(ClientOptions options, CredentialSource credentials)
    : options_(std::move(options)),
      credentials_(std::move(credentials)),
      random_(std::random_device{}()) {
  transport_ = [tls = options_.tls](const HttpRequest& r) { return perform(r, tls); };
}

std::string Client::url(const std::string& path) const {
  return options_.scheme + "://" + options_.address + path;
}

void Client::note(const std::string& text) const {
  if (options_.log) options_.log(text);
}

Result Client::send(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& key, bool with_session,
                    std::chrono::steady_clock::time_point deadline) {
  Result result;
  result.key = key;
  const RequestKind kind = kindOf(method, !key.empty());
  bool logged_in_again = false;
  for (int attempt = 1;; ++attempt) {
    const auto now = std::chrono::steady_clock::now();
    const Millis remaining = std::chrono::duration_cast<Millis>(deadline - now);
    HttpRequest request;
    request.method = method;
    request.url = url(path);
    request.body = body;
    request.timeout = std::max(Millis{1}, std::min(options_.attempt_timeout, remaining));
    request.connect_timeout = std::min(Millis{2000}, request.timeout);
    request.headers.emplace_back("Accept", "application/json");
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    if (with_session && !token_.empty()) request.headers.emplace_back("X-Auth-Token", token_);
    if (!key.empty()) request.headers.emplace_back("Idempotency-Key", key);
    result.response = transport_(request);
    result.attempts = attempt;
    const HttpResponse& r = result.response;
    if (r.kind == Outcome::Kind::Answered && r.status == 401 && with_session && token_from_cache_ &&
        !logged_in_again) {
      // The cached session ended (expired, or the array restarted its sessions): once more
      // with a new one.
      note("the cached session was refused (401): logging in again");
      if (cache_) cache_->remove();
      token_.clear();
      token_from_cache_ = false;
      logged_in_again = true;
      if (!login(deadline).empty()) return login_failure_ ? *login_failure_ : result;
      --attempt;
      continue;
    }
    const Decision d =
        decide(outcomeOf(r), kind, attempt,
               std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now()),
               std::uniform_real_distribution<double>(0, 1)(random_), options_.retry);
    if (!d.retry) {
      if (r.kind != Outcome::Kind::Answered || r.status >= 500 || r.status == 409)
        if (!d.why.empty()) note(method + " " + path + ": not retried (" + d.why + ")");
      break;
    }
    note(method + " " + path + ": attempt " + std::to_string(attempt) + " " +
         (r.kind == Outcome::Kind::Answered ? std::to_string(r.status) : r.error) + "; retry (" +
         d.why + ") in " + std::to_string(d.wait.count()) + " ms" +
         (key.empty() ? "" : " with the same Idempotency-Key"));
    std::this_thread::sleep_for(d.wait);
  }
  result.replayed = result.response.header("idempotent-replayed") == "true";
  if (result.replayed)
    note(method + " " + path +
         ": the array returned the first result of this change "
         "(Idempotent-Replayed, key " +
         key + "): it was made once");
  return result;
}

std::string Client::login(std::chrono::steady_clock::time_point deadline) {
  login_failure_.reset();
  std::string error;
  std::optional<Credentials> c = credentials_ ? credentials_(error) : std::nullopt;
  if (!c) return error.empty() ? "no credentials" : error;
  const std::string body = nlohmann::json{
      {"UserName", c->user.empty() ? "admin" : c->user},
      {"Password",
       c->password}}.dump();
  // A login repeated makes at most one more session (which expires): it may be retried.
  Result r = send("POST", kSessions, body, {}, false, deadline);
  if (!r.answered() || r.response.status != 201 || r.response.header("x-auth-token").empty()) {
    login_failure_ = r;
    return r.answered() ? "login refused (" + std::to_string(r.response.status) + ")"
                        : "login: " + r.response.error;
  }
  token_ = r.response.header("x-auth-token");
  session_ = r.response.header("location");
  token_from_cache_ = false;
  if (cache_) {
    if (std::string why = cache_->store({token_, session_}); !why.empty())
      note("session not cached: " + why);
  }
  return {};
}

std::string Client::ensureSession() {
  if (!token_.empty()) return {};
  if (!cache_ && !options_.cache_directory.empty()) {
    cache_.emplace(options_.cache_directory, options_.address, options_.user);
    std::string warning;
    if (auto entry = cache_->load(warning)) {
      token_ = entry->token;
      session_ = entry->session;
      token_from_cache_ = true;
      return {};
    }
    if (!warning.empty()) note(warning);
  }
  return login(std::chrono::steady_clock::now() + options_.deadline);
}

Result Client::request(const std::string& method, const std::string& path, const std::string& body,
                       std::string key) {
  if (isChange(method) && key.empty()) key = newIdempotencyKey();
  if (!isChange(method)) key.clear();
  const auto deadline = std::chrono::steady_clock::now() + options_.deadline;
  if (std::string why = ensureSession(); !why.empty()) {
    if (login_failure_) return *login_failure_;
    Result r;
    r.response.kind = Outcome::Kind::Answered;
    r.response.status = 401;
    r.response.error = why;
    return r;
  }
  return send(method, path, body, key, true, deadline);
}

Result Client::anonymous(const std::string& path) {
  return send("GET", path, {}, {}, false, std::chrono::steady_clock::now() + options_.deadline);
}

Result Client::logout() {
  Result r;
  if (std::string why = ensureSession(); !why.empty()) {
    r.response.status = 401;
    r.response.error = why;
    return r;
  }
  if (!session_.empty()) {
    std::string path = session_;
    if (size_t at = path.find("/redfish/"); at != std::string::npos) path = path.substr(at);
    r = send("DELETE", path, {}, {}, true, std::chrono::steady_clock::now() + options_.deadline);
  }
  if (cache_) cache_->remove();
  token_.clear();
  return r;
}

}  // namespace dualsp::spctl
