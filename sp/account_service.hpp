#pragma once
// Accounts, sessions and logins (docs/SECURITY.md "Accounts and sessions"). spd owns them:
// the password hashes and session token hashes live in the replicated configuration store
// under accounts/ and sessions/, which no client command reads (GetConfig leaves them out);
// spweb asks, over the local bus, who a request's credentials belong to (Authenticate) and
// changes accounts and sessions through the commands below. A password crosses the local bus
// once, is verified or hashed on this SP, and never reaches the peer link or a log.
//
// What stays on one SP (not replicated): the per-address limit, the idle clock of each session
// and a short cache of verified Basic credentials. Failure counts and lockouts are kept by
// each SP in memory and told to the peer as they happen (AccountLoginFailure,
// AccountLockoutReset on the peer link), so both SPs count every failure: alternating between
// the SPs' addresses gives an attacker no more tries.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "platform/sp_types.hpp"
#include "proto/config.pb.h"
#include "sp/command_registry.hpp"
#include "sp/config_store/config_store.hpp"

namespace dualsp::sp {

// ---- Passwords (libsodium Argon2id, crypto_pwhash_str) ----
// Argon2id with 2 passes over 19 MiB: OWASP's recommended minimum, about 50-150 ms here.
inline constexpr unsigned long long kPasswordOpsLimit = 2;
inline constexpr size_t kPasswordMemLimit = 19u << 20;
inline constexpr size_t kMinPasswordLength = 12;
inline constexpr size_t kMaxPasswordLength = 64;
// "$argon2id$v=19$m=...": throws std::runtime_error when libsodium cannot (out of memory).
std::string hashPassword(std::string_view password);
bool verifyPassword(const std::string& hash, std::string_view password);
bool looksLikePasswordHash(std::string_view text);

// ---- Roles: Redfish's predefined roles and their privileges (not modifiable) ----
inline constexpr std::string_view kAdministrator = "Administrator";
inline constexpr std::string_view kOperator = "Operator";
inline constexpr std::string_view kReadOnly = "ReadOnly";
bool isRole(std::string_view role);

// Account names: a letter, then up to 31 letters, digits, '.', '_' or '-'.
bool validUserName(std::string_view name);

struct AccountSettings {
  std::string initial_admin = "admin";
  // One line: a hash from `spd --hash-password`. Used while the store holds no account.
  std::string initial_password_file;
};

// The first administrator's hash from `file`, or "" when the file does not exist. Throws
// std::runtime_error naming the file when it is not a regular file of mode 0600 (or stricter),
// cannot be read, or does not hold a hash.
std::string readInitialPasswordHash(const std::string& file);

// The lockout and session rules, in the store as account_service/policy (PATCH
// AccountService, PATCH SessionService); these defaults until an administrator sets them.
struct AccountPolicy {
  int lockout_threshold = 5;        // failures in a row that lock an account; 0: never
  int lockout_duration_s = 300;     // how long it stays locked
  int lockout_reset_after_s = 300;  // failures older than this are forgotten
  int session_timeout_s = 1800;     // idle timeout of a session
  static constexpr int kAbsoluteSessionLifetimeS = 24 * 3600;
  static constexpr size_t kMaxSessions = 64;
  // Failed logins from one address within a minute before its attempts are refused (429)
  // for the rest of that minute.
  static constexpr int kFailuresPerSourcePerMinute = 20;
};

class AccountService {
 public:
  struct Dependencies {
    SpId self = SpId::A;
    std::function<std::vector<ConfigRecord>(const std::string& prefix)> list;
    // The configuration write path (ConfigService's ConfigWrite handler): replicated, and
    // forwarded to the active SP by a passive one.
    std::function<void(proto::Command, Reply)> write;
    std::function<void(proto::Event)> record_event;
    std::function<int64_t()> wall_ms;
    std::function<std::chrono::steady_clock::time_point()> now;
    // Sends a peer-only command to the peer SP and forgets it (no answer awaited; a peer that
    // is down or unreachable misses it). Empty: no peer.
    std::function<void(proto::Command)> tell_peer;
  };

  AccountService(AccountSettings settings, std::string initial_hash, Dependencies deps);
  ~AccountService();
  AccountService(const AccountService&) = delete;
  AccountService& operator=(const AccountService&) = delete;

  // The worker that verifies and hashes passwords (slow on purpose: never on the bus thread).
  void start();
  void stop();

  // Authenticate, CreateSession, DeleteSession, GetAccounts, AccountWrite; on the peer link
  // AccountLoginFailure and AccountLockoutReset.
  void registerCommands(CommandRegistry& clients, PeerCommandRegistry* peers = nullptr);

