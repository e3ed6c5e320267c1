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

// The rescue subset is data: this test is where a change to it shows up in review.
TEST(RouteTable, SpwebTableDeclaresTheRescueSubset) {
  RouteTable table = buildRouteTable();
  std::ostringstream printed;
  table.print(printed);
  const std::string text = printed.str();
  STRCMP_CONTAINS("PATH", text.c_str());
  for (const Route& r : table.routes()) {
    STRCMP_CONTAINS(r.pattern.c_str(), text.c_str());
    CHECK(r.methods.contains(HttpMethod::Get));
    CHECK_FALSE(r.methods.contains(HttpMethod::Post));
  }
  LONGS_EQUAL(4, table.routes().size());
  CHECK(table.match("/redfish")->route->degraded == DegradedService::Yes);
  CHECK(table.match("/redfish/v1")->route->degraded == DegradedService::Yes);
  CHECK(table.match("/redfish/v1")->route->privilege == Privilege::NoAuth);
  CHECK(table.match("/redfish/v1/Managers")->route->degraded == DegradedService::Yes);
  CHECK(table.match("/redfish/v1/Managers/SPA")->route->degraded == DegradedService::ThisSpOnly);
  CHECK(table.match("/redfish/v1/Managers/SPA")->route->privilege == Privilege::Login);
  STRCMP_CONTAINS("this SP only", text.c_str());
}

TEST(RouteTable, MethodSetPrintsAsAnAllowHeader) {
  MethodSet methods{HttpMethod::Head, HttpMethod::Get, HttpMethod::Patch};
  STRCMP_EQUAL("GET, HEAD, PATCH", methods.toString().c_str());
  CHECK(parseMethod("GET") == HttpMethod::Get);
  CHECK_FALSE(parseMethod("get"));
  CHECK_FALSE(parseMethod("BREW"));
}
