// DSP0266's protocol rules through the Dispatcher (docs/WEB.md "Protocol"): the OData
// documents, OData-Version, Allow, Link, ETag and If-Match, unknown methods and $ query
// parameters; and the helpers of webserver/protocol.hpp on their own.

#include <CppUTest/TestHarness.h>

#include <regex>
#include <set>

#include "fake_config_store.hpp"
#include "test_dispatcher.hpp"
#include "webserver/protocol.hpp"
#include "webserver/routes/odata.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;

namespace {

const char* const kEnclosure = "/redfish/v1/Chassis/Enclosure";
const char* const kSubscriptions = "/redfish/v1/EventService/Subscriptions";

Request requestWith(HttpMethod method, const std::string& path,
                    std::vector<std::pair<std::string, std::string>> headers,
                    const std::string& body = "") {
  Request request = makeRequest(method, path);
  request.headers = std::move(headers);
  request.body = body;
  request.remote_address = "198.18.0.100";
  return request;
}

// Sensors of both SPs: none, but an answer, so the enclosure renders.
proto::CommandResult okResult() {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_answered_by(proto::SP_A);
  r.set_served_by(proto::SP_A);
  r.mutable_sensors();
  return r;
}

struct ConfigServed : Served {
  FakeConfigStore store{bus};
  explicit ConfigServed(SpId sp = SpId::A) : Served(sp, Role::Active) { bus.answer(okResult()); }
};

// The service root's links to its top-level resources, as (name, url) pairs.
std::set<std::pair<std::string, std::string>> serviceRootLinks(const Json& root) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : root.items())
    if (value.is_object() && value.size() == 1 && value.contains("@odata.id"))
      out.emplace(name, str(value["@odata.id"]));
  for (const auto& [name, value] : root["Links"].items())
    if (name != "ManagerProvidingService") out.emplace(name, str(value["@odata.id"]));
  return out;
}

}  // namespace

TEST_GROUP(ODataDocuments){};

TEST(ODataDocuments, ServiceDocumentListsWhatTheServiceRootLinks) {
  for (ServeMode mode : {ServeMode::Full, ServeMode::Degraded}) {
    Served a(SpId::A, Role::Active, mode);
    Response res = a.get("/redfish/v1/odata");
    LONGS_EQUAL(200, res.status);
    checkCommonHeaders(res, "A");
    STRCMP_EQUAL("/redfish/v1/$metadata", str(res.body["@odata.context"]).c_str());
    std::set<std::pair<std::string, std::string>> listed;
    bool service = false;
    for (const Json& v : res.body["value"]) {
      STRCMP_EQUAL("Singleton", str(v["kind"]).c_str());
      if (str(v["name"]) == "Service") {
        STRCMP_EQUAL("/redfish/v1/", str(v["url"]).c_str());
        service = true;
      } else {
        listed.emplace(str(v["name"]), str(v["url"]));
      }
    }
    CHECK(service);
    CHECK(listed == serviceRootLinks(a.get("/redfish/v1").body));
    CHECK_EQUAL(mode == ServeMode::Full, listed.contains({"Chassis", "/redfish/v1/Chassis"}));
  }
}

