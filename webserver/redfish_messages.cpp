#include "webserver/redfish_messages.hpp"

#include <array>
#include <stdexcept>

namespace dualsp::web::messages {
namespace {

// Copied from Base.1.22.1.json ("Messages": Message, NumberOfArgs, MessageSeverity,
// Resolution). tests/unit/webserver/redfish_messages_test.cpp compares it with the file.
constexpr std::array<RegistryEntry, 25> kBaseMessages{{
    {BaseMessage::ResourceNotFound, "ResourceNotFound",
     "The requested resource of type %1 named '%2' was not found.", 2, HealthState::Critical,
     "Provide a valid resource identifier and resubmit the request."},
    {BaseMessage::OperationNotAllowed, "OperationNotAllowed",
     "The HTTP method is not allowed on this resource.", 0, HealthState::Critical, "None."},
    {BaseMessage::InternalError, "InternalError",
     "The request failed due to an internal service error.  The service is still operational.", 0,
     HealthState::Critical,
     "Resubmit the request.  If the problem persists, consider resetting the service."},
    {BaseMessage::ServiceTemporarilyUnavailable, "ServiceTemporarilyUnavailable",
     "The service is temporarily unavailable.  Retry in %1 seconds.", 1, HealthState::Critical,
     "Wait for the indicated retry duration and retry the operation."},
    {BaseMessage::MalformedJSON, "MalformedJSON",
     "The request body submitted was malformed JSON and could not be parsed by the receiving "
     "service.",
     0, HealthState::Critical,
     "Ensure that the request body is valid JSON and resubmit the request."},
    {BaseMessage::ActionParameterValueNotInList, "ActionParameterValueNotInList",
     "The value '%1' for the parameter %2 in the action %3 is not in the list of acceptable "
     "values.",
     3, HealthState::Warning,
     "Choose a value from the enumeration list that the implementation can support and resubmit "
     "the request if the operation failed."},
    {BaseMessage::ActionParameterNotSupported, "ActionParameterNotSupported",
     "The parameter %1 for the action %2 is not supported on the target resource.", 2,
     HealthState::Warning,
     "Remove the parameter supplied and resubmit the request if the operation failed."},
    {BaseMessage::QueryParameterValueTypeError, "QueryParameterValueTypeError",
     "The value '%1' for the query parameter %2 is not a type that the parameter can accept.", 2,
     HealthState::Warning,
     "Correct the value for the query parameter in the request and resubmit the request if the "
     "operation failed."},
    {BaseMessage::InsufficientPrivilege, "InsufficientPrivilege",
     "There are insufficient privileges for the account or credentials associated with the current "
     "session to perform the requested operation.",
     0, HealthState::Critical,
     "Either abandon the operation or change the associated access rights and resubmit the request "
     "if the operation failed."},
    {BaseMessage::GeneralError, "GeneralError",
     "A general error has occurred.  See Resolution for information on how to resolve the error, "
     "or @Message.ExtendedInfo if Resolution is not provided.",
     0, HealthState::Critical, "None."},
    {BaseMessage::PayloadTooLarge, "PayloadTooLarge",
     "The supplied payload exceeds the maximum size supported by the service.", 0,
     HealthState::Critical,
     "Check that the supplied payload is correct and supported by this service."},
    {BaseMessage::ActionParameterValueTypeError, "ActionParameterValueTypeError",
     "The value '%1' for the parameter %2 in the action %3 is not a type that the parameter can "
     "accept.",
     3, HealthState::Warning,
     "Correct the value for the parameter in the request body and resubmit the request if the "
     "operation failed."},
    {BaseMessage::ActionParameterValueError, "ActionParameterValueError",
     "The value for the parameter %1 in the action %2 is invalid.", 2, HealthState::Warning,
     "Correct the value for the parameter in the request body and resubmit the request if the "
     "operation failed."},
    {BaseMessage::ActionParameterValueConflict, "ActionParameterValueConflict",
     "The parameter '%1' with the requested value of '%2' does not meet the constraints of the "
     "implementation.",
     2, HealthState::Warning, "None."},
    {BaseMessage::InsufficientStorage, "InsufficientStorage",
     "Insufficient storage or memory available to complete the request.", 0, HealthState::Critical,
     "Increase the free storage space available to the service and resubmit the request."},
    {BaseMessage::PropertyUnknown, "PropertyUnknown",
     "The property %1 is not in the list of valid properties for the resource.", 1,
     HealthState::Warning,
     "Remove the unknown property from the request body and resubmit the request if the operation "
     "failed."},
    {BaseMessage::PropertyValueTypeError, "PropertyValueTypeError",
     "The value '%1' for the property %2 is not a type that the property can accept.", 2,
     HealthState::Warning,
     "Correct the value for the property in the request body and resubmit the request if the "
     "operation failed."},
    {BaseMessage::PropertyValueFormatError, "PropertyValueFormatError",
     "The value '%1' for the property %2 is not a format that the property can accept.", 2,
     HealthState::Warning,
     "Correct the value for the property in the request body and resubmit the request if the "
     "operation failed."},
    {BaseMessage::PropertyValueNotInList, "PropertyValueNotInList",
     "The value '%1' for the property %2 is not in the list of acceptable values.", 2,
     HealthState::Warning,
     "Choose a value from the enumeration list that the implementation can support and resubmit "
     "the request if the operation failed."},
    {BaseMessage::PropertyValueOutOfRange, "PropertyValueOutOfRange",
     "The value '%1' for the property %2 is not in the supported range of acceptable values.", 2,
     HealthState::Warning,
     "Correct the value for the property in the request body and resubmit the request if the "
     "operation failed."},
    {BaseMessage::PropertyMissing, "PropertyMissing",
     "The property %1 is a required property and must be included in the request.", 1,
     HealthState::Warning,
     "Ensure that the property is in the request body and has a valid value and resubmit the "
     "request if the operation failed."},
    {BaseMessage::PropertyValueConflict, "PropertyValueConflict",
     "The property '%1' could not be written because its value would conflict with the value of "
     "the '%2' property.",
     2, HealthState::Warning, "None."},
    {BaseMessage::QueryParameterOutOfRange, "QueryParameterOutOfRange",
     "The value '%1' for the query parameter %2 is out of range %3.", 3, HealthState::Warning,
     "Reduce the value for the query parameter to a value that is within range, such as a start or "
     "count value that is within bounds of the number of resources in a collection or a page "
     "number that is within the range of valid pages."},
    {BaseMessage::StringValueTooLong, "StringValueTooLong",
     "The string '%1' exceeds the length limit %2.", 2, HealthState::Warning,
     "Resubmit the request with an appropriate string length."},
    {BaseMessage::OperationTimeout, "OperationTimeout",
     "A timeout internal to the service occurred as part of the request.  Partial results may "
     "have been returned.",
     0, HealthState::Warning,
     "Resubmit the request.  If the problem persists, consider resetting the service or "
     "provider."},
}};

// Replaces %1..%9 by args[0..8]; the registry never has more than a handful of arguments.
std::string substitute(std::string_view text, const std::vector<std::string>& args) {
  std::string out;
  out.reserve(text.size() + 32);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 1 < text.size() && text[i + 1] >= '1' && text[i + 1] <= '9') {
      size_t n = static_cast<size_t>(text[i + 1] - '1');
      if (n < args.size()) out += args[n];
      ++i;
      continue;
    }
    out += text[i];
  }
  return out;
}

