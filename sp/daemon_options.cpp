#include "sp/daemon_options.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>

namespace dualsp::sp {

namespace fs = std::filesystem;

std::string readPairKey(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read the pair key " + path + " (peer_link.key_file)";
    return {};
  }
  std::string hex;
  in >> hex;
  if (hex.size() < 2 * kMinPairKeyBytes || hex.size() % 2 != 0 ||
      hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    error = "the pair key " + path + " (peer_link.key_file) must hold at least 64 hex digits (" +
            std::to_string(kMinPairKeyBytes) + " bytes)";
    return {};
  }
  std::string key;
  for (size_t i = 0; i < hex.size(); i += 2)
    key.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return key;
}

std::vector<ipc::PeerRouteOptions> peerRoutes(const Settings& c, const std::string& key) {
  auto route = [&](const char* name, const std::string& local, const std::string& peer) {
    ipc::PeerRouteOptions r;
    r.name = name;
    r.link.self = c.sp;
    r.link.local_address = local;
    r.link.peer_address = peer;
    r.link.port = c.peer_link.port;
    r.link.key = key;
    r.link.ping_interval = c.peer_link.ping_interval;
    r.link.sick_after = c.peer_link.sick_after;
    r.link.dead_after = c.peer_link.dead_after;
    return r;
  };
  std::vector<ipc::PeerRouteOptions> routes;
  if (!c.peer_link.address.empty() && !c.peer.link_address.empty())
    routes.push_back(route("peer-link", c.peer_link.address, c.peer.link_address));
  if (c.peer_link.management_route && !c.management.address.empty() &&
      !c.peer.management_address.empty())
    routes.push_back(route("management", c.management.address, c.peer.management_address));
  return routes;
}

heartbeat::ServiceOptions serviceOptions(const Settings& c, const std::string& boot_id,
                                         uint64_t epoch) {
  heartbeat::ServiceOptions o;
  o.array_id = c.array_id;
  o.boot_id = boot_id;
  o.election.self = c.sp;
  auto timing = [](const PathSettings& p) { return heartbeat::PathTiming{p.enabled, p.dead}; };
  o.election.paths[static_cast<size_t>(heartbeat::Path::Peer)] = timing(c.heartbeat.peer);
  o.election.paths[static_cast<size_t>(heartbeat::Path::Mgmt)] = timing(c.heartbeat.mgmt);
  o.election.paths[static_cast<size_t>(heartbeat::Path::Midplane)] = timing(c.heartbeat.midplane);
  o.election.startup_wait = c.heartbeat.startup_wait;
  o.election.fence_delay = c.fenceDelay();
  o.election.fence_retry = c.heartbeat.fence_retry;
  o.election.startup_fence_always = c.heartbeat.startup_fence_always;
  o.election.running_silence = c.heartbeat.running_silence;
  // The heartbeat thread ticks every 2 ms: a gap of a whole dead interval is our own stall.
  Millis shortest_dead{0};
  for (const PathSettings* p : {&c.heartbeat.peer, &c.heartbeat.mgmt, &c.heartbeat.midplane})
    if (p->enabled && (shortest_dead.count() == 0 || p->dead < shortest_dead))
      shortest_dead = p->dead;
  o.election.stall_threshold = shortest_dead;
  o.peer = {c.heartbeat.peer.enabled, c.peer_link.address,       c.peer.link_address,
            c.heartbeat.port,         c.heartbeat.peer.interval, /*key=*/""};
  o.mgmt = {c.heartbeat.mgmt.enabled, c.management.address,      c.peer.management_address,
            c.heartbeat.port,         c.heartbeat.mgmt.interval, /*key=*/""};
  o.midplane = {c.heartbeat.midplane.enabled, c.heartbeat.midplane_segment,
                c.heartbeat.midplane.interval, /*key=*/""};
  o.persisted_epoch = epoch;
  o.realtime_priority = c.heartbeat.realtime_priority;
  o.garp_count = c.floating.garp_count;
  o.garp_interval = c.floating.garp_interval;
  o.garp_refresh = c.floating.garp_refresh;
  // Serving clients needs carrier where the floating address lives (none on loopback).
  if (c.floating.mode == "netlink") o.carrier_interface = c.floating.interface;
  o.fence_timeout = c.heartbeat.fence_timeout;
  return o;
}

