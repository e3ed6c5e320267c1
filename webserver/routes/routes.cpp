#include "webserver/routes/routes.hpp"

namespace dualsp::web {

RouteTable buildRouteTable() {
  RouteTable routes;
  requestRoutesServiceRoot(routes);
  requestRoutesManagers(routes);
  requestRoutesLogServices(routes);
  return routes;
}

}  // namespace dualsp::web
