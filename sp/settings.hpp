#pragma once
// The one file that configures an SP (JSON). Every key is checked at start-up; a bad file
// fails with a message naming the key, so spd never starts half-configured.
// The format is documented in docs/SETTINGS.md.

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "platform/privilege.hpp"
#include "platform/sp_types.hpp"

namespace dualsp::sp {

using Millis = std::chrono::milliseconds;

struct PathSettings {
  bool enabled = true;
  Millis interval{10};
  Millis dead{50};
};

struct Settings {
  SpId sp = SpId::A;
  std::string array_id = "dualsp";
  std::string state_dir;

  struct Platform {
    std::string backend = "sim";   // "sim" (the harness is the chassis) or "linux"
    std::string power_controller;  // sim: unix socket of the harness's power controller
    std::string fence_gpio;        // linux: sysfs value file of the peer's reset line
    std::string hardware;          // sim: the SP's hardware description (JSON); linux: unused
    // qemu: where the shelf's drives, the front-end ports and the shelf's I/O come from:
    // "description" (the hardware file, like the sensors) or "linux" (the kernel's block
    // devices and NICs, as the linux back end reads them; sensors stay the description's).
    std::string shelf = "description";
    // linux, or qemu with shelf "linux": whole disks that are not shelf drives ("vda").
    std::vector<std::string> shelf_exclude;
    // linux, or qemu with shelf "linux": this SP's iSCSI portals on its front-end NICs, which
    // the board's start-up has configured; reported as ports iSCSI0, iSCSI1, ...
    struct FrontEndIscsi {
      std::string interface;
      std::string address;  // IPv4, no prefix
      int prefix_length = 24;
    };
    std::vector<FrontEndIscsi> frontend_iscsi;
  } platform;

  struct Management {
    std::string interface;  // empty on loopback
    std::string address;    // this SP's own management address, no prefix
  } management;

  struct Peer {
    std::string management_address;
    std::string link_address;
  } peer;

  struct PeerLink {
    std::string interface;
    std::string address;
    int prefix_length = 24;       // the peer-link network: no event subscription points into it
    int port = 7500;              // TCP; SP-A dials, SP-B listens
    std::string key_file;         // the array's pair key; default <state_dir>/pair.key
    Millis request_timeout{500};  // default deadline of a forwarded command
    // A query about the peer not answered within this is answered from the last known
    // state (stale, with its age) while the round trip goes on refreshing it.
    Millis stale_after{50};
    // How long a configuration change waits for the passive to be reachable before it is
    // refused (503, nothing applied) while the passive is heard on a heartbeat path.
    Millis change_wait{2000};
    // The second route over the management network between the SPs' own addresses.
    bool management_route = true;
    Millis ping_interval{50};  // liveness of each route
    Millis sick_after{150};    // no frame for this long: the route is not used
    Millis dead_after{600};    // no frame for this long: the connection is dropped
  } peer_link;

  struct Floating {
    std::string mode = "netlink";  // "netlink" (an address on an interface) or "loopback"
    std::string address;           // no prefix
    int prefix_length = 24;
    std::string interface;  // netlink: where to add it
    int port = 0;           // loopback: port of the floating listener
    int garp_count = 5;     // gratuitous ARPs after a takeover (and when carrier returns)
    Millis garp_interval{20};
    Millis garp_refresh{10000};  // one more every this while active; 0 = never
  } floating;

  struct Heartbeat {
    int port = 7400;
    PathSettings peer{true, Millis{10}, Millis{50}};
    PathSettings mgmt{true, Millis{10}, Millis{50}};
    PathSettings midplane{true, Millis{2},
                          Millis{50}};  // 6 beats missed: suspect (ELECTION.md rule 1)
    std::string midplane_segment;       // shared-memory name; default dualsp-<array_id>-midplane
    Millis startup_wait{300};
    std::optional<Millis> fence_delay;  // default: SP-A 0 ms, SP-B 200 ms
    Millis fence_timeout{2000};
    Millis fence_retry{1000};
    int realtime_priority = 50;  // 0 = normal scheduling
    // A suspect peer the chassis says runs is dead after this much silence on every path
    // (0: after the paths' dead intervals). docs/ELECTION.md rule 1.
    Millis running_silence{500};
    // A starting SP that never heard its peer fences it only when the chassis says it is
    // off or hung ("when-peer-off"), or whenever the startup wait is over ("always").
    bool startup_fence_always = false;
  } heartbeat;

  struct Web {
    std::string spweb;  // path of the spweb binary; default: beside spd, then PATH
    std::string listen = "0.0.0.0";
    int port = 80;
    int request_timeout_ms = 10000;  // spweb --request-timeout-ms: headers, then body, each
    int max_client_requests = 12;    // spweb --max-client-requests: per source address at once
    // spweb --sse-keep-alive-ms: an idle event stream gets a ": keep-alive" comment this often,
    // so a follower tells a quiet array from a dead connection (docs/EVENTS.md).
    int sse_keep_alive_ms = 5000;
    // HTTPS (docs/SECURITY.md "TLS"): spweb --https-port when not 0 (443 by default where
    // spweb has TLS, 0 in a firmware without it); --tls-certificate, default
    // <state_dir>/spweb-https.pem (the array's certificate, written by spd from the store);
    // --plain-http: what the plain port does while HTTPS is on.
#ifdef DUALSP_SPWEB_TLS
    int https_port = 443;
#else
    int https_port = 0;
#endif
    std::string tls_certificate;
    std::string plain_http = "redirect";  // or "serve" (for debugging)
    // Who spweb runs as once bound (docs/SECURITY.md "What runs as whom"): a name from
    // /etc/passwd or "UID:GID"; identity is what it resolved to (spweb --user).
    std::string user = platform::kDefaultWebUser;
    platform::UnixIdentity identity = platform::kFallbackWebIdentity;
  } web;

  struct Accounts {
    std::string initial_admin = "admin";  // the first administrator's name
    // A hash from `spd --hash-password`, mode 0600; default <state_dir>/initial-admin.
    std::string initial_password_file;
  } accounts;

  std::string log_level = "info";

  Millis fenceDelay() const {
    return heartbeat.fence_delay.value_or(sp == SpId::A ? Millis{0} : Millis{200});
  }
};

class SettingsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses and checks; throws SettingsError naming the file and the bad key.
Settings loadSettings(const std::string& path);
Settings parseSettings(const std::string& text, const std::string& origin = "config");

}  // namespace dualsp::sp