ConfigServiceOptions configServiceOptions(const Settings& c) {
  ConfigServiceOptions o;
  o.replicate_timeout = c.peer_link.request_timeout;
  o.change_wait = c.peer_link.change_wait;
  // Longer than the active can take: its wait, a resync and one more attempt.
  o.forward_timeout =
      c.peer_link.change_wait + 4 * c.peer_link.request_timeout + std::chrono::milliseconds{500};
  return o;
}

ipc::StatusSnapshot boardTemplate(const Settings& c, const std::string& boot_id, uint32_t pid,
                                  int64_t boot_time_ms) {
  ipc::StatusSnapshot t;
  t.spd_pid = pid;
  t.sp = c.sp;
  t.boot_time_ms = boot_time_ms;
  ipc::copyField(t.array_id, c.array_id);
  ipc::copyField(t.boot_id, boot_id);
  ipc::copyField(t.firmware_version, DUALSP_FIRMWARE_VERSION);
  ipc::copyField(t.management_address, c.management.address);
  ipc::copyField(t.floating_address, c.floating.address);
  return t;
}

std::string findSpweb(const Settings& c, const std::string& self_exe) {
  if (!c.web.spweb.empty()) return c.web.spweb;
  fs::path dir = fs::path(self_exe).parent_path();
  for (fs::path p : {dir / "spweb", dir / ".." / "webserver" / "spweb"})
    if (access(p.c_str(), X_OK) == 0) return fs::weakly_canonical(p).string();
  return "spweb";
}

std::vector<ipc::Ipv4Network> ownNetworks(const Settings& c) {
  std::vector<ipc::Ipv4Network> out;
  auto add = [&out](const std::string& address, int prefix_length) {
    std::optional<uint32_t> a = ipc::parseIpv4(address);
    if (!a) return;
    ipc::Ipv4Network n{*a, prefix_length};
    n = *ipc::parseIpv4Network(n.toString());  // host bits cleared
    if (std::find_if(out.begin(), out.end(), [&](const ipc::Ipv4Network& o) {
          return o.address == n.address && o.prefix_length == n.prefix_length;
        }) == out.end())
      out.push_back(n);
  };
  // Only the two SPs live on the peer link: all of it. On the management network, the
  // SPs' own addresses and the network's broadcast; its other hosts may well be listeners.
  add(c.peer_link.address, c.peer_link.prefix_length);
  add(c.peer.link_address, c.peer_link.prefix_length);
  add(c.management.address, 32);
  add(c.peer.management_address, 32);
  add(c.floating.address, 32);
  if (std::optional<uint32_t> floating = ipc::parseIpv4(c.floating.address);
      floating && c.floating.prefix_length < 31)
    add(ipc::ipv4Text(*floating | ~(~uint32_t{0} << (32 - c.floating.prefix_length))), 32);
  return out;
}

DeliveryOptions deliveryOptions(const Settings& c) {
  DeliveryOptions o;
  const std::vector<ipc::Ipv4Network> own = ownNetworks(c);
  o.destinations.refused.insert(o.destinations.refused.end(), own.begin(), own.end());
  return o;
}

std::vector<std::string> spwebArguments(const Settings& c, const std::string& mode) {
  std::vector<std::string> args = {"--mode",
                                   mode,
                                   "--sp",
                                   std::string(1, spLetter(c.sp)),
                                   "--array-id",
                                   c.array_id,
                                   "--listen",
                                   c.web.listen,
                                   "--port",
                                   std::to_string(c.web.port),
                                   "--log-file",
                                   c.state_dir + "/log/spweb.log",
                                   "--request-timeout-ms",
                                   std::to_string(c.web.request_timeout_ms),
                                   "--max-client-requests",
                                   std::to_string(c.web.max_client_requests),
                                   "--sse-keep-alive-ms",
                                   std::to_string(c.web.sse_keep_alive_ms),
                                   "--user",
                                   platform::identityText(c.web.identity)};
  if (c.web.https_port != 0)
    args.insert(args.end(), {"--https-port", std::to_string(c.web.https_port), "--tls-certificate",
                             c.web.tls_certificate, "--plain-http", c.web.plain_http});
  for (const ipc::Ipv4Network& n : ownNetworks(c)) {
    args.push_back("--refused-network");
    args.push_back(n.toString());
  }
  return args;
}

}  // namespace dualsp::sp
