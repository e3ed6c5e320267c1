#pragma once
// The route table: every URL spweb serves, with its methods, the Redfish privilege it needs
// and whether degraded mode serves it. It is data (STYLE.md, from bmcweb): `spweb --routes`
// prints it and the tests read it, rather than `if`s scattered in handlers.

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "webserver/http_types.hpp"
#include "webserver/service_context.hpp"

namespace dualsp::web {

// Redfish_1.8.0_PrivilegeRegistry.json "PrivilegesUsed", plus NoAuth for the service root.
// Enforced by the dispatcher for every route (webserver/auth.hpp).
enum class Privilege : uint8_t {
  NoAuth,
  Login,
  ConfigureManager,
  ConfigureUsers,
  ConfigureComponents,
  ConfigureSelf,
};
std::string_view privilegeName(Privilege privilege);

// Which requests on a route --mode degraded serves; the others get 503.
enum class DegradedService : uint8_t {
  No,
  Yes,
  // The first path parameter is a Manager id: served unless it names the peer SP, so a sick
  // SP still describes itself (and answers 404 for unknown ids) but does not speak for its peer.
  ThisSpOnly,
};
std::string_view degradedServiceName(DegradedService degraded);

// Where a route's data comes from. The dispatcher reads the status board only for routes
// that use it (and answers 503 while it is unreadable); the others do not depend on it.
enum class DataSource : uint8_t {
  None,         // nothing but the request and the configuration
  StatusBoard,  // this SP's status board (shared memory), RequestContext::status
  LocalBus,     // commands to spd over the local bus, RequestContext::bus
  // Commands to spd, and the board when it is readable (RequestContext::status may be null):
  // what this SP knows of its peer from the heartbeats, without asking the peer.
  LocalBusAndBoard,
};
std::string_view dataSourceName(DataSource source);

// A named function (STYLE.md: named handlers, not long lambdas).
using Handler = void (*)(const RequestContext& ctx, Response& res);

// One pattern may have several routes, with disjoint methods, when its methods differ in
// privilege or degraded service (GET of a subscription is read in degraded mode, DELETE not).
struct Route {
  std::string pattern;  // "/redfish/v1/Managers/{ManagerId}": {Name} matches one segment
  MethodSet methods;
  Privilege privilege = Privilege::Login;
  DegradedService degraded = DegradedService::No;
  DataSource source = DataSource::StatusBoard;
  Handler handler = nullptr;
  // The $ query parameters the handler implements ("$top"); the dispatcher answers any other
  // $ parameter with 501 before the handler runs (docs/WEB.md "Protocol").
  std::vector<std::string_view> queries = {};
  // Served to an account that must change its password first (PasswordChangeRequired):
  // its own account and its session. Every other route answers 403 until it has.
  bool before_password_change = false;
  // Its GET is a Redfish resource: the generic query parameters apply to it ($expand, $select,
  // $filter, $top, $skip: query.hpp), besides those in `queries`. False for what is not one
  // (/redfish, the OData documents, the event stream): there they stay 501 like any other.
  bool generic_queries = true;
};

struct RouteMatch {
  // The route of the pattern that declares the method asked for; the pattern's first route
  // when none does (then the answer is 405 with `allowed`).
  const Route* route = nullptr;
  std::vector<std::string> params;
  MethodSet allowed;  // every method the pattern's routes declare: a 405's Allow header
};

class RouteTable {
 public:
  // Throws std::logic_error on a malformed pattern or one already declared for one of the
  // methods: a bug, found at start-up.
  void add(Route route);
  // A trailing slash is ignored ("/redfish/v1/" is "/redfish/v1"). Where several patterns
  // match, the one with the fewest parameters wins; of its routes, the one declaring `method`.
  std::optional<RouteMatch> match(std::string_view path, HttpMethod method = HttpMethod::Get) const;
  const std::vector<Route>& routes() const { return routes_; }
  // One line per route: path, methods, privilege, degraded service, data source.
  void print(std::ostream& out) const;

 private:
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> segments_;  // per route, the pattern split on '/'
};

// Does `mode` serve this matched request on SP `sp`?
bool servedInMode(const RouteMatch& match, ServeMode mode, SpId sp);

}  // namespace dualsp::web
