#include "sp/account_service.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ipc/sp_id_proto.hpp"
#include "platform/log.hpp"
#include "sp/config_core.hpp"
#include "sp/events.hpp"
#include "sp/idempotency.hpp"

namespace dualsp::sp {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kAccountPrefix = "accounts/";
constexpr const char* kSessionPrefix = "sessions/";
constexpr const char* kPolicyKey = "account_service/policy";
// Written with the first account: from then on the provisioned first administrator is gone
// for good, even if every account were removed.
constexpr const char* kProvisionedKey = "account_service/provisioned";
constexpr const char* kAccountsUri = "/redfish/v1/AccountService/Accounts/";
constexpr const char* kSessionsUri = "/redfish/v1/SessionService/Sessions";
// A verified Basic login is remembered this long, so a script's every request does not pay
// for Argon2id.
constexpr std::chrono::seconds kCacheLifetime{60};
constexpr size_t kMaxCacheEntries = 256;
constexpr size_t kMaxTrackedSources = 1024;
constexpr size_t kMaxWaitingJobs = 16;
// Failed-login events per minute; beyond that only the log has them (a flood from many
// addresses must not fill the replicated event log).
constexpr int kMaxFailureEventsPerMinute = 30;
// The peer-only commands that keep both SPs' failure counts together.
constexpr const char* kPeerLoginFailure = "AccountLoginFailure";
constexpr const char* kPeerLockoutReset = "AccountLockoutReset";

proto::CommandResult failure(proto::CommandResult::Status status, const std::string& text,
                             std::string_view message_key = {}) {
  proto::CommandResult r = errorResult(status, text);
  if (!message_key.empty()) r.set_message_key(std::string(message_key));
  return r;
}

std::string hexOf(const unsigned char* data, size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, size);
  out.resize(size * 2);
  return out;
}

std::string tokenHash(const std::string& token) {
  unsigned char h[crypto_generichash_BYTES];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return hexOf(h, sizeof h);
}

std::string arg(const proto::Command& c, const std::string& name) {
  auto it = c.args().find(name);
  return it == c.args().end() ? "" : it->second;
}

bool parseBasic(const std::string& header, std::string& user, std::string& password) {
  constexpr std::string_view kScheme = "Basic ";
  if (header.size() <= kScheme.size() || strncasecmp(header.c_str(), "Basic ", 6) != 0)
    return false;
  std::string b64 = header.substr(kScheme.size());
  std::string decoded(b64.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                        b64.c_str(), b64.size(), " ", &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0)
    return false;
  decoded.resize(len);
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  user = decoded.substr(0, colon);
  password = decoded.substr(colon + 1);
  sodium_memzero(decoded.data(), decoded.size());
  return !user.empty();
}

std::string callerText(const proto::Command& c) {
  std::string who = c.caller().user().empty() ? "(unknown)" : c.caller().user();
  return who + (c.caller().origin().empty() ? "" : " (" + c.caller().origin() + ")");
}

bool isAdministrator(const proto::Command& c) {
  return c.caller().role() == kAdministrator;
}

}  // namespace

// ---- Passwords ----

std::string hashPassword(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kPasswordOpsLimit,
                            kPasswordMemLimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("cannot hash a password: out of memory");
  return out;
}

bool verifyPassword(const std::string& hash, std::string_view password) {
  if (!looksLikePasswordHash(hash)) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool looksLikePasswordHash(std::string_view text) {
  return text.rfind("$argon2id$", 0) == 0 && text.size() < crypto_pwhash_STRBYTES;
}

bool isRole(std::string_view role) {
  return role == kAdministrator || role == kOperator || role == kReadOnly;
}

bool validUserName(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!letter(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return letter(c) || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

std::string readInitialPasswordHash(const std::string& file) {
  struct stat st {};
  if (lstat(file.c_str(), &st) != 0) {
    if (errno == ENOENT) return "";
    throw std::runtime_error(file + ": " + strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) throw std::runtime_error(file + ": not a regular file");
  if ((st.st_mode & 077) != 0)
    throw std::runtime_error(file + ": readable by others (mode " +
                             std::to_string((st.st_mode >> 6) & 7) +
                             std::to_string((st.st_mode >> 3) & 7) +
                             std::to_string(st.st_mode & 7) + "); it must be 0600");
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) throw std::runtime_error(file + ": cannot be read");
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (!looksLikePasswordHash(line))
    throw std::runtime_error(file +
                             ": does not hold a password hash (make one with spd --hash-password)");
  return line;
}

// ---- The service ----

AccountService::AccountService(AccountSettings settings, std::string initial_hash,
                               Dependencies deps)
    : settings_(std::move(settings)),
      initial_hash_(std::move(initial_hash)),
      deps_(std::move(deps)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot start: no entropy source");
  randombytes_buf(cache_key_, sizeof cache_key_);
}

AccountService::~AccountService() {
  stop();
  sodium_memzero(cache_key_, sizeof cache_key_);
}

void AccountService::start() {
  std::lock_guard lock(worker_mu_);
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] { workerLoop(); });
}

void AccountService::stop() {
  {
    std::lock_guard lock(worker_mu_);
    stopping_ = true;
  }
  worker_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

bool AccountService::post(std::function<void()> job) {
  {
    std::lock_guard lock(worker_mu_);
    if (stopping_ || jobs_.size() >= kMaxWaitingJobs) return false;
    jobs_.push_back(std::move(job));
  }
  worker_cv_.notify_one();
  return true;
}

void AccountService::workerLoop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(worker_mu_);
      worker_cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_ && jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      LOG_ERROR << "accounts: " << e.what();
    }
  }
}

