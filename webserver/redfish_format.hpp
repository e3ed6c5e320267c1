#pragma once
// Small formatting helpers shared by the route files: stable UUIDs, Redfish date-times,
// resource paths and links.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "webserver/json.hpp"

#include "platform/sp_types.hpp"

namespace dualsp::web {

// DualSP's namespace for name-based UUIDs (a random UUID drawn once, docs/WEB.md).
inline constexpr std::string_view kUuidNamespace = "1c892f68-8e6b-4719-948f-ce901fc707a7";

// The RFC 9562 version 5 UUID of `name` in kUuidNamespace (SHA-1, Boost.UUID): the same name
// gives the same UUID on every SP and boot, and any tool can recompute it
// (Python: uuid.uuid5(uuid.UUID(kUuidNamespace), name)).
std::string nameBasedUuid(std::string_view name);

// ServiceRoot.UUID (the ServiceEntryPointUUID): one per array, so both SPs, and the floating
// address whichever SP holds it, present one service to clients.
std::string serviceRootUuid(std::string_view array_id);
// Manager.UUID of an SP: stable across reboots and the same from either SP.
std::string managerUuid(std::string_view array_id, SpId sp);

// Edm.DateTimeOffset in UTC: "2026-11-22T02:38:38+00:00".
std::string dateTimeString(int64_t ms_since_epoch);

// "/redfish/v1/Managers/SPA"
std::string managerPath(SpId sp);

inline constexpr std::string_view kSessionServicePath = "/redfish/v1/SessionService";
inline constexpr std::string_view kSessionsPath = "/redfish/v1/SessionService/Sessions";
inline constexpr std::string_view kAccountServicePath = "/redfish/v1/AccountService";
inline constexpr std::string_view kAccountsPath = "/redfish/v1/AccountService/Accounts";
inline constexpr std::string_view kRolesPath = "/redfish/v1/AccountService/Roles";
inline constexpr std::string_view kEventServicePath = "/redfish/v1/EventService";
inline constexpr std::string_view kSubscriptionsPath = "/redfish/v1/EventService/Subscriptions";
inline constexpr std::string_view kEventStreamPath = "/redfish/v1/EventService/SSE";
inline constexpr std::string_view kUpdateServicePath = "/redfish/v1/UpdateService";

// The array's enclosure, the one Chassis, which holds both SPs: "/redfish/v1/Chassis/Enclosure".
inline constexpr std::string_view kEnclosureId = "Enclosure";
std::string enclosurePath();

// The SP a Manager id names ("SPA", "SPB"), or nullopt.
std::optional<SpId> spOfManagerId(std::string_view id);

// {"@odata.id": path}
Json odataLink(std::string path);

}  // namespace dualsp::web
