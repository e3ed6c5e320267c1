// The query parameters through the Dispatcher, on routes of the test's own and a fake spd
// (docs/WEB.md "Protocol"): $expand and its levels as internal GETs with the caller's own
// privileges, the request's read cache (a thousand handlers, one GetStorage), $filter,
// $select, $top/$skip and their next links, a route that pages itself, the errors and the
// bounds. The parsers and evaluators alone: query_test.cpp.

#include <CppUTest/TestHarness.h>

#include <memory>
#include <string>

#include "fake_command_client.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/dispatcher.hpp"
#include "webserver/protocol.hpp"
#include "webserver/query_apply.hpp"
#include "webserver/redfish_messages.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;

namespace {

constexpr const char* kThings = "/redfish/v1/Things";
constexpr const char* kPages = "/redfish/v1/Pages";

Json link(const std::string& path) {
  return {{"@odata.id", path}};
}

bool isLink(const Json& value) {
  return value.is_object() && value.size() == 1 && value.contains("@odata.id");
}

// The fake spd's whole model, as GetStorage answers it.
std::shared_ptr<const Json> readModel(const RequestContext& ctx, Response& res) {
  JsonAnswer answer = runJsonCommand(ctx, makeArrayCommand(ctx, kGetStorage));
  if (!commandSucceeded(answer.result, res, "Thing", "")) return nullptr;
  return answer.payload;
}

const Json* findThing(const Json& model, const std::string& id) {
  for (const Json& t : model["things"])
    if (t["Id"].get_ref<const std::string&>() == id) return &t;
  return nullptr;
}

void handleThingsGet(const RequestContext& ctx, Response& res) {
  std::shared_ptr<const Json> model = readModel(ctx, res);
  if (!model) return;
  Json members = Json::array();
  for (const Json& t : (*model)["things"])
    members.push_back(link(std::string(kThings) + "/" + t["Id"].get<std::string>()));
  for (const Json& ghost : (*model)["ghosts"])
    members.push_back(link(std::string(kThings) + "/" + ghost.get<std::string>()));
  res.body = {{"@odata.id", kThings},
              {"@odata.type", "#ThingCollection.ThingCollection"},
              {"Name", "Things"},
              {"Members@odata.count", members.size()},
              {"Members", members}};
}

void handleThingGet(const RequestContext& ctx, Response& res) {
  std::shared_ptr<const Json> model = readModel(ctx, res);
  if (!model) return;
  const std::string& id = ctx.params.at(0);
  const Json* t = findThing(*model, id);
  if (!t) return messages::resourceNotFound(res, "Thing", id);
  const std::string path = std::string(kThings) + "/" + id;
  res.body = {{"@odata.id", path},
              {"@odata.type", "#Thing.v1_0_0.Thing"},
              {"Id", id},
              {"Name", "thing " + id},
              {"Size", (*t)["Size"]},
              {"Status", {{"State", "Enabled"}, {"Health", "OK"}}},
              {"Oem", {{"Test", {{"Owner", (*t)["Owner"]}}}}},
              {"Sub", link(path + "/Sub")},
              {"Links", {{"Parent", link(kThings)}, {"Secret", link("/redfish/v1/Secret")}}}};
  if (t->contains("Blob")) res.body["Blob"] = (*t)["Blob"];
}

void handleSubGet(const RequestContext& ctx, Response& res) {
  const std::string path = std::string(kThings) + "/" + ctx.params.at(0) + "/Sub";
  res.body = {{"@odata.id", path}, {"Name", "sub"}, {"Deeper", link(path + "/Deeper")}};
}

void handleDeeperGet(const RequestContext& ctx, Response& res) {
  const std::string path = std::string(kThings) + "/" + ctx.params.at(0) + "/Sub/Deeper";
  res.body = {{"@odata.id", path}, {"Name", "deeper"}, {"Deepest", link(path + "/Deepest")}};
}

void handleDeepestGet(const RequestContext& ctx, Response& res) {
  res.body = {{"@odata.id", std::string(kThings) + "/" + ctx.params.at(0) + "/Sub/Deeper/Deepest"},
              {"Name", "deepest"}};
}

void handleSecretGet(const RequestContext&, Response& res) {
  res.body = {{"@odata.id", "/redfish/v1/Secret"}, {"Secret", "s"}};
}

// A collection that pages itself like the array event log: $skip, $top (3 by default), inline
// members, its own next link; Members@odata.count the whole collection's.
void handlePagesGet(const RequestContext& ctx, Response& res) {
  std::shared_ptr<const Json> model = readModel(ctx, res);
  if (!model) return;
  const uint64_t total = (*model)["pages"].get<uint64_t>();
  uint64_t skip = 0, top = 3;
  if (auto v = ctx.request.queryParameter("$skip")) skip = std::stoull(*v);
  if (auto v = ctx.request.queryParameter("$top")) top = std::stoull(*v);
  Json members = Json::array();
  for (uint64_t i = skip; i < total && i < skip + top; ++i)
    members.push_back({{"@odata.id", std::string(kPages) + "/" + std::to_string(i)},
                       {"Id", std::to_string(i)},
                       {"Value", i}});
  res.body = {{"@odata.id", kPages},
              {"@odata.type", "#PageCollection.PageCollection"},
              {"Members@odata.count", total},
              {"Members", members}};
  if (skip + top < total)
    res.body["Members@odata.nextLink"] = std::string(kPages) +
                                         "?$skip=" + std::to_string(skip + top) +
                                         "&$top=" + std::to_string(top);
}

void handleNoContent(const RequestContext&, Response& res) {
  res.status = 204;
  res.body = nullptr;
}

RouteTable testRoutes() {
  RouteTable table;
  auto get = [&table](std::string pattern, Handler handler, Privilege privilege,
                      std::vector<std::string_view> queries = {}) {
    table.add({.pattern = std::move(pattern),
               .methods = {HttpMethod::Get, HttpMethod::Head},
               .privilege = privilege,
               .degraded = DegradedService::Yes,
               .source = DataSource::LocalBus,
               .handler = handler,
               .queries = std::move(queries)});
  };
  get(kThings, handleThingsGet, Privilege::Login);
  get(std::string(kThings) + "/{Id}", handleThingGet, Privilege::Login);
  get(std::string(kThings) + "/{Id}/Sub", handleSubGet, Privilege::Login);
  get(std::string(kThings) + "/{Id}/Sub/Deeper", handleDeeperGet, Privilege::Login);
  get(std::string(kThings) + "/{Id}/Sub/Deeper/Deepest", handleDeepestGet, Privilege::Login);
  get("/redfish/v1/Secret", handleSecretGet, Privilege::ConfigureManager);
  get(kPages, handlePagesGet, Privilege::Login, {"$top", "$skip"});
  table.add({.pattern = kThings,
             .methods = {HttpMethod::Post},
             .privilege = Privilege::ConfigureComponents,
             .source = DataSource::LocalBus,
             .handler = handleNoContent});
  return table;
}

// The test's service: its routes, a fake spd answering GetStorage from `model`, and a caller.
struct QueryServed {
  FakeCommandClient bus;
  Json model = {{"things", Json::array()}, {"ghosts", Json::array()}, {"pages", 0}};
  Identity identity{"admin", "Administrator", "", false};
  int authentications = 0;
  std::unique_ptr<Dispatcher> dispatcher;

