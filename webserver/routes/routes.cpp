#include "webserver/routes/routes.hpp"

namespace dualsp::web {

RouteTable buildRouteTable() {
  RouteTable routes;
  requestRoutesServiceRoot(routes);
  requestRoutesOData(routes);
  requestRoutesSessionService(routes);
  requestRoutesAccountService(routes);
  requestRoutesManagers(routes);
  requestRoutesEthernetInterfaces(routes);
  requestRoutesLogServices(routes);
  requestRoutesChassis(routes);
  requestRoutesThermal(routes);
  requestRoutesPower(routes);
  requestRoutesEventService(routes);
  requestRoutesStorage(routes);
  requestRoutesFabrics(routes);
  requestRoutesSystems(routes);
  requestRoutesTelemetryService(routes);
  requestRoutesUpdateService(routes);
  requestRoutesConsole(routes);
#ifdef DUALSP_TLS_CERTIFICATES
  requestRoutesCertificateService(routes);
#endif
  return routes;
}

}  // namespace dualsp::web
