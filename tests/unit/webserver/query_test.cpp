// The query parameters on their own (webserver/query.hpp, query_apply.hpp): $filter's parser
// and evaluator, $expand's and $select's parsers, select, paging links and the bounds. Through
// the dispatcher: query_dispatch_test.cpp; the request's read cache:
// request_read_cache_test.cpp.

#include <CppUTest/TestHarness.h>

#include <string>

#include "webserver/query.hpp"
#include "webserver/query_apply.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::query;

namespace {

std::string messageIdOf(const Response& res) {
  return res.body["error"]["@Message.ExtendedInfo"][0]["MessageId"].get<std::string>();
}

Filter filterOf(const std::string& text) {
  Response res;
  std::optional<Filter> filter = parseFilter(text, res);
  if (!filter) FAIL(("not parsed: " + text + ": " + res.body.dump()).c_str());
  return std::move(*filter);
}

// The 400 a malformed $filter gets: its MessageId.
std::string filterError(const std::string& text) {
  Response res;
  std::optional<Filter> filter = parseFilter(text, res);
  CHECK_TEXT(!filter, text.c_str());
  LONGS_EQUAL(400, res.status);
  return messageIdOf(res);
}

const Json kVolume = Json::parse(R"({
  "@odata.id": "/redfish/v1/Storage/Array/Volumes/7",
  "@odata.type": "#Volume.v1_10_2.Volume",
  "Id": "7", "Name": "db's", "CapacityBytes": 107374182400, "Ratio": 0.5, "Negative": -3,
  "Huge": 18446744073709551615, "Encrypted": false, "Description": null,
  "Status": {"State": "Enabled", "Health": "OK"},
  "Oem": {"DualSP": {"CurrentOwner": "SPA", "DefaultOwner": "SPB"}},
  "Links": {"Drives": [{"@odata.id": "/redfish/v1/Chassis/Enclosure/Drives/Disk0"}],
            "Drives@odata.count": 1}
})");

bool matches(const std::string& text) {
  return filterOf(text).matches(kVolume);
}

}  // namespace

TEST_GROUP(FilterParser){};

TEST(FilterParser, ParsesComparisonsAndCompounds) {
  Filter one = filterOf("Oem/DualSP/CurrentOwner eq 'SPA'");
  CHECK(one.root().kind == FilterNode::Kind::Compare);
  CHECK(one.root().op == CompareOp::Eq);
  CHECK((one.root().left.path == std::vector<std::string>{"Oem", "DualSP", "CurrentOwner"}));
  CHECK(one.root().right.literal == "SPA");

  Filter compound = filterOf("CapacityBytes gt 1000000 and not (Name eq 'x') or Id eq '1'");
  CHECK(compound.root().kind == FilterNode::Kind::Or);  // and binds tighter than or
  LONGS_EQUAL(2, compound.root().children.size());
  const FilterNode& both = compound.root().children[0];
  CHECK(both.kind == FilterNode::Kind::And);
  CHECK(both.children[1].kind == FilterNode::Kind::Not);

  // A long chain is one node, not one level per operand.
  std::string chain = "Id eq '0'";
  for (int i = 1; i < 50; ++i) chain += " and Id ne '" + std::to_string(i) + "'";
  Filter flat = filterOf(chain);
  LONGS_EQUAL(50, flat.root().children.size());

  // Literals: quotes doubled, numbers of every form, true, false, null; spaces optional
  // around parentheses.
  CHECK(filterOf("Name eq 'it''s'").root().right.literal == "it's");
  CHECK(filterOf("Ratio le -1.5e3").root().right.literal.is_number_float());
  CHECK(filterOf("Ratio le 12").root().right.literal.is_number_integer());
  CHECK(filterOf("Encrypted eq true").root().right.literal == true);
  CHECK(filterOf("Description eq null").root().right.literal.is_null());
  CHECK(filterOf("(Id eq '7')and(not(Encrypted eq true))").root().kind == FilterNode::Kind::And);
  CHECK(filterOf("Links/Drives@odata.count ge 1").root().left.path.size() == 2);
  CHECK(filterOf("'SPA' eq Oem/DualSP/CurrentOwner").root().right.path.size() == 3);
}

