// The account service (sp/account_service.hpp) over an in-memory store: the first
// administrator, Basic and token logins, lockout, the per-address limit, sessions and their
// timeouts, account changes and their rules, and that no password or token reaches the store
// or an answer.

#include <CppUTest/TestHarness.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "sp/account_service.hpp"
#include "sp/events.hpp"

using namespace dualsp;
using namespace dualsp::sp;
using json = nlohmann::json;

namespace {

constexpr const char* kInitial = "initial-password-1";

// Computed once: Argon2id is slow on purpose.
const std::string& initialHash() {
  static const std::string h = hashPassword(kInitial);
  return h;
}

std::string basic(const std::string& user, const std::string& password) {
  std::string raw = user + ":" + password;
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(strlen(out.c_str()));
  return "Basic " + out;
}

struct Fixture {
  std::mutex mu;
  std::map<std::string, std::string> store;  // key -> value
  std::vector<proto::Event> events;
  std::vector<proto::ConfigWrite> writes;
  int next_id = 1;
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
  int64_t wall = 1'700'000'000'000;
  std::unique_ptr<AccountService> service;
  // What the service tells its peer (Dependencies::tell_peer), when a test wires one.
  std::function<void(proto::Command)> peer;

  explicit Fixture(std::string initial = initialHash()) {
    AccountService::Dependencies d;
    d.self = SpId::A;
    d.list = [this](const std::string& prefix) {
      std::lock_guard lock(mu);
      std::vector<ConfigRecord> out;
      for (auto& [k, v] : store)
        if (k.rfind(prefix, 0) == 0) {
          ConfigRecord r;
          r.set_key(k);
          r.set_value(v);
          out.push_back(r);
        }
      return out;
    };
    d.write = [this](proto::Command c, Reply reply) {
      proto::ConfigWrite w;
      CHECK(w.ParseFromString(c.payload()));
      CHECK_EQUAL(std::string("1"), c.args().at("private"));
      proto::ConfigWriteAnswer answer;
      {
        std::lock_guard lock(mu);
        writes.push_back(w);
        for (int i = 0; i < w.records_size(); ++i) {
          const auto& r = w.records(i);
          std::string key = r.key();
          if (i == 0 && !w.create_prefix().empty())
            key = w.create_prefix() + std::to_string(next_id++);
          if (r.deleted())
            store.erase(key);
          else
            store[key] = r.value();
          answer.add_keys(key);
        }
        if (w.has_event()) events.push_back(w.event());
      }
      proto::CommandResult result;
      result.set_payload(answer.SerializeAsString());
      reply(result);
    };
    d.record_event = [this](proto::Event e) {
      std::lock_guard lock(mu);
      events.push_back(std::move(e));
    };
    d.tell_peer = [this](proto::Command c) {
      if (peer) peer(std::move(c));
    };
    d.wall_ms = [this] { return wall; };
    d.now = [this] {
      std::lock_guard lock(mu);
      return now;
    };
    service = std::make_unique<AccountService>(AccountSettings{"admin", "/nonexistent"},
                                               std::move(initial), d);
    service->start();
  }
  ~Fixture() { service->stop(); }

  void advance(std::chrono::seconds s) {
    std::lock_guard lock(mu);
    now += s;
    wall += s.count() * 1000;
  }

  // Calls a handler and waits for its answer (they may answer from the worker).
  proto::CommandResult call(void (AccountService::*fn)(const proto::Command&, Reply),
                            std::map<std::string, std::string> args, std::string user = "",
                            std::string role = "") {
    proto::Command c;
    for (auto& [k, v] : args) (*c.mutable_args())[k] = v;
    c.mutable_caller()->set_user(user);
    c.mutable_caller()->set_role(role);
    c.mutable_caller()->set_origin("web 198.18.0.100");
    std::mutex m;
    std::condition_variable cv;
    std::optional<proto::CommandResult> got;
    (service.get()->*fn)(c, [&](proto::CommandResult r) {
      std::lock_guard lock(m);
      got = std::move(r);
      cv.notify_all();
    });
    std::unique_lock lock(m);
    CHECK(cv.wait_for(lock, std::chrono::seconds(20), [&] { return got.has_value(); }));
    return *got;
  }