void setError(Response& res, int status, BaseMessage message,
              const std::vector<std::string>& args) {
  res.status = status;
  res.body = errorBody(message, args);
}

}  // namespace

std::span<const RegistryEntry> baseRegistry() {
  return kBaseMessages;
}

const RegistryEntry& entry(BaseMessage message) {
  for (const RegistryEntry& e : kBaseMessages)
    if (e.message == message) return e;
  throw std::logic_error("message missing from the Base registry table");
}

std::string messageId(BaseMessage message) {
  return std::string(kBaseRegistry) + "." + std::string(entry(message).key);
}

Json messageObject(BaseMessage message, const std::vector<std::string>& args) {
  const RegistryEntry& e = entry(message);
  if (static_cast<int>(args.size()) != e.number_of_args)
    throw std::logic_error("wrong number of arguments for " + std::string(e.key));
  return {
      {"@odata.type", "#Message.v1_1_1.Message"},
      {"MessageId", messageId(message)},
      {"Message", substitute(e.text, args)},
      {"MessageArgs", args},
      {"MessageSeverity", e.severity},
      {"Resolution", e.resolution},
  };
}

Json errorBody(BaseMessage message, const std::vector<std::string>& args) {
  Json info = messageObject(message, args);
  Json error = {{"code", info["MessageId"]}, {"message", info["Message"]}};
  error["@Message.ExtendedInfo"] = Json::array({std::move(info)});
  return {{"error", std::move(error)}};
}

void resourceNotFound(Response& res, std::string_view type, std::string_view id) {
  setError(res, 404, BaseMessage::ResourceNotFound, {std::string(type), std::string(id)});
}

void operationNotAllowed(Response& res, const MethodSet& allowed) {
  setError(res, 405, BaseMessage::OperationNotAllowed, {});
  res.addHeader("Allow", allowed.toString());  // RFC 9110 15.5.6: a 405 must carry Allow
}

void internalError(Response& res) {
  setError(res, 500, BaseMessage::InternalError, {});
}

void serviceTemporarilyUnavailable(Response& res, int retry_after_seconds) {
  std::string seconds = std::to_string(retry_after_seconds);
  setError(res, 503, BaseMessage::ServiceTemporarilyUnavailable, {seconds});
  res.addHeader("Retry-After", seconds);
}

Json faultMessageObject(const FaultMessage& fault) {
  return {
      {"@odata.type", "#Message.v1_1_1.Message"},
      {"MessageId", fault.message_id},
      {"Message", fault.text},
      {"MessageSeverity", fault.severity},
  };
}

