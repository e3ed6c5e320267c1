#pragma once
// The OData documents of the service (DSP0266 "Service documents"): /redfish/v1/odata and the
// CSDL of /redfish/v1/$metadata, which references the schema of every @odata.type spweb
// answers with. That list is here, in one place.

#include <span>
#include <string>
#include <string_view>

namespace dualsp::web {

// Every @odata.type spweb's bodies carry, the error messages and the event stream's included.
// The route tests check that every type a GET answers with is listed
// (tests/unit/webserver/test_dispatcher.hpp): a new resource type is added here.
std::span<const std::string_view> odataTypesServed();
bool isODataTypeServed(std::string_view odata_type);

// The CSDL document of /redfish/v1/$metadata: one edmx:Reference per schema file, including
// each namespace of odataTypesServed() (and Resource), and the Service entity container.
const std::string& metadataDocument();

}  // namespace dualsp::web
