// Authorization in one place (webserver/dispatcher.cpp): every route of the table, every
// method it declares, in both modes, for nobody and for each predefined role. The handlers are
// replaced by a probe, so what is checked is the dispatcher's decision alone: 401 without
// credentials (NoAuth routes excepted), 403 for a missing privilege, through otherwise.

#include <CppUTest/TestHarness.h>

#include <regex>
#include <set>
#include <tuple>

#include "test_dispatcher.hpp"
#include "webserver/auth.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;

namespace {

constexpr int kReachedHandler = 299;

void probe(const RequestContext& ctx, Response& res) {
  res.status = kReachedHandler;
  // The handler sees who asked, except on NoAuth routes.
  res.body = {{"caller", ctx.caller ? ctx.caller->user : ""}};
}

std::vector<HttpMethod> methodsOf(const Route& r) {
  std::vector<HttpMethod> out;
  for (HttpMethod m : {HttpMethod::Get, HttpMethod::Head, HttpMethod::Post, HttpMethod::Put,
                       HttpMethod::Patch, HttpMethod::Delete})
    if (r.methods.contains(m)) out.push_back(m);
  return out;
}

// A concrete path: every {Param} becomes "SPA", which every parameterised route accepts as a
// value (Manager ids are checked in degraded mode).
std::string concrete(const std::string& pattern) {
  return std::regex_replace(pattern, std::regex("\\{[A-Za-z]+\\}"), "SPA");
}

struct Probed {
  Served served{SpId::A, Role::Active};
  std::optional<Identity> who;
  std::unique_ptr<Dispatcher> dispatcher;
  std::vector<Route> routes;

  explicit Probed(ServeMode mode) {
    RouteTable table;
    const RouteTable real = buildRouteTable();
    for (Route r : real.routes()) {
      r.handler = probe;
      table.add(r);
    }
    routes = table.routes();
    dispatcher = std::make_unique<Dispatcher>(
        std::move(table), ServiceConfig{SpId::A, mode, served.array_id, {}},
        [this] { return served.source->read(); }, served.bus, [] { return kNowMs; },
        [this](const Request&) {
          if (!who) return AuthOutcome{AuthStatus::NoCredentials, {}};
          return AuthOutcome{AuthStatus::Ok, *who};
        });
  }
  Response send(HttpMethod m, const std::string& path) {
    Request request = makeRequest(m, path);
    request.remote_address = "198.18.0.100";
    if (m == HttpMethod::Post || m == HttpMethod::Patch || m == HttpMethod::Put)
      request.body = "{}";
    return dispatcher->handle(request);
  }
};

std::string what(const Route& r, HttpMethod m, const char* who) {
  return std::string(methodName(m)) + " " + r.pattern + " as " + who;
}

void checkEveryRoute(ServeMode mode) {
  Probed p(mode);
  int checked = 0;
  for (const Route& r : p.routes) {
    for (HttpMethod m : methodsOf(r)) {
      const std::string path = concrete(r.pattern);
      p.who.reset();
      Response anonymous = p.send(m, path);
      if (anonymous.status == 503) continue;  // not served in this mode: nothing to authorize
      if (r.privilege == Privilege::NoAuth) {
        LONGS_EQUAL_TEXT(kReachedHandler, anonymous.status, what(r, m, "nobody").c_str());
      } else {
        LONGS_EQUAL_TEXT(401, anonymous.status, what(r, m, "nobody").c_str());
        STRCMP_EQUAL_TEXT("Basic realm=\"DualSP\"",
                          anonymous.header("WWW-Authenticate").value_or("").c_str(),
                          what(r, m, "nobody").c_str());
        checkError(anonymous, 401, "Base.1.22.1.NoValidSession");
      }
      for (const char* role : {"ReadOnly", "Operator", "Administrator"}) {
        p.who = Identity{"someone", role, "", false};
        Response res = p.send(m, path);
        if (roleHas(role, r.privilege)) {
          LONGS_EQUAL_TEXT(kReachedHandler, res.status, what(r, m, role).c_str());
          if (r.privilege != Privilege::NoAuth)
            STRCMP_EQUAL("someone", res.body["caller"].get<std::string>().c_str());
        } else {
          checkError(res, 403, "Base.1.22.1.InsufficientPrivilege");
        }
        // Before the first password change only the account's own routes are served.
        p.who = Identity{"someone", role, "", true};
        Response pending = p.send(m, path);
        if (r.privilege == Privilege::NoAuth ||
            (r.before_password_change && roleHas(role, r.privilege)))
          LONGS_EQUAL_TEXT(kReachedHandler, pending.status, what(r, m, role).c_str());
        else
          LONGS_EQUAL_TEXT(403, pending.status, what(r, m, role).c_str());
      }
      ++checked;
    }
  }
  CHECK(checked > 20);
}

}  // namespace

