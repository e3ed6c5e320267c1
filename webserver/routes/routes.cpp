#include "webserver/routes/routes.hpp"

namespace dualsp::web {

RouteTable buildRouteTable() {
  RouteTable routes;
  requestRoutesServiceRoot(routes);
  requestRoutesSessionService(routes);
  requestRoutesAccountService(routes);
  requestRoutesManagers(routes);
  requestRoutesEthernetInterfaces(routes);
  requestRoutesLogServices(routes);
  requestRoutesChassis(routes);
  requestRoutesEventService(routes);
  return routes;
}

}  // namespace dualsp::web