  explicit QueryServed(int things = 0) {
    for (int i = 0; i < things; ++i) addThing(i);
    bus.respond(std::string(kGetStorage), [this](const proto::Command&) {
      proto::CommandResult r;
      r.set_status(proto::CommandResult::OK);
      r.set_payload(model.dump());
      return std::optional<proto::CommandResult>(r);
    });
    dispatcher = std::make_unique<Dispatcher>(
        testRoutes(), ServiceConfig{SpId::A, ServeMode::Full, "query-test", {}},
        [] { return std::optional<ipc::StatusSnapshot>(); }, bus, [] { return int64_t{0}; },
        [this](const Request&) {
          ++authentications;
          return AuthOutcome{AuthStatus::Ok, identity};
        });
  }
  void addThing(int i) {
    model["things"].push_back(
        {{"Id", std::to_string(i)}, {"Size", i * 100}, {"Owner", i % 2 == 0 ? "A" : "B"}});
  }
  Response send(HttpMethod method, const std::string& path, const std::string& query) {
    Request request;
    request.method = method;
    request.path = path;
    request.query = query;
    request.remote_address = "198.18.0.100";
    return dispatcher->handle(request);
  }
  Response get(const std::string& path, const std::string& query = "") {
    return send(HttpMethod::Get, path, query);
  }
  size_t storageReads() const { return bus.commandsNamed(std::string(kGetStorage)).size(); }
};

void checkQueryError(const Response& res, int status, const std::string& message) {
  LONGS_EQUAL_TEXT(status, res.status, res.body.dump().c_str());
  STRCMP_EQUAL(
      ("Base.1.22.1." + message).c_str(),
      res.body["error"]["@Message.ExtendedInfo"][0]["MessageId"].get<std::string>().c_str());
}

std::vector<std::string> ids(const Json& collection) {
  std::vector<std::string> out;
  for (const Json& m : collection["Members"]) {
    const std::string id = m["@odata.id"].get<std::string>();
    out.push_back(id.substr(id.rfind('/') + 1));
  }
  return out;
}

// "/redfish/v1/Things?$top=3&$skip=3" -> (path, query).
std::pair<std::string, std::string> splitLink(const std::string& link) {
  const size_t q = link.find('?');
  return {link.substr(0, q), q == std::string::npos ? "" : link.substr(q + 1)};
}

}  // namespace