TEST(FilterParser, RefusesMalformedExpressions) {
  const std::string format = "Base.1.22.1.QueryParameterValueFormatError";
  for (const char* bad : {"",
                          "   ",
                          "Name",
                          "Name eq",
                          "eq 'x'",
                          "Name eq 'x",
                          "Name equals 'x'",
                          "Name eq 'x' and",
                          "(Name eq 'x'",
                          "Name eq 'x')",
                          "not",
                          "Name eq 'x' Id eq 'y'",
                          "Name eq 12ab",
                          "Name eq 1.",
                          "Name eq -",
                          "Name eq \"x\"",
                          "Na!me eq 'x'",
                          "Oem//DualSP eq 'x'",
                          "/Name eq 'x'",
                          "Name eq and",
                          "and eq 'x'",
                          "Name Eq 'x'",
                          "Name eq 'x' AND Id eq 'y'",
                          "()",
                          "Name eq ('x')",
                          "Name gt 1 gt 2"})
    STRCMP_EQUAL_TEXT(format.c_str(), filterError(bad).c_str(), bad);
}

TEST(FilterParser, BoundsLengthAndDepth) {
  const std::string range = "Base.1.22.1.QueryParameterOutOfRange";
  std::string deep = "Id eq '7'";
  for (int i = 0; i < kMaxFilterDepth; ++i) deep = "(" + deep + ")";
  filterOf(deep);  // at the bound: fine
  STRCMP_EQUAL(range.c_str(), filterError("(" + deep + ")").c_str());
  std::string nots = "Id eq '7'";
  for (int i = 0; i <= kMaxFilterDepth; ++i) nots = "not " + nots;
  STRCMP_EQUAL(range.c_str(), filterError(nots).c_str());
  // Far deeper than the stack would take: refused, not recursed into.
  STRCMP_EQUAL(range.c_str(), filterError(std::string(1000, '(')).c_str());
  std::string longest = "Name eq '" + std::string(kMaxFilterBytes - 10, 'x') + "'";
  LONGS_EQUAL(kMaxFilterBytes, longest.size());
  filterOf(longest);
  Response res;
  CHECK_FALSE(parseFilter(longest + "  ", res));
  STRCMP_EQUAL(range.c_str(), messageIdOf(res).c_str());
  // The value echoed in the message is bounded.
  CHECK(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"][0].get<std::string>().size() <=
        67);
}

TEST_GROUP(FilterEvaluation){};

TEST(FilterEvaluation, ComparesStringsNumbersBooleansAndNull) {
  CHECK(matches("Oem/DualSP/CurrentOwner eq 'SPA'"));
  CHECK_FALSE(matches("Oem/DualSP/CurrentOwner eq 'SPB'"));
  CHECK(matches("Oem/DualSP/CurrentOwner ne 'SPB'"));
  CHECK(matches("Name eq 'db''s'"));
  CHECK(matches("CapacityBytes gt 1000000"));
  CHECK(matches("CapacityBytes eq 107374182400"));
  CHECK(matches("CapacityBytes ge 107374182400 and CapacityBytes le 107374182400"));
  CHECK_FALSE(matches("CapacityBytes lt 107374182400"));
  CHECK(matches("CapacityBytes eq 1.073741824e11"));  // integer against float
  CHECK(matches("Ratio lt 1 and Ratio gt 0.25"));
  CHECK(matches("Negative lt 0 and Negative gt -4 and Negative lt Ratio"));
  CHECK(matches("Huge gt 9223372036854775807 and Huge gt -1"));  // uint64 against int64
  CHECK(matches("Encrypted eq false and Encrypted ne true"));
  CHECK(matches("Description eq null and Missing eq null and Oem/Nothing/Here eq null"));
  CHECK_FALSE(matches("Missing ne null"));
  CHECK(matches("Status/Health eq 'OK'"));
  CHECK(matches("Links/Drives@odata.count eq 1"));
  CHECK(matches("Id gt '6' and Id lt '8'"));  // strings order as strings
}

TEST(FilterEvaluation, MismatchedTypesDoNotMatch) {
  CHECK_FALSE(matches("CapacityBytes eq '107374182400'"));
  CHECK(matches("CapacityBytes ne '107374182400'"));
  CHECK_FALSE(matches("Name gt 5"));
  CHECK_FALSE(matches("Name lt 5"));
  CHECK_FALSE(matches("Encrypted gt false"));
  CHECK_FALSE(matches("Status eq 'OK'"));       // an object
  CHECK_FALSE(matches("Links/Drives eq 'x'"));  // an array
  CHECK_FALSE(matches("Missing gt 1"));         // null orders with nothing
  CHECK_FALSE(matches("Status/Health/Deeper eq 'x'"));
}

