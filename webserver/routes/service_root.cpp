// /redfish and /redfish/v1: the entry points every Redfish client starts from.

#include "ipc/status_board.hpp"
#include "webserver/protocol.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/routes/routes.hpp"
#include "webserver/routes/telemetry.hpp"

namespace dualsp::web {
namespace {

// ServiceRoot.v1_15_0 added Links.ManagerProvidingService; v1_17_0 is Redfish 2024.1.
constexpr std::string_view kServiceRootType = "#ServiceRoot.v1_17_0.ServiceRoot";
constexpr std::string_view kRedfishVersion = "1.17.0";

// DSP0266 "Protocol version": GET /redfish lists the versions served (redfishtool starts here).
void handleRedfishVersionsGet(const RequestContext& ctx, Response& res) {
  res.body = {{"v1", "/redfish/v1/"}};
}

void handleServiceRootGet(const RequestContext& ctx, Response& res) {
  const SpId sp = ctx.config.sp;
  Json body = {
      {"@odata.id", "/redfish/v1"},
      {"@odata.type", kServiceRootType},
      {"Id", "RootService"},
      {"Name", "DualSP Root Service"},
      {"RedfishVersion", kRedfishVersion},
      {"UUID", serviceRootUuid(ctx.config.array_id)},
      {"Vendor", "DualSP"},
      {"Managers", odataLink("/redfish/v1/Managers")},
  };
  // Degraded: links only to what the rescue subset serves.
  if (ctx.config.mode == ServeMode::Full) body["Chassis"] = odataLink("/redfish/v1/Chassis");
  if (ctx.config.mode == ServeMode::Full) {
    body["Storage"] = odataLink("/redfish/v1/Storage");
    body["Fabrics"] = odataLink("/redfish/v1/Fabrics");
    body["Systems"] = odataLink("/redfish/v1/Systems");
    body["TelemetryService"] = odataLink(std::string(kTelemetryServicePath));
    body["UpdateService"] = odataLink(std::string(kUpdateServicePath));
  }
  body["SessionService"] = odataLink(std::string(kSessionServicePath));
  body["AccountService"] = odataLink(std::string(kAccountServicePath));
  body["EventService"] = odataLink(std::string(kEventServicePath));  // both modes read it
#ifdef DUALSP_TLS_CERTIFICATES
  if (ctx.config.mode == ServeMode::Full)
    body["CertificateService"] = odataLink("/redfish/v1/CertificateService");
#endif
  body["Links"] = {{"ManagerProvidingService", odataLink(managerPath(sp))},
                   {"Sessions", odataLink(std::string(kSessionsPath))}};
  body["ProtocolFeaturesSupported"] = protocolFeaturesSupported();
  body["Oem"] = {{"DualSP",
                  {
                      {"ServingSp", std::string(1, spLetter(sp))},
                      {"Role", roleName(ctx.status->role)},
                      {"Mode", modeName(ctx.config.mode)},
                  }}};
  res.body = std::move(body);
}

}  // namespace

void requestRoutesServiceRoot(RouteTable& routes) {
  routes.add({.pattern = "/redfish",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::NoAuth,
              .degraded = DegradedService::Yes,
              .source = DataSource::None,
              .handler = handleRedfishVersionsGet,
              .generic_queries = false});
  routes.add({.pattern = "/redfish/v1",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::NoAuth,
              .degraded = DegradedService::Yes,
              .source = DataSource::StatusBoard,
              .handler = handleServiceRootGet});
}

}  // namespace dualsp::web