TEST_GROUP(QueryExpand){};

TEST(QueryExpand, AnExpandedCollectionAsksSpdOnceForAllItsMembers) {
  QueryServed a(1000);
  Response res = a.get(kThings, "$expand=.");
  LONGS_EQUAL(200, res.status);
  LONGS_EQUAL(1000, res.body["Members"].size());
  LONGS_EQUAL(1000, res.body["Members@odata.count"].get<int>());
  for (const Json& m : res.body["Members"]) CHECK(m.contains("Name") && m.contains("Size"));
  CHECK(res.body["Members"][999]["Name"] == "thing 999");
  // One GetStorage for the collection and its thousand members, one authentication.
  LONGS_EQUAL(1, a.storageReads());
  LONGS_EQUAL(1, a.authentications);
  // Nothing is reused across requests: the next GET asks again and sees spd's change.
  a.model["things"][3]["Size"] = 7;
  Response next = a.get(std::string(kThings) + "/3");
  LONGS_EQUAL(7, next.body["Size"].get<int>());
  LONGS_EQUAL(2, a.storageReads());
  a.get(kThings, "$expand=.");
  LONGS_EQUAL(3, a.storageReads());
}

TEST(QueryExpand, LevelsFollowSubordinateLinks) {
  QueryServed a(2);
  Response one = a.get(kThings, "$expand=.");
  const Json& member = one.body["Members"][0];
  CHECK(member["Name"] == "thing 0");
  CHECK(isLink(member["Sub"]));
  CHECK(isLink(member["Links"]["Parent"]));  // "." leaves Links alone

  Response two = a.get(kThings, "$expand=.($levels=2)");
  const Json& sub = two.body["Members"][1]["Sub"];
  CHECK(sub["Name"] == "sub");
  CHECK(isLink(sub["Deeper"]));
  CHECK(isLink(two.body["Members"][1]["Links"]["Secret"]));

  Response three = a.get(kThings, "$expand=.($levels=3)");
  const Json& deeper = three.body["Members"][1]["Sub"]["Deeper"];
  CHECK(deeper["Name"] == "deeper");
  CHECK(isLink(deeper["Deepest"]));  // MaxLevels: no further
  checkQueryError(a.get(kThings, "$expand=.($levels=4)"), 400, "QueryParameterOutOfRange");
}