TEST(FilterEvaluation, NotAndOrAndParentheses) {
  CHECK(matches("CapacityBytes gt 1000000 and not (Name eq 'x')"));
  CHECK_FALSE(matches("not (CapacityBytes gt 1000000)"));
  CHECK(matches("Name eq 'x' or Id eq '7'"));
  CHECK_FALSE(matches("(Name eq 'x' or Id eq '7') and Encrypted eq true"));
  CHECK(matches("Name eq 'x' or Id eq '7' and Encrypted eq false"));
  CHECK(matches("not not (Id eq '7')"));
}

TEST_GROUP(ExpandParser){};

TEST(ExpandParser, KindsAndLevels) {
  Response res;
  CHECK(parseExpand(".", res)->kind == ExpandKind::Subordinate);
  CHECK(parseExpand("~", res)->kind == ExpandKind::Links);
  CHECK(parseExpand("*", res)->kind == ExpandKind::All);
  LONGS_EQUAL(1, parseExpand("*", res)->levels);
  LONGS_EQUAL(2, parseExpand(".($levels=2)", res)->levels);
  LONGS_EQUAL(kMaxExpandLevels, parseExpand("~($levels=3)", res)->levels);
  for (const char* bad : {"", "x", "Members", "..", ".(levels=2)", ".($levels=)", ".($levels=2",
                          ".($levels=two)", ".($levels=-1)", ".($levels=2)x", "*($levels=2))"}) {
    Response error;
    CHECK_TEXT(!parseExpand(bad, error), bad);
    STRCMP_EQUAL_TEXT("Base.1.22.1.QueryParameterValueFormatError", messageIdOf(error).c_str(),
                      bad);
  }
  for (const char* far : {".($levels=0)", ".($levels=4)", "*($levels=99999999999999999999999)"}) {
    Response error;
    CHECK_TEXT(!parseExpand(far, error), far);
    STRCMP_EQUAL_TEXT("Base.1.22.1.QueryParameterOutOfRange", messageIdOf(error).c_str(), far);
  }
}

TEST_GROUP(Select){};

TEST(Select, KeepsWhatIsSelectedAndTheODataAnnotations) {
  Response res;
  std::optional<SelectTree> select = parseSelect("Name, Status/Health,Links/Drives", res);
  CHECK(select.has_value());
  Json volume = kVolume;
  volume["@odata.etag"] = "W/\"1\"";
  applySelect(volume, *select);
  const Json expected = Json::parse(R"({
    "@odata.id": "/redfish/v1/Storage/Array/Volumes/7",
    "@odata.type": "#Volume.v1_10_2.Volume",
    "Name": "db's", "Status": {"Health": "OK"},
    "Links": {"Drives": [{"@odata.id": "/redfish/v1/Chassis/Enclosure/Drives/Disk0"}],
              "Drives@odata.count": 1},
    "@odata.etag": "W/\"1\""
  })");
  CHECK_TEXT(volume == expected, volume.dump().c_str());

  // A property selected whole and by a path below it: whole.
  volume = kVolume;
  applySelect(volume, *parseSelect("Status/Health,Status", res));
  CHECK(volume["Status"].size() == 2);
  // Unknown properties select nothing; arrays of objects are narrowed element by element.
  Json drives = {{"@odata.id", "/x"}, {"List", {{{"A", 1}, {"B", 2}}, {{"A", 3}}}}};
  applySelect(drives, *parseSelect("List/A,Nothing", res));
  CHECK(drives == Json::parse(R"({"@odata.id": "/x", "List": [{"A": 1}, {"A": 3}]})"));
}

TEST(Select, ACollectionKeepsItsMembersEachSelected) {
  Response res;
  Json collection = {{"@odata.id", "/redfish/v1/Storage/Array/Volumes"},
                     {"@odata.type", "#VolumeCollection.VolumeCollection"},
                     {"Name", "Volumes"},
                     {"Members@odata.count", 2},
                     {"Members", {kVolume, {{"@odata.id", "/redfish/v1/Storage/Array/Volumes/8"}}}},
                     {"Members@odata.nextLink", "/redfish/v1/Storage/Array/Volumes?$skip=2"}};
  Json by_member_path = collection;
  applySelect(collection, *parseSelect("Id", res));
  CHECK_FALSE(collection.contains("Name"));
  LONGS_EQUAL(2, collection["Members@odata.count"].get<int>());
  CHECK(collection.contains("Members@odata.nextLink"));
  CHECK(collection["Members"][0] == Json({{"@odata.id", "/redfish/v1/Storage/Array/Volumes/7"},
                                          {"@odata.type", "#Volume.v1_10_2.Volume"},
                                          {"Id", "7"}}));
  CHECK(collection["Members"][1].size() == 1);  // a reference stays one
  applySelect(by_member_path, *parseSelect("Name,Members/Oem/DualSP/CurrentOwner", res));
  CHECK(by_member_path["Name"] == "Volumes");
  CHECK(by_member_path["Members"][0]["Oem"] == Json({{"DualSP", {{"CurrentOwner", "SPA"}}}}));
  CHECK_FALSE(by_member_path["Members"][0].contains("Name"));
}