TEST_GROUP(Authorization){};

TEST(Authorization, EveryRouteInFullMode) {
  checkEveryRoute(ServeMode::Full);
}

TEST(Authorization, EveryRouteInDegradedMode) {
  checkEveryRoute(ServeMode::Degraded);
}

// The acceptance rule: a ReadOnly account changes nothing but its own password and sessions.
TEST(Authorization, ReadOnlyGets403OnEveryWriteRoute) {
  Probed p(ServeMode::Full);
  p.who = Identity{"viewer", "ReadOnly", "", false};
  for (const Route& r : p.routes) {
    for (HttpMethod m : methodsOf(r)) {
      if (m == HttpMethod::Get || m == HttpMethod::Head) continue;
      Response res = p.send(m, concrete(r.pattern));
      if (r.privilege == Privilege::NoAuth || r.privilege == Privilege::ConfigureSelf) {
        // Login, and the owner-checked routes: the handlers refuse other people's things.
        CHECK_TEXT(r.pattern.find("Sessions") != std::string::npos ||
                       r.pattern.find("Accounts/") != std::string::npos,
                   what(r, m, "ReadOnly").c_str());
        continue;
      }
      checkError(res, 403, "Base.1.22.1.InsufficientPrivilege");
    }
  }
}

TEST(Authorization, OnlyTheServiceDocumentsAndLoginNeedNoCredentials) {
  std::set<std::string> open;
  const RouteTable table = buildRouteTable();
  for (const Route& r : table.routes())
    if (r.privilege == Privilege::NoAuth) open.insert(r.pattern);
  // The web console's files (`/`, `/console/...`) hold no data: the page logs in like any
  // client (routes/console.cpp).
  for (const std::string& pattern : open)
    CHECK_TEXT(pattern == "/redfish" || pattern == "/redfish/v1" ||
                   pattern == "/redfish/v1/odata" || pattern == "/redfish/v1/$metadata" ||
                   pattern == "/redfish/v1/SessionService/Sessions" || pattern == "/" ||
                   pattern == "/console/{File}",
               pattern.c_str());
}

TEST(Authorization, RolesCarryTheRedfishPrivileges) {
  CHECK(roleHas("Administrator", Privilege::ConfigureUsers));
  CHECK(roleHas("Operator", Privilege::ConfigureComponents));
  CHECK_FALSE(roleHas("Operator", Privilege::ConfigureManager));
  CHECK_FALSE(roleHas("Operator", Privilege::ConfigureUsers));
  CHECK(roleHas("ReadOnly", Privilege::Login));
  CHECK(roleHas("ReadOnly", Privilege::ConfigureSelf));
  CHECK_FALSE(roleHas("ReadOnly", Privilege::ConfigureComponents));
  CHECK_FALSE(roleHas("Nobody", Privilege::Login));
  CHECK(roleHas("Nobody", Privilege::NoAuth));
}

// What the authenticator answers besides an account: a refusal of the address (429 with
// Retry-After) and spd not answering (503), each before the handler.
TEST(Authorization, TooManyFailuresIs429AndNoAnswerFromSpd503) {
  Served served(SpId::A, Role::Active);
  for (auto [status, code, message] :
       {std::tuple{AuthStatus::TooManyFailures, 429, "Base.1.22.1.ServiceTemporarilyUnavailable"},
        std::tuple{AuthStatus::Unavailable, 503, "Base.1.22.1.ServiceTemporarilyUnavailable"},
        std::tuple{AuthStatus::Rejected, 401, "Base.1.22.1.NoValidSession"}}) {
    Dispatcher d(
        buildRouteTable(), ServiceConfig{SpId::A, ServeMode::Full, served.array_id, {}},
        [&] { return served.source->read(); }, served.bus, [] { return kNowMs; },
        [status = status](const Request&) {
          return AuthOutcome{status, {}};
        });
    Request request = makeRequest(HttpMethod::Get, "/redfish/v1/Managers");
    Response res = d.handle(request);
    checkError(res, code, message);
    if (code != 401) CHECK(res.header("Retry-After").has_value());
  }
  LONGS_EQUAL(0, served.bus.calls());  // no handler ran
}
