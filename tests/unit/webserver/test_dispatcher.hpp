#pragma once
// spweb's dispatcher as the route tests drive it: a real status board (unique name), a fake
// local bus, the tests' wall clock, and the checks every response shares.

#include <CppUTest/TestHarness.h>

#include <memory>
#include <optional>
#include <string>

#include "fake_command_client.hpp"
#include "test_status_board.hpp"
#include "webserver/dispatcher.hpp"
#include "webserver/routes/routes.hpp"
#include "webserver/status_board_source.hpp"

namespace dualsp::web::test {

inline Request makeRequest(HttpMethod method, std::string path) {
  Request request;
  request.method = method;
  request.path = std::move(path);
  return request;
}

// The tests' authenticator: every request comes from an administrator, unless a test says
// otherwise (Served::identity).
inline Authenticator asAdministrator() {
  return [](const Request&) {
    return AuthOutcome{AuthStatus::Ok, Identity{"admin", "Administrator", "", false}};
  };
}

struct Served {
  std::string array_id;
  std::unique_ptr<TestStatusBoard> board;
  std::unique_ptr<StatusBoardSource> source;
  FakeCommandClient bus;
  std::unique_ptr<Dispatcher> dispatcher;
  // Who the requests come from; nullopt: nobody (no credentials, 401).
  std::optional<Identity> identity = Identity{"admin", "Administrator", "", false};

  // Publishes `role` for SP `sp` (unless publish is false) and serves it in `mode`.
  Served(SpId sp, Role role, ServeMode mode = ServeMode::Full, bool publish = true,
         std::string array = uniqueArrayId())
      : array_id(std::move(array)) {
    board = std::make_unique<TestStatusBoard>(array_id, sp);
    if (publish) board->publish(snapshot(array_id, sp, role));
    source = std::make_unique<StatusBoardSource>(board->name());
    dispatcher = std::make_unique<Dispatcher>(
        buildRouteTable(), ServiceConfig{sp, mode, array_id, {}}, [this] { return source->read(); },
        bus, [] { return kNowMs; }, authenticator());
  }
  Authenticator authenticator() {
    return [this](const Request&) {
      if (!identity) return AuthOutcome{AuthStatus::NoCredentials, {}};
      return AuthOutcome{AuthStatus::Ok, *identity};
    };
  }
  void publish(const ipc::StatusSnapshot& s) { board->publish(s); }
  Response get(const std::string& path, const std::string& query = "") const {
    Request request = makeRequest(HttpMethod::Get, path);
    request.query = query;
    request.remote_address = "198.18.0.100";
    return dispatcher->handle(request);
  }
  Response post(const std::string& path, const std::string& body) const {
    return send(HttpMethod::Post, path, body);
  }
  Response patch(const std::string& path, const std::string& body) const {
    return send(HttpMethod::Patch, path, body);
  }
  Response del(const std::string& path) const { return send(HttpMethod::Delete, path, ""); }
  Response send(HttpMethod method, const std::string& path, const std::string& body) const {
    Request request = makeRequest(method, path);
    request.body = body;
    request.remote_address = "198.18.0.100";
    return dispatcher->handle(request);
  }
};

inline std::string str(const Json& j) {
  return j.get<std::string>();
}

inline void checkCommonHeaders(const Response& res, const char* sp) {
  STRCMP_EQUAL(sp, res.header("X-DualSP-SP").value_or("").c_str());
  STRCMP_EQUAL("4.0", res.header("OData-Version").value_or("").c_str());
  STRCMP_EQUAL("no-store", res.header("Cache-Control").value_or("").c_str());
  STRCMP_EQUAL("application/json; charset=utf-8", res.header("Content-Type").value_or("").c_str());
}

inline void checkError(const Response& res, int status, const char* message_id) {
  LONGS_EQUAL(status, res.status);
  STRCMP_EQUAL(message_id, str(res.body["error"]["code"]).c_str());
  STRCMP_EQUAL(message_id, str(res.body["error"]["@Message.ExtendedInfo"][0]["MessageId"]).c_str());
}

// A result with only a status, as spd sends for failures.
inline proto::CommandResult resultWithStatus(proto::CommandResult::Status status) {
  proto::CommandResult r;
  r.set_status(status);
  r.set_error("scripted");
  r.set_served_by(proto::SP_A);
  return r;
}

}  // namespace dualsp::web::test