TEST(Select, RefusesMalformedAndTooManyPaths) {
  for (const char* bad : {"", ",", "Name,", "Name,,Id", "Status/", "/Status", "Na me", "Name;Id",
                          "a/b/c/d/e/f/g/h/i"}) {
    Response res;
    CHECK_TEXT(!parseSelect(bad, res), bad);
    STRCMP_EQUAL_TEXT("Base.1.22.1.QueryParameterValueFormatError", messageIdOf(res).c_str(), bad);
  }
  std::string many = "P0";
  for (size_t i = 1; i <= kMaxSelectPaths; ++i) many += ",P" + std::to_string(i);
  Response res;
  CHECK_FALSE(parseSelect(many, res));
  STRCMP_EQUAL("Base.1.22.1.QueryParameterOutOfRange", messageIdOf(res).c_str());
}

TEST_GROUP(Paging){};

TEST(Paging, CountsAndLinks) {
  Response res;
  CHECK(parseCount("0", kTop, res) == 0u);
  CHECK(parseCount("25", kSkip, res) == 25u);
  CHECK(parseCount("99999999999999999999999", kSkip, res) == UINT64_MAX);
  for (const char* bad : {"", "-1", "1.5", "ten", "5 ", "+5"}) {
    Response error;
    CHECK_TEXT(!parseCount(bad, kTop, error), bad);
    STRCMP_EQUAL("Base.1.22.1.QueryParameterValueTypeError", messageIdOf(error).c_str());
  }
  STRCMP_EQUAL("$top=2&$skip=4", queryWithSkip("$top=2", 4).c_str());
  STRCMP_EQUAL("$skip=6&$top=2&$filter=Id%20eq%20'1'",
               queryWithSkip("%24skip=4&$top=2&$filter=Id%20eq%20'1'", 6).c_str());
  STRCMP_EQUAL("$skip=3", queryWithSkip("", 3).c_str());
  STRCMP_EQUAL("/e?$skip=50&$top=50&$select=Id",
               linkWithQuery("/e?$skip=50&$top=50", "$top=9&$select=Id").c_str());
  STRCMP_EQUAL("/e?$select=Id", linkWithQuery("/e", "$select=Id").c_str());
  STRCMP_EQUAL("/e?$skip=1", linkWithQuery("/e?$skip=1", "").c_str());
}

TEST(Paging, OptionsSayWhoPages) {
  auto request = [](const std::string& query) {
    Request r;
    r.query = query;
    return r;
  };
  const std::vector<std::string_view> log_pages = {"$top", "$skip"};
  Response res;
  std::optional<Options> mine = parseOptions(request("$top=5&$skip=2"), {}, res);
  CHECK(mine->top == 5u && mine->skip == 2u && !mine->read_every_page);
  // The route's own paging stays the route's...
  std::optional<Options> routes = parseOptions(request("$top=5&$skip=2"), log_pages, res);
  CHECK(!routes->top && !routes->skip && routes->empty());
  // ...unless a filter needs every member: then it is read page by page and paged here.
  std::optional<Options> filtered =
      parseOptions(request("$top=5&$filter=Id%20eq%20'1'"), log_pages, res);
  CHECK(filtered->top == 5u && filtered->read_every_page);
  STRCMP_EQUAL("$filter=Id%20eq%20'1'&only",
               withoutPaging(request("$top=5&$filter=Id%20eq%20'1'&%24skip=1&only")).query.c_str());
  // The same parameter twice: which one holds is not guessed.
  CHECK_FALSE(parseOptions(request("$top=1&%24top=2"), {}, res));
  STRCMP_EQUAL("Base.1.22.1.QueryCombinationInvalid", messageIdOf(res).c_str());
}

TEST_GROUP(ApproximateSize){};

TEST(ApproximateSize, FollowsTheSerializedSize) {
  for (const Json& value : {kVolume, Json::array(), Json("text"), Json(12)}) {
    const size_t dumped = value.dump().size();
    const size_t estimated = approximateSize(value);
    CHECK_TEXT(estimated >= dumped / 2 && estimated <= dumped * 4 + 8, value.dump().c_str());
  }
}
