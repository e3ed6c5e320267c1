#pragma once
// A request body is a client's: it is parsed without recursion and refused beyond a nesting
// depth, and a value quoted back in an error message is cut short, so nothing after the
// parse (nlohmann's dump, copies and comparisons all recurse) ever recurses on a client's
// depth or echoes a client's megabytes (docs/SECURITY.md "Hostile input").

#include <cstddef>
#include <optional>
#include <string_view>

#include "webserver/http_types.hpp"
#include "webserver/json.hpp"

namespace dualsp::web {

// No Redfish payload DualSP takes nests deeper than a few levels (Location.PartLocation...).
inline constexpr int kMaxRequestJsonDepth = 32;
// How much of a client's value an error message or an event's text quotes.
inline constexpr size_t kMaxQuotedValueBytes = 128;

enum class BodyProblem { None, Malformed, TooDeep };

// The body as JSON, or nullopt with the reason. nlohmann's parser keeps its own stack (no
// recursion); the callback only watches the depth.
std::optional<Json> parseRequestJson(std::string_view body, BodyProblem& problem);

// A PATCH or POST body that must be a JSON object; nullopt with 400 MalformedJSON otherwise
// (too deep included: the service cannot take it in).
std::optional<Json> jsonObjectBody(const Request& request, Response& res);

// A property value as the error messages and the event detail quote it: a string's text,
// anything else as compact JSON, rendered without recursion and cut on a character boundary
// at kMaxQuotedValueBytes ("..." marks the cut).
std::string valueText(const Json& value);
// The same, but a string quoted as JSON too: for messages that show the value as it was sent.
std::string jsonText(const Json& value);

}  // namespace dualsp::web
