// The array as a Redfish ComputerSystem (/redfish/v1/Systems/Array): what Swordfish clients
// look for to know they talk to a storage server (HostingRoles StorageServer, the Discovery
// profile's check), linking the array's Storage, its enclosure and the two SPs that manage
// it. It computes nothing itself: the SPs (Managers) and the Storage resource hold the state.

#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kSystemsPath = "/redfish/v1/Systems";
constexpr std::string_view kSystemId = "Array";
constexpr std::string_view kSystemCollectionType =
    "#ComputerSystemCollection.ComputerSystemCollection";
constexpr std::string_view kSystemType = "#ComputerSystem.v1_27_0.ComputerSystem";

std::string systemPath() {
  return std::string(kSystemsPath) + "/" + std::string(kSystemId);
}

void handleSystemCollectionGet(const RequestContext&, Response& res) {
  res.body = {{"@odata.id", kSystemsPath},
              {"@odata.type", kSystemCollectionType},
              {"Name", "Computer systems"},
              {"Members@odata.count", 1},
              {"Members", Json::array({odataLink(systemPath())})}};
}

void handleSystemGet(const RequestContext& ctx, Response& res) {
  if (ctx.params.at(0) != kSystemId)
    return messages::resourceNotFound(res, "ComputerSystem", ctx.params.at(0));
  const Json managers = {odataLink(managerPath(SpId::A)), odataLink(managerPath(SpId::B))};
  res.body = {
      {"@odata.id", systemPath()},
      {"@odata.type", kSystemType},
      {"Id", kSystemId},
      {"Name", "Storage array"},
      {"Description", "The dual-controller storage array DualSP manages"},
      {"SystemType", "Physical"},
      {"HostingRoles", Json::array({"StorageServer"})},
      {"Storage", odataLink("/redfish/v1/Storage")},
      {"Links", {{"Chassis", Json::array({odataLink(enclosurePath())})}, {"ManagedBy", managers}}}};
}

}  // namespace

void requestRoutesSystems(RouteTable& routes) {
  auto get = [&](std::string pattern, Handler handler) {
    routes.add({.pattern = std::move(pattern),
                .methods = {HttpMethod::Get, HttpMethod::Head},
                .privilege = Privilege::Login,
                .degraded = DegradedService::No,
                .source = DataSource::None,
                .handler = handler});
  };
  get(std::string(kSystemsPath), handleSystemCollectionGet);
  get(std::string(kSystemsPath) + "/{ComputerSystemId}", handleSystemGet);
}

}  // namespace dualsp::web
