#include "webserver/routes/routes.hpp"

namespace dualsp::web {

RouteTable buildRouteTable() {
  RouteTable routes;
  requestRoutesServiceRoot(routes);
  requestRoutesSessionService(routes);
  requestRoutesManagers(routes);
  requestRoutesLogServices(routes);
  requestRoutesChassis(routes);
  return routes;
}

}  // namespace dualsp::web
