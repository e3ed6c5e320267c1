// The events spd records take their texts from the generated registries: each message:: id
// has its registry text, with its arguments filled in.
#include "sp/events.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::sp;

TEST_GROUP(Events){};

TEST(Events, EveryMessageIdHasItsRegistryText) {
  STRCMP_EQUAL("ResourceEvent.1.4.3.ResourceStateChanged",
               std::string(message::kStateChanged).c_str());
  STRCMP_EQUAL("The state of resource '/redfish/v1/Managers/SPA' has changed to Active.",
               messageText(message::kStateChanged, {"/redfish/v1/Managers/SPA", "Active"}).c_str());
  for (std::string_view id :
       {message::kHealthOk, message::kHealthWarning, message::kHealthCritical})
    STRCMP_EQUAL("The health of resource 'SP-A' has changed to OK.",
                 messageText(id, {"SP-A", "OK"}).c_str());
  STRCMP_EQUAL("The resource property PeerLink has detected errors of type 'Partition'.",
               messageText(message::kErrorsDetected, {"PeerLink", "Partition"}).c_str());
  STRCMP_EQUAL("The resource property PeerLink has corrected errors of type 'Partition'.",
               messageText(message::kErrorsCorrected, {"PeerLink", "Partition"}).c_str());
  STRCMP_EQUAL("One or more resource properties have changed.",
               messageText(message::kChanged, {}).c_str());
  STRCMP_EQUAL("Base.1.22.1.InsufficientStorage",
               std::string(message::kInsufficientStorage).c_str());
  STRCMP_EQUAL("Insufficient storage or memory available to complete the request.",
               messageText(message::kInsufficientStorage, {}).c_str());
}

TEST(Events, OtherIdsAndTooFewArgumentsHaveNoText) {
  // A hardware fault's MessageId is recorded with the fault's own text, not the registry's.
  STRCMP_EQUAL("", messageText("Platform.1.3.2.MemoryUncorrectableError", {"DIMM0"}).c_str());
  STRCMP_EQUAL("", messageText(message::kStateChanged, {"only one"}).c_str());
}

TEST(Events, MakeEventAppendsTheDetail) {
  proto::Event e = makeEvent(message::kErrorsDetected, {"ConfigurationStore", "MergeConflict"},
                             managerUri(SpId::B), "Warning", SpId::B, "key /a");
  STRCMP_EQUAL("ResourceEvent.1.4.3.ResourceErrorsDetected", e.message_id().c_str());
  STRCMP_EQUAL(
      "The resource property ConfigurationStore has detected errors of type 'MergeConflict'. "
      "key /a",
      e.message().c_str());
  LONGS_EQUAL(2, e.args_size());
  STRCMP_EQUAL("/redfish/v1/Managers/SPB", e.origin().c_str());
  STRCMP_EQUAL("Warning", e.severity().c_str());

  proto::Event fault = makeEvent("Platform.1.3.2.MemoryUncorrectableError", {}, managerUri(SpId::A),
                                 "Critical", SpId::A, "DIMM0 failed");
  STRCMP_EQUAL("DIMM0 failed", fault.message().c_str());
}
