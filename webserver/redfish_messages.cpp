#include "webserver/redfish_messages.hpp"

#include <stdexcept>

namespace dualsp::web::messages {
namespace {

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

bool fromKey(Response& res, int status, std::string_view key,
             const std::vector<std::string>& args) {
  const auto all = redfish::registries::base::kMessages;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].key != key) continue;
    if (static_cast<size_t>(all[i].number_of_args) != args.size() || status < 400 || status > 599)
      return false;
    setError(res, status, static_cast<BaseMessage>(i), args);
    return true;
  }
  return false;
}

std::span<const RegistryEntry> baseRegistry() {
  return redfish::registries::base::kMessages;
}

const RegistryEntry& entry(BaseMessage message) {
  return redfish::registries::base::entry(message);
}

std::string messageId(BaseMessage message) {
  return std::string(messages::entry(message).id);
}

Json messageObject(BaseMessage message, const std::vector<std::string>& args) {
  const RegistryEntry& e = messages::entry(message);
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

void actionParameterMissing(Response& res, std::string_view action, std::string_view parameter) {
  setError(res, 400, BaseMessage::ActionParameterMissing,
           {std::string(action), std::string(parameter)});
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

void noOperation(Response& res) {
  setError(res, 400, BaseMessage::NoOperation, {});
}

void noValidSession(Response& res) {
  setError(res, 401, BaseMessage::NoValidSession, {});
  res.addHeader("WWW-Authenticate", "Basic realm=\"DualSP\"");
}

void passwordChangeRequired(Response& res, std::string_view account) {
  setError(res, 403, BaseMessage::PasswordChangeRequired, {std::string(account)});
}

void tooManyFailedLogins(Response& res, int retry_after_seconds) {
  std::string seconds = std::to_string(retry_after_seconds);
  setError(res, 429, BaseMessage::ServiceTemporarilyUnavailable, {seconds});
  res.addHeader("Retry-After", seconds);
}

void sessionLimitExceeded(Response& res) {
  setError(res, 503, BaseMessage::SessionLimitExceeded, {});
}

void resourceAlreadyExists(Response& res, std::string_view type, std::string_view property,
                           std::string_view value) {
  setError(res, 409, BaseMessage::ResourceAlreadyExists,
           {std::string(type), std::string(property), std::string(value)});
}

void propertyNotWritable(Response& res, std::string_view property) {
  setError(res, 400, BaseMessage::PropertyNotWritable, {std::string(property)});
}

void passwordIncorrectLength(Response& res, size_t min, size_t max) {
  setError(res, 400, BaseMessage::PasswordIncorrectLength, {});
  // The registry's text names no figures; the error's message does.
  res.body["error"]["message"] =
      "A password has " + std::to_string(min) + " to " + std::to_string(max) + " characters.";
}

void generalError(Response& res) {
  setError(res, 400, BaseMessage::GeneralError, {});
}

void headerInvalid(Response& res, std::string_view header) {
  setError(res, 400, BaseMessage::HeaderInvalid, {std::string(header)});
}

void idempotencyKeyReused(Response& res) {
  setError(res, 422, BaseMessage::HeaderInvalid, {"Idempotency-Key"});
  const std::string why =
      "The Idempotency-Key was used before with another request (method, path, query or body); "
      "nothing was done. Use a new key for a new request.";
  res.body["error"]["message"] = why;
  res.body["error"]["@Message.ExtendedInfo"][0]["Resolution"] = why;
}

void idempotencyKeyInProgress(Response& res, int retry_after_seconds) {
  setError(res, 409, BaseMessage::ResourceInUse, {});
  const std::string why =
      "The first request with this Idempotency-Key is still being served; nothing was done by "
      "this one. Retry after the interval in Retry-After to get its result.";
  res.body["error"]["message"] = why;
  res.body["error"]["@Message.ExtendedInfo"][0]["Resolution"] = why;
  res.addHeader("Retry-After", std::to_string(retry_after_seconds));
}

void payloadTooLarge(Response& res) {
  setError(res, 413, BaseMessage::PayloadTooLarge, {});
}

void createLimitReachedForResource(Response& res) {
  setError(res, 400, BaseMessage::CreateLimitReachedForResource, {});
}

void requestTimeout(Response& res) {
  setError(res, 408, BaseMessage::GeneralError, {});
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

void queryParameterValueFormatError(Response& res, std::string_view value,
                                    std::string_view parameter) {
  setError(res, 400, BaseMessage::QueryParameterValueFormatError,
           {std::string(value), std::string(parameter)});
}

void queryCombinationInvalid(Response& res) {
  setError(res, 400, BaseMessage::QueryCombinationInvalid, {});
}

void queryNotSupportedOnResource(Response& res) {
  setError(res, 400, BaseMessage::QueryNotSupportedOnResource, {});
}

void preconditionFailed(Response& res) {
  setError(res, 412, BaseMessage::PreconditionFailed, {});
}

void odataVersionNotSupported(Response& res) {
  setError(res, 412, BaseMessage::PreconditionFailed, {});
  Json& error = res.body["error"];
  Json header = messageObject(BaseMessage::HeaderInvalid, {"OData-Version"});
  error["message"] = header["Message"].get<std::string>() + "  Only OData version 4.0 is served.";
  error["@Message.ExtendedInfo"].push_back(std::move(header));
}

void queryParameterUnsupported(Response& res, std::string_view parameter) {
  setError(res, 501, BaseMessage::QueryParameterUnsupported, {std::string(parameter)});
}

void methodNotImplemented(Response& res) {
  setError(res, 501, BaseMessage::GeneralError, {});
  Json& error = res.body["error"];
  error["message"] = "The HTTP method is not implemented by this service.";
  error["@Message.ExtendedInfo"][0]["Resolution"] =
      "Use one of GET, HEAD, POST, PUT, PATCH, DELETE as the resource's Allow header lists.";
}

void stringValueTooLong(Response& res, std::string_view value, size_t limit) {
  setError(res, 400, BaseMessage::StringValueTooLong, {std::string(value), std::to_string(limit)});
}

}  // namespace dualsp::web::messages
