#pragma once
// The JSON type of spweb's bodies.

#include <nlohmann/json.hpp>

namespace dualsp::web {

// Keeps keys in the order handlers write them: "@odata.id" first, as Redfish readers expect.
using Json = nlohmann::ordered_json;

}  // namespace dualsp::web