void AccountService::registerCommands(CommandRegistry& clients, PeerCommandRegistry* peers) {
  auto bind = [this](void (AccountService::*fn)(const proto::Command&, Reply)) {
    return [this, fn](const proto::Command& c, Reply r) { (this->*fn)(c, std::move(r)); };
  };
  // Degraded mode needs them too: its rescue subset is for authenticated users only.
  clients.add({"Authenticate", bind(&AccountService::authenticate), true, Privilege::Login, false});
  clients.add(
      {"CreateSession", bind(&AccountService::createSession), true, Privilege::Login, true});
  clients.add(
      {"DeleteSession", bind(&AccountService::deleteSession), true, Privilege::Login, true});
  clients.add({"GetAccounts", bind(&AccountService::getAccounts), true, Privilege::Login, false});
  clients.add({"AccountWrite", bind(&AccountService::accountWrite), false,
               Privilege::ConfigureUsers, true});
  if (peers) {
    peers->add(kPeerLoginFailure, bind(&AccountService::peerLoginFailure));
    peers->add(kPeerLockoutReset, bind(&AccountService::peerLockoutReset));
  }
}

// ---- What the store holds ----

std::vector<AccountService::Account> AccountService::accounts() const {
  std::vector<Account> out;
  for (const ConfigRecord& r : deps_.list(kAccountPrefix)) {
    if (r.deleted()) continue;
    json v = json::parse(r.value(), nullptr, false);
    if (!v.is_object()) {
      LOG_WARNING << "accounts: record " << r.key() << " is not JSON; ignored";
      continue;
    }
    Account a;
    a.user = r.key().substr(std::string_view(kAccountPrefix).size());
    a.role = v.value("RoleId", std::string(kReadOnly));
    a.hash = v.value("PasswordHash", std::string());
    a.enabled = v.value("Enabled", true);
    a.password_change_required = v.value("PasswordChangeRequired", false);
    out.push_back(std::move(a));
  }
  if (out.empty() && !initial_hash_.empty()) {
    bool provisioned = false;
    for (const ConfigRecord& r : deps_.list(kProvisionedKey))
      if (!r.deleted()) provisioned = true;
    if (!provisioned)
      out.push_back(
          {settings_.initial_admin, std::string(kAdministrator), initial_hash_, true, true, true});
  }
  return out;
}

std::optional<AccountService::Account> AccountService::account(const std::string& user) const {
  for (Account& a : accounts())
    if (a.user == user) return std::move(a);
  return std::nullopt;
}

std::vector<AccountService::Session> AccountService::sessions() const {
  std::vector<Session> out;
  for (const ConfigRecord& r : deps_.list(kSessionPrefix)) {
    if (r.deleted()) continue;
    json v = json::parse(r.value(), nullptr, false);
    if (!v.is_object()) continue;
    Session s;
    s.id = r.key().substr(std::string_view(kSessionPrefix).size());
    s.user = v.value("UserName", std::string());
    s.token_hash = v.value("TokenHash", std::string());
    s.created_ms = v.value("CreatedMs", int64_t{0});
    s.origin = v.value("Origin", std::string());
    out.push_back(std::move(s));
  }
  return out;
}

AccountPolicy AccountService::policy() const {
  AccountPolicy p;
  for (const ConfigRecord& r : deps_.list(kPolicyKey)) {
    if (r.deleted() || r.key() != kPolicyKey) continue;
    json v = json::parse(r.value(), nullptr, false);
    if (!v.is_object()) continue;
    p.lockout_threshold = v.value("AccountLockoutThreshold", p.lockout_threshold);
    p.lockout_duration_s = v.value("AccountLockoutDuration", p.lockout_duration_s);
    p.lockout_reset_after_s = v.value("AccountLockoutCounterResetAfter", p.lockout_reset_after_s);
    p.session_timeout_s = v.value("SessionTimeout", p.session_timeout_s);
  }
  return p;
}