  proto::CommandResult login(const std::string& user, const std::string& password,
                             const std::string& source = "198.18.0.100") {
    return call(&AccountService::authenticate,
                {{"authorization", basic(user, password)}, {"source", source}});
  }
  proto::CommandResult withToken(const std::string& token) {
    return call(&AccountService::authenticate, {{"token", token}, {"source", "198.18.0.100"}});
  }
  proto::CommandResult openSession(const std::string& user, const std::string& password) {
    return call(&AccountService::createSession,
                {{"user", user}, {"password", password}, {"source", "198.18.0.100"}});
  }
  proto::CommandResult write(const std::string& op, const std::string& user, json body,
                             const std::string& caller, const std::string& role) {
    return call(&AccountService::accountWrite, {{"op", op}, {"user", user}, {"body", body.dump()}},
                caller, role);
  }
  // The first administrator sets its own password (what the harnesses do first).
  void firstChange(const std::string& password) {
    auto r = write("patch", "admin", {{"Password", password}}, "admin", "Administrator");
    LONGS_EQUAL_TEXT(proto::CommandResult::OK, r.status(), r.error().c_str());
  }
  bool anyEvent(std::string_view id) {
    std::lock_guard lock(mu);
    for (auto& e : events)
      if (e.message_id() == id) return true;
    return false;
  }
  std::string everythingStored() {
    std::lock_guard lock(mu);
    std::string all;
    for (auto& [k, v] : store) all += k + "=" + v + "\n";
    for (auto& e : events) all += e.message() + "\n";
    return all;
  }
};

json payloadOf(const proto::CommandResult& r) {
  return json::parse(r.payload());
}

}  // namespace

TEST_GROUP(AccountService){};

TEST(AccountService, TheFirstAdministratorMustChangeItsPassword) {
  Fixture f;
  auto ok = f.login("admin", kInitial);
  LONGS_EQUAL(proto::CommandResult::OK, ok.status());
  json id = payloadOf(ok);
  STRCMP_EQUAL("admin", id["user"].get<std::string>().c_str());
  STRCMP_EQUAL("Administrator", id["role"].get<std::string>().c_str());
  CHECK(id["password_change_required"].get<bool>());
  LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, f.login("admin", "wrong-password-1").status());
  LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, f.login("nobody", kInitial).status());

  f.firstChange("a-new-password-2");
  LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, f.login("admin", kInitial).status());
  auto now = f.login("admin", "a-new-password-2");
  LONGS_EQUAL(proto::CommandResult::OK, now.status());
  CHECK_FALSE(payloadOf(now)["password_change_required"].get<bool>());
  CHECK(f.anyEvent(message::kPasswordModified));
  // The store holds a hash, never the password.
  std::string stored = f.everythingStored();
  CHECK(stored.find("a-new-password-2") == std::string::npos);
  CHECK(stored.find("$argon2id$") != std::string::npos);
}

TEST(AccountService, WithoutAProvisionedAdministratorNobodyLogsIn) {
  Fixture f("");
  LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, f.login("admin", kInitial).status());
  LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED,
              f.call(&AccountService::authenticate, {{"source", "198.18.0.100"}}).status());
}

TEST(AccountService, TheNewPasswordMustDifferAndHaveTheRightLength) {
  Fixture f;
  auto same = f.write("patch", "admin", {{"Password", kInitial}}, "admin", "Administrator");
  LONGS_EQUAL(proto::CommandResult::BAD_REQUEST, same.status());
  auto shorter = f.write("patch", "admin", {{"Password", "short"}}, "admin", "Administrator");
  LONGS_EQUAL(proto::CommandResult::BAD_REQUEST, shorter.status());
  STRCMP_EQUAL("PasswordIncorrectLength", shorter.message_key().c_str());
}

TEST(AccountService, SessionsLiveUntilLogoutOrIdleTimeout) {
  Fixture f;
  f.firstChange("a-new-password-2");
  auto opened = f.openSession("admin", "a-new-password-2");
  LONGS_EQUAL_TEXT(proto::CommandResult::OK, opened.status(), opened.error().c_str());
  json s = payloadOf(opened);
  const std::string token = s["token"];
  CHECK(token.size() >= 32);                                     // 256 random bits, hex
  CHECK(f.everythingStored().find(token) == std::string::npos);  // only its hash is stored
  auto who = f.withToken(token);
  LONGS_EQUAL(proto::CommandResult::OK, who.status());
  STRCMP_EQUAL(s["id"].get<std::string>().c_str(),
               payloadOf(who)["session"].get<std::string>().c_str());
  LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, f.withToken(token + "0").status());

  // Idle for longer than the timeout (1800 s by default): gone.
  f.advance(std::chrono::seconds(1000));
  LONGS_EQUAL(proto::CommandResult::OK, f.withToken(token).status());
  f.advance(std::chrono::seconds(1801));
  LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, f.withToken(token).status());

  // Logout.
  std::string token2 = payloadOf(f.openSession("admin", "a-new-password-2"))["token"];
  std::string id2 = payloadOf(f.withToken(token2))["session"];
  LONGS_EQUAL(
      proto::CommandResult::OK,
      f.call(&AccountService::deleteSession, {{"id", id2}}, "admin", "Administrator").status());
  LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, f.withToken(token2).status());
  CHECK(f.anyEvent(message::kSuccessfulLogin));
}

