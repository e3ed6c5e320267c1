#pragma once
// The protocol rules of DSP0266 that hold for every resource, as functions the dispatcher
// applies (docs/WEB.md "Protocol"): the OData version asked for, the $ query parameters a
// route implements, ETags and the describedby Link.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "webserver/http_types.hpp"
#include "webserver/json.hpp"

namespace dualsp::web {

// The one OData version spweb speaks; a request's OData-Version header must name it.
inline constexpr std::string_view kODataVersion = "4.0";
// False when the request has an OData-Version header other than kODataVersion (412).
bool odataVersionAccepted(const Request& request);

// The first $ query parameter of the request ("$expand") that `implemented` does not list,
// or nullopt. Other parameters are not the service's to judge and are ignored (DSP0266
// "Query parameters").
std::optional<std::string> unimplementedQueryParameter(
    const Request& request, std::span<const std::string_view> implemented);

// The resource's weak ETag, W/"<16 hex digits>": a hash of its members except its own `Oem`
// and `DateTime`. Those carry what changes without anyone writing (the SP's uptime, load and
// temperatures, which SP answered, the clock), never a writable property, so a client's
// If-Match still holds after a GET a second earlier (RFC 9110 8.8.1: weak, the same resource
// in meaning rather than in bytes).
std::string etagOf(const Json& body);

// Is an If-Match value "*", any current representation?
bool anyEtag(std::string_view condition);

// Does an If-Match value ("*" or a list of entity tags) name `etag`? Weak comparison (RFC 9110
// 8.8.3.2): spweb's tags are weak, and a client sends back the tag it was given.
bool etagListMatches(std::string_view condition, std::string_view etag);

// A POST to a collection's Members property ("/redfish/v1/EventService/Subscriptions/Members")
// is a POST to the collection (DSP0266 "POST (create)"): the path to route it by. Any other
// request, and anything under Actions, keeps its path.
std::string_view routedPath(const Request& request);

// The service root's ProtocolFeaturesSupported (DSP0266 "Query parameters"): $expand (., ~, *
// and $levels up to query::kMaxExpandLevels), $filter with its comparison and compound
// operators, $select, $top and $skip on every resource (query.hpp); not `only`, nor excerpt.
Json protocolFeaturesSupported();

// `<https://redfish.dmtf.org/schemas/v1/ServiceRoot.v1_17_0.json>; rel=describedby` for a
// body whose @odata.type is "#ServiceRoot.v1_17_0.ServiceRoot" (DSP0266 "Link header");
// nullopt for a body without one.
std::optional<std::string> describedByLink(const Json& body);

}  // namespace dualsp::web
