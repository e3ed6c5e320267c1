#pragma once
// The web console's files (webserver/console/), embedded in spweb at build time by
// webserver/console/embed.cmake (console_assets.cpp in the build tree): the firmware carries
// them, nothing is read from disk or fetched at run time.

#include <span>
#include <string_view>

namespace dualsp::web::console {

struct Asset {
  std::string_view name;  // "console.js": its file name under webserver/console/
  std::string_view etag;  // "\"c-<first 16 hex digits of its SHA-256>\""
  std::string_view body;
};

// Every embedded file, in the order embed.cmake was given them.
std::span<const Asset> assets();

// The file of that name, or null.
const Asset* findAsset(std::string_view name);

}  // namespace dualsp::web::console