TEST(AccountService, OnlyTheOwnerOrAnAdministratorClosesASession) {
  Fixture f;
  f.firstChange("a-new-password-2");
  LONGS_EQUAL(
      proto::CommandResult::OK,
      f.write("create", "viewer", {{"Password", "viewer-password-3"}, {"RoleId", "ReadOnly"}},
              "admin", "Administrator")
          .status());
  std::string admin_token = payloadOf(f.openSession("admin", "a-new-password-2"))["token"];
  std::string admin_session = payloadOf(f.withToken(admin_token))["session"];
  LONGS_EQUAL(proto::CommandResult::FORBIDDEN,
              f.call(&AccountService::deleteSession, {{"id", admin_session}}, "viewer", "ReadOnly")
                  .status());
  LONGS_EQUAL(proto::CommandResult::OK, f.withToken(admin_token).status());
}

TEST(AccountService, RepeatedFailuresLockTheAccountForTheLockoutDuration) {
  Fixture f;
  f.firstChange("a-new-password-2");
  LONGS_EQUAL(
      proto::CommandResult::OK,
      f.write("policy", "", {{"AccountLockoutThreshold", 3}, {"AccountLockoutDuration", 60}},
              "admin", "Administrator")
          .status());
  for (int i = 0; i < 3; ++i)
    LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, f.login("admin", "wrong-password-9").status());
  CHECK(f.anyEvent(message::kAccountLocked));
  CHECK(f.anyEvent(message::kInvalidCredentials));
  // Locked: the right password is refused too, and the account shows Locked.
  LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, f.login("admin", "a-new-password-2").status());
  json state = payloadOf(f.call(&AccountService::getAccounts, {}));
  CHECK(state["accounts"][0]["Locked"].get<bool>());
  f.advance(std::chrono::seconds(61));
  LONGS_EQUAL(proto::CommandResult::OK, f.login("admin", "a-new-password-2").status());
}

namespace {

// `to`'s peer-only handler for what `from` tells its peer, as the peer link would run it.
void wirePeer(Fixture& from, Fixture& to) {
  from.peer = [&to](proto::Command c) {
    CHECK(c.forwarded());
    auto handler = c.name() == "AccountLoginFailure"   ? &AccountService::peerLoginFailure
                   : c.name() == "AccountLockoutReset" ? &AccountService::peerLockoutReset
                                                       : nullptr;
    CHECK_TEXT(handler != nullptr, c.name().c_str());
    (to.service.get()->*handler)(
        c, [](proto::CommandResult r) { LONGS_EQUAL(proto::CommandResult::OK, r.status()); });
  };
}

}  // namespace

// An attacker alternating between SP-A's and SP-B's addresses gets no more tries: each SP
// counts the other's failures, the lock holds on both, and an unlock on one ends it on both.
TEST(AccountService, BothSpsCountEveryFailedLoginAndUnlockTogether) {
  Fixture a, b;
  a.firstChange("a-new-password-2");
  {
    std::scoped_lock lock(a.mu, b.mu);
    b.store = a.store;  // what replication does
  }
  wirePeer(a, b);
  wirePeer(b, a);
  for (int i = 0; i < 3; ++i)
    LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, a.login("admin", "wrong-password-9").status());
  for (int i = 0; i < 2; ++i)
    LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, b.login("admin", "wrong-password-9").status());
  // Five in a row, the default threshold: locked on both, the right password refused.
  LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, a.login("admin", "a-new-password-2").status());
  LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, b.login("admin", "a-new-password-2").status());
  CHECK(payloadOf(a.call(&AccountService::getAccounts, {}))["accounts"][0]["Locked"].get<bool>());
  // One lockout, one event: by the SP whose failure locked it.
  CHECK(b.anyEvent(message::kAccountLocked));
  CHECK_FALSE(a.anyEvent(message::kAccountLocked));
  // An administrator's unlock on SP-A ends it on SP-B too.
  LONGS_EQUAL(proto::CommandResult::OK,
              a.write("patch", "admin", {{"Locked", false}}, "admin", "Administrator").status());
  LONGS_EQUAL(proto::CommandResult::OK, b.login("admin", "a-new-password-2").status());
  // A login forgets the failures on both: four more on SP-A after one on SP-B and a login
  // on SP-B do not lock.
  LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, b.login("admin", "wrong-password-9").status());
  LONGS_EQUAL(proto::CommandResult::OK, b.login("admin", "a-new-password-2").status());
  for (int i = 0; i < 4; ++i)
    LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, a.login("admin", "wrong-password-9").status());
  LONGS_EQUAL(proto::CommandResult::OK, a.login("admin", "a-new-password-2").status());
}

