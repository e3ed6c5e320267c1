// The web console's routes (routes/console.cpp): `/` and `/console/{File}` serve the files
// embedded from webserver/console/, the console in full mode and the rescue page in degraded
// mode, each with its content type, CSP and caching headers, without credentials.

#include <CppUTest/TestHarness.h>

#include <algorithm>
#include <string>
#include <string_view>

#include "test_dispatcher.hpp"
#include "webserver/console_assets.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;

namespace {

constexpr const char* kCsp =
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string header(const Response& res, const char* name) {
  return res.header(name).value_or("");
}

void checkConsoleHeaders(const Response& res, const char* content_type) {
  LONGS_EQUAL(200, res.status);
  CHECK(res.body.is_null());
  STRCMP_EQUAL(content_type, header(res, "Content-Type").c_str());
  STRCMP_EQUAL(kCsp, header(res, "Content-Security-Policy").c_str());
  STRCMP_EQUAL("nosniff", header(res, "X-Content-Type-Options").c_str());
  STRCMP_EQUAL("DENY", header(res, "X-Frame-Options").c_str());
  STRCMP_EQUAL("no-referrer", header(res, "Referrer-Policy").c_str());
  // Kept by the browser but asked again every time: another SP may serve other firmware.
  STRCMP_EQUAL("no-cache", header(res, "Cache-Control").c_str());
  STRCMP_CONTAINS("\"c-", header(res, "ETag").c_str());
  LONGS_EQUAL(1, std::count_if(res.headers.begin(), res.headers.end(),
                               [](const auto& h) { return h.first == "Cache-Control"; }));
}

const console::Asset& asset(const char* name) {
  const console::Asset* found = console::findAsset(name);
  CHECK_TEXT(found != nullptr, name);
  return *found;
}

}  // namespace

TEST_GROUP(Console){};

TEST(Console, TheFullServerServesTheConsoleAtTheRoot) {
  Served s(SpId::A, Role::Active);
  s.identity.reset();  // nobody: the page itself needs no credentials
  Response res = s.get("/");
  checkConsoleHeaders(res, "text/html; charset=utf-8");
  STRCMP_EQUAL("A", header(res, "X-DualSP-SP").c_str());
  STRCMP_EQUAL(std::string(asset("index.html").body).c_str(), res.text.c_str());
  STRCMP_CONTAINS("/console/console.js", res.text.c_str());
  LONGS_EQUAL(0, s.bus.calls());  // nothing asked of spd
}

TEST(Console, ItsFilesHaveTheirContentTypes) {
  Served s(SpId::B, Role::Passive);
  s.identity.reset();
  Response js = s.get("/console/console.js");
  checkConsoleHeaders(js, "text/javascript; charset=utf-8");
  STRCMP_EQUAL(std::string(asset("console.js").body).c_str(), js.text.c_str());
  checkConsoleHeaders(s.get("/console/console.css"), "text/css; charset=utf-8");
  checkConsoleHeaders(s.get("/console/favicon.svg"), "image/svg+xml");
  // The rescue page's script is not the full server's.
  checkError(s.get("/console/rescue.js"), 404, "Base.1.22.1.ResourceNotFound");
  checkError(s.get("/console/index.html"), 404, "Base.1.22.1.ResourceNotFound");
  checkError(s.get("/console/../redfish"), 404, "Base.1.22.1.ResourceNotFound");
}

TEST(Console, TheDegradedServerServesTheRescuePage) {
  Served s(SpId::A, Role::Active, ServeMode::Degraded);
  s.identity.reset();
  Response res = s.get("/");
  checkConsoleHeaders(res, "text/html; charset=utf-8");
  STRCMP_EQUAL(std::string(asset("rescue.html").body).c_str(), res.text.c_str());
  STRCMP_CONTAINS("rescue mode", res.text.c_str());
  checkConsoleHeaders(s.get("/console/rescue.js"), "text/javascript; charset=utf-8");
  checkConsoleHeaders(s.get("/console/console.css"), "text/css; charset=utf-8");
  checkError(s.get("/console/console.js"), 404, "Base.1.22.1.ResourceNotFound");
}

TEST(Console, AKnownETagIsAnswered304WithoutABody) {
  Served s(SpId::A, Role::Active);
  Response first = s.get("/console/console.js");
  Request again = makeRequest(HttpMethod::Get, "/console/console.js");
  again.headers.emplace_back("If-None-Match", header(first, "ETag"));
  Response res = s.dispatcher->handle(again);
  LONGS_EQUAL(304, res.status);
  CHECK(res.text.empty());
  CHECK(res.body.is_null());
  STRCMP_EQUAL(header(first, "ETag").c_str(), header(res, "ETag").c_str());
  again.headers.back().second = "\"c-0000000000000000\"";
  LONGS_EQUAL(200, s.dispatcher->handle(again).status);
}

TEST(Console, HeadAnswersTheHeadersOnlyAndOtherMethodsAre405) {
  Served s(SpId::A, Role::Active);
  Response head = s.send(HttpMethod::Head, "/", "");
  LONGS_EQUAL(200, head.status);
  STRCMP_EQUAL("text/html; charset=utf-8", header(head, "Content-Type").c_str());
  Response post = s.post("/", "{}");
  checkError(post, 405, "Base.1.22.1.OperationNotAllowed");
  STRCMP_EQUAL("GET, HEAD", header(post, "Allow").c_str());
  // Not a Redfish resource: no $ query parameters.
  checkError(s.get("/", "$top=1"), 501, "Base.1.22.1.QueryParameterUnsupported");
}

// No font, script or style from elsewhere in the stylesheet either.
TEST(Console, TheStylesheetLoadsNothing) {
  const std::string css(asset("console.css").body);
  CHECK(css.find("url(") == std::string::npos);
  CHECK(css.find("@import") == std::string::npos);
  CHECK(css.find("@font-face") == std::string::npos);
}

// No inline script: the CSP (default-src 'self') would refuse it, and refusing it is the point.
TEST(Console, ThePagesLoadTheirScriptsFromFilesOnly) {
  for (const char* page : {"index.html", "rescue.html"}) {
    const std::string text(asset(page).body);
    size_t at = 0;
    while ((at = text.find("<script", at)) != std::string::npos) {
      const size_t end = text.find('>', at);
      CHECK_TEXT(text.substr(at, end - at).find(" src=\"/console/") != std::string::npos, page);
      STRCMP_EQUAL_TEXT("</script>", text.substr(end + 1, 9).c_str(), page);
      at = end;
    }
    for (const char* handler : {"onclick=", "onload=", "onsubmit=", "javascript:"})
      CHECK_TEXT(text.find(handler) == std::string::npos, page);
    CHECK_TEXT(text.find("style=") == std::string::npos, page);
    // Nothing loaded from elsewhere: every src and href names a path of this origin.
    for (const char* attribute : {" src=\"", " href=\""}) {
      size_t ref = 0;
      while ((ref = text.find(attribute, ref)) != std::string::npos) {
        ref += std::string_view(attribute).size();
        STRCMP_EQUAL_TEXT("/", text.substr(ref, 1).c_str(), page);
        CHECK_TEXT(text.substr(ref, 2) != "//", page);
      }
    }
  }
}
