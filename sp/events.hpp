#pragma once
// The array events spd records itself (role changes, health, the peer, the configuration
// store): the registry messages they use, so every event's text is the registry's text
// (platform/redfish/generated/registries/) with its arguments filled in. Meaning: docs/EVENTS.md.

#include <string>
#include <string_view>
#include <vector>

#include "platform/redfish/generated/registries/account_security.hpp"
#include "platform/redfish/generated/registries/base.hpp"
#include "platform/redfish/generated/registries/resource_event.hpp"
#include "platform/sp_types.hpp"
#include "proto/config.pb.h"

namespace dualsp::sp {

// The MessageIds spd records, from the registries tools/gen-redfish generates.
namespace message {
namespace resource_event = redfish::registries::resource_event;
inline constexpr std::string_view kStateChanged = resource_event::kResourceStateChanged;
inline constexpr std::string_view kHealthOk = resource_event::kResourceStatusChangedOK;
inline constexpr std::string_view kHealthWarning = resource_event::kResourceStatusChangedWarning;
inline constexpr std::string_view kHealthCritical = resource_event::kResourceStatusChangedCritical;
inline constexpr std::string_view kErrorsDetected = resource_event::kResourceErrorsDetected;
inline constexpr std::string_view kErrorsCorrected = resource_event::kResourceErrorsCorrected;
inline constexpr std::string_view kChanged = resource_event::kResourceChanged;
inline constexpr std::string_view kRemoved = resource_event::kResourceRemoved;
inline constexpr std::string_view kCreated = resource_event::kResourceCreated;
inline constexpr std::string_view kInsufficientStorage =
    redfish::registries::base::kInsufficientStorage;
// Logins, lockouts and account changes (sp/account_service.cpp).
namespace account_security = redfish::registries::account_security;
inline constexpr std::string_view kInvalidCredentials = account_security::kInvalidCredentials;
inline constexpr std::string_view kSuccessfulLogin = account_security::kSuccessfulLogin;
inline constexpr std::string_view kAccountCreated = account_security::kAccountCreated;
inline constexpr std::string_view kAccountRemoved = account_security::kAccountRemoved;
inline constexpr std::string_view kAccountLocked = account_security::kAccountLocked;
inline constexpr std::string_view kAccountEnabled = account_security::kAccountEnabled;
inline constexpr std::string_view kAccountDisabled = account_security::kAccountDisabled;
inline constexpr std::string_view kPasswordModified = account_security::kPasswordModified;
inline constexpr std::string_view kRoleChanged = account_security::kManagerAccountRoleChanged;
}  // namespace message

// The registry text of `message_id` ("%1" filled from args), or "" when it is not one of the
// message:: ids above or args are too few.
std::string messageText(std::string_view message_id, const std::vector<std::string>& args);

// An event with its text from the table, plus `detail` after it when not empty.
proto::Event makeEvent(std::string_view message_id, std::vector<std::string> args,
                       std::string origin, std::string_view severity, SpId reported_by,
                       const std::string& detail = "");

// "/redfish/v1/Managers/SPA"
std::string managerUri(SpId sp);

}  // namespace dualsp::sp