void serviceDegraded(Response& res, int retry_after_seconds, std::string_view sp_name,
                     const std::vector<FaultMessage>* faults) {
  serviceTemporarilyUnavailable(res, retry_after_seconds);
  Json& error = res.body["error"];
  std::string message = error["message"].get<std::string>() + "  " + std::string(sp_name) +
                        " serves only its rescue subset while it is unhealthy";
  if (!faults) {
    message += "; its faults are not known (status board not readable).";
  } else if (faults->empty()) {
    message += ".";
  } else {
    message += ": ";
    for (size_t i = 0; i < faults->size(); ++i) {
      std::string_view text = (*faults)[i].text;
      if (!text.empty() && text.back() == '.') text.remove_suffix(1);  // one sentence, one stop
      if (i > 0) message += "; ";
      message += text;
    }
    message += ".";
    for (const FaultMessage& fault : *faults)
      error["@Message.ExtendedInfo"].push_back(faultMessageObject(fault));
  }
  error["message"] = std::move(message);
}

void malformedJson(Response& res) {
  setError(res, 400, BaseMessage::MalformedJSON, {});
}

void actionParameterValueNotInList(Response& res, std::string_view value,
                                   std::string_view parameter, std::string_view action) {
  setError(res, 400, BaseMessage::ActionParameterValueNotInList,
           {std::string(value), std::string(parameter), std::string(action)});
}

void actionParameterNotSupported(Response& res, std::string_view parameter,
                                 std::string_view action) {
  setError(res, 400, BaseMessage::ActionParameterNotSupported,
           {std::string(parameter), std::string(action)});
}

void queryParameterValueTypeError(Response& res, std::string_view value,
                                  std::string_view parameter) {
  setError(res, 400, BaseMessage::QueryParameterValueTypeError,
           {std::string(value), std::string(parameter)});
}

void actionParameterValueTypeError(Response& res, std::string_view value,
                                   std::string_view parameter, std::string_view action) {
  setError(res, 400, BaseMessage::ActionParameterValueTypeError,
           {std::string(value), std::string(parameter), std::string(action)});
}

void actionParameterValueError(Response& res, std::string_view parameter, std::string_view action) {
  setError(res, 400, BaseMessage::ActionParameterValueError,
           {std::string(parameter), std::string(action)});
}

void actionParameterValueConflict(Response& res, std::string_view parameter,
                                  std::string_view value) {
  setError(res, 400, BaseMessage::ActionParameterValueConflict,
           {std::string(parameter), std::string(value)});
}

void actionRefused(Response& res, std::string_view reason) {
  setError(res, 409, BaseMessage::GeneralError, {});
  Json& error = res.body["error"];
  error["message"] = std::string(reason);
  error["@Message.ExtendedInfo"][0]["Resolution"] = std::string(reason);
}

void insufficientPrivilege(Response& res) {
  setError(res, 403, BaseMessage::InsufficientPrivilege, {});
}

void generalError(Response& res) {
  setError(res, 400, BaseMessage::GeneralError, {});
}

void payloadTooLarge(Response& res) {
  setError(res, 413, BaseMessage::PayloadTooLarge, {});
}

void operationTimeout(Response& res) {
  setError(res, 500, BaseMessage::OperationTimeout, {});
}

void insufficientStorage(Response& res) {
  setError(res, 507, BaseMessage::InsufficientStorage, {});
}

void propertyUnknown(Response& res, std::string_view property) {
  setError(res, 400, BaseMessage::PropertyUnknown, {std::string(property)});
}

void propertyValueTypeError(Response& res, std::string_view value, std::string_view property) {
  setError(res, 400, BaseMessage::PropertyValueTypeError,
           {std::string(value), std::string(property)});
}

void propertyValueFormatError(Response& res, std::string_view value, std::string_view property) {
  setError(res, 400, BaseMessage::PropertyValueFormatError,
           {std::string(value), std::string(property)});
}

void propertyValueNotInList(Response& res, std::string_view value, std::string_view property) {
  setError(res, 400, BaseMessage::PropertyValueNotInList,
           {std::string(value), std::string(property)});
}

void propertyValueOutOfRange(Response& res, std::string_view value, std::string_view property) {
  setError(res, 400, BaseMessage::PropertyValueOutOfRange,
           {std::string(value), std::string(property)});
}

void propertyMissing(Response& res, std::string_view property) {
  setError(res, 400, BaseMessage::PropertyMissing, {std::string(property)});
}

void propertyValueConflict(Response& res, std::string_view property,
                           std::string_view other_property) {
  setError(res, 400, BaseMessage::PropertyValueConflict,
           {std::string(property), std::string(other_property)});
}

void queryParameterOutOfRange(Response& res, std::string_view value, std::string_view parameter,
                              std::string_view range) {
  setError(res, 400, BaseMessage::QueryParameterOutOfRange,
           {std::string(value), std::string(parameter), std::string(range)});
}

void stringValueTooLong(Response& res, std::string_view value, size_t limit) {
  setError(res, 400, BaseMessage::StringValueTooLong, {std::string(value), std::to_string(limit)});
}

}  // namespace dualsp::web::messages