// Idle time is kept per SP: after a failover the survivor starts a session's idle clock
// afresh at its first use there (docs/SECURITY.md).
bool AccountService::sessionExpired(const Session& s, const AccountPolicy& p,
                                    Clock::time_point now) {
  if (deps_.wall_ms() - s.created_ms > int64_t{AccountPolicy::kAbsoluteSessionLifetimeS} * 1000)
    return true;
  std::lock_guard lock(mu_);
  auto it = last_used_.find(s.id);
  return it != last_used_.end() && now - it->second > std::chrono::seconds(p.session_timeout_s);
}

// ---- Logins ----

bool AccountService::sourceLimited(const std::string& source, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = sources_.find(source);
  if (it == sources_.end()) return false;
  if (now - it->second.window_start > std::chrono::minutes(1)) {
    sources_.erase(it);
    return false;
  }
  return it->second.failures >= AccountPolicy::kFailuresPerSourcePerMinute;
}

void AccountService::recordFailure(const std::string& user, const std::string& source,
                                   bool known_user) {
  const Clock::time_point now = deps_.now();
  const AccountPolicy p = policy();
  std::vector<proto::Event> events;
  {
    std::lock_guard lock(mu_);
    if (now - events_minute_ > std::chrono::minutes(1)) {
      events_minute_ = now;
      events_this_minute_ = 0;
    }
    bool may_event = events_this_minute_ < kMaxFailureEventsPerMinute;
    if (sources_.size() >= kMaxTrackedSources && !sources_.count(source)) {
      // Forget the oldest window: a flood of addresses must not grow this without bound.
      auto oldest = std::min_element(sources_.begin(), sources_.end(), [](auto& a, auto& b) {
        return a.second.window_start < b.second.window_start;
      });
      sources_.erase(oldest);
    }
    SourceFailures& s = sources_[source];
    if (s.failures == 0 || now - s.window_start > std::chrono::minutes(1))
      s = SourceFailures{now, 0, false};
    ++s.failures;
    LOG_WARNING << "login failed for '" << user << "' from " << source;
    if (may_event) {
      ++events_this_minute_;
      events.push_back(makeEvent(message::kInvalidCredentials, {user, "Redfish from " + source},
                                 "/redfish/v1/AccountService", "Warning", deps_.self));
    }
    if (s.failures >= AccountPolicy::kFailuresPerSourcePerMinute && !s.reported) {
      s.reported = true;
      LOG_WARNING << "logins from " << source << " refused for a minute after " << s.failures
                  << " failures";
      events.push_back(makeEvent(message::kInvalidCredentials, {user, "Redfish from " + source},
                                 "/redfish/v1/AccountService", "Critical", deps_.self,
                                 "(" + std::to_string(s.failures) +
                                     " failures within a minute: logins from " + source +
                                     " refused for the rest of it)"));
    }
    if (known_user && countFailure(user, p, now)) {
      LOG_WARNING << "account '" << user << "' locked for " << p.lockout_duration_s << " s after "
                  << lockouts_[user].failures << " failed logins (the last from " << source << ")";
      events.push_back(makeEvent(message::kAccountLocked, {user}, kAccountsUri + user, "Critical",
                                 deps_.self, "(the last attempt from " + source + ")"));
    }
  }
  if (known_user) tellPeer(kPeerLoginFailure, user);
  for (auto& e : events) deps_.record_event(std::move(e));
}

bool AccountService::countFailure(const std::string& user, const AccountPolicy& p,
                                  Clock::time_point now) {
  if (p.lockout_threshold <= 0) return false;
  Lockout& l = lockouts_[user];
  if (now - l.last_failure > std::chrono::seconds(p.lockout_reset_after_s)) l.failures = 0;
  l.last_failure = now;
  if (++l.failures < p.lockout_threshold || l.locked_until > now) return false;
  l.locked_until = now + std::chrono::seconds(p.lockout_duration_s);
  return true;
}

void AccountService::tellPeer(const char* name, const std::string& user) const {
  if (!deps_.tell_peer) return;
  proto::Command c;
  c.set_name(name);
  c.set_forwarded(true);
  (*c.mutable_args())["user"] = user;
  c.mutable_caller()->set_origin(std::string("peer ").append(spName(deps_.self)));
  deps_.tell_peer(std::move(c));
}

void AccountService::peerLoginFailure(const proto::Command& command, Reply reply) {
  auto it = command.args().find("user");
  if (it == command.args().end() || !validUserName(it->second))
    return reply(errorResult(proto::CommandResult::BAD_REQUEST, "no valid user"));
  const std::string& user = it->second;
  if (account(user)) {
    const AccountPolicy p = policy();
    std::lock_guard lock(mu_);
    if (countFailure(user, p, deps_.now()))
      LOG_WARNING << "account '" << user << "' locked for " << p.lockout_duration_s << " s after "
                  << lockouts_[user].failures << " failed logins (the last on the peer SP)";
  }
  reply(proto::CommandResult{});
}

