#pragma once
// Where an event subscription may send events (docs/SECURITY.md "Hostile input"): a
// subscription is a request spd makes on a client's behalf, so its Destination is checked
// twice with the same rules, by spweb when it is created (400 naming Destination) and by spd
// before it delivers (a record that reached the store another way is never sent).
//
// Accepted: http:// or https://<IPv4 literal>[:port][/path] (https only where spd has a TLS
// client: kHttpsDestinations). No names (spd does not resolve: a resolver
// wait cannot be bounded), nothing but printable ASCII
// without spaces (a CR/LF would be written into the request line), and no address of the
// refused networks: loopback, link-local, unspecified, multicast, broadcast and reserved
// (kSpecialNetworks), and the SPs' own (the peer-link network, the management addresses).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dualsp::ipc {

struct Ipv4Network {
  uint32_t address = 0;  // host byte order
  int prefix_length = 32;

  bool contains(uint32_t a) const;
  std::string toString() const;  // "198.18.1.0/24"
};

// "198.18.1.0/24", or an address alone ("198.18.0.11" = /32); the host bits are cleared.
std::optional<Ipv4Network> parseIpv4Network(std::string_view text);
std::optional<uint32_t> parseIpv4(std::string_view text);

// 0.0.0.0/8 (unspecified, "this network"), 127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/4
// (multicast) and 240.0.0.0/4 (reserved, and 255.255.255.255, the broadcast).
const std::vector<Ipv4Network>& specialNetworks();

// The networks no subscription may point into.
struct DestinationPolicy {
  std::vector<Ipv4Network> refused = specialNetworks();
};

// Whether this build's spd can deliver to https:// destinations (a TLS client: the host
// build's OpenSSL). Without it they are refused like any URL spd cannot use.
#if defined(DUALSP_EVENT_TLS)
inline constexpr bool kHttpsDestinations = true;
#else
inline constexpr bool kHttpsDestinations = false;
#endif

struct HttpDestination {
  std::string host;  // the IPv4 literal as written, for the Host header
  uint32_t address = 0;
  bool tls = false;        // https://
  uint16_t port = 80;      // 443 for https:// without a port
  std::string path = "/";  // never holds a control character or a space
};

// The URL's syntax alone; nullopt with the reason in `error`.
std::optional<HttpDestination> parseHttpDestination(std::string_view url, std::string& error);

// The syntax and the policy; nullopt with the reason in `error`.
std::optional<HttpDestination> checkDestination(std::string_view url,
                                                const DestinationPolicy& policy,
                                                std::string& error);

// The head of the POST that delivers an event of `content_length` bytes to `to`: request line,
// Host, Content-Type, Content-Length, Connection, blank line. Empty when the destination holds
// a character that would break out of its line (one that did not come from
// parseHttpDestination): nothing is sent then.
std::string httpRequestHead(const HttpDestination& to, size_t content_length);

// The address as text ("198.18.0.100").
std::string ipv4Text(uint32_t address);

}  // namespace dualsp::ipc