TEST(ODataDocuments, MetadataReferencesEverySchemaServed) {
  Served a(SpId::B, Role::Passive, ServeMode::Degraded);
  Response res = a.get("/redfish/v1/$metadata");
  LONGS_EQUAL(200, res.status);
  CHECK(res.body.is_null());
  STRCMP_EQUAL("application/xml; charset=utf-8", res.header("Content-Type").value_or("").c_str());
  STRCMP_EQUAL("4.0", res.header("OData-Version").value_or("").c_str());
  const std::string& xml = res.text;
  STRCMP_EQUAL(xml.c_str(), res.serializedBody().c_str());
  CHECK(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<edmx:Edmx "));
  STRCMP_CONTAINS(
      "<EntityContainer Name=\"Service\" Extends=\"ServiceRoot.v1_16_0.ServiceContainer\"/>",
      xml.c_str());
  STRCMP_CONTAINS(
      "<edmx:Reference Uri=\"http://redfish.dmtf.org/schemas/v1/Manager_v1.xml\">\n"
      "    <edmx:Include Namespace=\"Manager\"/>\n"
      "    <edmx:Include Namespace=\"Manager.v1_19_0\"/>\n"
      "  </edmx:Reference>",
      xml.c_str());
  STRCMP_CONTAINS("<edmx:Include Namespace=\"Resource.v1_0_0\"/>", xml.c_str());
  for (std::string_view type : odataTypesServed()) {
    // "#LogEntry.v1_21_0.LogEntry": its namespace included, under its schema's reference.
    const std::string name(type.substr(1));
    const std::string ns = name.substr(0, name.rfind('.'));
    const std::string schema = ns.substr(0, ns.find('.'));
    const size_t reference =
        xml.find("Uri=\"http://redfish.dmtf.org/schemas/v1/" + schema + "_v1.xml\"");
    CHECK_TEXT(reference != std::string::npos, name.c_str());
    const size_t include = xml.find("<edmx:Include Namespace=\"" + ns + "\"/>");
    CHECK_TEXT(include != std::string::npos && include > reference, name.c_str());
    CHECK_TEXT(xml.find("</edmx:Reference>", reference) > include, name.c_str());
  }
}

TEST(ODataDocuments, ServedWithoutAuthInBothModesAndWithoutTheBoard) {
  RouteTable routes = buildRouteTable();
  for (const char* path : {"/redfish/v1/odata", "/redfish/v1/$metadata"}) {
    std::optional<RouteMatch> m = routes.match(path);
    CHECK(m.has_value());
    CHECK(m->route->privilege == Privilege::NoAuth);
    CHECK(m->route->degraded == DegradedService::Yes);
    CHECK(m->route->source == DataSource::None);
  }
  Served unpublished(SpId::A, Role::Active, ServeMode::Full, /*publish=*/false);
  LONGS_EQUAL(200, unpublished.get("/redfish/v1/odata").status);
  LONGS_EQUAL(200, unpublished.get("/redfish/v1/$metadata").status);
}

TEST(ODataDocuments, CataloguedTypesAreWellFormed) {
  const std::regex versioned(R"(#([A-Za-z]+)\.v1_[0-9]+_[0-9]+\.\1)");
  const std::regex unversioned(R"(#([A-Za-z]+)\.\1)");
  std::set<std::string_view> seen;
  for (std::string_view type : odataTypesServed()) {
    const std::string t(type);
    CHECK_TEXT(std::regex_match(t, versioned) || std::regex_match(t, unversioned), t.c_str());
    CHECK_TEXT(seen.insert(type).second, t.c_str());
    CHECK(isODataTypeServed(type));
  }
  CHECK_FALSE(isODataTypeServed("#Manager.v1_0_0.Manager"));
}

// Every GET route answers, from what needs no bus, with types $metadata references (the
// routes that ask spd are covered by their own tests: Served::get checks every answer).
TEST(ODataDocuments, EveryRouteReadWithoutTheBusAnswersCataloguedTypes) {
  for (ServeMode mode : {ServeMode::Full, ServeMode::Degraded}) {
    Served a(SpId::A, Role::Active, mode);
    for (const Route& r : a.dispatcher->routes().routes()) {
      if (!r.methods.contains(HttpMethod::Get)) continue;
      std::string path = r.pattern;
      for (const auto& [param, id] : {std::pair{"{ManagerId}", "SPA"},
                                      {"{ChassisId}", "Enclosure"},
                                      {"{EthernetInterfaceId}", "Floating"}})
        if (size_t at = path.find(param); at != std::string::npos)
          path.replace(at, std::string_view(param).size(), id);
      path = std::regex_replace(path, std::regex(R"(\{[A-Za-z]+\})"), "1");
      Response res = a.get(path);  // checks the types
      // Served, or waiting for spd (the bus answers nothing here), not served degraded, or
      // no such member: never a failure of the route itself.
      CHECK_TEXT(res.status == 200 || res.status == 503 || res.status == 404, path.c_str());
    }
  }
}

TEST_GROUP(ProtocolHeaders){};

TEST(ProtocolHeaders, ODataVersionOtherThan40IsPreconditionFailed) {
  Served a(SpId::A, Role::Active);
  LONGS_EQUAL(
      200,
      a.dispatcher->handle(requestWith(HttpMethod::Get, "/redfish/v1", {{"OData-Version", "4.0"}}))
          .status);
  for (const char* version : {"4.01", "3.0", ""}) {
    Response res = a.dispatcher->handle(
        requestWith(HttpMethod::Get, "/redfish/v1", {{"odata-version", version}}));
    checkError(res, 412, "Base.1.22.1.PreconditionFailed");
    checkCommonHeaders(res, "A");
    const Json& info = res.body["error"]["@Message.ExtendedInfo"];
    LONGS_EQUAL(2, info.size());
    STRCMP_EQUAL("Base.1.22.1.HeaderInvalid", str(info[1]["MessageId"]).c_str());
    CHECK(info[1]["MessageArgs"] == Json::array({"OData-Version"}));
    STRCMP_CONTAINS("OData-Version", str(res.body["error"]["message"]).c_str());
  }
  // Before anything else: a PATCH is not tried.
  Response patch = a.dispatcher->handle(
      requestWith(HttpMethod::Patch, "/redfish/v1/Managers/SPA", {{"OData-Version", "5.0"}}, "{}"));
  LONGS_EQUAL(412, patch.status);
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(ProtocolHeaders, ReadsCarryAllowLinkAndETag) {
  Served a(SpId::A, Role::Active);
  for (HttpMethod m : {HttpMethod::Get, HttpMethod::Head}) {
    Response root = a.dispatcher->handle(makeRequest(m, "/redfish/v1"));
    LONGS_EQUAL(200, root.status);
    STRCMP_EQUAL("GET, HEAD", root.header("Allow").value_or("").c_str());
    STRCMP_EQUAL("<https://redfish.dmtf.org/schemas/v1/ServiceRoot.v1_17_0.json>; rel=describedby",
                 root.header("Link").value_or("").c_str());
    CHECK(std::regex_match(root.header("ETag").value_or(""), std::regex(R"(W/"[0-9a-f]{16}")")));
  }
  Response managers = a.get("/redfish/v1/Managers");
  STRCMP_EQUAL("<https://redfish.dmtf.org/schemas/v1/ManagerCollection.json>; rel=describedby",
               managers.header("Link").value_or("").c_str());
  // The same resource, the same tag; another resource, another.
  STRCMP_EQUAL(a.get("/redfish/v1").header("ETag").value_or("x").c_str(),
               a.get("/redfish/v1").header("ETag").value_or("y").c_str());
  CHECK(managers.header("ETag") != a.get("/redfish/v1").header("ETag"));
  // A route that also takes PATCH says so on a read.
  ConfigServed c;
  STRCMP_EQUAL("GET, HEAD, PATCH", c.get(kEnclosure).header("Allow").value_or("").c_str());
}

TEST(ProtocolHeaders, ErrorsCarryNoLinkOrETag) {
  Served a(SpId::A, Role::Active);
  Response missing = a.get("/redfish/v1/Nothing");
  LONGS_EQUAL(404, missing.status);
  CHECK_FALSE(missing.header("Allow"));
  CHECK_FALSE(missing.header("Link"));
  CHECK_FALSE(missing.header("ETag"));
  Response action = a.get("/redfish/v1/Managers/SPA/Actions/Manager.Reset");
  LONGS_EQUAL(405, action.status);
  int allows = 0;
  for (const auto& [name, value] : action.headers) allows += name == "Allow";
  LONGS_EQUAL(1, allows);
  STRCMP_EQUAL("POST", action.header("Allow").value_or("").c_str());
  // No @odata.type, no Link; the OData documents are not resources of a schema.
  CHECK_FALSE(a.get("/redfish").header("Link"));
  CHECK_FALSE(a.get("/redfish/v1/$metadata").header("Link"));
}

TEST_GROUP(Methods){};

TEST(Methods, AMethodSpwebDoesNotKnowIsNotImplemented) {
  Served a(SpId::B, Role::Active);
  for (const char* path : {"/redfish/v1", "/redfish/v1/Nothing"}) {
    Response res = a.dispatcher->handle(makeRequest(HttpMethod::Other, path));
    checkError(res, 501, "Base.1.22.1.GeneralError");
    checkCommonHeaders(res, "B");
    STRCMP_CONTAINS("not implemented", str(res.body["error"]["message"]).c_str());
  }
}

TEST(Methods, AKnownMethodTheResourceDoesNotTakeIsNotAllowed) {
  Served a(SpId::A, Role::Active);
  for (HttpMethod m :
       {HttpMethod::Put, HttpMethod::Post, HttpMethod::Delete, HttpMethod::Options}) {
    Response res = a.dispatcher->handle(makeRequest(m, "/redfish/v1/Managers/SPA"));
    checkError(res, 405, "Base.1.22.1.OperationNotAllowed");
    STRCMP_EQUAL("GET, HEAD, PATCH", res.header("Allow").value_or("").c_str());
  }
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(Methods, APostToACollectionsMembersIsAPostToTheCollection) {
  ConfigServed a;
  const std::string body = R"({"Destination": "http://198.18.0.100/", "Protocol": "Redfish"})";
  for (const char* members : {"/Members", "/Members/"}) {
    Response res = a.post(std::string(kSubscriptions) + members, body);
    LONGS_EQUAL_TEXT(201, res.status, members);
    STRCMP_CONTAINS("/redfish/v1/EventService/Subscriptions/",
                    res.header("Location").value_or("").c_str());
  }
  LONGS_EQUAL(2, a.bus.commandsNamed("ConfigWrite").size());
  // Only a POST (a GET asks for the subscription of that id), and never an action.
  checkError(a.get(std::string(kSubscriptions) + "/Members"), 404, "Base.1.22.1.ResourceNotFound");
  const size_t calls = a.bus.calls();
  checkError(a.post("/redfish/v1/Managers/SPA/Actions/Manager.Reset/Members", "{}"), 404,
             "Base.1.22.1.ResourceNotFound");
  checkError(a.post("/Members", "{}"), 404, "Base.1.22.1.ResourceNotFound");
  LONGS_EQUAL(calls, a.bus.calls());
}

TEST_GROUP(QueryParameters){};

TEST(QueryParameters, TheServiceRootDeclaresTheQueryFeatures) {
  Served a(SpId::A, Role::Active);
  const Response root = a.get("/redfish/v1");
  const Json& features = root.body["ProtocolFeaturesSupported"];
  CHECK(features.is_object());
  for (const char* name : {"ExcerptQuery", "OnlyMemberQuery"})
    CHECK_TEXT(features.at(name) == false, name);
  for (const char* name : {"FilterQuery", "SelectQuery", "TopSkipQuery"})
    CHECK_TEXT(features.at(name) == true, name);
  for (const char* name : {"ExpandAll", "Levels", "Links", "NoLinks"})
    CHECK_TEXT(features.at("ExpandQuery").at(name) == true, name);
  LONGS_EQUAL(3, features.at("ExpandQuery").at("MaxLevels").get<int>());
}

TEST(QueryParameters, UnimplementedDollarParametersAreNotImplemented) {
  Served a(SpId::A, Role::Active);
  for (const char* query : {"$only", "$count=true", "$search=x", "$apply=x", "$orderby=Id",
                            "only&$rpvunknown", "$levels=1", "$expand=.&$only"}) {
    Response res = a.get("/redfish/v1", query);
    checkError(res, 501, "Base.1.22.1.QueryParameterUnsupported");
    checkCommonHeaders(res, "A");
    const std::string name = str(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"][0]);
    CHECK_TEXT(name.starts_with("$"), query);
  }
  // Not on what is not a Redfish resource: the version document, the OData documents, a change.
  for (const char* path : {"/redfish", "/redfish/v1/odata", "/redfish/v1/$metadata"})
    checkError(a.get(path, "$select=Id"), 501, "Base.1.22.1.QueryParameterUnsupported");
  Request patch = makeRequest(HttpMethod::Patch, "/redfish/v1/Managers/SPA");
  patch.query = "$expand=.";
  patch.body = R"({"ServiceIdentification": "x"})";
  checkError(a.dispatcher->handle(patch), 501, "Base.1.22.1.QueryParameterUnsupported");
  // The echoed name is valid UTF-8 and bounded, whatever its %-escapes decode to (found by
  // request_handlers_fuzz: a name cut inside a character made the whole answer invalid).
  Response bad = a.get("/redfish/v1", "$x%C3%28%FF=1");
  checkError(bad, 501, "Base.1.22.1.QueryParameterUnsupported");
  STRCMP_EQUAL("$x%C3(%FF",
               str(bad.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"][0]).c_str());
  (void)bad.body.dump();  // strict: throws on invalid UTF-8
  Response longer =
      a.get("/redfish/v1",
            "$" + std::string(40, 'a') +
                "%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9");
  const std::string echoed =
      str(longer.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"][0]);
  CHECK(echoed.size() <= 64 + 3);
  (void)longer.body.dump();
  // Parameters without $ are not the service's to judge.
  LONGS_EQUAL(200, a.get("/redfish/v1", "rpvunknown").status);
  LONGS_EQUAL(200, a.get("/redfish/v1", "only=x&excerpt").status);
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(QueryParameters, TheLogsTakeWhatTheyImplement) {
  ConfigServed a;
  const std::string events = "/redfish/v1/Managers/SPA/LogServices/Events/Entries";
  LONGS_EQUAL(200, a.get(events, "$skip=0&$top=5").status);
  checkError(a.get(events, "$top=5&$filter=x"), 400, "Base.1.22.1.QueryParameterValueFormatError");
  LONGS_EQUAL(200, a.get(events, "$top=5&$filter=Severity%20eq%20'OK'").status);
  const std::string log = "/redfish/v1/Managers/SPA/LogServices/Log/Entries";
  const size_t calls = a.bus.calls();
  // Checked before the handler: a bad $skip is 400 and spd is not asked.
  checkError(a.get(log, "$skip=abc"), 400, "Base.1.22.1.QueryParameterValueTypeError");
  LONGS_EQUAL(calls, a.bus.calls());
  RouteTable routes = buildRouteTable();
  CHECK(routes.match(log)->route->queries == std::vector<std::string_view>{"$top"});
}

TEST(QueryParameters, TheManagersExpandedWithTheirOwnHandlers) {
  ConfigServed a;
  a.bus.respond("GetSpStatus", [](const proto::Command& c) {
    proto::CommandResult status = okResult();
    status.set_answered_by(c.target());
    status.mutable_sp_status()->set_sp(c.target());
    status.mutable_sp_status()->set_role(c.target() == proto::SP_A ? proto::ROLE_ACTIVE
                                                                   : proto::ROLE_PASSIVE);
    return std::optional<proto::CommandResult>(status);
  });
  Response managers = a.get("/redfish/v1/Managers", "$expand=.");
  LONGS_EQUAL(200, managers.status);
  LONGS_EQUAL(2, managers.body["Members"].size());
  STRCMP_EQUAL("SPA", str(managers.body["Members"][0]["Id"]).c_str());
  STRCMP_EQUAL("SPB", str(managers.body["Members"][1]["Id"]).c_str());
  STRCMP_EQUAL(etagOf(managers.body).c_str(), managers.header("ETag").value_or("").c_str());
  Response selected = a.get("/redfish/v1/Managers", "$expand=.&$select=Id");
  CHECK(selected.body["Members"][1] ==
        Json({{"@odata.id", "/redfish/v1/Managers/SPB"},
              {"@odata.type", str(managers.body["Members"][1]["@odata.type"])},
              {"Id", "SPB"}}));
  Response filtered = a.get("/redfish/v1/Managers", "$filter=Id%20eq%20'SPB'");
  LONGS_EQUAL(1, filtered.body["Members@odata.count"].get<int>());
  CHECK(filtered.body["Members"][0] == Json({{"@odata.id", "/redfish/v1/Managers/SPB"}}));
}

TEST_GROUP(IfMatch){};

TEST(IfMatch, APatchWithTheCurrentETagIsApplied) {
  ConfigServed a;
  for (const char* form : {"%s", "\"other\", %s", "*"}) {
    const std::string etag = a.get(kEnclosure).header("ETag").value_or("");
    CHECK(!etag.empty());
    std::string condition = form;
    if (size_t at = condition.find("%s"); at != std::string::npos) condition.replace(at, 2, etag);
    Response res =
        a.dispatcher->handle(requestWith(HttpMethod::Patch, kEnclosure, {{"If-Match", condition}},
                                         Json{{"AssetTag", condition}}.dump()));
    LONGS_EQUAL_TEXT(200, res.status, condition.c_str());
  }
  LONGS_EQUAL(3, a.bus.commandsNamed("ConfigWrite").size());
}

TEST(IfMatch, AStaleETagIsPreconditionFailedAndChangesNothing) {
  ConfigServed a;
  const std::string before = a.get(kEnclosure).header("ETag").value_or("");
  LONGS_EQUAL(200, a.patch(kEnclosure, R"({"AssetTag": "R7-12"})").status);
  const std::string after = a.get(kEnclosure).header("ETag").value_or("");
  CHECK(before != after);
  Response res = a.dispatcher->handle(
      requestWith(HttpMethod::Patch, kEnclosure, {{"If-Match", before}}, R"({"AssetTag": "R8"})"));
  checkError(res, 412, "Base.1.22.1.PreconditionFailed");
  checkCommonHeaders(res, "A");
  LONGS_EQUAL(1, a.bus.commandsNamed("ConfigWrite").size());
  STRCMP_EQUAL("\"R7-12\"", a.store.value("chassis/AssetTag").value_or("").c_str());
  // The strong form of the tag matches the weak one (weak comparison).
  const std::string strong = after.substr(2);
  LONGS_EQUAL(200, a.dispatcher
                       ->handle(requestWith(HttpMethod::Patch, kEnclosure, {{"if-match", strong}},
                                            R"({"AssetTag": "R8"})"))
                       .status);
}

TEST(IfMatch, LiveStateDoesNotChangeAManagersETag) {
  ConfigServed a;
  proto::CommandResult status = okResult();
  status.mutable_sp_status()->set_role(proto::ROLE_ACTIVE);
  status.mutable_sp_status()->set_uptime_s(10);
  a.bus.answer(status);
  const std::string etag = a.get("/redfish/v1/Managers/SPA").header("ETag").value_or("");
  status.mutable_sp_status()->set_uptime_s(11);  // Oem.DualSP.UptimeSeconds
  a.bus.answer(status);
  Response res = a.dispatcher->handle(requestWith(HttpMethod::Patch, "/redfish/v1/Managers/SPA",
                                                  {{"If-Match", etag}},
                                                  R"({"ServiceIdentification": "lab"})"));
  LONGS_EQUAL(200, res.status);
  Response stale = a.dispatcher->handle(requestWith(HttpMethod::Patch, "/redfish/v1/Managers/SPA",
                                                    {{"If-Match", etag}},
                                                    R"({"ServiceIdentification": "lab 2"})"));
  checkError(stale, 412, "Base.1.22.1.PreconditionFailed");
  STRCMP_EQUAL("\"lab\"", a.store.value("managers/SPA/ServiceIdentification").value_or("").c_str());
}

TEST(IfMatch, DeleteOfASubscriptionChecksItsETag) {
  ConfigServed a;
  a.store.put("subscriptions/1",
              R"({"Destination": "http://198.18.0.100/", "Protocol": "Redfish"})");
  const std::string path = std::string(kSubscriptions) + "/1";
  Response stale = a.dispatcher->handle(
      requestWith(HttpMethod::Delete, path, {{"If-Match", "W/\"0000000000000000\""}}));
  checkError(stale, 412, "Base.1.22.1.PreconditionFailed");
  CHECK(a.store.value("subscriptions/1").has_value());
  const std::string etag = a.get(path).header("ETag").value_or("");
  LONGS_EQUAL(
      204,
      a.dispatcher->handle(requestWith(HttpMethod::Delete, path, {{"If-Match", etag}})).status);
  CHECK_FALSE(a.store.value("subscriptions/1"));
  // Gone: no current tag to match, the GET's 404 is the answer.
  checkError(a.dispatcher->handle(requestWith(HttpMethod::Delete, path, {{"If-Match", etag}})), 404,
             "Base.1.22.1.ResourceNotFound");
}

TEST_GROUP(ProtocolHelpers){};

TEST(ProtocolHelpers, ETagsIgnoreOnlyTheLiveMembers) {
  Json a = {{"@odata.id", "/x"},
            {"Name", "x"},
            {"Oem", {{"DualSP", {{"AgeMs", 1}}}}},
            {"DateTime", "2026-01-01T00:00:00+00:00"}};
  Json b = a;
  b["Oem"]["DualSP"]["AgeMs"] = 2;
  b["DateTime"] = "2026-01-01T00:00:01+00:00";
  STRCMP_EQUAL(etagOf(a).c_str(), etagOf(b).c_str());
  b["Name"] = "y";
  CHECK(etagOf(a) != etagOf(b));
  // Nested Oem and DateTime are the resource's (a member's Oem is not its own).
  Json c = {{"Members", Json::array({{{"Oem", 1}}})}};
  Json d = {{"Members", Json::array({{{"Oem", 2}}})}};
  CHECK(etagOf(c) != etagOf(d));
  CHECK(etagOf(Json{{"ab", "c"}}) != etagOf(Json{{"a", "bc"}}));
}

TEST(ProtocolHelpers, ETagListsUseWeakComparison) {
  const std::string tag = "W/\"0123456789abcdef\"";
  CHECK(etagListMatches(tag, tag));
  CHECK(etagListMatches("\"0123456789abcdef\"", tag));
  CHECK(etagListMatches(" \"x\" ,W/\"0123456789abcdef\" ", tag));
  CHECK(etagListMatches("*", tag));
  CHECK(anyEtag(" * "));
  CHECK_FALSE(anyEtag("\"*\""));
  CHECK_FALSE(etagListMatches("\"x\"", tag));
  CHECK_FALSE(etagListMatches("", tag));
  CHECK_FALSE(etagListMatches("W/", tag));
  CHECK_FALSE(etagListMatches("0123456789abcdef", tag));
}

TEST(ProtocolHelpers, DescribedByLinkNamesTheTypesSchema) {
  STRCMP_EQUAL("<https://redfish.dmtf.org/schemas/v1/Manager.v1_19_0.json>; rel=describedby",
               describedByLink({{"@odata.type", "#Manager.v1_19_0.Manager"}}).value_or("").c_str());
  STRCMP_EQUAL(
      "<https://redfish.dmtf.org/schemas/v1/FanCollection.json>; rel=describedby",
      describedByLink({{"@odata.type", "#FanCollection.FanCollection"}}).value_or("").c_str());
  CHECK_FALSE(describedByLink({{"@odata.type", "Manager"}}));
  CHECK_FALSE(describedByLink({{"@odata.type", 7}}));
  CHECK_FALSE(describedByLink({{"Id", "x"}}));
  CHECK_FALSE(describedByLink(Json::array()));
}

TEST(ProtocolHelpers, QueryParametersAndODataVersion) {
  Request r = makeRequest(HttpMethod::Get, "/x");
  r.query = "only&%24top=3&$skip=1&=x&&$expand";
  const std::vector<std::string> names = r.queryParameterNames();
  CHECK((names == std::vector<std::string>{"only", "$top", "$skip", "", "$expand"}));
  const std::vector<std::string_view> top_skip = {"$top", "$skip"};
  STRCMP_EQUAL("$expand", unimplementedQueryParameter(r, top_skip).value_or("").c_str());
  STRCMP_EQUAL("$top", unimplementedQueryParameter(r, {}).value_or("").c_str());
  r.query = "only=1";
  CHECK_FALSE(unimplementedQueryParameter(r, {}));
  CHECK(odataVersionAccepted(r));
  r.headers = {{"OData-Version", " 4.0 "}};
  CHECK(odataVersionAccepted(r));
  r.headers = {{"OData-Version", "4"}};
  CHECK_FALSE(odataVersionAccepted(r));
}

// DSP0266 "PATCH (update)": a body of OData annotations alone changes nothing.
TEST(ProtocolHeaders, APatchOfAnnotationsAloneIsNoOperation) {
  Served a(SpId::A, Role::Active);
  Response res = a.patch("/redfish/v1/Managers/SPA",
                         R"({"@odata.id": "/redfish/v1/Managers/SPA", "@odata.etag": "x"})");
  checkError(res, 400, "Base.1.22.1.NoOperation");
  LONGS_EQUAL(0, a.bus.calls());  // nothing reached spd
  // One real property among them: the handler's to judge.
  Response real = a.patch("/redfish/v1/Managers/SPA", R"({"@odata.id": "x", "Bogus": 1})");
  checkError(real, 400, "Base.1.22.1.PropertyUnknown");
}