void AccountService::peerLockoutReset(const proto::Command& command, Reply reply) {
  auto it = command.args().find("user");
  if (it == command.args().end() || !validUserName(it->second))
    return reply(errorResult(proto::CommandResult::BAD_REQUEST, "no valid user"));
  std::lock_guard lock(mu_);
  if (lockouts_.erase(it->second))
    LOG_INFO << "account '" << it->second << "': failed logins forgotten (a login or an unlock"
             << " on the peer SP)";
  reply(proto::CommandResult{});
}

AccountService::Verdict AccountService::checkPassword(const std::string& user,
                                                      const std::string& password,
                                                      const std::string& source,
                                                      std::optional<Account>& out) {
  const Clock::time_point now = deps_.now();
  if (sourceLimited(source, now)) return Verdict::Limited;
  out = account(user);
  if (!out) {
    // The same work as for a real account: the answer's time tells nothing.
    static const std::string dummy = hashPassword("not a password of anybody's");
    verifyPassword(dummy, password);
    recordFailure(user, source, false);
    return Verdict::Bad;
  }
  {
    std::lock_guard lock(mu_);
    auto it = lockouts_.find(user);
    if (it != lockouts_.end() && it->second.locked_until > now) {
      LOG_WARNING << "login for locked account '" << user << "' from " << source << " refused";
      return Verdict::Locked;
    }
  }
  if (!verifyPassword(out->hash, password)) {
    recordFailure(user, source, true);
    return Verdict::Bad;
  }
  if (!out->enabled) {
    LOG_WARNING << "login for disabled account '" << user << "' from " << source << " refused";
    return Verdict::Bad;
  }
  forgetFailures(user);
  return Verdict::Ok;
}

void AccountService::forgetFailures(const std::string& user) {
  bool had_failures = false;
  {
    std::lock_guard lock(mu_);
    had_failures = lockouts_.erase(user) > 0;
  }
  if (had_failures) tellPeer(kPeerLockoutReset, user);
}

std::optional<AccountService::Account> AccountService::cachedLogin(const std::string& key,
                                                                   Clock::time_point now) const {
  std::string user, hash;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it == cache_.end() || it->second.expires <= now) return std::nullopt;
    user = it->second.user;
    hash = it->second.hash;
    auto l = lockouts_.find(user);
    if (l != lockouts_.end() && l->second.locked_until > now) return std::nullopt;
  }
  std::optional<Account> a = account(user);
  if (!a || !a->enabled || a->hash != hash) return std::nullopt;
  return a;
}

std::string AccountService::cacheKey(const std::string& user, const std::string& password) const {
  std::string material = user + '\0' + password;
  unsigned char h[crypto_generichash_BYTES];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(material.data()),
                     material.size(), cache_key_, sizeof cache_key_);
  sodium_memzero(material.data(), material.size());
  return hexOf(h, sizeof h);
}

void AccountService::identityReply(const Account& a, const std::string& session_id,
                                   Reply& reply) const {
  json id = {{"user", a.user},
             {"role", a.role},
             {"session", session_id},
             {"password_change_required", a.password_change_required}};
  reply(okResult(id.dump()));
}

void AccountService::authenticate(const proto::Command& command, Reply reply) {
  const std::string source = arg(command, "source");
  const std::string token = arg(command, "token");
  const Clock::time_point now = deps_.now();
  if (!token.empty()) {
    const std::string hash = tokenHash(token);
    const AccountPolicy p = policy();
    for (const Session& s : sessions()) {
      if (s.token_hash.size() != hash.size() ||
          sodium_memcmp(s.token_hash.data(), hash.data(), hash.size()) != 0)
        continue;
      if (sessionExpired(s, p, now))
        return reply(failure(proto::CommandResult::UNAUTHORIZED, "session expired"));
      std::optional<Account> a = account(s.user);
      if (!a || !a->enabled)
        return reply(failure(proto::CommandResult::UNAUTHORIZED,
                             "the session's account is gone or disabled"));
      {
        std::lock_guard lock(mu_);
        last_used_[s.id] = now;
      }
      return identityReply(*a, s.id, reply);
    }
    return reply(failure(proto::CommandResult::UNAUTHORIZED, "no such session"));
  }
  std::string user, password;
  if (!parseBasic(arg(command, "authorization"), user, password))
    return reply(failure(proto::CommandResult::UNAUTHORIZED, "no credentials"));
  if (sourceLimited(source, now))
    return reply(
        failure(proto::CommandResult::TOO_MANY_REQUESTS, "too many failed logins from " + source));
  const std::string key = cacheKey(user, password);
  if (std::optional<Account> a = cachedLogin(key, now)) {
    sodium_memzero(password.data(), password.size());
    forgetFailures(a->user);  // a login like any other: the failures before it no longer count
    return identityReply(*a, "", reply);
  }
  // One Argon2id per credentials at a time: a client's parallel first requests (a browser, a
  // script's pool) all miss the cache at once, and each verification would take a place in
  // the worker's queue (kMaxWaitingJobs) and ~60 ms of it. The later ones wait for the first's
  // verdict (its source counts a failure once).
  {
    std::lock_guard lock(mu_);
    auto [waiting, first] = verifying_.try_emplace(key);
    waiting->second.push_back(std::move(reply));
    if (!first) {
      sodium_memzero(password.data(), password.size());
      return;
    }
  }
  Reply everyone = [this, key](proto::CommandResult result) {
    std::vector<Reply> waiting;
    {
      std::lock_guard lock(mu_);
      auto it = verifying_.find(key);
      if (it == verifying_.end()) return;
      waiting = std::move(it->second);
      verifying_.erase(it);
    }
    for (Reply& r : waiting) r(result);
  };
  verifyOnWorker(std::move(user), std::move(password), std::move(source), std::move(everyone),
                 [this, key](const Account& a, Reply& reply) {
                   {
                     std::lock_guard lock(mu_);
                     if (cache_.size() >= kMaxCacheEntries) cache_.clear();
                     cache_[key] = CachedLogin{a.user, a.hash, deps_.now() + kCacheLifetime};
                   }
                   identityReply(a, "", reply);
                 });
}

