// Hostile request bodies (docs/SECURITY.md "Hostile input"): nesting beyond the depth limit is
// refused while parsing, and a value quoted back in an error message or an event is cut
// short, on a character boundary, without recursing into it. Through the Dispatcher too, in
// full and degraded mode, with the bodies an attacker sends.

#include <CppUTest/TestHarness.h>

#include <string>

#include "test_dispatcher.hpp"
#include "webserver/request_body.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;

namespace {

std::string nestedArray(int depth, const std::string& inner = "1") {
  return std::string(static_cast<size_t>(depth), '[') + inner +
         std::string(static_cast<size_t>(depth), ']');
}

// The attack of docs/SECURITY.md: about 1.2 KB, 600 arrays deep.
std::string deepAssetTag() {
  return R"({"AssetTag": )" + nestedArray(600) + "}";
}

// Every string an error body quotes back (message, MessageArgs), longest first.
size_t longestQuote(const Response& res) {
  size_t longest = str(res.body["error"]["message"]).size();
  for (const Json& info : res.body["error"]["@Message.ExtendedInfo"]) {
    longest = std::max(longest, str(info["Message"]).size());
    for (const Json& arg : info["MessageArgs"]) longest = std::max(longest, str(arg).size());
  }
  return longest;
}

}  // namespace

TEST_GROUP(RequestJson){};

TEST(RequestJson, NestingUpToTheLimitParses) {
  BodyProblem problem = BodyProblem::Malformed;
  std::optional<Json> json = parseRequestJson(nestedArray(kMaxRequestJsonDepth), problem);
  CHECK(json.has_value());
  CHECK(problem == BodyProblem::None);
}

TEST(RequestJson, NestingBeyondTheLimitIsRefused) {
  for (int depth : {kMaxRequestJsonDepth + 1, 600, 8000}) {
    BodyProblem problem = BodyProblem::None;
    CHECK_FALSE(parseRequestJson(nestedArray(depth), problem).has_value());
    CHECK(problem == BodyProblem::TooDeep);
  }
  BodyProblem problem = BodyProblem::None;
  CHECK_FALSE(parseRequestJson(R"({"a": )" + nestedArray(40, R"({"b": 1})") + "}", problem));
  CHECK(problem == BodyProblem::TooDeep);
}

TEST(RequestJson, SyntaxErrorsAreMalformed) {
  BodyProblem problem = BodyProblem::None;
  CHECK_FALSE(parseRequestJson(R"({"AssetTag": [1, 2)", problem).has_value());
  CHECK(problem == BodyProblem::Malformed);
}

TEST(RequestJson, QuotedValuesAreCutOnACharacterBoundary) {
  // "é" is two bytes: 200 of them cut at 128 bytes must not split one.
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "\xc3\xa9";
  std::string quoted = valueText(Json(accents));
  LONGS_EQUAL(kMaxQuotedValueBytes + 3, quoted.size());
  STRCMP_EQUAL("...", quoted.substr(quoted.size() - 3).c_str());
  CHECK(quoted.substr(0, kMaxQuotedValueBytes) == accents.substr(0, kMaxQuotedValueBytes));
  // A three-byte character across the limit goes whole.
  std::string euro = std::string(kMaxQuotedValueBytes - 1, 'x') + "\xe2\x82\xac" + "tail";
  STRCMP_EQUAL((std::string(kMaxQuotedValueBytes - 1, 'x') + "...").c_str(),
               valueText(Json(euro)).c_str());
  STRCMP_EQUAL("short", valueText(Json("short")).c_str());
}

TEST(RequestJson, StructuredValuesAreRenderedShort) {
  STRCMP_EQUAL(R"([1,{"a":"b"},null])", valueText(Json::parse(R"([1, {"a": "b"}, null])")).c_str());
  BodyProblem problem = BodyProblem::None;
  std::optional<Json> deepest = parseRequestJson(nestedArray(kMaxRequestJsonDepth), problem);
  std::string quoted = valueText(*deepest);
  CHECK(quoted.size() <= kMaxQuotedValueBytes + 3);
  STRCMP_EQUAL(nestedArray(kMaxRequestJsonDepth).c_str(), quoted.c_str());
  Json wide = Json::array();
  for (int i = 0; i < 5000; ++i) wide.push_back(i);
  std::string cut = valueText(wide);
  CHECK(cut.size() <= kMaxQuotedValueBytes + 3);
  STRCMP_EQUAL("[0,1,2,3,", cut.substr(0, 9).c_str());
  STRCMP_EQUAL("...", cut.substr(cut.size() - 3).c_str());
}

TEST_GROUP(HostileBodies){};

TEST(HostileBodies, ADeeplyNestedAssetTagIsRefusedWithoutAnEcho) {
  Served a(SpId::A, Role::Active);
  Response res = a.patch("/redfish/v1/Chassis/Enclosure", deepAssetTag());
  checkError(res, 400, "Base.1.22.1.MalformedJSON");
  checkCommonHeaders(res, "A");
  LONGS_EQUAL(0, a.bus.commandsNamed("ConfigWrite").size());
}

TEST(HostileBodies, AnAssetTagWithinTheDepthLimitIsQuotedShort) {
  Served a(SpId::A, Role::Active);
  std::string big = R"({"AssetTag": [)" + nestedArray(20) + ",\"" + std::string(4000, '7') + "\"]}";
  Response res = a.patch("/redfish/v1/Chassis/Enclosure", big);
  checkError(res, 400, "Base.1.22.1.PropertyValueTypeError");
  CHECK(longestQuote(res) < 400);
}

TEST(HostileBodies, ADeeplyNestedResetTypeIsRefusedInDegradedMode) {
  Served a(SpId::A, Role::Active, ServeMode::Degraded);
  Response res = a.post("/redfish/v1/Managers/SPA/Actions/Manager.Reset",
                        R"({"ResetType": )" + nestedArray(600) + "}");
  checkError(res, 400, "Base.1.22.1.MalformedJSON");
  LONGS_EQUAL(0, a.bus.commandsNamed("ResetSp").size());
  res = a.post("/redfish/v1/Managers/SPA/Actions/Manager.Reset",
               R"({"ResetType": ")" + std::string(5000, 'Z') + R"("})");
  checkError(res, 400, "Base.1.22.1.ActionParameterValueNotInList");
  CHECK(longestQuote(res) < 400);
}

TEST(HostileBodies, ANestedNewManagerIsRefused) {
  Served a(SpId::A, Role::Active);
  Response res = a.post("/redfish/v1/Managers/SPA/Actions/Manager.ForceFailover",
                        R"({"NewManager": )" + nestedArray(600) + "}");
  checkError(res, 400, "Base.1.22.1.MalformedJSON");
}
