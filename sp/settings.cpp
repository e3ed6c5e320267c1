#include "sp/settings.hpp"

#include "sp/account_service.hpp"

#include <arpa/inet.h>

#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>

namespace dualsp::sp {
namespace {

using json = nlohmann::json;

// Walks one JSON object, checking every key is known and of the right type. The path of
// the key ("heartbeat.peer.dead_ms") goes into every error.
class Reader {
 public:
  Reader(const json& object, std::string path, const std::string& origin)
      : object_(object), path_(std::move(path)), origin_(origin) {
    if (!object_.is_object()) fail(path_.empty() ? "(top level)" : path_, "must be an object");
  }

  // Refuses keys nobody asked for: a typo must not silently fall back to a default.
  void finish(std::initializer_list<const char*> known) const {
    for (const auto& [key, value] : object_.items()) {
      bool ok = false;
      for (const char* k : known) ok = ok || key == k;
      if (!ok) fail(keyPath(key.c_str()), "unknown key");
    }
  }

  bool has(const char* key) const { return object_.contains(key); }

  void string(const char* key, std::string& out, bool required = false) const {
    if (!present(key, required)) return;
    const json& v = object_.at(key);
    if (!v.is_string()) fail(keyPath(key), "must be a string");
    out = v.get<std::string>();
  }

  void integer(const char* key, int& out, int min, int max, bool required = false) const {
    if (!present(key, required)) return;
    const json& v = object_.at(key);
    if (!v.is_number_integer()) fail(keyPath(key), "must be an integer");
    long long n = v.get<long long>();
    if (n < min || n > max)
      fail(keyPath(key), "must be between " + std::to_string(min) + " and " + std::to_string(max));
    out = static_cast<int>(n);
  }

  void millis(const char* key, Millis& out, int min, int max) const {
    int n = static_cast<int>(out.count());
    integer(key, n, min, max);
    out = Millis{n};
  }

  void boolean(const char* key, bool& out) const {
    if (!present(key, false)) return;
    const json& v = object_.at(key);
    if (!v.is_boolean()) fail(keyPath(key), "must be true or false");
    out = v.get<bool>();
  }

  // A list of strings; absent leaves `out` as it is.
  void strings(const char* key, std::vector<std::string>& out) const {
    if (!present(key, false)) return;
    const json& v = object_.at(key);
    if (!v.is_array()) fail(keyPath(key), "must be a list of strings");
    std::vector<std::string> list;
    for (const json& item : v) {
      if (!item.is_string()) fail(keyPath(key), "must be a list of strings");
      list.push_back(item.get<std::string>());
    }
    out = std::move(list);
  }

  // Calls `each` with a Reader of every object of the list `key` ("key[0]", "key[1]"...).
  template <typename Each>
  void objects(const char* key, Each each) const {
    if (!present(key, false)) return;
    const json& v = object_.at(key);
    if (!v.is_array()) fail(keyPath(key), "must be a list of objects");
    for (size_t n = 0; n < v.size(); ++n) {
      each(Reader(v[n], keyPath(key) + "[" + std::to_string(n) + "]", origin_));
    }
  }

  Reader child(const char* key) const {
    static const json kEmpty = json::object();
    return Reader(has(key) ? object_.at(key) : kEmpty, keyPath(key), origin_);
  }

  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw SettingsError(origin_ + ": " + key + ": " + why);
  }