TEST(AccountService, AnAddressWithTooManyFailuresIsRefusedForAMinute) {
  Fixture f;
  for (int i = 0; i < AccountPolicy::kFailuresPerSourcePerMinute; ++i)
    f.login("nobody" + std::to_string(i), "wrong-password-9", "198.18.0.66");
  LONGS_EQUAL(proto::CommandResult::TOO_MANY_REQUESTS,
              f.login("admin", kInitial, "198.18.0.66").status());
  // Another address is not affected.
  LONGS_EQUAL(proto::CommandResult::OK, f.login("admin", kInitial, "198.18.0.67").status());
  f.advance(std::chrono::seconds(61));
  LONGS_EQUAL(proto::CommandResult::OK, f.login("admin", kInitial, "198.18.0.66").status());
}

TEST(AccountService, RolesAndTheLastAdministrator) {
  Fixture f;
  f.firstChange("a-new-password-2");
  LONGS_EQUAL(
      proto::CommandResult::OK,
      f.write("create", "viewer", {{"Password", "viewer-password-3"}, {"RoleId", "ReadOnly"}},
              "admin", "Administrator")
          .status());
  auto again =
      f.write("create", "viewer", {{"Password", "viewer-password-3"}, {"RoleId", "ReadOnly"}},
              "admin", "Administrator");
  STRCMP_EQUAL("ResourceAlreadyExists", again.message_key().c_str());
  // A ReadOnly account changes its own password, nothing else and nobody else.
  LONGS_EQUAL(proto::CommandResult::OK,
              f.write("patch", "viewer", {{"Password", "viewer-password-4"}}, "viewer", "ReadOnly")
                  .status());
  LONGS_EQUAL(
      proto::CommandResult::FORBIDDEN,
      f.write("patch", "viewer", {{"RoleId", "Administrator"}}, "viewer", "ReadOnly").status());
  LONGS_EQUAL(proto::CommandResult::FORBIDDEN,
              f.write("patch", "admin", {{"Password", "stolen-password-5"}}, "viewer", "ReadOnly")
                  .status());
  LONGS_EQUAL(
      proto::CommandResult::FORBIDDEN,
      f.write("create", "mallory", {{"Password", "mallory-password"}, {"RoleId", "Administrator"}},
              "viewer", "ReadOnly")
          .status());
  // The last enabled administrator can be neither removed, demoted nor disabled.
  LONGS_EQUAL(proto::CommandResult::BAD_REQUEST,
              f.write("delete", "admin", json::object(), "admin", "Administrator").status());
  LONGS_EQUAL(
      proto::CommandResult::BAD_REQUEST,
      f.write("patch", "admin", {{"RoleId", "Operator"}}, "admin", "Administrator").status());
  LONGS_EQUAL(proto::CommandResult::BAD_REQUEST,
              f.write("patch", "admin", {{"Enabled", false}}, "admin", "Administrator").status());
  // A removed account's sessions go with it.
  std::string token = payloadOf(f.openSession("viewer", "viewer-password-4"))["token"];
  LONGS_EQUAL(proto::CommandResult::OK,
              f.write("delete", "viewer", json::object(), "admin", "Administrator").status());
  LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, f.withToken(token).status());
  CHECK(f.anyEvent(message::kAccountRemoved));
}

TEST(AccountService, TheFirstAdministratorDoesNotComeBackOnceAccountsExist) {
  Fixture f;
  f.firstChange("a-new-password-2");
  LONGS_EQUAL(
      proto::CommandResult::OK,
      f.write("create", "second", {{"Password", "second-password-6"}, {"RoleId", "Administrator"}},
              "admin", "Administrator")
          .status());
  LONGS_EQUAL(proto::CommandResult::OK,
              f.write("delete", "admin", json::object(), "second", "Administrator").status());
  LONGS_EQUAL(proto::CommandResult::BAD_REQUEST,
              f.write("delete", "second", json::object(), "second", "Administrator").status());
  LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, f.login("admin", kInitial).status());
}

