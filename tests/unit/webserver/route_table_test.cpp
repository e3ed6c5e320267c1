#include <CppUTest/TestHarness.h>

#include <sstream>
#include <stdexcept>

#include "webserver/route_table.hpp"
#include "webserver/routes/routes.hpp"

using namespace dualsp;
using namespace dualsp::web;

namespace {

void handleNothing(const RequestContext&, Response&) {}

Route getRoute(std::string pattern, DegradedService degraded = DegradedService::No) {
  return {.pattern = std::move(pattern),
          .methods = {HttpMethod::Get},
          .privilege = Privilege::Login,
          .degraded = degraded,
          .handler = handleNothing};
}

}  // namespace

TEST_GROUP(RouteTable){};

TEST(RouteTable, MatchesWithAndWithoutTrailingSlash) {
  RouteTable table;
  table.add(getRoute("/redfish/v1"));
  CHECK(table.match("/redfish/v1").has_value());
  CHECK(table.match("/redfish/v1/").has_value());
  CHECK_FALSE(table.match("/redfish/v1//"));
  CHECK_FALSE(table.match("/redfish"));
  CHECK_FALSE(table.match("/redfish/v1/Managers"));
  CHECK_FALSE(table.match(""));
}

TEST(RouteTable, ExtractsParametersAndPrefersLiterals) {
  RouteTable table;
  table.add(getRoute("/redfish/v1/Managers/{ManagerId}"));
  table.add(getRoute("/redfish/v1/Managers/SPA"));
  auto param = table.match("/redfish/v1/Managers/SPB/");
  CHECK(param.has_value());
  STRCMP_EQUAL("/redfish/v1/Managers/{ManagerId}", param->route->pattern.c_str());
  LONGS_EQUAL(1, param->params.size());
  STRCMP_EQUAL("SPB", param->params[0].c_str());
  auto literal = table.match("/redfish/v1/Managers/SPA");
  CHECK(literal.has_value());
  STRCMP_EQUAL("/redfish/v1/Managers/SPA", literal->route->pattern.c_str());
  CHECK(literal->params.empty());
  CHECK_FALSE(table.match("/redfish/v1/Managers/"));  // the collection, not declared here
}

TEST(RouteTable, RefusesMalformedAndDuplicatePatterns) {
  RouteTable table;
  table.add(getRoute("/redfish/v1"));
  CHECK_THROWS(std::logic_error, table.add(getRoute("/redfish/v1")));
  CHECK_THROWS(std::logic_error, table.add(getRoute("/redfish/v1/")));
  CHECK_THROWS(std::logic_error, table.add(getRoute("redfish")));
  CHECK_THROWS(std::logic_error, table.add(getRoute("/a", DegradedService::ThisSpOnly)));
  Route no_handler = getRoute("/b");
  no_handler.handler = nullptr;
  CHECK_THROWS(std::logic_error, table.add(no_handler));
}

// One pattern, two routes: GET read in degraded mode, DELETE not; 405 names both.
TEST(RouteTable, APatternMayHaveARoutePerMethod) {
  RouteTable table;
  table.add(getRoute("/s/{Id}", DegradedService::Yes));
  Route del = getRoute("/s/{Id}");
  del.methods = {HttpMethod::Delete};
  del.privilege = Privilege::ConfigureManager;
  table.add(del);
  Route again = getRoute("/s/{Id}");
  again.methods = {HttpMethod::Get, HttpMethod::Post};
  CHECK_THROWS(std::logic_error, table.add(again));  // GET is taken
  auto get = table.match("/s/1", HttpMethod::Get);
  CHECK(get->route->degraded == DegradedService::Yes);
  auto remove = table.match("/s/1", HttpMethod::Delete);
  CHECK(remove->route->privilege == Privilege::ConfigureManager);
  STRCMP_EQUAL("1", remove->params.at(0).c_str());
  auto patch = table.match("/s/1", HttpMethod::Patch);
  CHECK_FALSE(patch->route->methods.contains(HttpMethod::Patch));
  STRCMP_EQUAL("GET, DELETE", patch->allowed.toString().c_str());
}

