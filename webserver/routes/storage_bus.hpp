#pragma once
// What the array's storage routes (routes/storage.cpp, routes/fabrics.cpp) share: spd's
// storage model read over the bus (GetStorage), a change sent to it (StorageWrite) with its
// refusals turned into Base registry errors, and the URIs of the objects.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "webserver/json.hpp"
#include "webserver/service_context.hpp"

namespace dualsp::web::storage_routes {

inline constexpr std::string_view kStoragePath = "/redfish/v1/Storage/Array";
inline constexpr std::string_view kDrivesPath = "/redfish/v1/Chassis/Enclosure/Drives";
inline constexpr std::string_view kPoolsPath = "/redfish/v1/Storage/Array/StoragePools";
inline constexpr std::string_view kVolumesPath = "/redfish/v1/Storage/Array/Volumes";
inline constexpr std::string_view kControllersPath = "/redfish/v1/Storage/Array/Controllers";
inline constexpr std::string_view kFabricsPath = "/redfish/v1/Fabrics";

std::string drivePath(const std::string& id);
std::string poolPath(const std::string& id);
std::string volumePath(const std::string& id);
std::string controllerPath(const std::string& sp);  // "A" -> .../Controllers/SPA
std::string controllerPortPath(const std::string& sp, const std::string& port_id);
std::string fabricPath(const std::string& protocol);  // "iSCSI" -> /redfish/v1/Fabrics/iSCSI
std::string endpointPath(const std::string& protocol, const std::string& id);
std::string endpointGroupPath(const std::string& protocol, const std::string& id);
std::string connectionPath(const std::string& protocol, const std::string& id);

// spd's model (GetStorage, docs/STORAGE.md "Who decides"; one too large for a local-bus reply
// is read in parts, StorageService::getStorage); null with the error set on `res` (`type`/`id`
// name what was asked for in a 404). Within a GET it is read and parsed once for all of the
// request's handlers (request_read_cache.hpp): an expanded collection of a thousand volumes
// shares one model.
std::shared_ptr<const Json> readStorage(const RequestContext& ctx, Response& res,
                                        std::string_view type = "Storage",
                                        std::string_view id = "Array");

// One StorageWrite: spd's answer payload {"id", "resource"}, or nullopt with the error set
// (a refusal as its Base message, with spd's reason after the registry's words).
std::optional<Json> writeStorage(const RequestContext& ctx, std::string_view op,
                                 const std::string& id, const Json& body, Response& res,
                                 std::string_view type, std::string_view type_id);

// The item of `list` whose "Id" is `id`, or null.
const Json* findById(const Json& list, std::string_view id);

// The id at the end of `link` ({"@odata.id": "<collection>/<id>"}) when it names a member
// of `collection`; nullopt otherwise.
std::optional<std::string> memberOf(const Json& link, std::string_view collection);

// Status {State, Health}: Critical, Warning or OK; `state` a Resource.State name.
Json statusOf(bool critical, bool warning, std::string_view state = "Enabled");

// "A" -> "SPA".
std::string spOf(const Json& owner);

}  // namespace dualsp::web::storage_routes