void AccountService::verifyOnWorker(std::string user, std::string password, std::string source,
                                    Reply reply, VerifiedThen then) {
  bool queued = post([this, user, password, source, reply, then]() mutable {
    std::optional<Account> a;
    Verdict v = checkPassword(user, password, source, a);
    sodium_memzero(password.data(), password.size());
    if (v == Verdict::Limited)
      return reply(failure(proto::CommandResult::TOO_MANY_REQUESTS,
                           "too many failed logins from " + source));
    if (v != Verdict::Ok)
      return reply(failure(proto::CommandResult::UNAUTHORIZED, "bad credentials"));
    then(*a, reply);
  });
  if (!queued) reply(failure(proto::CommandResult::UNAVAILABLE, "too many logins at once; retry"));
}

// ---- Sessions ----

proto::Command AccountService::writeCommand(const proto::Command& from, proto::ConfigWrite change,
                                            bool keyed) const {
  proto::Command c;
  c.set_name("ConfigWrite");
  c.set_target(proto::SP_UNKNOWN);
  *c.mutable_caller() = from.caller();
  // Only this service writes accounts/ and sessions/ (ConfigService refuses it to others).
  (*c.mutable_args())["private"] = "1";
  if (keyed && from.args().count(idempotency::kArgId)) {
    // The client's Idempotency-Key: recorded by the change itself (sp/idempotency.hpp).
    idempotency::passOn(from, c);
    if (arg(from, "op") == "create")
      (*c.mutable_args())[idempotency::kArgCreated] = arg(from, "user");
  }
  c.set_payload(change.SerializeAsString());
  return c;
}

void AccountService::createSession(const proto::Command& command, Reply reply) {
  std::string user = arg(command, "user");
  std::string password = arg(command, "password");
  std::string source = arg(command, "source");
  proto::Command from = command;
  from.mutable_args()->erase("password");
  verifyOnWorker(
      std::move(user), std::move(password), source, std::move(reply),
      [this, source, from](const Account& who, Reply& reply) {
        const Clock::time_point now = deps_.now();
        const AccountPolicy p = policy();
        // Expired sessions (and those of removed accounts) go first, in a change of their own: a
        // change that creates a record carries nothing else.
        proto::ConfigWrite expired;
        size_t live = 0;
        for (const Session& s : sessions()) {
          if (sessionExpired(s, p, now) || !account(s.user)) {
            proto::ConfigRecord* r = expired.add_records();
            r->set_key(kSessionPrefix + s.id);
            r->set_deleted(true);
          } else {
            ++live;
          }
        }
        if (expired.records_size() > 0) {
          std::lock_guard lock(mu_);
          for (const auto& r : expired.records())
            last_used_.erase(r.key().substr(std::string_view(kSessionPrefix).size()));
        }
        if (live >= AccountPolicy::kMaxSessions)
          return reply(failure(proto::CommandResult::UNAVAILABLE,
                               "the array holds its maximum of " +
                                   std::to_string(AccountPolicy::kMaxSessions) + " sessions",
                               "SessionLimitExceeded"));
        unsigned char raw[32];
        randombytes_buf(raw, sizeof raw);
        std::string token = hexOf(raw, sizeof raw);
        sodium_memzero(raw, sizeof raw);
        json record = {{"UserName", who.user},
                       {"TokenHash", tokenHash(token)},
                       {"CreatedMs", deps_.wall_ms()},
                       {"Origin", source}};
        proto::ConfigWrite change;
        change.add_records()->set_value(record.dump());
        change.set_create_prefix(kSessionPrefix);
        *change.mutable_event() =
            makeEvent(message::kSuccessfulLogin, {who.user, source, "Redfish"}, kSessionsUri, "OK",
                      deps_.self);
        if (expired.records_size() > 0)
          deps_.write(writeCommand(from, std::move(expired), /*keyed=*/false),
                      [](proto::CommandResult result) {
                        if (result.status() != proto::CommandResult::OK)
                          LOG_WARNING << "accounts: expired sessions not removed: "
                                      << result.error();
                      });
        deps_.write(writeCommand(from, std::move(change)),
                    [this, who, token, reply](proto::CommandResult result) mutable {
                      if (result.status() != proto::CommandResult::OK)
                        return reply(std::move(result));
                      proto::ConfigWriteAnswer answer;
                      if (!answer.ParseFromString(result.payload()) || answer.keys().empty())
                        return reply(failure(proto::CommandResult::INTERNAL,
                                             "the session write answered no key"));
                      std::string id =
                          answer.keys(0).substr(std::string_view(kSessionPrefix).size());
                      {
                        std::lock_guard lock(mu_);
                        last_used_[id] = deps_.now();
                      }
                      LOG_NOTICE << "session " << id << " opened for '" << who.user << "'";
                      json out = {{"id", id},
                                  {"token", token},
                                  {"user", who.user},
                                  {"role", who.role},
                                  {"password_change_required", who.password_change_required}};
                      sodium_memzero(token.data(), token.size());
                      reply(okResult(out.dump()));
                    });
      });
}

