// /redfish/v1/SessionService: a placeholder until sessions exist (docs/WEB.md "Not yet").
// DSP0266 requires the service root to link the session collection (Links.Sessions); it is
// served, empty, with ServiceEnabled false: no session can be created (POST is 405) and
// requests need none. Both modes serve it, since both service roots link it.

#include "webserver/redfish_format.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kSessionServiceType = "#SessionService.v1_1_9.SessionService";
constexpr std::string_view kSessionCollectionType = "#SessionCollection.SessionCollection";
// The Redfish default idle timeout (SessionService_v1.xml allows 30..86400 s).
constexpr int kSessionTimeoutSeconds = 1800;

void handleSessionServiceGet(const RequestContext&, Response& res) {
  res.body = {
      {"@odata.id", kSessionServicePath},
      {"@odata.type", kSessionServiceType},
      {"Id", "SessionService"},
      {"Name", "Session Service"},
      {"ServiceEnabled", false},
      {"SessionTimeout", kSessionTimeoutSeconds},
      {"Sessions", odataLink(std::string(kSessionsPath))},
  };
}

void handleSessionCollectionGet(const RequestContext&, Response& res) {
  res.body = {
      {"@odata.id", kSessionsPath},   {"@odata.type", kSessionCollectionType},
      {"Name", "Session Collection"}, {"Members@odata.count", 0},
      {"Members", Json::array()},
  };
}

}  // namespace

void requestRoutesSessionService(RouteTable& routes) {
  routes.add({.pattern = std::string(kSessionServicePath),
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::None,
              .handler = handleSessionServiceGet});
  routes.add({.pattern = std::string(kSessionsPath),
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::None,
              .handler = handleSessionCollectionGet});
}

}  // namespace dualsp::web
