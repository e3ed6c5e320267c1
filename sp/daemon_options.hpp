#pragma once
// The options of spd's parts, derived from the SP's configuration file (sp/settings.hpp): the
// heartbeat service, the routes of the peer link and its pair key, the configuration service
// and spweb's command line. Pure but for readPairKey() and findSpweb(), which read files.

#include <cstdint>
#include <string>
#include <vector>

#include "heartbeat/heartbeat_service.hpp"
#include "ipc/event_destination.hpp"
#include "ipc/peer_channel.hpp"
#include "ipc/status_board.hpp"
#include "sp/config_service.hpp"
#include "sp/event_delivery.hpp"
#include "sp/settings.hpp"

namespace dualsp::sp {

// The shortest pair key spd accepts: HMAC-SHA256's own output size (docs/SECURITY.md).
constexpr size_t kMinPairKeyBytes = 32;
// The pair key: hex text (at least kMinPairKeyBytes bytes of key) in a file only root reads.
// Empty, with `error` set (naming peer_link.key_file, never the key), when the file is
// missing or malformed.
std::string readPairKey(const std::string& path, std::string& error);

// The routes of the peer link: the dedicated link, then the management network; a route is
// left out when an end of it is not configured.
std::vector<ipc::PeerRouteOptions> peerRoutes(const Settings& c, const std::string& key);

// The election and its heartbeat paths (unsigned: the caller adds the pair key).
heartbeat::ServiceOptions serviceOptions(const Settings& c, const std::string& boot_id,
                                         uint64_t epoch);

ConfigServiceOptions configServiceOptions(const Settings& c);

// What this spd's status board always says about it (the heartbeat service fills the rest).
ipc::StatusSnapshot boardTemplate(const Settings& c, const std::string& boot_id, uint32_t pid,
                                  int64_t boot_time_ms);

// spweb: configured path, else beside spd (installed), else in the build tree, else PATH.
std::string findSpweb(const Settings& c, const std::string& self_exe);
// The SPs' own networks, where no event subscription may point (ipc/event_destination.hpp):
// the peer-link network, both management addresses, the floating address and its broadcast.
std::vector<ipc::Ipv4Network> ownNetworks(const Settings& c);
// Push delivery refuses what spweb refuses: the special networks and the SPs' own.
DeliveryOptions deliveryOptions(const Settings& c);
// spweb's arguments, starting in `mode` ("full" or "degraded").
std::vector<std::string> spwebArguments(const Settings& c, const std::string& mode);

}  // namespace dualsp::sp
