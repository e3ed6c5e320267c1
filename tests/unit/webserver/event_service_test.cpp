// The EventService, its subscriptions and the array event log (LogServices/Events) through
// the Dispatcher, on a fake configuration service.

#include <CppUTest/TestHarness.h>

#include "fake_config_store.hpp"
#include "ipc/event_destination.hpp"
#include "test_dispatcher.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;

namespace {

const char* const kSubscriptions = "/redfish/v1/EventService/Subscriptions";
const char* const kEntries = "/redfish/v1/Managers/SPB/LogServices/Events/Entries";
const char* const kSubmitTestEvent =
    "/redfish/v1/EventService/Actions/EventService.SubmitTestEvent";

struct EventsServed : Served {
  FakeConfigStore store{bus};
  explicit EventsServed(ServeMode mode = ServeMode::Full) : Served(SpId::A, Role::Active, mode) {}
  // Serves on with these networks refused to subscriptions too (spweb --refused-network).
  void refuse(std::initializer_list<const char*> networks) {
    ServiceConfig config = dispatcher->config();
    for (const char* n : networks) config.destinations.refused.push_back(*ipc::parseIpv4Network(n));
    dispatcher = std::make_unique<Dispatcher>(
        buildRouteTable(), config, [this] { return source->read(); }, bus, [] { return kNowMs; },
        authenticator());
  }
};

}  // namespace

TEST_GROUP(EventService){};