  std::string keyPath(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  bool present(const char* key, bool required) const {
    if (object_.contains(key)) return true;
    if (required) fail(keyPath(key), "is required");
    return false;
  }

  const json& object_;
  std::string path_;
  const std::string& origin_;
};

bool isIpv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

void requireIpv4(const Reader& r, const char* key, const std::string& value, bool required) {
  if (value.empty()) {
    if (required) r.fail(r.keyPath(key), "is required");
    return;
  }
  if (!isIpv4(value)) r.fail(r.keyPath(key), "'" + value + "' is not an IPv4 address");
}

void readPath(const Reader& r, PathSettings& p) {
  r.boolean("enabled", p.enabled);
  r.millis("interval_ms", p.interval, 1, 10000);
  r.millis("dead_ms", p.dead, 2, 60000);
  r.finish({"enabled", "interval_ms", "dead_ms"});
  if (p.dead <= p.interval)
    r.fail(r.keyPath("dead_ms"),
           "must be longer than interval_ms (" + std::to_string(p.interval.count()) + ")");
}

void readPlatform(const Reader& r, Settings& c) {
  r.string("backend", c.platform.backend);
  r.string("power_controller", c.platform.power_controller);
  r.string("fence_gpio", c.platform.fence_gpio);
  r.string("hardware", c.platform.hardware);
  r.string("shelf", c.platform.shelf);
  r.strings("shelf_exclude", c.platform.shelf_exclude);
  c.platform.frontend_iscsi.clear();
  r.objects("frontend_iscsi", [&](const Reader& p) {
    Settings::Platform::FrontEndIscsi portal;
    p.string("interface", portal.interface, true);
    p.string("address", portal.address, true);
    p.integer("prefix_length", portal.prefix_length, 1, 32);
    p.finish({"interface", "address", "prefix_length"});
    if (portal.interface.empty()) p.fail(p.keyPath("interface"), "must not be empty");
    requireIpv4(p, "address", portal.address, true);
    c.platform.frontend_iscsi.push_back(std::move(portal));
  });
  r.finish({"backend", "power_controller", "fence_gpio", "hardware", "shelf", "shelf_exclude",
            "frontend_iscsi"});
  if (c.platform.shelf != "description" && c.platform.shelf != "linux")
    r.fail(r.keyPath("shelf"), "must be \"description\" or \"linux\"");
  if (c.platform.backend == "sim") {
    if (c.platform.power_controller.empty())
      r.fail(r.keyPath("power_controller"), "is required with the sim back end");
  } else if (c.platform.backend == "linux") {
    if (c.platform.fence_gpio.empty())
      r.fail(r.keyPath("fence_gpio"), "is required with the linux back end");
  } else if (c.platform.backend != "qemu") {
    r.fail(r.keyPath("backend"), "must be \"sim\", \"qemu\" or \"linux\"");
  }
}

void readManagement(const Reader& r, Settings& c) {
  r.string("interface", c.management.interface);
  r.string("address", c.management.address, true);
  r.finish({"interface", "address"});
  requireIpv4(r, "address", c.management.address, true);
}

void readPeer(const Reader& r, Settings& c) {
  r.string("management_address", c.peer.management_address);
  r.string("link_address", c.peer.link_address);
  r.finish({"management_address", "link_address"});
  requireIpv4(r, "management_address", c.peer.management_address, false);
  requireIpv4(r, "link_address", c.peer.link_address, false);
}

void readPeerLink(const Reader& r, Settings& c) {
  r.string("interface", c.peer_link.interface);
  r.string("address", c.peer_link.address);
  r.integer("prefix_length", c.peer_link.prefix_length, 8, 32);
  r.integer("port", c.peer_link.port, 1, 65535);
  r.string("key_file", c.peer_link.key_file);
  r.millis("request_timeout_ms", c.peer_link.request_timeout, 10, 60000);
  r.millis("stale_after_ms", c.peer_link.stale_after, 1, 60000);
  r.millis("change_wait_ms", c.peer_link.change_wait, 0, 60000);
  r.boolean("management_route", c.peer_link.management_route);
  r.millis("ping_interval_ms", c.peer_link.ping_interval, 5, 10000);
  r.millis("sick_after_ms", c.peer_link.sick_after, 10, 60000);
  r.millis("dead_after_ms", c.peer_link.dead_after, 20, 600000);
  r.finish({"interface", "address", "prefix_length", "port", "key_file", "request_timeout_ms",
            "stale_after_ms", "change_wait_ms", "management_route", "ping_interval_ms",
            "sick_after_ms", "dead_after_ms"});
  if (c.peer_link.sick_after < c.peer_link.ping_interval)
    r.fail(r.keyPath("sick_after_ms"), "must be at least ping_interval_ms");
  if (c.peer_link.dead_after < c.peer_link.sick_after)
    r.fail(r.keyPath("dead_after_ms"), "must be at least sick_after_ms");
  requireIpv4(r, "address", c.peer_link.address, false);
  if (c.peer_link.key_file.empty()) c.peer_link.key_file = c.state_dir + "/pair.key";
}

void readFloating(const Reader& r, Settings& c) {
  r.string("mode", c.floating.mode);
  r.string("address", c.floating.address, true);
  r.integer("prefix_length", c.floating.prefix_length, 1, 32);
  r.string("interface", c.floating.interface);
  r.integer("port", c.floating.port, 0, 65535);
  r.integer("garp_count", c.floating.garp_count, 0, 100);
  r.millis("garp_interval_ms", c.floating.garp_interval, 1, 10000);
  r.millis("garp_refresh_ms", c.floating.garp_refresh, 0, 3600000);
  r.finish({"mode", "address", "prefix_length", "interface", "port", "garp_count",
            "garp_interval_ms", "garp_refresh_ms"});
  requireIpv4(r, "address", c.floating.address, true);
  if (c.floating.mode == "netlink") {
    if (c.floating.interface.empty()) r.fail(r.keyPath("interface"), "is required in netlink mode");
  } else if (c.floating.mode == "loopback") {
    if (c.floating.port == 0) r.fail(r.keyPath("port"), "is required in loopback mode");
  } else {
    r.fail(r.keyPath("mode"), "must be \"netlink\" or \"loopback\"");
  }
}

void readHeartbeat(const Reader& r, Settings& c) {
  r.integer("port", c.heartbeat.port, 1, 65535);
  readPath(r.child("peer"), c.heartbeat.peer);
  readPath(r.child("mgmt"), c.heartbeat.mgmt);
  readPath(r.child("midplane"), c.heartbeat.midplane);
  r.string("midplane_segment", c.heartbeat.midplane_segment);
  r.millis("startup_wait_ms", c.heartbeat.startup_wait, 0, 60000);
  if (r.has("fence_delay_ms")) {
    Millis d{0};
    r.millis("fence_delay_ms", d, 0, 60000);
    c.heartbeat.fence_delay = d;
  }
  r.millis("fence_timeout_ms", c.heartbeat.fence_timeout, 10, 60000);
  r.millis("fence_retry_ms", c.heartbeat.fence_retry, 10, 600000);
  r.integer("realtime_priority", c.heartbeat.realtime_priority, 0, 99);
  r.millis("running_silence_ms", c.heartbeat.running_silence, 0, 60000);
  std::string startup_fence = "when-peer-off";
  r.string("startup_fence", startup_fence);
  if (startup_fence == "always")
    c.heartbeat.startup_fence_always = true;
  else if (startup_fence != "when-peer-off")
    r.fail(r.keyPath("startup_fence"), "must be \"when-peer-off\" or \"always\"");
  r.finish({"port", "peer", "mgmt", "midplane", "midplane_segment", "startup_wait_ms",
            "fence_delay_ms", "fence_timeout_ms", "fence_retry_ms", "realtime_priority",
            "running_silence_ms", "startup_fence"});
  if (c.heartbeat.peer.enabled && c.peer.link_address.empty())
    r.fail(r.keyPath("peer"), "is enabled but peer.link_address is not set");
  if (c.heartbeat.peer.enabled && c.peer_link.address.empty())
    r.fail(r.keyPath("peer"), "is enabled but peer_link.address is not set");
  if (c.heartbeat.mgmt.enabled && c.peer.management_address.empty())
    r.fail(r.keyPath("mgmt"), "is enabled but peer.management_address is not set");
  if (!c.heartbeat.peer.enabled && !c.heartbeat.mgmt.enabled && !c.heartbeat.midplane.enabled)
    r.fail(r.keyPath("peer"), "at least one heartbeat path must be enabled");
  if (c.heartbeat.midplane_segment.empty())
    c.heartbeat.midplane_segment = "dualsp-" + c.array_id + "-midplane";
}

void readWeb(const Reader& r, Settings& c) {
  r.string("spweb", c.web.spweb);
  r.string("listen", c.web.listen);
  r.integer("port", c.web.port, 1, 65535);
  r.integer("request_timeout_ms", c.web.request_timeout_ms, 100, 600000);
  r.integer("max_client_requests", c.web.max_client_requests, 1, 64);
  r.integer("sse_keep_alive_ms", c.web.sse_keep_alive_ms, 500, 60000);
  r.string("user", c.web.user);
  r.integer("https_port", c.web.https_port, 0, 65535);
  r.string("tls_certificate", c.web.tls_certificate);
  r.string("plain_http", c.web.plain_http);
  r.finish({"spweb", "listen", "port", "request_timeout_ms", "max_client_requests",
            "sse_keep_alive_ms", "user", "https_port", "tls_certificate", "plain_http"});
#ifndef DUALSP_SPWEB_TLS
  if (c.web.https_port != 0)
    r.fail(r.keyPath("https_port"), "this firmware's spweb is built without TLS: leave it 0");
#endif
  if (c.web.https_port != 0 && c.web.https_port == c.web.port)
    r.fail(r.keyPath("https_port"), "must differ from web.port");
  if (c.web.plain_http != "serve" && c.web.plain_http != "redirect")
    r.fail(r.keyPath("plain_http"), "must be \"serve\" or \"redirect\"");
  if (c.web.tls_certificate.empty())
    c.web.tls_certificate = c.state_dir + "/spweb-https.pem";
  else if (c.web.tls_certificate[0] != '/')
    r.fail(r.keyPath("tls_certificate"), "must be an absolute path");
  std::string error;
  std::optional<platform::UnixIdentity> identity = platform::resolveIdentity(c.web.user, error);
  if (!identity) r.fail(r.keyPath("user"), error);
  c.web.identity = *identity;
  requireIpv4(r, "listen", c.web.listen, true);
}

void readAccounts(const Reader& r, Settings& c) {
  r.string("initial_admin", c.accounts.initial_admin);
  r.string("initial_password_file", c.accounts.initial_password_file);
  r.finish({"initial_admin", "initial_password_file"});
  if (!validUserName(c.accounts.initial_admin))
    r.fail(r.keyPath("initial_admin"),
           "must be a letter, then up to 31 letters, digits, '.', '_' or '-'");
  if (c.accounts.initial_password_file.empty())
    c.accounts.initial_password_file = c.state_dir + "/initial-admin";
  else if (c.accounts.initial_password_file[0] != '/')
    r.fail(r.keyPath("initial_password_file"), "must be an absolute path");
}

}  // namespace

Settings parseSettings(const std::string& text, const std::string& origin) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw SettingsError(origin + ": not valid JSON: " + e.what());
  }
  Settings c;
  Reader top(doc, "", origin);

  std::string sp;
  top.string("sp", sp, true);
  auto id = parseSpId(sp);
  if (!id || (sp != "A" && sp != "B")) top.fail("sp", "must be \"A\" or \"B\", not '" + sp + "'");
  c.sp = *id;
  top.string("array_id", c.array_id);
  if (c.array_id.empty() || c.array_id.size() > 24 ||
      c.array_id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
    top.fail("array_id", "must be 1-24 characters of a-z, 0-9 and '-'");
  top.string("state_dir", c.state_dir, true);
  if (c.state_dir.empty() || c.state_dir[0] != '/')
    top.fail("state_dir", "must be an absolute path");
  top.string("log_level", c.log_level);
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "notice" &&
      c.log_level != "warning" && c.log_level != "error")
    top.fail("log_level", "must be debug, info, notice, warning or error");

  readPlatform(top.child("platform"), c);
  readManagement(top.child("management"), c);
  readPeer(top.child("peer"), c);
  readPeerLink(top.child("peer_link"), c);
  readFloating(top.child("floating"), c);
  readHeartbeat(top.child("heartbeat"), c);
  readWeb(top.child("web"), c);
  readAccounts(top.child("accounts"), c);
  top.finish({"sp", "array_id", "state_dir", "log_level", "platform", "management", "peer",
              "peer_link", "floating", "heartbeat", "web", "accounts"});
  return c;
}

Settings loadSettings(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw SettingsError(path + ": cannot read the settings file");
  std::ostringstream text;
  text << in.rdbuf();
  return parseSettings(text.str(), path);
}

}  // namespace dualsp::sp