TEST(AccountService, AnswersNeverCarryHashes) {
  Fixture f;
  f.firstChange("a-new-password-2");
  f.openSession("admin", "a-new-password-2");
  std::string payload = f.call(&AccountService::getAccounts, {}).payload();
  CHECK(payload.find("argon2") == std::string::npos);
  CHECK(payload.find("TokenHash") == std::string::npos);
  CHECK(payload.find("PasswordHash") == std::string::npos);
}

TEST_GROUP(InitialPasswordFile){};

TEST(InitialPasswordFile, MustBeAPrivateFileHoldingAHash) {
  char dir[] = "/tmp/dualsp-ut-initial-XXXXXX";
  CHECK(mkdtemp(dir) != nullptr);
  const std::string file = std::string(dir) + "/initial-admin";
  STRCMP_EQUAL("", readInitialPasswordHash(file).c_str());  // missing: nobody provisioned
  {
    std::ofstream out(file);
    out << initialHash() << "\n";
  }
  chmod(file.c_str(), 0644);
  CHECK_THROWS(std::runtime_error, readInitialPasswordHash(file));
  chmod(file.c_str(), 0600);
  STRCMP_EQUAL(initialHash().c_str(), readInitialPasswordHash(file).c_str());
  {
    std::ofstream out(file);
    out << "plain-text-password\n";
  }
  CHECK_THROWS(std::runtime_error, readInitialPasswordHash(file));
  unlink(file.c_str());
  rmdir(dir);
}

// A client's parallel first requests all miss the Basic cache at once: one Argon2id for all of
// them, not one each (more than the worker's 16 waiting places were refused with 503: CI's
// test_a_sick_peer_link_never_holds_the_floating_address).
TEST(AccountService, ParallelLoginsWithTheSameCredentialsShareOneVerification) {
  Fixture f;
  f.firstChange("new-password-123");
  constexpr int kCallers = 40;
  proto::Command c;
  (*c.mutable_args())["authorization"] = basic("admin", "new-password-123");
  (*c.mutable_args())["source"] = "198.18.0.100";
  std::mutex m;
  std::condition_variable cv;
  std::vector<proto::CommandResult> got;
  for (int i = 0; i < kCallers; ++i)
    f.service->authenticate(c, [&](proto::CommandResult r) {
      std::lock_guard lock(m);
      got.push_back(std::move(r));
      cv.notify_all();
    });
  std::unique_lock lock(m);
  CHECK(cv.wait_for(lock, std::chrono::seconds(20), [&] { return got.size() == kCallers; }));
  for (const proto::CommandResult& r : got)
    LONGS_EQUAL_TEXT(proto::CommandResult::OK, r.status(), r.error().c_str());
  // And a wrong password sent in parallel is one failure for the lockout, answered to all.
  (*c.mutable_args())["authorization"] = basic("admin", "wrong-password-1");
  got.clear();
  lock.unlock();
  for (int i = 0; i < kCallers; ++i)
    f.service->authenticate(c, [&](proto::CommandResult r) {
      std::lock_guard l(m);
      got.push_back(std::move(r));
      cv.notify_all();
    });
  lock.lock();
  CHECK(cv.wait_for(lock, std::chrono::seconds(20), [&] { return got.size() == kCallers; }));
  for (const proto::CommandResult& r : got)
    LONGS_EQUAL(proto::CommandResult::UNAUTHORIZED, r.status());
  lock.unlock();
  LONGS_EQUAL(proto::CommandResult::OK, f.login("admin", "new-password-123").status());
}

TEST(AccountService, ExpiredSessionsAreRemovedFromTheStoreAtTheNextLogin) {
  Fixture f;
  f.firstChange("a-new-password-2");
  f.openSession("admin", "a-new-password-2");
  f.openSession("admin", "a-new-password-2");
  auto sessionsStored = [&] {
    std::lock_guard lock(f.mu);
    size_t n = 0;
    for (auto& [k, v] : f.store) n += k.rfind("sessions/", 0) == 0;
    return n;
  };
  LONGS_EQUAL(2, sessionsStored());
  f.advance(std::chrono::seconds(1801));  // both idle beyond the timeout
  LONGS_EQUAL(proto::CommandResult::OK, f.openSession("admin", "a-new-password-2").status());
  LONGS_EQUAL(1, sessionsStored());
}