TEST(EventService, DescribesTheServiceAndIsLinkedFromTheRoot) {
  EventsServed a;
  Response res = a.get("/redfish/v1/EventService");
  LONGS_EQUAL(200, res.status);
  const Json& b = res.body;
  STRCMP_EQUAL("#EventService.v1_12_0.EventService", str(b["@odata.type"]).c_str());
  CHECK(b["ServiceEnabled"].get<bool>());
  LONGS_EQUAL(3, b["DeliveryRetryAttempts"].get<int>());
  LONGS_EQUAL(2, b["DeliveryRetryIntervalSeconds"].get<int>());
  CHECK(b["EventFormatTypes"] == Json::array({"Event"}));
  CHECK(b["RegistryPrefixes"] ==
        Json::array({"Base", "ResourceEvent", "Environmental", "ManagerEvent", "HeartbeatEvent"}));
  STRCMP_EQUAL("/redfish/v1/EventService/SSE", str(b["ServerSentEventUri"]).c_str());
  STRCMP_EQUAL(kSubscriptions, str(b["Subscriptions"]["@odata.id"]).c_str());
  STRCMP_EQUAL("Enabled", str(b["Status"]["State"]).c_str());
  const Json& action = b["Actions"]["#EventService.SubmitTestEvent"];
  STRCMP_EQUAL(kSubmitTestEvent, str(action["target"]).c_str());
  CHECK(action["MessageSeverity@Redfish.AllowableValues"] ==
        Json::array({"OK", "Warning", "Critical"}));
  STRCMP_EQUAL("/redfish/v1/EventService",
               str(a.get("/redfish/v1").body["EventService"]["@odata.id"]).c_str());
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(EventService, DegradedModeReadsButDoesNotWriteOrStream) {
  EventsServed d(ServeMode::Degraded);
  Response service = d.get("/redfish/v1/EventService");
  LONGS_EQUAL(200, service.status);
  CHECK_FALSE(service.body.contains("ServerSentEventUri"));  // links only to what it serves
  CHECK_FALSE(service.body.contains("Actions"));
  LONGS_EQUAL(200, d.get(kSubscriptions).status);
  LONGS_EQUAL(200, d.get("/redfish/v1/Managers/SPB/LogServices/Events").status);
  LONGS_EQUAL(200, d.get(kEntries).status);
  const size_t calls = d.bus.calls();
  checkError(
      d.post(kSubscriptions, R"({"Destination": "http://198.18.0.100/", "Protocol": "Redfish"})"),
      503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  checkError(d.del("/redfish/v1/EventService/Subscriptions/1"), 503,
             "Base.1.22.1.ServiceTemporarilyUnavailable");
  checkError(d.get("/redfish/v1/EventService/SSE"), 503,
             "Base.1.22.1.ServiceTemporarilyUnavailable");
  checkError(d.post(kSubmitTestEvent, "{}"), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  LONGS_EQUAL(calls, d.bus.calls());
}

TEST(EventService, SubscriptionLifecycle) {
  EventsServed a;
  Response empty = a.get(kSubscriptions);
  LONGS_EQUAL(200, empty.status);
  STRCMP_EQUAL("#EventDestinationCollection.EventDestinationCollection",
               str(empty.body["@odata.type"]).c_str());
  LONGS_EQUAL(0, empty.body["Members@odata.count"].get<int>());

  Response created = a.post(kSubscriptions, R"({"Destination": "http://198.18.0.100:8080/events",
      "Protocol": "Redfish", "Context": "lab", "RegistryPrefixes": ["ResourceEvent"]})");
  LONGS_EQUAL(201, created.status);
  std::vector<proto::Command> writes = a.bus.commandsNamed("ConfigWrite");
  LONGS_EQUAL(1, writes.size());
  LONGS_EQUAL(proto::SP_UNKNOWN, writes[0].target());
  proto::ConfigWrite change;
  CHECK(change.ParseFromString(writes[0].payload()));
  STRCMP_EQUAL("subscriptions/", change.create_prefix().c_str());
  LONGS_EQUAL(1, change.records_size());
  CHECK(Json::parse(change.records(0).value()) ==
        Json::parse(R"({"Destination": "http://198.18.0.100:8080/events", "Protocol": "Redfish",
                        "Context": "lab", "RegistryPrefixes": ["ResourceEvent"]})"));
  STRCMP_EQUAL("ResourceEvent.1.4.3.ResourceCreated", change.event().message_id().c_str());
  STRCMP_EQUAL(
      "The resource was created successfully. (Destination = "
      "'http://198.18.0.100:8080/events'; by admin from 198.18.0.100)",
      change.event().message().c_str());

  const std::string id = a.store.writes().size() == 1 ? "1" : "?";  // the fake's first seq
  const std::string path = std::string(kSubscriptions) + "/" + id;
  STRCMP_EQUAL(path.c_str(), created.header("Location").value_or("").c_str());
  STRCMP_EQUAL("#EventDestination.v1_16_0.EventDestination",
               str(created.body["@odata.type"]).c_str());
  STRCMP_EQUAL(path.c_str(), str(created.body["@odata.id"]).c_str());
  STRCMP_EQUAL("lab", str(created.body["Context"]).c_str());
  STRCMP_EQUAL("Event", str(created.body["EventFormatType"]).c_str());
  CHECK(created.body["VerifyCertificate"] == false);  // Redfish: false unless asked for

  Response one = a.get(path);
  LONGS_EQUAL(200, one.status);
  CHECK(one.body == created.body);
  Response list = a.get(kSubscriptions);
  LONGS_EQUAL(1, list.body["Members@odata.count"].get<int>());
  STRCMP_EQUAL(path.c_str(), str(list.body["Members"][0]["@odata.id"]).c_str());

  Response removed = a.del(path);
  LONGS_EQUAL(204, removed.status);
  CHECK(removed.body.is_null());
  proto::ConfigWrite removal = a.store.writes().back();
  STRCMP_EQUAL("subscriptions/1", removal.records(0).key().c_str());
  CHECK(removal.records(0).deleted());
  STRCMP_EQUAL("ResourceEvent.1.4.3.ResourceRemoved", removal.event().message_id().c_str());
  STRCMP_EQUAL(path.c_str(), removal.event().origin().c_str());
  checkError(a.get(path), 404, "Base.1.22.1.ResourceNotFound");
  checkError(a.del(path), 404, "Base.1.22.1.ResourceNotFound");  // spd's NOT_FOUND
}

// https:// where spd has a TLS client (the host build), with VerifyCertificate kept as given.
TEST(EventService, AnHttpsSubscriptionKeepsItsVerifyCertificate) {
  EventsServed a;
  Response res = a.post(kSubscriptions, R"({"Destination": "https://198.18.0.100:8443/events",
      "Protocol": "Redfish", "VerifyCertificate": true})");
  if (!ipc::kHttpsDestinations) {
    checkError(res, 400, "Base.1.22.1.PropertyValueFormatError");
    return;
  }
  LONGS_EQUAL(201, res.status);
  CHECK(res.body["VerifyCertificate"] == true);
  STRCMP_EQUAL("https://198.18.0.100:8443/events", str(res.body["Destination"]).c_str());
  CHECK(Json::parse(a.store.writes().back().records(0).value())["VerifyCertificate"] == true);
  // The same policy as http://: not to the SPs' own or special addresses.
  checkError(
      a.post(kSubscriptions, R"({"Destination": "https://127.0.0.1/", "Protocol": "Redfish"})"),
      400, "Base.1.22.1.PropertyValueOutOfRange");
}

TEST(EventService, SubscriptionsAreListedInIdOrder) {
  EventsServed a;
  for (const char* id : {"10", "9", "2"})
    a.store.put(std::string("subscriptions/") + id,
                R"({"Destination": "http://198.18.0.100/", "Protocol": "Redfish"})");
  a.store.put("subscriptionsX", "{}");
  Response list = a.get(kSubscriptions);
  LONGS_EQUAL(3, list.body["Members@odata.count"].get<int>());
  STRCMP_EQUAL("/redfish/v1/EventService/Subscriptions/2",
               str(list.body["Members"][0]["@odata.id"]).c_str());
  STRCMP_EQUAL("/redfish/v1/EventService/Subscriptions/10",
               str(list.body["Members"][2]["@odata.id"]).c_str());
  // "subscriptions/1" is not "subscriptions/10".
  checkError(a.get("/redfish/v1/EventService/Subscriptions/1"), 404,
             "Base.1.22.1.ResourceNotFound");
}

TEST(EventService, BadSubscriptionsAreRefusedBeforeSpd) {
  EventsServed a;
  struct Case {
    const char* body;
    const char* message_id;
  };
  const Case cases[] = {
      {"nope", "Base.1.22.1.MalformedJSON"},
      {R"({"Protocol": "Redfish"})", "Base.1.22.1.PropertyMissing"},
      {R"({"Destination": "http://198.18.0.100/"})", "Base.1.22.1.PropertyMissing"},
      {R"({"Destination": 7, "Protocol": "Redfish"})", "Base.1.22.1.PropertyValueTypeError"},
      {R"({"Destination": "ftp://198.18.0.100/", "Protocol": "Redfish"})",
       "Base.1.22.1.PropertyValueFormatError"},
      {R"({"Destination": "http:///x", "Protocol": "Redfish"})",
       "Base.1.22.1.PropertyValueFormatError"},
      {R"({"Destination": "http://198.18.0.100:0/", "Protocol": "Redfish"})",
       "Base.1.22.1.PropertyValueFormatError"},
      {R"({"Destination": "http://198.18.0.100:99999/", "Protocol": "Redfish"})",
       "Base.1.22.1.PropertyValueFormatError"},
      {R"({"Destination": "http://198.18.0.100/", "Protocol": "SNMPv2c"})",
       "Base.1.22.1.PropertyValueNotInList"},
      {R"({"Destination": "http://198.18.0.100/", "Protocol": "Redfish", "EventFormatType": "MetricReport"})",
       "Base.1.22.1.PropertyValueNotInList"},
      {R"({"Destination": "http://198.18.0.100/", "Protocol": "Redfish", "Context": 3})",
       "Base.1.22.1.PropertyValueTypeError"},
      {R"({"Destination": "http://198.18.0.100/", "Protocol": "Redfish", "MessageIds": "x"})",
       "Base.1.22.1.PropertyValueTypeError"},
      {R"({"Destination": "http://198.18.0.100/", "Protocol": "Redfish", "RegistryPrefixes": [1]})",
       "Base.1.22.1.PropertyValueTypeError"},
      {R"({"Destination": "http://198.18.0.100/", "Protocol": "Redfish", "EventTypes": ["Alert"]})",
       "Base.1.22.1.PropertyUnknown"},
      {R"({"Destination": "https://198.18.0.100/", "Protocol": "Redfish", "VerifyCertificate": "yes"})",
       "Base.1.22.1.PropertyValueTypeError"},
  };
  for (const Case& c : cases) {
    Response res = a.post(kSubscriptions, c.body);
    LONGS_EQUAL_TEXT(400, res.status, c.body);
    STRCMP_EQUAL_TEXT(c.message_id, str(res.body["error"]["code"]).c_str(), c.body);
  }
  checkError(
      a.post(kSubscriptions, R"({"Destination": "http://198.18.0.100/", "Protocol": "Redfish",
      "Context": ")" + std::string(257, 'c') +
                                 "\"}"),
      400, "Base.1.22.1.StringValueTooLong");
  LONGS_EQUAL(0, a.store.writes().size());
  LONGS_EQUAL(201, a.post(kSubscriptions, R"({"Destination": "http://198.18.0.100:8088/e",
      "Protocol": "Redfish", "EventFormatType": "Event", "MessageIds": []})")
                       .status);
}

// Server-side request forgery (docs/SECURITY.md "Hostile input"): a subscription is a request
// spd makes for the client, so it may not point at the SP itself, its peer, link-local
// services, or smuggle a second request through CR/LF. Refused with 400 naming Destination.
TEST(EventService, SubscriptionsToTheSpsOrWithCrLfAreRefused) {
  EventsServed a;
  a.refuse({"198.18.1.0/24", "198.18.0.11", "198.18.0.12", "198.18.0.10"});
  const char* out_of_range[] = {"http://127.0.0.1/x",     "http://169.254.169.254/latest/meta-data",
                                "http://0.0.0.0:22/",     "http://198.18.1.12:7500/",
                                "http://198.18.0.12/",    "http://224.0.0.1/",
                                "http://255.255.255.255/"};
  for (const char* url : out_of_range) {
    Json body = {{"Destination", url}, {"Protocol", "Redfish"}};
    Response res = a.post(kSubscriptions, body.dump());
    checkError(res, 400, "Base.1.22.1.PropertyValueOutOfRange");
    STRCMP_EQUAL_TEXT("Destination",
                      str(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"][1]).c_str(),
                      url);
  }
  const char* malformed[] = {"http://198.18.0.100/x HTTP/1.1\r\nHost: a\r\n\r\nDELETE /y",
                             "http://198.18.0.100/a b", "http://localhost/",
                             "https://listener.example/", "http://[fd00::1]/"};
  for (const char* url : malformed) {
    Json body = {{"Destination", url}, {"Protocol", "Redfish"}};
    checkError(a.post(kSubscriptions, body.dump()), 400, "Base.1.22.1.PropertyValueFormatError");
  }
  LONGS_EQUAL(0, a.store.writes().size());
  LONGS_EQUAL(201, a.post(kSubscriptions,
                          R"({"Destination": "http://198.18.0.100:8088/e", "Protocol": "Redfish"})")
                       .status);
}

TEST(EventService, SubscriptionsStopAtTheirLimit) {
  EventsServed a;
  const std::string body =
      R"({"Destination": "http://198.18.0.100:8088/e", "Protocol": "Redfish"})";
  int created = 0;
  for (int i = 0; i < 40 && a.post(kSubscriptions, body).status == 201; ++i) ++created;
  LONGS_EQUAL(16, created);
  checkError(a.post(kSubscriptions, body), 400, "Base.1.22.1.CreateLimitReachedForResource");
  LONGS_EQUAL(16, a.get(kSubscriptions).body["Members@odata.count"].get<int>());
  LONGS_EQUAL(204, a.del("/redfish/v1/EventService/Subscriptions/1").status);
  LONGS_EQUAL(201, a.post(kSubscriptions, body).status);
}

TEST(EventService, TheStreamIsHandedToTheWebServer) {
  EventsServed a;
  Request request = makeRequest(HttpMethod::Get, "/redfish/v1/EventService/SSE");
  Response res = a.dispatcher->handle(request);
  LONGS_EQUAL(200, res.status);
  CHECK(res.event_stream.has_value());
  CHECK_FALSE(res.event_stream->last_event_id.has_value());
  STRCMP_EQUAL("text/event-stream", res.header("Content-Type").value_or("").c_str());
  STRCMP_EQUAL("no-cache", res.header("Cache-Control").value_or("").c_str());
  LONGS_EQUAL(1, std::count_if(res.headers.begin(), res.headers.end(),
                               [](const auto& h) { return h.first == "Cache-Control"; }));
  request.headers.emplace_back("last-event-id", "41");
  LONGS_EQUAL(41, *a.dispatcher->handle(request).event_stream->last_event_id);
  request.headers.back().second = "x41";
  CHECK_FALSE(a.dispatcher->handle(request).event_stream->last_event_id.has_value());
  LONGS_EQUAL(0, a.bus.calls());  // the stream asks spd itself, from web_server.cpp
  checkError(a.post("/redfish/v1/EventService/SSE", ""), 405, "Base.1.22.1.OperationNotAllowed");
}

// EventService.SubmitTestEvent: one ConfigWrite with the event and no record, so spd records it
// like any other event (id, both SPs, SSE, subscribers).
TEST(EventService, SubmitTestEventRecordsTheClientsEvent) {
  EventsServed a;
  Response res = a.post(kSubmitTestEvent, R"({"MessageId": "ResourceEvent.1.4.3.TestMessage",
      "MessageSeverity": "Critical", "Message": "Drill 7.", "MessageArgs": ["x", "y"],
      "OriginOfCondition": "/redfish/v1/Chassis/Enclosure", "EventId": "99",
      "EventTimestamp": "2026-01-01T00:00:00Z", "EventGroupId": 3, "Severity": "OK"})");
  LONGS_EQUAL(204, res.status);
  std::vector<proto::Command> writes = a.bus.commandsNamed("ConfigWrite");
  LONGS_EQUAL(1, writes.size());
  LONGS_EQUAL(proto::SP_UNKNOWN, writes[0].target());
  proto::ConfigWrite change;
  CHECK(change.ParseFromString(writes[0].payload()));
  LONGS_EQUAL(0, change.records_size());
  const proto::Event& e = change.event();
  STRCMP_EQUAL("ResourceEvent.1.4.3.TestMessage", e.message_id().c_str());
  STRCMP_EQUAL("Critical", e.severity().c_str());  // MessageSeverity wins over Severity
  STRCMP_EQUAL("Drill 7.", e.message().c_str());
  LONGS_EQUAL(2, e.args_size());
  STRCMP_EQUAL("y", e.args(1).c_str());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure", e.origin().c_str());
  LONGS_EQUAL(0, e.id());  // spd numbers it
  // In the log like any other event.
  std::vector<proto::Event> logged = a.store.events();
  LONGS_EQUAL(1, logged.size());
  Response entry = a.get(std::string(kEntries) + "/" + std::to_string(logged[0].id()));
  LONGS_EQUAL(200, entry.status);
  STRCMP_EQUAL("Drill 7.", str(entry.body["Message"]).c_str());
}

TEST(EventService, SubmitTestEventWithoutParametersIsTheRegistrysTestMessage) {
  EventsServed a;
  LONGS_EQUAL(204, a.post(kSubmitTestEvent, "").status);
  LONGS_EQUAL(204, a.post(kSubmitTestEvent, "{}").status);
  std::vector<proto::Event> logged = a.store.events();
  LONGS_EQUAL(2, logged.size());
  for (const proto::Event& e : logged) {
    STRCMP_EQUAL("ResourceEvent.1.4.3.TestMessage", e.message_id().c_str());
    STRCMP_EQUAL("Test message.", e.message().c_str());
    STRCMP_EQUAL("OK", e.severity().c_str());
    CHECK(e.origin().empty());
  }
}

TEST(EventService, BadTestEventsAreRefusedBeforeSpd) {
  EventsServed a;
  checkError(a.post(kSubmitTestEvent, R"({"MessageId": "NoVersion"})"), 400,
             "Base.1.22.1.ActionParameterValueError");
  checkError(a.post(kSubmitTestEvent, R"({"MessageId": "Base.1.x.Key"})"), 400,
             "Base.1.22.1.ActionParameterValueError");
  checkError(a.post(kSubmitTestEvent, R"({"MessageId": "A.1.2.B.C"})"), 400,
             "Base.1.22.1.ActionParameterValueError");
  checkError(a.post(kSubmitTestEvent, R"({"MessageId": "A.1.2.3.4.C"})"), 400,
             "Base.1.22.1.ActionParameterValueError");
  checkError(a.post(kSubmitTestEvent, R"({"MessageId": "A..2.C"})"), 400,
             "Base.1.22.1.ActionParameterValueError");
  LONGS_EQUAL(204, a.post(kSubmitTestEvent, R"({"MessageId": "Lab.1.0.Drill"})").status);
  checkError(a.post(kSubmitTestEvent, R"({"MessageId": 5})"), 400,
             "Base.1.22.1.ActionParameterValueTypeError");
  checkError(a.post(kSubmitTestEvent, R"({"MessageSeverity": "Fatal"})"), 400,
             "Base.1.22.1.ActionParameterValueNotInList");
  checkError(a.post(kSubmitTestEvent, R"({"MessageArgs": "x"})"), 400,
             "Base.1.22.1.ActionParameterValueTypeError");
  checkError(a.post(kSubmitTestEvent, R"({"OriginOfCondition": "http://elsewhere/"})"), 400,
             "Base.1.22.1.ActionParameterValueError");
  checkError(a.post(kSubmitTestEvent, R"({"Message": ")" + std::string(1025, 'x') + R"("})"), 400,
             "Base.1.22.1.StringValueTooLong");
  checkError(a.post(kSubmitTestEvent, R"({"Colour": "red"})"), 400,
             "Base.1.22.1.ActionParameterNotSupported");
  checkError(a.post(kSubmitTestEvent, "[1]"), 400, "Base.1.22.1.MalformedJSON");
  LONGS_EQUAL(1, a.bus.commandsNamed("ConfigWrite").size());  // Lab.1.0.Drill only
  // ConfigureManager (Redfish_1.8.0_PrivilegeRegistry, EventService POST): not a ReadOnly account.
  a.identity = Identity{"viewer", "ReadOnly", "", false};
  checkError(a.post(kSubmitTestEvent, "{}"), 403, "Base.1.22.1.InsufficientPrivilege");
  a.identity = Identity{"operator", "Operator", "", false};
  checkError(a.post(kSubmitTestEvent, "{}"), 403, "Base.1.22.1.InsufficientPrivilege");
  LONGS_EQUAL(1, a.bus.commandsNamed("ConfigWrite").size());
}

TEST(EventService, ATestEventSpdCannotRecordIsA503) {
  EventsServed a;
  a.store.failWrites(proto::CommandResult::UNAVAILABLE);
  checkError(a.post(kSubmitTestEvent, "{}"), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  LONGS_EQUAL(0, a.store.events().size());
}

TEST_GROUP(EventLog){};

TEST(EventLog, LogServiceDescribesTheArrayLog) {
  EventsServed a;
  Response res = a.get("/redfish/v1/Managers/SPA/LogServices/Events");
  LONGS_EQUAL(200, res.status);
  STRCMP_EQUAL("Events", str(res.body["Id"]).c_str());
  STRCMP_EQUAL("Array event log", str(res.body["Name"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Managers/SPA/LogServices/Events/Entries",
               str(res.body["Entries"]["@odata.id"]).c_str());
  checkError(a.get("/redfish/v1/Managers/SPC/LogServices/Events"), 404,
             "Base.1.22.1.ResourceNotFound");
}

TEST(EventLog, EntriesArePagedWithSkipAndTop) {
  EventsServed a;
  for (int i = 1; i <= 5; ++i)
    a.store.addEvent("ResourceEvent.1.4.3.ResourceChanged", "change " + std::to_string(i));
  Response all = a.get(kEntries);
  LONGS_EQUAL(200, all.status);
  LONGS_EQUAL(5, all.body["Members@odata.count"].get<int>());
  LONGS_EQUAL(5, all.body["Members"].size());
  CHECK_FALSE(all.body.contains("Members@odata.nextLink"));
  proto::Command asked = a.bus.last();
  STRCMP_EQUAL("GetEvents", asked.name().c_str());
  LONGS_EQUAL(proto::SP_UNKNOWN, asked.target());
  STRCMP_EQUAL("50", asked.args().at("top").c_str());
  STRCMP_EQUAL("0", asked.args().at("skip").c_str());
  const Json& first = all.body["Members"][0];
  STRCMP_EQUAL("/redfish/v1/Managers/SPB/LogServices/Events/Entries/1",
               str(first["@odata.id"]).c_str());
  STRCMP_EQUAL("#LogEntry.v1_21_0.LogEntry", str(first["@odata.type"]).c_str());
  STRCMP_EQUAL("change 1", str(first["Message"]).c_str());

  Response page = a.get(kEntries, "$skip=1&$top=2");
  LONGS_EQUAL(5, page.body["Members@odata.count"].get<int>());
  LONGS_EQUAL(2, page.body["Members"].size());
  STRCMP_EQUAL("2", str(page.body["Members"][0]["Id"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Managers/SPB/LogServices/Events/Entries?$skip=3&$top=2",
               str(page.body["Members@odata.nextLink"]).c_str());
  Response last = a.get(kEntries, "$skip=3&$top=2");
  CHECK_FALSE(last.body.contains("Members@odata.nextLink"));
  STRCMP_EQUAL("1000", (a.get(kEntries, "$top=1000"), a.bus.last().args().at("top")).c_str());
}

TEST(EventLog, BadPagingIsRefusedBeforeSpd) {
  EventsServed a;
  checkError(a.get(kEntries, "$top=abc"), 400, "Base.1.22.1.QueryParameterValueTypeError");
  checkError(a.get(kEntries, "$top=-1"), 400, "Base.1.22.1.QueryParameterValueTypeError");
  checkError(a.get(kEntries, "$skip=x"), 400, "Base.1.22.1.QueryParameterValueTypeError");
  Response big = a.get(kEntries, "$top=1001");
  checkError(big, 400, "Base.1.22.1.QueryParameterOutOfRange");
  CHECK(big.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"] ==
        Json::array({"1001", "$top", "0 to 1000"}));
  checkError(a.get(kEntries, "$top=99999999999999999999999"), 400,
             "Base.1.22.1.QueryParameterOutOfRange");
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(EventLog, OneEntryById) {
  EventsServed a;
  for (int i = 1; i <= 3; ++i)
    a.store.addEvent("ResourceEvent.1.4.3.ResourceChanged", "c" + std::to_string(i));
  Response res = a.get(std::string(kEntries) + "/2");
  LONGS_EQUAL(200, res.status);
  STRCMP_EQUAL("2", str(res.body["Id"]).c_str());
  STRCMP_EQUAL("c2", str(res.body["Message"]).c_str());
  STRCMP_EQUAL("1", a.bus.last().args().at("after").c_str());
  STRCMP_EQUAL("1", a.bus.last().args().at("top").c_str());
  checkError(a.get(std::string(kEntries) + "/4"), 404, "Base.1.22.1.ResourceNotFound");
  checkError(a.get(std::string(kEntries) + "/0"), 404, "Base.1.22.1.ResourceNotFound");
  checkError(a.get(std::string(kEntries) + "/x"), 404, "Base.1.22.1.ResourceNotFound");
  a.store.silence(true);
  checkError(a.get(std::string(kEntries) + "/2"), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  checkError(a.get(kEntries), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
}

TEST(EventLog, EntriesLinkTheirOriginExceptInDegradedMode) {
  for (ServeMode mode : {ServeMode::Full, ServeMode::Degraded}) {
    EventsServed a(mode);
    proto::Event e;
    e.set_message_id("ResourceEvent.1.4.3.ResourceChanged");
    e.set_origin("/redfish/v1/Chassis/Enclosure");
    a.store.addEvent(e);
    Response res = a.get(std::string(kEntries) + "/1");
    LONGS_EQUAL(200, res.status);
    // A LogEntry links its origin under Links; the degraded server does not serve the
    // chassis, and links only to what it serves.
    if (mode == ServeMode::Full)
      STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure",
                   str(res.body["Links"]["OriginOfCondition"]["@odata.id"]).c_str());
    else
      CHECK_FALSE(res.body.contains("Links"));
    CHECK_FALSE(res.body.contains("OriginOfCondition"));
  }
}
