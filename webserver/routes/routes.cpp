#include "webserver/routes/routes.hpp"

namespace dualsp::web {

RouteTable buildRouteTable() {
  RouteTable routes;
  requestRoutesServiceRoot(routes);
  requestRoutesManagers(routes);
  return routes;
}

}  // namespace dualsp::web
