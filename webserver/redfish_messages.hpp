#pragma once
// The one place spweb's errors come from (STYLE.md, "Errors come from one message registry"):
// each function sets the HTTP status, the headers the status calls for and a Redfish error
// body built from the DMTF Base message registry. Handlers never write error JSON themselves.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "webserver/json.hpp"

#include "webserver/http_types.hpp"
#include "webserver/redfish_enums.hpp"

namespace dualsp::web::messages {

// The registry the table is copied from: shared/redfish/registries/Base.1.22.1.json.
inline constexpr std::string_view kBaseRegistry = "Base.1.22.1";

enum class BaseMessage {
  ResourceNotFound,
  OperationNotAllowed,
  InternalError,
  ServiceTemporarilyUnavailable,
  MalformedJSON,
  ActionParameterValueNotInList,
  ActionParameterNotSupported,
  QueryParameterValueTypeError,
  InsufficientPrivilege,
  GeneralError,
  PayloadTooLarge,
  ActionParameterValueTypeError,
  ActionParameterValueError,
  ActionParameterValueConflict,
  InsufficientStorage,
  PropertyUnknown,
  PropertyValueTypeError,
  PropertyValueFormatError,
  PropertyValueNotInList,
  PropertyValueOutOfRange,
  PropertyMissing,
  PropertyValueConflict,
  QueryParameterOutOfRange,
  StringValueTooLong,
  OperationTimeout,
};

// One registry entry, verbatim from the registry file.
struct RegistryEntry {
  BaseMessage message;
  std::string_view key;   // "ResourceNotFound"
  std::string_view text;  // with %1..%N placeholders
  int number_of_args;
  HealthState severity;
  std::string_view resolution;
};

std::span<const RegistryEntry> baseRegistry();
const RegistryEntry& entry(BaseMessage message);

// "Base.1.22.1.ResourceNotFound"
std::string messageId(BaseMessage message);

// One @Message.ExtendedInfo object (#Message.v1_1_1.Message). Throws std::logic_error when
// args does not match the registry's NumberOfArgs: a bug in spweb, not a client error.
Json messageObject(BaseMessage message, const std::vector<std::string>& args);

// {"error":{"code":..., "message":..., "@Message.ExtendedInfo":[...]}}
Json errorBody(BaseMessage message, const std::vector<std::string>& args);

// 404: "The requested resource of type <type> named '<id>' was not found."
void resourceNotFound(Response& res, std::string_view type, std::string_view id);
// 405 with an Allow header listing what the resource does accept.
void operationNotAllowed(Response& res, const MethodSet& allowed);
// 500.
void internalError(Response& res);
// 503 with Retry-After.
void serviceTemporarilyUnavailable(Response& res, int retry_after_seconds);

// One health fault of an SP (spd's health monitor), with the MessageId of the registry it
// comes from ("Environmental.1.4.0.SensorThresholdCritical"): not a Base message.
struct FaultMessage {
  std::string message_id;
  std::string text;
  HealthState severity = HealthState::Critical;
};
// Its @Message.ExtendedInfo object: the fault's own MessageId, text and severity.
Json faultMessageObject(const FaultMessage& fault);
// 503 with Retry-After from a degraded SP, for a route outside its rescue subset:
// ServiceTemporarilyUnavailable, a message that names the SP's faults, and one more
// @Message.ExtendedInfo entry per fault. `faults` is nullptr when they are not known (the
// status board is not readable).
void serviceDegraded(Response& res, int retry_after_seconds, std::string_view sp_name,
                     const std::vector<FaultMessage>* faults);
// 400: the body is not a JSON object.
void malformedJson(Response& res);
// 400: "The value '<value>' for the parameter <parameter> in the action <action> is not in
// the list of acceptable values."
void actionParameterValueNotInList(Response& res, std::string_view value,
                                   std::string_view parameter, std::string_view action);
// 400: a parameter the action does not take.
void actionParameterNotSupported(Response& res, std::string_view parameter,
                                 std::string_view action);
// 400: "$top=abc".
void queryParameterValueTypeError(Response& res, std::string_view value,
                                  std::string_view parameter);
// 400: "The value '<value>' for the parameter <parameter> in the action <action> is not a type
// that the parameter can accept."
void actionParameterValueTypeError(Response& res, std::string_view value,
                                   std::string_view parameter, std::string_view action);
// 400: "The value for the parameter <parameter> in the action <action> is invalid."
void actionParameterValueError(Response& res, std::string_view parameter, std::string_view action);
// 400: "The parameter '<parameter>' with the requested value of '<value>' does not meet the
// constraints of the implementation."
void actionParameterValueConflict(Response& res, std::string_view parameter,
                                  std::string_view value);
// 409: spd refused an action in the SP's present state (CommandResult BAD_REQUEST of an action
// whose arguments spweb checked): GeneralError, whose Resolution (and the error's message) is
// spd's reason, e.g. "SP-B is not healthy".
void actionRefused(Response& res, std::string_view reason);
// 403.
void insufficientPrivilege(Response& res);
// 400: spd refused the command's arguments (CommandResult BAD_REQUEST).
void generalError(Response& res);
// 413: a request body above kMaxRequestBodyBytes.
void payloadTooLarge(Response& res);
// 507: spd's disk refused a configuration change (CommandResult INSUFFICIENT_STORAGE).
void insufficientStorage(Response& res);
// 500: an SP did not confirm an operation in time; its outcome is unknown (CommandResult
// TIMEOUT): read the resource back before retrying.
void operationTimeout(Response& res);

// 400s of a PATCH or POST body. `property` is a JSON pointer below the resource when nested
// ("Location/Placement/Rack"); `value` is the value as sent (a string's text, else JSON).
void propertyUnknown(Response& res, std::string_view property);
void propertyValueTypeError(Response& res, std::string_view value, std::string_view property);
// The right type in a form the property does not take (an IPv4 address, a URL).
void propertyValueFormatError(Response& res, std::string_view value, std::string_view property);
void propertyValueNotInList(Response& res, std::string_view value, std::string_view property);
void propertyValueOutOfRange(Response& res, std::string_view value, std::string_view property);
void propertyMissing(Response& res, std::string_view property);
// "The property '<property>' could not be written because its value would conflict with the
// value of the '<other_property>' property." (a gateway outside the subnet).
void propertyValueConflict(Response& res, std::string_view property,
                           std::string_view other_property);
void stringValueTooLong(Response& res, std::string_view value, size_t limit);
// 400: "$top=5000": "The value '5000' for the query parameter $top is out of range <range>."
void queryParameterOutOfRange(Response& res, std::string_view value, std::string_view parameter,
                              std::string_view range);

}  // namespace dualsp::web::messages