void AccountService::deleteSession(const proto::Command& command, Reply reply) {
  const std::string id = arg(command, "id");
  for (const Session& s : sessions()) {
    if (s.id != id) continue;
    if (!isAdministrator(command) && s.user != command.caller().user())
      return reply(failure(proto::CommandResult::FORBIDDEN, "not your session"));
    proto::ConfigWrite change;
    proto::ConfigRecord* r = change.add_records();
    r->set_key(kSessionPrefix + id);
    r->set_deleted(true);
    *change.mutable_event() =
        makeEvent(message::kRemoved, {}, kSessionsUri + ("/" + id), "OK", deps_.self,
                  "session " + id + " of '" + s.user + "' closed by " + callerText(command));
    {
      std::lock_guard lock(mu_);
      last_used_.erase(id);
    }
    return deps_.write(writeCommand(command, std::move(change)), std::move(reply));
  }
  reply(failure(proto::CommandResult::NOT_FOUND, "no session " + id));
}

void AccountService::getAccounts(const proto::Command&, Reply reply) {
  const Clock::time_point now = deps_.now();
  const AccountPolicy p = policy();
  json out = {{"accounts", json::array()}, {"sessions", json::array()}};
  for (const Account& a : accounts()) {
    bool locked = false;
    {
      std::lock_guard lock(mu_);
      auto l = lockouts_.find(a.user);
      locked = l != lockouts_.end() && l->second.locked_until > now;
    }
    out["accounts"].push_back({{"UserName", a.user},
                               {"RoleId", a.role},
                               {"Enabled", a.enabled},
                               {"Locked", locked},
                               {"PasswordChangeRequired", a.password_change_required}});
  }
  for (const Session& s : sessions()) {
    if (sessionExpired(s, p, now)) continue;
    out["sessions"].push_back(
        {{"Id", s.id}, {"UserName", s.user}, {"CreatedMs", s.created_ms}, {"Origin", s.origin}});
  }
  out["policy"] = {{"AccountLockoutThreshold", p.lockout_threshold},
                   {"AccountLockoutDuration", p.lockout_duration_s},
                   {"AccountLockoutCounterResetAfter", p.lockout_reset_after_s},
                   {"SessionTimeout", p.session_timeout_s}};
  reply(okResult(out.dump()));
}

// ---- Changes to accounts ----

void AccountService::accountWrite(const proto::Command& command, Reply reply) {
  const std::string op = arg(command, "op");
  if (op == "policy") return writePolicy(command, std::move(reply));
  if (op != "create" && op != "patch" && op != "delete")
    return reply(failure(proto::CommandResult::BAD_REQUEST, "unknown account operation " + op));
  // Hashing is slow: on the worker, like logins.
  proto::Command copy = command;
  if (!post([this, copy, reply]() mutable { writeAccount(copy, std::move(reply)); }))
    reply(failure(proto::CommandResult::UNAVAILABLE, "too many account changes at once; retry"));
}

