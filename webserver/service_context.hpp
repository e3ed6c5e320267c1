#pragma once
// What a route handler knows: who is answering (this SP, its mode, the array), the request,
// one consistent snapshot of the status board read for this request (on routes that use the
// board) and the local bus to spd, over which every other command goes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/event_destination.hpp"
#include "ipc/local_bus.hpp"
#include "ipc/status_board.hpp"
#include "platform/sp_types.hpp"
#include "webserver/http_types.hpp"

namespace dualsp::web {

// spd starts spweb in full mode on a healthy SP, in degraded mode (the rescue subset) on an
// unhealthy one (docs/DESIGN.md "Processes on one SP").
enum class ServeMode : uint8_t { Full, Degraded };

constexpr std::string_view modeName(ServeMode mode) {
  return mode == ServeMode::Full ? "full" : "degraded";
}

inline std::optional<ServeMode> parseMode(std::string_view s) {
  if (s == "full") return ServeMode::Full;
  if (s == "degraded") return ServeMode::Degraded;
  return std::nullopt;
}

class RequestReadCache;

struct ServiceConfig {
  SpId sp = SpId::A;
  ServeMode mode = ServeMode::Full;
  std::string array_id;
  // Where event subscriptions may not point (ipc/event_destination.hpp): the special networks
  // and the SPs' own (spweb --refused-network).
  ipc::DestinationPolicy destinations;
  // What ManagerNetworkProtocol shows: spweb's ports (https_port -1: no HTTPS) and whether the
  // plain port redirects to HTTPS.
  int http_port = 80;
  int https_port = -1;
  bool redirect_plain = false;
};

// Who sent the request (webserver/auth.hpp): the account spd found for its credentials.
struct Identity {
  std::string user;
  std::string role;     // Administrator, Operator, ReadOnly
  std::string session;  // the session's id; empty for HTTP Basic
  bool password_change_required = false;
};

struct RequestContext {
  const Request& request;
  const std::vector<std::string>& params;  // path parameters, in the pattern's order
  const ServiceConfig& config;
  // This SP's board, read once for this request; null unless the route's data source is
  // DataSource::StatusBoard (route_table.hpp).
  const ipc::StatusSnapshot* status;
  ipc::CommandClient& bus;  // commands to spd (webserver/bus_command.hpp)
  int64_t now_ms;           // wall clock, ms since 1970
  // The authenticated caller; null on NoAuth routes (the dispatcher checked the route's
  // privilege before the handler runs).
  const Identity* caller = nullptr;
  // The request's read cache (request_read_cache.hpp), also behind `bus`, on a GET or HEAD:
  // runJsonCommand parses a reused answer once. Null otherwise.
  RequestReadCache* reads = nullptr;
};

}  // namespace dualsp::web
