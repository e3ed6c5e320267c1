#pragma once
// Redfish schema enums used by spweb, as C++ enums (STYLE.md): a value is spelled once, here,
// and Json converts it. Values are copied from the DMTF CSDL named beside each enum.

#include "webserver/json.hpp"

namespace dualsp::web {

// Resource_v1.xml, Resource.State (the subset DualSP reports).
enum class ResourceState { Enabled, StandbySpare, Starting, UnavailableOffline };
NLOHMANN_JSON_SERIALIZE_ENUM(ResourceState,
                             {
                                 {ResourceState::Enabled, "Enabled"},
                                 {ResourceState::StandbySpare, "StandbySpare"},
                                 {ResourceState::Starting, "Starting"},
                                 {ResourceState::UnavailableOffline, "UnavailableOffline"},
                             })

// Resource_v1.xml, Resource.Health; also Message_v1.xml MessageSeverity.
enum class HealthState { OK, Warning, Critical };
NLOHMANN_JSON_SERIALIZE_ENUM(HealthState, {
                                              {HealthState::OK, "OK"},
                                              {HealthState::Warning, "Warning"},
                                              {HealthState::Critical, "Critical"},
                                          })

// Resource_v1.xml, Resource.PowerState (the subset DualSP reports).
enum class PowerState { On, Off };
NLOHMANN_JSON_SERIALIZE_ENUM(PowerState, {
                                             {PowerState::On, "On"},
                                             {PowerState::Off, "Off"},
                                         })

// Manager_v1.xml, Manager.ManagerType (the subset DualSP reports).
enum class ManagerType { ManagementController };
NLOHMANN_JSON_SERIALIZE_ENUM(ManagerType,
                             {
                                 {ManagerType::ManagementController, "ManagementController"},
                             })

}  // namespace dualsp::web
