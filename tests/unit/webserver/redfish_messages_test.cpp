#include <CppUTest/TestHarness.h>

#include <stdexcept>

#include "webserver/redfish_messages.hpp"

using namespace dualsp::web;

TEST_GROUP(RedfishMessages){};

TEST(RedfishMessages, ResourceNotFoundHasTheRedfishErrorShape) {
  Response res;
  messages::resourceNotFound(res, "Manager", "SPC");
  LONGS_EQUAL(404, res.status);
  const Json& error = res.body.at("error");
  STRCMP_EQUAL("Base.1.22.1.ResourceNotFound", error.at("code").get<std::string>().c_str());
  STRCMP_EQUAL("The requested resource of type Manager named 'SPC' was not found.",
               error.at("message").get<std::string>().c_str());
  const Json& info = error.at("@Message.ExtendedInfo");
  LONGS_EQUAL(1, info.size());
  STRCMP_EQUAL("#Message.v1_1_1.Message", info[0].at("@odata.type").get<std::string>().c_str());
  STRCMP_EQUAL("Base.1.22.1.ResourceNotFound", info[0].at("MessageId").get<std::string>().c_str());
  CHECK(info[0].at("MessageArgs") == Json::array({"Manager", "SPC"}));
  STRCMP_EQUAL("Critical", info[0].at("MessageSeverity").get<std::string>().c_str());
  STRCMP_EQUAL("Provide a valid resource identifier and resubmit the request.",
               info[0].at("Resolution").get<std::string>().c_str());
}

TEST(RedfishMessages, OperationNotAllowedSaysWhatIsAllowed) {
  Response res;
  messages::operationNotAllowed(res, {HttpMethod::Get, HttpMethod::Head});
  LONGS_EQUAL(405, res.status);
  STRCMP_EQUAL("GET, HEAD", res.header("allow").value_or("").c_str());
  STRCMP_EQUAL("Base.1.22.1.OperationNotAllowed",
               res.body["error"]["code"].get<std::string>().c_str());
}

TEST(RedfishMessages, ServiceTemporarilyUnavailableCarriesRetryAfter) {
  Response res;
  messages::serviceTemporarilyUnavailable(res, 2);
  LONGS_EQUAL(503, res.status);
  STRCMP_EQUAL("2", res.header("Retry-After").value_or("").c_str());
  STRCMP_EQUAL("The service is temporarily unavailable.  Retry in 2 seconds.",
               res.body["error"]["message"].get<std::string>().c_str());
}

TEST(RedfishMessages, InternalError) {
  Response res;
  messages::internalError(res);
  LONGS_EQUAL(500, res.status);
  STRCMP_EQUAL(
      "Base.1.22.1.InternalError",
      res.body["error"]["@Message.ExtendedInfo"][0]["MessageId"].get<std::string>().c_str());
}

TEST(RedfishMessages, ServiceDegradedNamesTheFaults) {
  Response res;
  std::vector<messages::FaultMessage> faults = {
      {"Environmental.1.4.0.SensorThresholdCritical", "CPU 0 is too hot.", HealthState::Critical},
      {"Platform.1.3.2.FanFailed", "Fan 0 failed", HealthState::Warning}};
  messages::serviceDegraded(res, 2, "SP-B", &faults);
  LONGS_EQUAL(503, res.status);
  STRCMP_EQUAL("2", res.header("Retry-After").value_or("").c_str());
  const Json& error = res.body["error"];
  STRCMP_EQUAL("Base.1.22.1.ServiceTemporarilyUnavailable",
               error["code"].get<std::string>().c_str());
  STRCMP_EQUAL(
      "The service is temporarily unavailable.  Retry in 2 seconds.  SP-B serves only its rescue "
      "subset while it is unhealthy: CPU 0 is too hot; Fan 0 failed.",
      error["message"].get<std::string>().c_str());
  LONGS_EQUAL(3, error["@Message.ExtendedInfo"].size());
  CHECK(error["@Message.ExtendedInfo"][2] == Json::parse(R"({
      "@odata.type": "#Message.v1_1_1.Message", "MessageId": "Platform.1.3.2.FanFailed",
      "Message": "Fan 0 failed", "MessageSeverity": "Warning"})"));

  Response unknown;
  messages::serviceDegraded(unknown, 2, "SP-B", nullptr);
  STRCMP_EQUAL(
      "The service is temporarily unavailable.  Retry in 2 seconds.  SP-B serves only its rescue "
      "subset while it is unhealthy; its faults are not known (status board not readable).",
      unknown.body["error"]["message"].get<std::string>().c_str());
  LONGS_EQUAL(1, unknown.body["error"]["@Message.ExtendedInfo"].size());
}

TEST(RedfishMessages, ActionRefusedIsAConflictWithTheReason) {
  Response res;
  messages::actionRefused(res, "failover refused: SP-B is not healthy");
  LONGS_EQUAL(409, res.status);
  STRCMP_EQUAL("Base.1.22.1.GeneralError", res.body["error"]["code"].get<std::string>().c_str());
  STRCMP_EQUAL("failover refused: SP-B is not healthy",
               res.body["error"]["message"].get<std::string>().c_str());
  const Json& info = res.body["error"]["@Message.ExtendedInfo"][0];
  STRCMP_EQUAL(messages::entry(messages::BaseMessage::GeneralError).text.data(),
               info["Message"].get<std::string>().c_str());
  STRCMP_EQUAL("failover refused: SP-B is not healthy",
               info["Resolution"].get<std::string>().c_str());
}

