// /redfish/v1/odata and /redfish/v1/$metadata: what an OData client reads before anything
// else (DSP0266 "Service documents"). Both NoAuth, both modes.

#include "webserver/routes/odata.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "webserver/redfish_format.hpp"
#include "webserver/routes/routes.hpp"
#include "webserver/routes/telemetry.hpp"

namespace dualsp::web {
namespace {

// The @odata.type of every body spweb writes, by resource area; the versions are the ones
// the routes' own constants name.
constexpr std::array<std::string_view, 71> kODataTypes = {
    "#ServiceRoot.v1_17_0.ServiceRoot",
    "#SessionService.v1_1_9.SessionService",
    "#SessionCollection.SessionCollection",
    "#Session.v1_7_2.Session",
    "#AccountService.v1_15_0.AccountService",
    "#ManagerAccountCollection.ManagerAccountCollection",
    "#ManagerAccount.v1_12_0.ManagerAccount",
    "#RoleCollection.RoleCollection",
    "#Role.v1_3_2.Role",
    "#ManagerCollection.ManagerCollection",
    "#Manager.v1_19_0.Manager",
    "#Redundancy.v1_7_0.Redundancy",
    "#EthernetInterfaceCollection.EthernetInterfaceCollection",
    "#EthernetInterface.v1_12_4.EthernetInterface",
    "#LogServiceCollection.LogServiceCollection",
    "#LogService.v1_8_0.LogService",
    "#LogEntryCollection.LogEntryCollection",
    "#LogEntry.v1_17_0.LogEntry",  // an SP's own log (routes/log_services.cpp)
    "#LogEntry.v1_21_0.LogEntry",  // the array event log (ipc/event_json.cpp)
    "#ChassisCollection.ChassisCollection",
    "#Chassis.v1_25_0.Chassis",
    "#SensorCollection.SensorCollection",
    "#Sensor.v1_10_0.Sensor",
    "#ThermalSubsystem.v1_3_0.ThermalSubsystem",
    "#FanCollection.FanCollection",
    "#Fan.v1_5_0.Fan",
    "#PowerSubsystem.v1_1_0.PowerSubsystem",
    "#PowerSupplyCollection.PowerSupplyCollection",
    "#PowerSupply.v1_5_0.PowerSupply",
    "#Thermal.v1_7_3.Thermal",  // the legacy resources (routes/thermal.cpp, routes/power.cpp)
    "#Power.v1_7_3.Power",
    "#EventService.v1_12_0.EventService",
    "#EventDestinationCollection.EventDestinationCollection",
    "#EventDestination.v1_16_0.EventDestination",
    "#Event.v1_13_0.Event",     // the SSE stream and event deliveries
    "#Message.v1_1_1.Message",  // @Message.ExtendedInfo of every error
    // The array's storage (routes/storage.cpp).
    "#StorageCollection.StorageCollection",
    "#Storage.v1_21_0.Storage",
    "#Drive.v1_22_0.Drive",
    "#DriveCollection.DriveCollection",
    "#StoragePoolCollection.StoragePoolCollection",
    "#StoragePool.v1_9_1.StoragePool",
    "#VolumeCollection.VolumeCollection",
    "#Volume.v1_10_2.Volume",
    "#StorageControllerCollection.StorageControllerCollection",
    "#StorageController.v1_11_0.StorageController",
    "#PortCollection.PortCollection",
    "#Port.v1_18_0.Port",
    // Hosts' access to the volumes (routes/fabrics.cpp).
    "#FabricCollection.FabricCollection",
    "#Fabric.v1_4_0.Fabric",
    "#ComputerSystemCollection.ComputerSystemCollection",  // routes/systems.cpp
    "#ComputerSystem.v1_27_0.ComputerSystem",
    "#EndpointCollection.EndpointCollection",
    "#Endpoint.v1_8_2.Endpoint",
    "#EndpointGroupCollection.EndpointGroupCollection",
    "#EndpointGroup.v1_3_4.EndpointGroup",
    "#ConnectionCollection.ConnectionCollection",
    "#Connection.v1_4_0.Connection",
    // Each SP's performance figures (routes/telemetry_service.cpp).
    "#TelemetryService.v1_4_1.TelemetryService",
    "#MetricDefinitionCollection.MetricDefinitionCollection",
    "#MetricDefinition.v1_3_5.MetricDefinition",
    "#MetricReportDefinitionCollection.MetricReportDefinitionCollection",
    "#MetricReportDefinition.v1_4_7.MetricReportDefinition",
    "#MetricReportCollection.MetricReportCollection",
    "#MetricReport.v1_5_2.MetricReport",
    "#UpdateService.v1_17_0.UpdateService",  // routes/update_service.cpp
    // The HTTPS certificate (routes/certificate_service.cpp), where spweb has TLS.
    "#CertificateService.v1_2_1.CertificateService",
    "#CertificateLocations.v1_0_4.CertificateLocations",
    "#ManagerNetworkProtocol.v1_12_0.ManagerNetworkProtocol",
    "#CertificateCollection.CertificateCollection",
    "#Certificate.v1_11_0.Certificate",
};

// The entity container the service's extends: ServiceRoot_v1.xml declares ServiceContainer
// only in some versions, v1_16_0 the latest up to the v1_17_0 the service root answers.
constexpr std::string_view kServiceContainerNamespace = "ServiceRoot.v1_16_0";

// Namespaces the bodies use without naming them in an @odata.type: Status, Location and
// the enums of Resource_v1.xml, and the service container's.
constexpr std::array<std::string_view, 3> kSupportingNamespaces = {"Resource", "Resource.v1_0_0",
                                                                   kServiceContainerNamespace};

constexpr std::string_view kSchemaBase = "http://redfish.dmtf.org/schemas/v1/";

// "#Manager.v1_19_0.Manager" -> "Manager.v1_19_0"; "#ManagerCollection.ManagerCollection" ->
// "ManagerCollection".
std::string_view namespaceOf(std::string_view odata_type) {
  odata_type.remove_prefix(1);
  return odata_type.substr(0, odata_type.rfind('.'));
}

// "Manager.v1_19_0" -> "Manager": the schema file is Manager_v1.xml.
std::string_view schemaOf(std::string_view ns) {
  return ns.substr(0, ns.find('.'));
}

std::string buildMetadataDocument() {
  std::map<std::string_view, std::set<std::string_view>> schemas;  // schema -> namespaces
  for (std::string_view ns : kSupportingNamespaces) schemas[schemaOf(ns)].insert(ns);
  for (std::string_view type : kODataTypes) {
    const std::string_view ns = namespaceOf(type);
    schemas[schemaOf(ns)].insert(schemaOf(ns));
    schemas[schemaOf(ns)].insert(ns);
  }
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<edmx:Edmx xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\" Version=\"4.0\">\n";
  for (const auto& [schema, namespaces] : schemas) {
    out += "  <edmx:Reference Uri=\"" + std::string(kSchemaBase) + std::string(schema) +
           "_v1.xml\">\n";
    for (std::string_view ns : namespaces)
      out += "    <edmx:Include Namespace=\"" + std::string(ns) + "\"/>\n";
    out += "  </edmx:Reference>\n";
  }
  out +=
      "  <edmx:DataServices>\n"
      "    <Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" Namespace=\"Service\">\n"
      "      <EntityContainer Name=\"Service\" Extends=\"" +
      std::string(kServiceContainerNamespace) +
      ".ServiceContainer\"/>\n"
      "    </Schema>\n"
      "  </edmx:DataServices>\n"
      "</edmx:Edmx>\n";
  return out;
}

// The service root's top-level resources, as its links name them; `degraded`: linked (and
// served) in degraded mode too.
struct ServiceDocumentEntry {
  std::string_view name;
  std::string_view url;
  bool degraded;
};
#ifdef DUALSP_TLS_CERTIFICATES
constexpr size_t kServiceDocumentEntries = 13;
#else
constexpr size_t kServiceDocumentEntries = 12;
#endif
constexpr std::array<ServiceDocumentEntry, kServiceDocumentEntries> kServiceDocument{{
    {"Service", "/redfish/v1/", true},
    {"Managers", "/redfish/v1/Managers", true},
    {"Chassis", "/redfish/v1/Chassis", false},
    {"Storage", "/redfish/v1/Storage", false},
    {"Fabrics", "/redfish/v1/Fabrics", false},
    {"Systems", "/redfish/v1/Systems", false},
    {"SessionService", kSessionServicePath, true},
    {"AccountService", kAccountServicePath, true},
    {"EventService", kEventServicePath, true},
    {"Sessions", kSessionsPath, true},
    {"TelemetryService", kTelemetryServicePath, false},
    {"UpdateService", kUpdateServicePath, false},
#ifdef DUALSP_TLS_CERTIFICATES
    {"CertificateService", "/redfish/v1/CertificateService", false},
#endif
}};

void handleODataServiceGet(const RequestContext& ctx, Response& res) {
  Json value = Json::array();
  for (const ServiceDocumentEntry& e : kServiceDocument) {
    if (ctx.config.mode == ServeMode::Degraded && !e.degraded) continue;
    value.push_back({{"name", e.name}, {"kind", "Singleton"}, {"url", e.url}});
  }
  res.body = {{"@odata.context", "/redfish/v1/$metadata"}, {"value", std::move(value)}};
}

void handleMetadataGet(const RequestContext&, Response& res) {
  res.setText("application/xml; charset=utf-8", metadataDocument());
}

}  // namespace

std::span<const std::string_view> odataTypesServed() {
  return kODataTypes;
}

bool isODataTypeServed(std::string_view odata_type) {
  return std::find(kODataTypes.begin(), kODataTypes.end(), odata_type) != kODataTypes.end();
}

const std::string& metadataDocument() {
  static const std::string document = buildMetadataDocument();
  return document;
}

void requestRoutesOData(RouteTable& routes) {
  routes.add({.pattern = "/redfish/v1/odata",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::NoAuth,
              .degraded = DegradedService::Yes,
              .source = DataSource::None,
              .handler = handleODataServiceGet,
              .generic_queries = false});
  routes.add({.pattern = "/redfish/v1/$metadata",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::NoAuth,
              .degraded = DegradedService::Yes,
              .source = DataSource::None,
              .handler = handleMetadataGet,
              .generic_queries = false});
}

}  // namespace dualsp::web