void AccountService::writeAccount(const proto::Command& command, Reply reply) {
  const std::string op = arg(command, "op");
  const std::string user = arg(command, "user");
  json body = json::parse(arg(command, "body"), nullptr, false);
  if (op != "delete" && !body.is_object())
    return reply(failure(proto::CommandResult::BAD_REQUEST, "the account change is not an object"));
  const bool admin = isAdministrator(command);
  const bool self = command.caller().user() == user;
  if (!admin && !(self && op == "patch"))
    return reply(failure(proto::CommandResult::FORBIDDEN, "only an administrator may do that"));

  std::vector<Account> all = accounts();
  auto it = std::find_if(all.begin(), all.end(), [&](const Account& a) { return a.user == user; });
  const bool exists = it != all.end();
  if (op == "create" && exists)
    return reply(failure(proto::CommandResult::BAD_REQUEST, "account " + user + " exists",
                         "ResourceAlreadyExists"));
  if (op != "create" && !exists)
    return reply(failure(proto::CommandResult::NOT_FOUND, "no account " + user));
  if (op == "create" && !validUserName(user))
    return reply(failure(proto::CommandResult::BAD_REQUEST, "invalid account name"));

  Account next = exists ? *it : Account{user, std::string(kReadOnly), "", true, false, false};
  std::vector<std::string> changes;
  std::string_view message = message::kChanged;
  std::vector<std::string> message_args;
  if (op == "create") {
    message = message::kAccountCreated;
    message_args = {user};
  } else if (op == "delete") {
    message = message::kAccountRemoved;
    message_args = {user};
  }
  if (op != "delete") {
    if (body.contains("RoleId")) {
      std::string role = body["RoleId"].is_string() ? body["RoleId"].get<std::string>() : "";
      if (!isRole(role)) return reply(failure(proto::CommandResult::BAD_REQUEST, "unknown role"));
      if (!admin && role != next.role)
        return reply(failure(proto::CommandResult::FORBIDDEN, "only an administrator sets roles"));
      if (op == "patch" && role != next.role) {
        changes.push_back("role " + next.role + " -> " + role);
        if (message == message::kChanged) {
          message = message::kRoleChanged;
          message_args = {user, next.role, role};
        }
      }
      next.role = role;
    }
    if (body.contains("Enabled")) {
      if (!body["Enabled"].is_boolean())
        return reply(failure(proto::CommandResult::BAD_REQUEST, "Enabled is not a boolean"));
      bool enabled = body["Enabled"].get<bool>();
      if (!admin && enabled != next.enabled)
        return reply(failure(proto::CommandResult::FORBIDDEN, "only an administrator does that"));
      if (op == "patch" && enabled != next.enabled) {
        changes.push_back(enabled ? "enabled" : "disabled");
        if (message == message::kChanged) {
          message = enabled ? message::kAccountEnabled : message::kAccountDisabled;
          message_args = {user};
        }
      }
      next.enabled = enabled;
    }
    if (body.contains("Locked")) {
      if (!body["Locked"].is_boolean() || body["Locked"].get<bool>())
        return reply(
            failure(proto::CommandResult::BAD_REQUEST, "Locked can only be set to false (unlock)"));
      if (!admin)
        return reply(failure(proto::CommandResult::FORBIDDEN, "only an administrator unlocks"));
      bool unlocked = false;
      {
        std::lock_guard lock(mu_);
        unlocked = lockouts_.erase(user) > 0;
      }
      if (unlocked) {
        LOG_NOTICE << "account '" << user << "' unlocked by " << callerText(command);
        changes.push_back("unlocked");
      }
      tellPeer(kPeerLockoutReset, user);  // the peer's count may be locking it there
    }
    if (body.contains("Password")) {
      if (!body["Password"].is_string())
        return reply(failure(proto::CommandResult::BAD_REQUEST, "Password is not a string"));
      std::string password = body["Password"].get<std::string>();
      if (password.size() < kMinPasswordLength || password.size() > kMaxPasswordLength)
        return reply(failure(proto::CommandResult::BAD_REQUEST,
                             "a password has " + std::to_string(kMinPasswordLength) + " to " +
                                 std::to_string(kMaxPasswordLength) + " characters",
                             "PasswordIncorrectLength"));
      if (exists && verifyPassword(next.hash, password))
        return reply(
            failure(proto::CommandResult::BAD_REQUEST, "the new password is the current one"));
      next.hash = hashPassword(password);
      sodium_memzero(password.data(), password.size());
      next.password_change_required = false;
      if (op == "patch") {
        changes.push_back("password changed");
        if (message == message::kChanged) {
          message = message::kPasswordModified;
          message_args = {user};
        }
      }
    } else if (op == "create") {
      return reply(failure(proto::CommandResult::BAD_REQUEST, "a new account needs a Password"));
    }
  }
  if (op == "patch" && changes.empty())
    return reply(failure(proto::CommandResult::BAD_REQUEST, "nothing to change"));

  // Never leave the array without an enabled administrator.
  bool admin_left = false;
  for (const Account& a : all)
    if (a.user != user && a.role == kAdministrator && a.enabled) admin_left = true;
  if (op != "delete" && next.role == kAdministrator && next.enabled) admin_left = true;
  if (!admin_left)
    return reply(failure(proto::CommandResult::BAD_REQUEST,
                         "that would leave the array without an enabled administrator"));

  proto::ConfigWrite change;
  // The first administrator becomes a record like any other with the first change.
  for (const Account& a : all) {
    if (!a.initial || a.user == user) continue;
    json v = {{"RoleId", a.role},
              {"PasswordHash", a.hash},
              {"Enabled", a.enabled},
              {"PasswordChangeRequired", a.password_change_required}};
    proto::ConfigRecord* r = change.add_records();
    r->set_key(kAccountPrefix + a.user);
    r->set_value(v.dump());
  }
  proto::ConfigRecord* r = change.add_records();
  r->set_key(kAccountPrefix + user);
  if (op == "delete") {
    r->set_deleted(true);
    for (const Session& s : sessions()) {
      if (s.user != user) continue;
      proto::ConfigRecord* gone = change.add_records();
      gone->set_key(kSessionPrefix + s.id);
      gone->set_deleted(true);
    }
  } else {
    json v = {{"RoleId", next.role},
              {"PasswordHash", next.hash},
              {"Enabled", next.enabled},
              {"PasswordChangeRequired", next.password_change_required}};
    r->set_value(v.dump());
  }
  proto::ConfigRecord* marker = change.add_records();
  marker->set_key(kProvisionedKey);
  marker->set_value("true");
  std::string listed;
  for (const std::string& c : changes) listed += (listed.empty() ? "" : ", ") + c;
  const std::string detail =
      (listed.empty() ? "" : "(" + listed + ") ") + "by " + callerText(command);
  if (message == message::kChanged) message_args = {};
  *change.mutable_event() =
      makeEvent(message, message_args, kAccountsUri + user, "OK", deps_.self, detail);
  LOG_NOTICE << "account '" << user << "': " << op << " " << detail;
  json shown = {{"UserName", user},
                {"RoleId", next.role},
                {"Enabled", next.enabled},
                {"Locked", false},
                {"PasswordChangeRequired", next.password_change_required}};
  deps_.write(writeCommand(command, std::move(change)),
              [shown, reply](proto::CommandResult result) mutable {
                if (result.status() != proto::CommandResult::OK) return reply(std::move(result));
                reply(okResult(shown.dump()));
              });
}

