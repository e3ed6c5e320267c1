#pragma once
// The shape of a generated message registry (platform/redfish/generated/registries/*.hpp, written
// by tools/gen-redfish from DMTF's registry files): what spd, spweb and the platform layer take
// their MessageIds and texts from. Header-only data, no dependency but the schema enums.

#include <span>
#include <string_view>

#include "platform/redfish/generated/schema_enums.hpp"

namespace dualsp::redfish {

// A registry: "Base", "1.22.1", "Base.1.22.1".
struct RegistryInfo {
  std::string_view prefix;
  std::string_view version;
  std::string_view id;
};

// One message, verbatim from the registry file.
struct MessageEntry {
  std::string_view key;         // "ResourceNotFound"
  std::string_view id;          // "Base.1.22.1.ResourceNotFound"
  std::string_view text;        // "Message", with %1..%N placeholders
  int number_of_args;           // "NumberOfArgs": N
  resource::Health severity;    // "MessageSeverity"
  std::string_view resolution;  // "Resolution"
};

}  // namespace dualsp::redfish