TEST(QueryExpand, LinksOnlyOrEverythingWithTheCallersPrivileges) {
  QueryServed a(2);
  const std::string one = std::string(kThings) + "/1";
  Response links = a.get(one, "$expand=~");
  CHECK(links.body["Links"]["Parent"]["Name"] == "Things");
  CHECK(isLink(links.body["Links"]["Parent"]["Members"][0]));  // one level
  CHECK(links.body["Links"]["Secret"]["Secret"] == "s");
  CHECK(isLink(links.body["Sub"]));

  Response all = a.get(one, "$expand=*($levels=2)");
  CHECK(all.body["Sub"]["Deeper"]["Name"] == "deeper");
  CHECK(all.body["Links"]["Parent"]["Members"][0]["Name"] == "thing 0");

  // A collection's members are not in Links: "~" leaves them references.
  Response members = a.get(kThings, "$expand=~");
  for (const Json& m : members.body["Members"]) CHECK(isLink(m));

  // What the caller may not read stays a reference, the rest is expanded.
  a.identity = Identity{"viewer", "ReadOnly", "", false};
  Response viewer = a.get(one, "$expand=~");
  LONGS_EQUAL(200, viewer.status);
  CHECK(isLink(viewer.body["Links"]["Secret"]));
  CHECK(viewer.body["Links"]["Parent"]["Name"] == "Things");
  LONGS_EQUAL(403, a.get("/redfish/v1/Secret").status);
}

TEST(QueryExpand, AReferenceThatCannotBeReadStaysAReference) {
  QueryServed a(2);
  a.model["ghosts"].push_back("gone");
  Response res = a.get(kThings, "$expand=.");
  LONGS_EQUAL(200, res.status);
  LONGS_EQUAL(3, res.body["Members"].size());
  CHECK(res.body["Members"][2] == link(std::string(kThings) + "/gone"));
  CHECK(res.body["Members"][1]["Name"] == "thing 1");
  // spd not answering: every handler fails the same way, asked once; all stay references.
  QueryServed silent(0);
  silent.bus.respond(std::string(kGetStorage),
                     [](const proto::Command&) { return std::optional<proto::CommandResult>(); });
  LONGS_EQUAL(503, silent.get(kThings, "$expand=.").status);
  LONGS_EQUAL(1, silent.storageReads());
}

TEST_GROUP(QuerySelectAndFilter){};

TEST(QuerySelectAndFilter, SelectKeepsTheSelectedPropertiesOfTheResourceAndItsMembers) {
  QueryServed a(3);
  Response res = a.get(std::string(kThings) + "/2", "$select=Name,Status/Health");
  LONGS_EQUAL(200, res.status);
  CHECK_TEXT(res.body == Json({{"@odata.id", "/redfish/v1/Things/2"},
                               {"@odata.type", "#Thing.v1_0_0.Thing"},
                               {"Name", "thing 2"},
                               {"Status", {{"Health", "OK"}}}}),
             res.body.dump().c_str());
  // The ETag is the answer's as sent.
  STRCMP_EQUAL(etagOf(res.body).c_str(), res.header("ETag").value_or("").c_str());
  CHECK(res.header("ETag") != a.get(std::string(kThings) + "/2").header("ETag"));

  Response expanded = a.get(kThings, "$select=Name,Sub&$expand=.");
  CHECK(expanded.body["Name"] == "Things");
  LONGS_EQUAL(3, expanded.body["Members@odata.count"].get<int>());
  for (const Json& m : expanded.body["Members"]) {
    LONGS_EQUAL_TEXT(4, m.size(), m.dump().c_str());  // @odata.id, @odata.type, Name, Sub
    CHECK(isLink(m["Sub"]));
  }
  // HEAD answers as GET, with the same headers.
  Response head = a.send(HttpMethod::Head, kThings, "$select=Name,Sub&$expand=.");
  STRCMP_EQUAL(expanded.header("ETag").value_or("").c_str(),
               head.header("ETag").value_or("?").c_str());
  checkQueryError(a.get(kThings, "$select=Na%20me"), 400, "QueryParameterValueFormatError");
}

