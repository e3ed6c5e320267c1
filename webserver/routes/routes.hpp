#pragma once
// Every resource area adds its routes here, in one place (bmcweb's requestRoutes* pattern):
// a reader finds /redfish/v1/Managers in managers.cpp without searching.

#include "webserver/route_table.hpp"

namespace dualsp::web {

void requestRoutesServiceRoot(RouteTable& routes);         // routes/service_root.cpp
void requestRoutesOData(RouteTable& routes);               // routes/odata.cpp
void requestRoutesManagers(RouteTable& routes);            // routes/managers.cpp
void requestRoutesLogServices(RouteTable& routes);         // routes/log_services.cpp
void requestRoutesChassis(RouteTable& routes);             // routes/chassis.cpp
void requestRoutesThermal(RouteTable& routes);             // routes/thermal.cpp
void requestRoutesPower(RouteTable& routes);               // routes/power.cpp
void requestRoutesSessionService(RouteTable& routes);      // routes/session_service.cpp
void requestRoutesAccountService(RouteTable& routes);      // routes/account_service.cpp
void requestRoutesEthernetInterfaces(RouteTable& routes);  // routes/ethernet_interfaces.cpp
void requestRoutesEventService(RouteTable& routes);        // routes/event_service.cpp
void requestRoutesStorage(RouteTable& routes);             // routes/storage.cpp
void requestRoutesFabrics(RouteTable& routes);             // routes/fabrics.cpp
void requestRoutesSystems(RouteTable& routes);             // routes/systems.cpp
void requestRoutesTelemetryService(RouteTable& routes);    // routes/telemetry_service.cpp
void requestRoutesUpdateService(RouteTable& routes);       // routes/update_service.cpp
void requestRoutesConsole(RouteTable& routes);             // routes/console.cpp: `/`
// Where spweb has TLS (DUALSP_TLS_CERTIFICATES): CertificateService, NetworkProtocol.
void requestRoutesCertificateService(RouteTable& routes);  // routes/certificate_service.cpp

// The whole table spweb serves.
RouteTable buildRouteTable();

}  // namespace dualsp::web
