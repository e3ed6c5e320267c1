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
  void route(const Request& request, Response& res, Identity& caller) const;
  // The route's privilege against the caller's role: false with the error set on `res`
  // (401, 403, 429, 503). NoAuth routes pass without credentials.
  bool authorize(const Request& request, const Route& route, Response& res, Identity& caller) const;
  // One audit line per change (any method but GET and HEAD) and per refusal.
  void audit(const Request& request, const Response& res, const Identity& caller) const;
  // If-Match on PATCH, PUT or DELETE: the ETag of the same path's GET, run now, must be one the
  // client names (else 412, or the GET's own error, and the change is not made).
  bool preconditionHolds(const Request& request, Response& res) const;
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