TEST(QuerySelectAndFilter, FilterKeepsTheMatchingMembersAndCountsThem) {
  QueryServed a(10);  // sizes 0, 100, ... 900; owners A, B, A, ...
  Response owned = a.get(kThings, "$filter=Oem/Test/Owner%20eq%20'A'");
  LONGS_EQUAL(200, owned.status);
  CHECK((ids(owned.body) == std::vector<std::string>{"0", "2", "4", "6", "8"}));
  LONGS_EQUAL(5, owned.body["Members@odata.count"].get<int>());
  for (const Json& m : owned.body["Members"]) CHECK(isLink(m));  // not asked to expand
  LONGS_EQUAL(1, a.storageReads());

  Response compound =
      a.get(kThings, "$filter=Size gt 300 and not (Name eq 'thing 5') or Id eq '0'");
  CHECK((ids(compound.body) == std::vector<std::string>{"0", "4", "6", "7", "8", "9"}));
  Response none = a.get(kThings, "$filter=Size gt 100000");
  LONGS_EQUAL(0, none.body["Members"].size());
  LONGS_EQUAL(0, none.body["Members@odata.count"].get<int>());

  Response expanded = a.get(kThings, "$filter=Size le 200&$expand=.&$select=Size");
  LONGS_EQUAL(3, expanded.body["Members"].size());
  CHECK(expanded.body["Members"][2]["Size"] == 200);
  CHECK_FALSE(expanded.body["Members"][2].contains("Name"));

  checkQueryError(a.get(kThings, "$filter=Size gt"), 400, "QueryParameterValueFormatError");
  checkQueryError(a.get(std::string(kThings) + "/1", "$filter=Size gt 1"), 400,
                  "QueryNotSupportedOnResource");
}

TEST_GROUP(QueryPaging){};

