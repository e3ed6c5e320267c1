// The web console (docs/WEB.md "Console"): `/` and its files under `/console/`, plain
// HTML/CSS/JS embedded in spweb (console_assets.hpp). The full server serves the console, which
// speaks only Redfish to this origin with a session like any client; the degraded server a
// rescue page. Both NoAuth: the files hold no data, every request the page makes is
// authorized as any other.

#include <array>

#include "webserver/console_assets.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

// What each mode serves: the page at `/` and the files it loads from `/console/`.
struct ConsoleFiles {
  std::string_view page;
  std::array<std::string_view, 3> files;
};
constexpr ConsoleFiles kFullConsole = {"index.html", {"console.js", "console.css", "favicon.svg"}};
constexpr ConsoleFiles kRescueConsole = {"rescue.html",
                                         {"rescue.js", "console.css", "favicon.svg"}};

// The page runs only the scripts and styles of this origin and talks only to it (no inline
// script, so an injected one does not run); it is never framed (clickjacking of the actions).
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ConsoleFiles& filesOf(ServeMode mode) {
  return mode == ServeMode::Full ? kFullConsole : kRescueConsole;
}

std::string_view contentTypeOf(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

// A file with the headers every console answer carries. `no-cache`: a browser may keep it but
// asks again (If-None-Match, 304) each time, so an SP with other firmware behind the same
// address is never shown stale files.
void answerAsset(const RequestContext& ctx, const console::Asset& asset, Response& res) {
  res.addHeader("Cache-Control", "no-cache");
  res.addHeader("ETag", std::string(asset.etag));
  res.addHeader("Content-Security-Policy", std::string(kContentSecurityPolicy));
  res.addHeader("X-Content-Type-Options", "nosniff");
  res.addHeader("X-Frame-Options", "DENY");
  res.addHeader("Referrer-Policy", "no-referrer");
  std::optional<std::string> known = ctx.request.header("If-None-Match");
  if (known && known->find(asset.etag) != std::string::npos) {
    res.status = 304;
    return;
  }
  res.setText(std::string(contentTypeOf(asset.name)), std::string(asset.body));
}

void handleConsolePageGet(const RequestContext& ctx, Response& res) {
  const console::Asset* page = console::findAsset(filesOf(ctx.config.mode).page);
  if (!page) {  // embed.cmake was not given it: a build error, found by the unit tests
    messages::internalError(res);
    return;
  }
  answerAsset(ctx, *page, res);
}

void handleConsoleFileGet(const RequestContext& ctx, Response& res) {
  const std::string& name = ctx.params.at(0);
  const ConsoleFiles& served = filesOf(ctx.config.mode);
  const console::Asset* asset = nullptr;
  for (std::string_view file : served.files)
    if (file == name) asset = console::findAsset(file);
  if (!asset) {
    messages::resourceNotFound(res, "Resource", ctx.request.path);
    return;
  }
  answerAsset(ctx, *asset, res);
}

}  // namespace

void requestRoutesConsole(RouteTable& routes) {
  routes.add({.pattern = "/",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::NoAuth,
              .degraded = DegradedService::Yes,
              .source = DataSource::None,
              .handler = handleConsolePageGet,
              .generic_queries = false});
  routes.add({.pattern = "/console/{File}",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::NoAuth,
              .degraded = DegradedService::Yes,
              .source = DataSource::None,
              .handler = handleConsoleFileGet,
              .generic_queries = false});
}

}  // namespace dualsp::web