TEST(RedfishMessages, ActionParameterValueMessages) {
  Response res;
  messages::actionParameterValueTypeError(res, "7", "NewManager", "Manager.ForceFailover");
  LONGS_EQUAL(400, res.status);
  STRCMP_EQUAL(
      "The value '7' for the parameter NewManager in the action Manager.ForceFailover is not a "
      "type that the parameter can accept.",
      res.body["error"]["message"].get<std::string>().c_str());
  messages::actionParameterValueError(res, "NewManager", "Manager.ForceFailover");
  STRCMP_EQUAL(
      "The value for the parameter NewManager in the action Manager.ForceFailover is "
      "invalid.",
      res.body["error"]["message"].get<std::string>().c_str());
  messages::actionParameterValueConflict(res, "NewManager", "/redfish/v1/Managers/SPA");
  LONGS_EQUAL(400, res.status);
  STRCMP_EQUAL("Base.1.22.1.ActionParameterValueConflict",
               res.body["error"]["code"].get<std::string>().c_str());
}

TEST(RedfishMessages, ProtocolRefusals) {
  Response res;
  messages::preconditionFailed(res);
  LONGS_EQUAL(412, res.status);
  STRCMP_EQUAL("Base.1.22.1.PreconditionFailed",
               res.body["error"]["code"].get<std::string>().c_str());
  messages::odataVersionNotSupported(res);
  LONGS_EQUAL(412, res.status);
  const Json& info = res.body["error"]["@Message.ExtendedInfo"];
  LONGS_EQUAL(2, info.size());
  STRCMP_EQUAL("Header 'OData-Version' is invalid.", info[1]["Message"].get<std::string>().c_str());
  messages::queryParameterUnsupported(res, "$expand");
  LONGS_EQUAL(501, res.status);
  STRCMP_EQUAL("Query parameter '$expand' is not supported.",
               res.body["error"]["message"].get<std::string>().c_str());
  messages::methodNotImplemented(res);
  LONGS_EQUAL(501, res.status);
  STRCMP_EQUAL("Base.1.22.1.GeneralError", res.body["error"]["code"].get<std::string>().c_str());
}

TEST(RedfishMessages, WrongArgumentCountIsABug) {
  CHECK_THROWS(std::logic_error,
               messages::messageObject(messages::BaseMessage::InternalError, {"x"}));
  CHECK_THROWS(std::logic_error,
               messages::messageObject(messages::BaseMessage::ResourceNotFound, {"Manager"}));
}

// The table is the generated Base registry (platform/redfish/generated/registries/base.hpp, whose
// own consistency tests/unit/redfish checks): every message spweb sends has its entry, in order.
TEST(RedfishMessages, TableIsTheGeneratedBaseRegistry) {
  STRCMP_EQUAL("Base.1.22.1", std::string(messages::kBaseRegistry).c_str());
  LONGS_EQUAL(42, messages::baseRegistry().size());
  for (size_t i = 0; i < messages::baseRegistry().size(); ++i) {
    const auto message = static_cast<messages::BaseMessage>(i);
    CHECK(&messages::entry(message) == &messages::baseRegistry()[i]);
    STRCMP_EQUAL(("Base.1.22.1." + std::string(messages::entry(message).key)).c_str(),
                 messages::messageId(message).c_str());
  }
  const Json info = messages::messageObject(messages::BaseMessage::InsufficientStorage, {});
  STRCMP_EQUAL("Insufficient storage or memory available to complete the request.",
               info.at("Message").get<std::string>().c_str());
  STRCMP_EQUAL("Critical", info.at("MessageSeverity").get<std::string>().c_str());
}

// spd's refusals name their message by key (sp/storage_model.hpp): any selected Base message
// with its arguments, and nothing for a key spweb does not have or a wrong argument count.
TEST(RedfishMessages, AMessageNamedByItsKey) {
  Response res;
  CHECK(messages::fromKey(res, 409, "ResourceInUse", {}));
  LONGS_EQUAL(409, res.status);
  STRCMP_EQUAL("Base.1.22.1.ResourceInUse", res.body["error"]["code"].get<std::string>().c_str());
  Response out_of_range;
  CHECK(messages::fromKey(out_of_range, 400, "PropertyValueOutOfRange", {"7", "CapacityBytes"}));
  STRCMP_EQUAL("CapacityBytes",
               out_of_range.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"][1]
                   .get<std::string>()
                   .c_str());
  Response untouched;
  CHECK_FALSE(messages::fromKey(untouched, 400, "NoSuchMessage", {}));
  CHECK_FALSE(messages::fromKey(untouched, 400, "PropertyValueOutOfRange", {"7"}));
  CHECK_FALSE(messages::fromKey(untouched, 200, "ResourceInUse", {}));
  CHECK(untouched.body.is_null());
}