void AccountService::writePolicy(const proto::Command& command, Reply reply) {
  if (!isAdministrator(command))
    return reply(failure(proto::CommandResult::FORBIDDEN, "only an administrator may do that"));
  json body = json::parse(arg(command, "body"), nullptr, false);
  if (!body.is_object())
    return reply(failure(proto::CommandResult::BAD_REQUEST, "the policy is not an object"));
  AccountPolicy p = policy();
  json v = {{"AccountLockoutThreshold", p.lockout_threshold},
            {"AccountLockoutDuration", p.lockout_duration_s},
            {"AccountLockoutCounterResetAfter", p.lockout_reset_after_s},
            {"SessionTimeout", p.session_timeout_s}};
  struct Limit {
    const char* name;
    int min, max;
  };
  std::string detail;
  for (Limit l :
       {Limit{"AccountLockoutThreshold", 0, 1000}, Limit{"AccountLockoutDuration", 1, 86400},
        Limit{"AccountLockoutCounterResetAfter", 1, 86400}, Limit{"SessionTimeout", 30, 86400}}) {
    if (!body.contains(l.name)) continue;
    const json& x = body[l.name];
    if (!x.is_number_integer() || x.get<int64_t>() < l.min || x.get<int64_t>() > l.max)
      return reply(failure(proto::CommandResult::BAD_REQUEST,
                           std::string(l.name) + " must be an integer from " +
                               std::to_string(l.min) + " to " + std::to_string(l.max)));
    v[l.name] = x.get<int>();
    detail +=
        (detail.empty() ? "" : ", ") + std::string(l.name) + " = " + std::to_string(x.get<int>());
  }
  if (detail.empty()) return reply(failure(proto::CommandResult::BAD_REQUEST, "nothing to change"));
  proto::ConfigWrite change;
  proto::ConfigRecord* r = change.add_records();
  r->set_key(kPolicyKey);
  r->set_value(v.dump());
  *change.mutable_event() = makeEvent(message::kChanged, {}, "/redfish/v1/AccountService", "OK",
                                      deps_.self, detail + " by " + callerText(command));
  LOG_NOTICE << "account policy: " << detail << " by " << callerText(command);
  deps_.write(writeCommand(command, std::move(change)),
              [v, reply](proto::CommandResult result) mutable {
                if (result.status() != proto::CommandResult::OK) return reply(std::move(result));
                reply(okResult(v.dump()));
              });
}

}  // namespace dualsp::sp
