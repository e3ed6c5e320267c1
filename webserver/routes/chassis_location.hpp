#pragma once
// The enclosure's settable properties checked against the schema before anything is stored:
// AssetTag (Chassis_v1.xml) and Location (Resource_v1.xml: PostalAddress and Placement). A
// refusal sets the Redfish error on `res` and returns false; nothing is changed.

#include "webserver/http_types.hpp"
#include "webserver/redfish_format.hpp"

namespace dualsp::web {

bool assetTagAccepted(const Json& value, Response& res);
bool locationAccepted(const Json& value, Response& res);

}  // namespace dualsp::web
