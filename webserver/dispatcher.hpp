#pragma once
// From a request to a response, without sockets: route lookup, method check, degraded mode,
// the status board read (for routes that use it), the handler, and the headers every response
// carries. CivetWeb (web_server.hpp) only moves bytes; the tests call this directly as well.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "ipc/local_bus.hpp"
#include "ipc/status_board.hpp"
#include "webserver/auth.hpp"
#include "webserver/http_types.hpp"
#include "webserver/idempotency.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/route_table.hpp"
#include "webserver/service_context.hpp"

namespace dualsp::web {

// spd publishes its first snapshot within a heartbeat interval of starting spweb.
inline constexpr int kRetryAfterNoStatusSeconds = 1;
// A degraded SP either recovers (spd restarts spweb in full mode) or hands the floating
// address to its healthy peer within a second; a client retrying soon reaches a full server.
inline constexpr int kRetryAfterDegradedSeconds = 2;

using StatusReader = std::function<std::optional<ipc::StatusSnapshot>()>;
using WallClockMs = std::function<int64_t()>;

int64_t systemWallClockMs();

// The SP's faults as the status board carries them (spd's health monitor, worst first).
std::vector<messages::FaultMessage> faultsOnBoard(const ipc::StatusSnapshot& status);

class Dispatcher {
 public:
  // `bus` carries the commands of LocalBus routes; it must outlive the dispatcher.
  // `authenticate` finds who sent a request; by default spd answers (busAuthenticator).
  Dispatcher(RouteTable routes, ServiceConfig config, StatusReader read_status,
             ipc::CommandClient& bus, WallClockMs now_ms = systemWallClockMs,
             Authenticator authenticate = {});

  Response handle(const Request& request) const;

  const RouteTable& routes() const { return routes_; }
  const ServiceConfig& config() const { return config_; }
  // The local bus to spd, for what outlives one request (the event stream, web_server.cpp).
  ipc::CommandClient& bus() const { return bus_; }

 private:
  // What one client request holds while it is served, the internal GETs of its $expand and
  // $filter included: who the caller is, authenticated once; the status board read once; on a
  // GET or HEAD, the cache of identical reads (request_read_cache.hpp).
  struct RequestScope;
  class QueryReader;

  void route(const Request& request, Response& res, RequestScope& scope) const;
  // The route's privilege against the role of the scope's caller: false with the error set on
  // `res` (401, 403, 429, 503). NoAuth routes pass without credentials.
  bool authorize(const Route& route, Response& res, RequestScope& scope) const;
  // The caller as spd knows them, asked once per client request.
  const AuthOutcome& authenticateOnce(RequestScope& scope) const;
  // The status board (for routes that use it) and the handler; false with 503 set when the
  // route needs the board and it is unreadable.
  bool serve(const Request& request, const RouteMatch& match, Response& res,
             RequestScope& scope) const;
  // An internal GET of `path` for $expand or $filter: the route as this caller may read it
  // (the same privilege check, mode, board and handler). Its answer, an error included, is
  // query_apply's to judge; it never becomes the client's but for a page of a collection.
  Response readForQuery(const std::string& path, const std::string& query,
                        RequestScope& scope) const;
  // One audit line per change (any method but GET and HEAD) and per refusal.
  void audit(const Request& request, const Response& res, const Identity& caller) const;
  // If-Match on PATCH, PUT or DELETE: the ETag of the same path's GET, run now, must be one the
  // client names (else 412, or the GET's own error, and the change is not made).
  bool preconditionHolds(const Request& request, Response& res) const;
  // A change with an Idempotency-Key (docs/WEB.md "Idempotent retries"): asks the active SP
  // about the key, then replays the first result, refuses, or runs the change (the precondition
  // and the handler) with every command marked with the key, and records the result.
  void serveKeyed(const Request& request, const RouteMatch& match, Response& res,
                  RequestScope& scope, const std::string& key) const;
  // The answer to a retry whose change was applied but whose result was not recorded (the SP
  // died in between): PATCH/PUT 200 with the resource read now, DELETE 204, POST 201 with
  // Location when the created resource is known, else 204.
  void answerApplied(const Request& request, const std::string& created, Response& res) const;
  // A GET of `path` as the client of `request` would make it (same credentials, same checks).
  Response readAsClient(const Request& request, const std::string& path) const;
  // 503 for a route degraded mode does not serve, naming the faults on the status board.
  void answerDegraded(Response& res) const;
  std::optional<ipc::StatusSnapshot> readStatus() const;
  void addCommonHeaders(Response& res) const;

  RouteTable routes_;
  ServiceConfig config_;
  StatusReader read_status_;
  ipc::CommandClient& bus_;
  WallClockMs now_ms_;
  Authenticator authenticate_;
  // Board readability last logged, so a missing board is one log line, not one per request.
  enum class BoardState : int { Unknown, Readable, Unreadable };
  mutable std::atomic<BoardState> board_state_{BoardState::Unknown};
};

}  // namespace dualsp::web