TEST(RouteTable, DegradedModeServesOnlyFlaggedRoutes) {
  RouteTable table;
  table.add(getRoute("/no", DegradedService::No));
  table.add(getRoute("/yes", DegradedService::Yes));
  table.add(getRoute("/m/{ManagerId}", DegradedService::ThisSpOnly));
  auto no = *table.match("/no");
  auto yes = *table.match("/yes");
  CHECK(servedInMode(no, ServeMode::Full, SpId::A));
  CHECK_FALSE(servedInMode(no, ServeMode::Degraded, SpId::A));
  CHECK(servedInMode(yes, ServeMode::Degraded, SpId::A));
  CHECK(servedInMode(*table.match("/m/SPA"), ServeMode::Degraded, SpId::A));
  CHECK_FALSE(servedInMode(*table.match("/m/SPB"), ServeMode::Degraded, SpId::A));
  CHECK(servedInMode(*table.match("/m/SPB"), ServeMode::Degraded, SpId::B));
  CHECK_FALSE(servedInMode(*table.match("/m/SPA"), ServeMode::Degraded, SpId::B));
  CHECK(servedInMode(*table.match("/m/SPA"), ServeMode::Full, SpId::B));
  CHECK(servedInMode(*table.match("/m/XYZ"), ServeMode::Degraded, SpId::A));  // answers 404
}