  // The commands' handlers, public for the tests.
  void authenticate(const proto::Command& command, Reply reply);
  void createSession(const proto::Command& command, Reply reply);
  void deleteSession(const proto::Command& command, Reply reply);
  void getAccounts(const proto::Command& command, Reply reply);
  void accountWrite(const proto::Command& command, Reply reply);
  // From the peer: a failed login for `user` there (counted here as one of ours, without an
  // event: the peer recorded it), or its failures forgotten (a login, an unlock).
  void peerLoginFailure(const proto::Command& command, Reply reply);
  void peerLockoutReset(const proto::Command& command, Reply reply);

 private:
  struct Account {
    std::string user;
    std::string role;
    std::string hash;
    bool enabled = true;
    bool password_change_required = false;
    bool initial = false;  // the provisioned first administrator, not yet in the store
  };
  struct Session {
    std::string id;
    std::string user;
    std::string token_hash;
    int64_t created_ms = 0;
    std::string origin;
  };
  struct Lockout {
    int failures = 0;
    std::chrono::steady_clock::time_point last_failure{};
    std::chrono::steady_clock::time_point locked_until{};
  };
  struct SourceFailures {
    std::chrono::steady_clock::time_point window_start{};
    int failures = 0;
    bool reported = false;
  };
  struct CachedLogin {
    std::string user;
    std::string hash;  // the account's hash when verified: a new password invalidates it
    std::chrono::steady_clock::time_point expires{};
  };

  std::vector<Account> accounts() const;
  std::optional<Account> account(const std::string& user) const;
  std::vector<Session> sessions() const;
  AccountPolicy policy() const;
  bool sessionExpired(const Session& s, const AccountPolicy& p,
                      std::chrono::steady_clock::time_point now);

  // Password checks with lockout and the per-address limit. On the worker.
  enum class Verdict { Ok, Bad, Locked, Limited };
  Verdict checkPassword(const std::string& user, const std::string& password,
                        const std::string& source, std::optional<Account>& out);
  bool sourceLimited(const std::string& source, std::chrono::steady_clock::time_point now);
  void recordFailure(const std::string& user, const std::string& source, bool known_user);
  // One more failure in a row for a known `user`; true when it locks the account now. (mu_)
  bool countFailure(const std::string& user, const AccountPolicy& p,
                    std::chrono::steady_clock::time_point now);
  void tellPeer(const char* name, const std::string& user) const;
  // After a login: the failures before it are forgotten, here and on the peer.
  void forgetFailures(const std::string& user);
  std::string cacheKey(const std::string& user, const std::string& password) const;
  // The account of a Basic login verified within kCacheLifetime, unless its password,
  // state or lockout changed since.
  std::optional<Account> cachedLogin(const std::string& key,
                                     std::chrono::steady_clock::time_point now) const;

  // Checks the password on the worker, answers a refusal itself (401, 429, or 503 when too
  // many wait) and calls `then` with the account when it holds.
  using VerifiedThen = std::function<void(const Account&, Reply&)>;
  void verifyOnWorker(std::string user, std::string password, std::string source, Reply reply,
                      VerifiedThen then);
  // Runs `job` on the worker; false (and nothing runs) when too many are waiting.
  bool post(std::function<void()> job);
  void workerLoop();

  // `keyed`: the change the client asked for, which records its Idempotency-Key (not a
  // housekeeping change made on the way, such as removing expired sessions).
  proto::Command writeCommand(const proto::Command& from, proto::ConfigWrite change,
                              bool keyed = true) const;
  void identityReply(const Account& a, const std::string& session_id, Reply& reply) const;
  void writeAccount(const proto::Command& command, Reply reply);
  void writePolicy(const proto::Command& command, Reply reply);

  const AccountSettings settings_;
  const std::string initial_hash_;
  const Dependencies deps_;
  unsigned char cache_key_[32];  // random per process: cache keys reveal nothing

  mutable std::mutex mu_;
  std::map<std::string, Lockout> lockouts_;                                 // (mu_)
  std::map<std::string, SourceFailures> sources_;                           // (mu_)
  std::map<std::string, std::chrono::steady_clock::time_point> last_used_;  // (mu_)
  std::map<std::string, CachedLogin> cache_;                                // (mu_)
  // Basic logins waiting for a verification of the same credentials (cache key) under way.
  std::map<std::string, std::vector<Reply>> verifying_;    // (mu_)
  int events_this_minute_ = 0;                             // (mu_)
  std::chrono::steady_clock::time_point events_minute_{};  // (mu_)

  std::mutex worker_mu_;
  std::condition_variable worker_cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace dualsp::sp
