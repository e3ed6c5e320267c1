// /redfish/v1/UpdateService: present because clients look for it from the service root
// (sushy's get_update_service, the Redfish interop profiles), and honest about what it can
// do: nothing. The firmware is replaced as a whole image on the SP boards (docs/FIRMWARE.md),
// not through Redfish, so the service is disabled and offers no action, no push URI and no
// inventory to update. Its Actions object is there and empty: sushy refuses an UpdateService
// without one, and an empty one says exactly that there is nothing to call.

#include "webserver/redfish_enums.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kUpdateServiceType = "#UpdateService.v1_17_0.UpdateService";

void handleUpdateServiceGet(const RequestContext&, Response& res) {
  res.body = {
      {"@odata.id", kUpdateServicePath},
      {"@odata.type", kUpdateServiceType},
      {"Id", "UpdateService"},
      {"Name", "Update Service"},
      {"Description",
       "Firmware is installed as a whole image on the SP boards, not through Redfish"},
      {"ServiceEnabled", false},
      {"Actions", Json::object()},
      {"Status", {{"State", ResourceState::Disabled}}},
  };
}

}  // namespace

void requestRoutesUpdateService(RouteTable& routes) {
  routes.add({.pattern = std::string(kUpdateServicePath),
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::No,
              .source = DataSource::None,
              .handler = handleUpdateServiceGet});
}

}  // namespace dualsp::web