// The rescue subset, the privileges and the data sources are data: this test is where a
// change to them shows up in review.
TEST(RouteTable, SpwebTableDeclaresTheRescueSubset) {
  RouteTable table = buildRouteTable();
  std::ostringstream printed;
  table.print(printed);
  const std::string text = printed.str();
  STRCMP_CONTAINS("PATH", text.c_str());
  STRCMP_CONTAINS("DATA", text.c_str());
  for (const Route& r : table.routes()) STRCMP_CONTAINS(r.pattern.c_str(), text.c_str());
#ifdef DUALSP_TLS_CERTIFICATES
  LONGS_EQUAL(108, table.routes().size());  // CertificateService, NetworkProtocol: 6
#else
  // Thermal, Power, UpdateService: 3; SubmitTestEvent: 1; the console: 2
  LONGS_EQUAL(102, table.routes().size());
#endif

  struct Expected {
    const char* path;
    Privilege privilege;
    DegradedService degraded;
    DataSource source;
    bool post;
  };
  const Expected expected[] = {
      {"/redfish", Privilege::NoAuth, DegradedService::Yes, DataSource::None, false},
      {"/redfish/v1", Privilege::NoAuth, DegradedService::Yes, DataSource::StatusBoard, false},
      {"/redfish/v1/odata", Privilege::NoAuth, DegradedService::Yes, DataSource::None, false},
      // The web console's page and files: no data in them, the rescue page when degraded.
      {"/", Privilege::NoAuth, DegradedService::Yes, DataSource::None, false},
      {"/console/console.js", Privilege::NoAuth, DegradedService::Yes, DataSource::None, false},
      {"/redfish/v1/$metadata", Privilege::NoAuth, DegradedService::Yes, DataSource::None, false},
      // The array's storage: read by any user, changed with ConfigureComponents, never in
      // degraded mode (its model is spd's).
      {"/redfish/v1/Storage/Array/Volumes", Privilege::Login, DegradedService::No,
       DataSource::LocalBus, false},
      {"/redfish/v1/Storage/Array/StoragePools/3", Privilege::Login, DegradedService::No,
       DataSource::LocalBus, false},
      {"/redfish/v1/Storage/Array", Privilege::Login, DegradedService::No, DataSource::LocalBus,
       false},
      // Each SP's performance figures: read by any user, full mode only; the definitions are
      // fixed data, a report is spd's answer (the peer's fresh, through the peer link).
      {"/redfish/v1/TelemetryService", Privilege::Login, DegradedService::No, DataSource::None,
       false},
      {"/redfish/v1/TelemetryService/MetricDefinitions/CpuPercent", Privilege::Login,
       DegradedService::No, DataSource::None, false},
      {"/redfish/v1/TelemetryService/MetricReportDefinitions", Privilege::Login,
       DegradedService::No, DataSource::None, false},
      {"/redfish/v1/TelemetryService/MetricReportDefinitions/SPA", Privilege::Login,
       DegradedService::No, DataSource::None, false},
      {"/redfish/v1/TelemetryService/MetricReports", Privilege::Login, DegradedService::No,
       DataSource::None, false},
      {"/redfish/v1/TelemetryService/MetricReports/SPB", Privilege::Login, DegradedService::No,
       DataSource::LocalBus, false},
      {"/redfish/v1/Managers", Privilege::Login, DegradedService::Yes, DataSource::StatusBoard,
       false},
      {"/redfish/v1/Managers/SPA", Privilege::Login, DegradedService::ThisSpOnly,
       DataSource::LocalBusAndBoard, false},
      {"/redfish/v1/Managers/SPA/Actions/Manager.Reset", Privilege::ConfigureManager,
       DegradedService::ThisSpOnly, DataSource::LocalBus, true},
      {"/redfish/v1/Managers/SPA/Actions/Manager.ForceFailover", Privilege::ConfigureManager,
       DegradedService::No, DataSource::LocalBus, true},
      {"/redfish/v1/SessionService", Privilege::Login, DegradedService::Yes, DataSource::LocalBus,
       false},
      {"/redfish/v1/SessionService/Sessions", Privilege::Login, DegradedService::Yes,
       DataSource::LocalBus, false},
      {"/redfish/v1/AccountService/Roles", Privilege::Login, DegradedService::Yes, DataSource::None,
       false},
      {"/redfish/v1/Chassis", Privilege::Login, DegradedService::No, DataSource::None, false},
      {"/redfish/v1/Chassis/Enclosure", Privilege::Login, DegradedService::No, DataSource::LocalBus,
       false},
      {"/redfish/v1/Chassis/Enclosure/Sensors/SPA_Fan0", Privilege::Login, DegradedService::No,
       DataSource::LocalBus, false},
      {"/redfish/v1/Chassis/Enclosure/ThermalSubsystem/Fans/SPA_Fan0", Privilege::Login,
       DegradedService::No, DataSource::LocalBus, false},
      {"/redfish/v1/Chassis/Enclosure/PowerSubsystem/PowerSupplies/SPA_PSU0", Privilege::Login,
       DegradedService::No, DataSource::LocalBus, false},
      // The legacy Thermal and Power, beside the subsystems: the same reads, the same rules.
      {"/redfish/v1/Chassis/Enclosure/Thermal", Privilege::Login, DegradedService::No,
       DataSource::LocalBus, false},
      {"/redfish/v1/Chassis/Enclosure/Power", Privilege::Login, DegradedService::No,
       DataSource::LocalBus, false},
      // A disabled UpdateService: fixed data, full mode like the other services it sits with.
      {"/redfish/v1/UpdateService", Privilege::Login, DegradedService::No, DataSource::None, false},
      {"/redfish/v1/Managers/SPA/LogServices", Privilege::Login, DegradedService::ThisSpOnly,
       DataSource::None, false},
      {"/redfish/v1/Managers/SPA/LogServices/Log", Privilege::Login, DegradedService::ThisSpOnly,
       DataSource::None, false},
      {"/redfish/v1/Managers/SPA/LogServices/Log/Entries", Privilege::Login,
       DegradedService::ThisSpOnly, DataSource::LocalBus, false},
      {"/redfish/v1/Managers/SPA/LogServices/Log/Entries/7", Privilege::Login,
       DegradedService::ThisSpOnly, DataSource::LocalBus, false},
  };
  for (const Expected& e : expected) {
    auto match = table.match(e.path);
    CHECK_TEXT(match.has_value(), e.path);
    CHECK_TEXT(match->route->privilege == e.privilege, e.path);
    CHECK_TEXT(match->route->degraded == e.degraded, e.path);
    CHECK_TEXT(match->route->source == e.source, e.path);
    CHECK_TEXT(match->route->methods.contains(HttpMethod::Post) == e.post, e.path);
    CHECK_TEXT(match->route->methods.contains(HttpMethod::Get) == !e.post, e.path);
  }
  // Writes of the configuration store and the event stream: full mode only; reads of the
  // event service and the array event log: served degraded too.
  struct ExpectedMethod {
    const char* path;
    HttpMethod method;
    Privilege privilege;
    DegradedService degraded;
  };
  const ExpectedMethod by_method[] = {
      {"/redfish/v1/Storage/Array/Volumes", HttpMethod::Post, Privilege::ConfigureComponents,
       DegradedService::No},
      {"/redfish/v1/Storage/Array/Volumes/1", HttpMethod::Patch, Privilege::ConfigureComponents,
       DegradedService::No},
      {"/redfish/v1/Storage/Array/StoragePools/1", HttpMethod::Delete,
       Privilege::ConfigureComponents, DegradedService::No},
      {"/redfish/v1/Chassis/Enclosure", HttpMethod::Patch, Privilege::ConfigureComponents,
       DegradedService::No},
      {"/redfish/v1/Managers/SPA", HttpMethod::Patch, Privilege::ConfigureManager,
       DegradedService::No},
      {"/redfish/v1/Managers/SPA/EthernetInterfaces", HttpMethod::Get, Privilege::Login,
       DegradedService::ThisSpOnly},
      {"/redfish/v1/Managers/SPA/EthernetInterfaces/Floating", HttpMethod::Patch,
       Privilege::ConfigureManager, DegradedService::No},
      {"/redfish/v1/EventService", HttpMethod::Get, Privilege::Login, DegradedService::Yes},
      {"/redfish/v1/EventService/Subscriptions", HttpMethod::Get, Privilege::Login,
       DegradedService::Yes},
      {"/redfish/v1/EventService/Subscriptions", HttpMethod::Post, Privilege::ConfigureManager,
       DegradedService::No},
      {"/redfish/v1/EventService/Subscriptions/3", HttpMethod::Get, Privilege::Login,
       DegradedService::Yes},
      {"/redfish/v1/EventService/Subscriptions/3", HttpMethod::Delete, Privilege::ConfigureManager,
       DegradedService::No},
      {"/redfish/v1/EventService/SSE", HttpMethod::Get, Privilege::Login, DegradedService::No},
      {"/redfish/v1/EventService/Actions/EventService.SubmitTestEvent", HttpMethod::Post,
       Privilege::ConfigureManager, DegradedService::No},
      {"/redfish/v1/Managers/SPB/LogServices/Events", HttpMethod::Get, Privilege::Login,
       DegradedService::Yes},
      {"/redfish/v1/Managers/SPB/LogServices/Events/Entries", HttpMethod::Get, Privilege::Login,
       DegradedService::Yes},
      {"/redfish/v1/Managers/SPB/LogServices/Events/Entries/4", HttpMethod::Get, Privilege::Login,
       DegradedService::Yes},
  };
  for (const ExpectedMethod& e : by_method) {
    auto match = table.match(e.path, e.method);
    CHECK_TEXT(match.has_value(), e.path);
    CHECK_TEXT(match->route->methods.contains(e.method), e.path);
    CHECK_TEXT(match->route->privilege == e.privilege, e.path);
    CHECK_TEXT(match->route->degraded == e.degraded, e.path);
  }
  STRCMP_CONTAINS("this SP only", text.c_str());
  STRCMP_CONTAINS("ConfigureManager", text.c_str());
  STRCMP_CONTAINS("bus+board", text.c_str());
}

TEST(RouteTable, MethodSetPrintsAsAnAllowHeader) {
  MethodSet methods{HttpMethod::Head, HttpMethod::Get, HttpMethod::Patch};
  STRCMP_EQUAL("GET, HEAD, PATCH", methods.toString().c_str());
  CHECK(parseMethod("GET") == HttpMethod::Get);
  CHECK_FALSE(parseMethod("get"));
  CHECK_FALSE(parseMethod("BREW"));
}