TEST(QueryPaging, TopAndSkipWithNextLinksToTheEnd) {
  QueryServed a(7);
  Response first = a.get(kThings, "$top=3");
  CHECK((ids(first.body) == std::vector<std::string>{"0", "1", "2"}));
  LONGS_EQUAL(7, first.body["Members@odata.count"].get<int>());
  STRCMP_EQUAL("/redfish/v1/Things?$top=3&$skip=3",
               first.body["Members@odata.nextLink"].get<std::string>().c_str());
  std::vector<std::string> all;
  Response page = first;
  for (int pages = 0; pages < 10; ++pages) {
    for (const std::string& id : ids(page.body)) all.push_back(id);
    if (!page.body.contains("Members@odata.nextLink")) break;
    auto [path, query] = splitLink(page.body["Members@odata.nextLink"].get<std::string>());
    page = a.get(path, query);
  }
  CHECK((all == std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6"}));
  CHECK((ids(a.get(kThings, "$skip=5").body) == std::vector<std::string>{"5", "6"}));
  Response beyond = a.get(kThings, "$skip=99999999999999999999&$top=2");
  LONGS_EQUAL(0, beyond.body["Members"].size());
  CHECK_FALSE(beyond.body.contains("Members@odata.nextLink"));
  LONGS_EQUAL(0, a.get(kThings, "$top=0").body["Members"].size());

  // With a filter: paging applies to what matched, the link keeps the filter.
  Response filtered = a.get(kThings, "$filter=Oem/Test/Owner eq 'A'&$top=2&$skip=1");
  CHECK((ids(filtered.body) == std::vector<std::string>{"2", "4"}));
  LONGS_EQUAL(4, filtered.body["Members@odata.count"].get<int>());
  STRCMP_EQUAL("/redfish/v1/Things?$filter=Oem/Test/Owner eq 'A'&$top=2&$skip=3",
               filtered.body["Members@odata.nextLink"].get<std::string>().c_str());
  checkQueryError(a.get(kThings, "$top=abc"), 400, "QueryParameterValueTypeError");
  checkQueryError(a.get(std::string(kThings) + "/1", "$skip=1"), 400,
                  "QueryNotSupportedOnResource");
}

TEST(QueryPaging, ARouteThatPagesItselfKeepsItsPagingAndIsReadWholeForAFilter) {
  QueryServed a;
  a.model["pages"] = 10;
  Response own = a.get(kPages, "$skip=2&$top=2&$select=Value");
  CHECK((ids(own.body) == std::vector<std::string>{"2", "3"}));
  LONGS_EQUAL(10, own.body["Members@odata.count"].get<int>());
  CHECK(own.body["Members"][0] == Json({{"@odata.id", "/redfish/v1/Pages/2"}, {"Value", 2}}));
  // Its own next link, carrying the client's other parameters.
  STRCMP_EQUAL("/redfish/v1/Pages?$skip=4&$top=2&$select=Value",
               own.body["Members@odata.nextLink"].get<std::string>().c_str());

  const size_t before = a.storageReads();
  Response filtered = a.get(kPages, "$filter=Value ge 4&$top=3&$skip=1");
  LONGS_EQUAL(200, filtered.status);
  CHECK((ids(filtered.body) == std::vector<std::string>{"5", "6", "7"}));
  LONGS_EQUAL(6, filtered.body["Members@odata.count"].get<int>());  // 4..9, over every page
  STRCMP_EQUAL("/redfish/v1/Pages?$filter=Value ge 4&$top=3&$skip=4",
               filtered.body["Members@odata.nextLink"].get<std::string>().c_str());
  // Its four pages of three read one after the other, on one GetStorage.
  LONGS_EQUAL(1, a.storageReads() - before);
}

TEST_GROUP(QueryErrors){};

TEST(QueryErrors, MalformedValuesAreRefusedBeforeSpdIsAsked) {
  QueryServed a(3);
  checkQueryError(a.get(kThings, "$expand=x"), 400, "QueryParameterValueFormatError");
  checkQueryError(a.get(kThings, "$expand=.($levels=0)"), 400, "QueryParameterOutOfRange");
  checkQueryError(a.get(kThings, "$filter=(Id eq '1'"), 400, "QueryParameterValueFormatError");
  checkQueryError(a.get(kThings, "$skip=-1"), 400, "QueryParameterValueTypeError");
  checkQueryError(a.get(kThings, "$top=1&$top=2"), 400, "QueryCombinationInvalid");
  checkQueryError(a.get(kThings, "$select="), 400, "QueryParameterValueFormatError");
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(QueryErrors, OtherDollarParametersAndChangesAreNotImplemented) {
  QueryServed a(3);
  for (const char* query : {"$only", "$count=true", "$search=x", "$apply=x", "$orderby=Id",
                            "$levels=2", "$expand=.&$only"}) {
    Response res = a.get(kThings, query);
    checkQueryError(res, 501, "QueryParameterUnsupported");
  }
  checkQueryError(a.get(kThings, "$only"), 501, "QueryParameterUnsupported");
  checkQueryError(a.send(HttpMethod::Post, kThings, "$expand=."), 501, "QueryParameterUnsupported");
  LONGS_EQUAL(0, a.bus.calls());
  // Parameters without $ are not the service's to judge.
  LONGS_EQUAL(200, a.get(kThings, "only&expand=.").status);
}

TEST(QueryErrors, TheBoundsOnReadsAndBytesAreClearErrors) {
  QueryServed many(static_cast<int>(query::kMaxReadsPerRequest) + 1);
  Response reads = many.get(kThings, "$expand=.");
  checkQueryError(reads, 400, "QueryParameterOutOfRange");
  const Json& args = reads.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"];
  CHECK(args[1] == "$expand");
  CHECK(args[2].get<std::string>().find("5000 resources") != std::string::npos);
  checkQueryError(many.get(kThings, "$filter=Size ge 0"), 400, "QueryParameterOutOfRange");
  LONGS_EQUAL(200, many.get(kThings, "$top=10&$expand=.").status);  // paged first: few reads

  QueryServed big(5);
  for (Json& t : big.model["things"]) t["Blob"] = std::string(1024 * 1024, 'x');
  Response bytes = big.get(kThings, "$expand=.");
  checkQueryError(bytes, 400, "QueryParameterOutOfRange");
  CHECK(bytes.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"][2].get<std::string>().find(
            "bytes") != std::string::npos);
  LONGS_EQUAL(200, big.get(kThings, "$expand=.&$top=3").status);
}

TEST(QueryErrors, TheServiceRootAnnouncesTheQueries) {
  const Json features = protocolFeaturesSupported();
  CHECK(features["ExpandQuery"] == Json({{"ExpandAll", true},
                                         {"Levels", true},
                                         {"Links", true},
                                         {"NoLinks", true},
                                         {"MaxLevels", 3}}));
  for (const char* yes : {"FilterQuery", "SelectQuery", "TopSkipQuery",
                          "FilterQueryComparisonOperations", "FilterQueryCompoundOperations"})
    CHECK_TEXT(features[yes] == true, yes);
  CHECK(features["OnlyMemberQuery"] == false);
  CHECK(features["ExcerptQuery"] == false);
}
