#pragma once
// The array events spd records itself (role changes, health, the peer, the configuration
// store): one table of the registry messages they use, so every event's text is the
// registry's text with its arguments filled in. Table and meaning: docs/EVENTS.md.

#include <string>
#include <string_view>
#include <vector>

#include "platform/sp_types.hpp"
#include "proto/config.pb.h"

namespace dualsp::sp {

namespace message {
inline constexpr std::string_view kStateChanged = "ResourceEvent.1.4.3.ResourceStateChanged";
inline constexpr std::string_view kHealthOk = "ResourceEvent.1.4.3.ResourceStatusChangedOK";
inline constexpr std::string_view kHealthWarning =
    "ResourceEvent.1.4.3.ResourceStatusChangedWarning";
inline constexpr std::string_view kHealthCritical =
    "ResourceEvent.1.4.3.ResourceStatusChangedCritical";
inline constexpr std::string_view kErrorsDetected = "ResourceEvent.1.4.3.ResourceErrorsDetected";
inline constexpr std::string_view kErrorsCorrected = "ResourceEvent.1.4.3.ResourceErrorsCorrected";
inline constexpr std::string_view kChanged = "ResourceEvent.1.4.3.ResourceChanged";
inline constexpr std::string_view kInsufficientStorage = "Base.1.22.1.InsufficientStorage";
}  // namespace message

// The registry text of `message_id` ("%1" filled from args), or "" when it is not in the
// table.
std::string messageText(std::string_view message_id, const std::vector<std::string>& args);

// An event with its text from the table, plus `detail` after it when not empty.
proto::Event makeEvent(std::string_view message_id, std::vector<std::string> args,
                       std::string origin, std::string_view severity, SpId reported_by,
                       const std::string& detail = "");

// "/redfish/v1/Managers/SPA"
std::string managerUri(SpId sp);

}  // namespace dualsp::sp
