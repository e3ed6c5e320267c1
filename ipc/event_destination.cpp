#include "ipc/event_destination.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace dualsp::ipc {
namespace {

uint32_t maskOf(int prefix_length) {
  return prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Printable ASCII without a space: anything else in a URL is either percent-encoded by a
// well-behaved client or an attempt to write into the request spd sends.
bool printableWithoutSpaces(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

}  // namespace

bool Ipv4Network::contains(uint32_t a) const {
  return (a & maskOf(prefix_length)) == (address & maskOf(prefix_length));
}

std::string Ipv4Network::toString() const {
  return ipv4Text(address) + "/" + std::to_string(prefix_length);
}

std::string ipv4Text(uint32_t address) {
  in_addr addr{htonl(address)};
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &addr, text, sizeof text);
  return text;
}

std::optional<uint32_t> parseIpv4(std::string_view text) {
  in_addr addr{};
  // inet_pton takes only the dotted quad: no "0x7f.1", no "2130706433", no "127.1".
  if (text.empty() || text.size() >= INET_ADDRSTRLEN ||
      inet_pton(AF_INET, std::string(text).c_str(), &addr) != 1)
    return std::nullopt;
  return ntohl(addr.s_addr);
}

std::optional<Ipv4Network> parseIpv4Network(std::string_view text) {
  const size_t slash = text.find('/');
  std::optional<uint32_t> address = parseIpv4(text.substr(0, slash));
  if (!address) return std::nullopt;
  int prefix = 32;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || prefix < 0 ||
        prefix > 32)
      return std::nullopt;
  }
  return Ipv4Network{*address & maskOf(prefix), prefix};
}

const std::vector<Ipv4Network>& specialNetworks() {
  static const std::vector<Ipv4Network> networks = {
      *parseIpv4Network("0.0.0.0/8"),       // unspecified, "this network" (RFC 1122 3.2.1.3)
      *parseIpv4Network("127.0.0.0/8"),     // loopback: the SP itself
      *parseIpv4Network("169.254.0.0/16"),  // link-local, cloud metadata services
      *parseIpv4Network("224.0.0.0/4"),     // multicast
      *parseIpv4Network("240.0.0.0/4"),     // reserved, 255.255.255.255 broadcast included
  };
  return networks;
}

std::optional<HttpDestination> parseHttpDestination(std::string_view url, std::string& error) {
  if (!printableWithoutSpaces(url)) {
    error = "control characters, spaces or non-ASCII bytes in the URL";
    return std::nullopt;
  }
  const size_t scheme_end = url.find("://");
  const std::string scheme =
      scheme_end == std::string_view::npos ? "" : lower(url.substr(0, scheme_end));
  if (scheme == "https" && !kHttpsDestinations) {
    error = "https is not supported (this firmware's spd has no TLS client)";
    return std::nullopt;
  }
  if (scheme != "http" && scheme != "https") {
    error = kHttpsDestinations ? "not an http:// or https:// URL" : "not an http:// URL";
    return std::nullopt;
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  HttpDestination to;
  to.tls = scheme == "https";
  to.port = to.tls ? 443 : 80;
  if (authority_end != std::string_view::npos) {
    std::string_view path = rest.substr(authority_end);
    path = path.substr(0, path.find('#'));
    to.path = path.empty() || path[0] != '/' ? "/" + std::string(path) : std::string(path);
  }
  if (authority.find_first_of("@[]") != std::string_view::npos) {
    error = "only an IPv4 address as host, without user information";
    return std::nullopt;
  }
  const size_t colon = authority.rfind(':');
  std::string_view host = authority.substr(0, colon);
  if (colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      error = "bad port '" + std::string(port) + "'";
      return std::nullopt;
    }
    to.port = static_cast<uint16_t>(value);
  }
  std::optional<uint32_t> address = parseIpv4(host);
  if (!address) {
    error = "host '" + std::string(host) + "' is not an IPv4 address (names are not resolved)";
    return std::nullopt;
  }
  to.host = std::string(host);
  to.address = *address;
  return to;
}

std::string httpRequestHead(const HttpDestination& to, size_t content_length) {
  // Checked where it was parsed; again here, where it would be written into a request.
  if ((to.host + to.path).find_first_of(std::string_view("\r\n \t\0", 5)) != std::string::npos)
    return {};
  return "POST " + to.path + " HTTP/1.1\r\nHost: " + to.host +
         (to.port == (to.tls ? 443 : 80) ? "" : ":" + std::to_string(to.port)) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(content_length) +
         "\r\nConnection: close\r\n\r\n";
}

std::optional<HttpDestination> checkDestination(std::string_view url,
                                                const DestinationPolicy& policy,
                                                std::string& error) {
  std::optional<HttpDestination> to = parseHttpDestination(url, error);
  if (!to) return std::nullopt;
  for (const Ipv4Network& n : policy.refused) {
    if (n.contains(to->address)) {
      error = "address " + to->host + " is in a refused network (" + n.toString() + ")";
      return std::nullopt;
    }
  }
  return to;
}

}  // namespace dualsp::ipc
