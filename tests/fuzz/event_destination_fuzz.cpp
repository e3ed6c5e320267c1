// libFuzzer target for event subscription destinations (ipc/event_destination.hpp,
// docs/SECURITY.md "Hostile input"): a Destination is a URL a client chose, and spd makes an
// HTTP request to it. Whatever the string:
//   - an accepted destination holds printable ASCII only (no control character, no space),
//     its scheme is http, its host a dotted quad that an independent parser reads as the same
//     address, its port 1-65535 and its path starts with '/' and has no '#';
//   - checkDestination never accepts an address of a refused network (checked against this
//     target's own copy of the networks: 0/8, 127/8, 169.254/16, 224/4, 240/4, plus the
//     policy's own), and refuses nothing else that parses;
//   - the request head built for it (httpRequestHead) is exactly six CRLF-terminated lines,
//     the request line "POST <path> HTTP/1.1" with no CR, LF or other space in it;
//   - parsing is stable: the URL written back from what was accepted parses to the same
//     host, address, port and path;
//   - parseIpv4Network: an accepted network has its host bits cleared, a prefix of 0-32, and
//     its text form parses back to itself.
//
// Input: byte 0 picks the mode, the rest is
//   even mode: the URL as it is (the first line also goes to parseIpv4Network);
//   odd mode:  a URL this target assembles, so mutations reach past the scheme and host
//              checks: [u8 scheme][u8 a][u8 b][u8 c][u8 d][u8 host form][u8 port form]
//              [u16 BE port][path bytes...]. Scheme: http, HTTP, https, hTtP, none, ftp...
//              Host form: plain dotted quad, leading zeros, hex, integer, trailing dot, user
//              information, IPv6 brackets, a name... Port form: none, decimal, zero-padded,
//              empty, signed, out of range.
// With DUALSP_FUZZ_WRITE_SEEDS=<dir> it writes a small seed corpus there and exits.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/event_destination.hpp"

using namespace dualsp;
using namespace dualsp::ipc;

namespace {

#define FUZZ_EXPECT(cond)                                                         \
  do {                                                                            \
    if (!(cond)) {                                                                \
      fprintf(stderr, "event_destination_fuzz: expectation failed: %s\n", #cond); \
      __builtin_trap();                                                           \
    }                                                                             \
  } while (0)

// The networks no subscription may point into, written out here rather than taken from
// specialNetworks(): a mistake there must show.
struct Net {
  uint32_t address;
  int prefix;
};
constexpr Net kRefused[] = {
    {0x00000000u, 8},   // 0.0.0.0/8
    {0x7f000000u, 8},   // 127.0.0.0/8
    {0xa9fe0000u, 16},  // 169.254.0.0/16
    {0xe0000000u, 4},   // 224.0.0.0/4
    {0xf0000000u, 4},   // 240.0.0.0/4
    // The SPs' own, as spd adds them (sp/daemon_options.cpp ownNetworks): the peer-link
    // network and a few management addresses.
    {0xc6120100u, 24},  // 198.18.1.0/24
    {0xc612000bu, 32},  // 198.18.0.11
    {0xc612000cu, 32},  // 198.18.0.12
    {0xc612000au, 32},  // 198.18.0.10 (floating)
};

bool inNet(uint32_t a, const Net& n) {
  const uint32_t mask = n.prefix == 0 ? 0 : ~uint32_t{0} << (32 - n.prefix);
  return (a & mask) == (n.address & mask);
}

const DestinationPolicy& policy() {
  static const DestinationPolicy p = [] {
    DestinationPolicy out;
    for (const char* own : {"198.18.1.7/24", "198.18.0.11", "198.18.0.12", "198.18.0.10/32"})
      out.refused.push_back(*parseIpv4Network(own));
    return out;
  }();
  return p;
}

// A dotted quad the strict way: four decimal numbers 0-255, no leading zeros, nothing else.
std::optional<uint32_t> strictDottedQuad(std::string_view s) {
  uint32_t out = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (s.empty() || s[0] != '.') return std::nullopt;
      s.remove_prefix(1);
    }
    size_t n = 0;
    uint32_t v = 0;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9' && n < 4) v = v * 10 + (s[n++] - '0');
    if (n == 0 || n > 3 || v > 255 || (n > 1 && s[0] == '0')) return std::nullopt;
    s.remove_prefix(n);
    out = out << 8 | v;
  }
  if (!s.empty()) return std::nullopt;
  return out;
}

bool printableWithoutSpace(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string urlOf(const HttpDestination& d) {
  return "http://" + d.host + (d.port == 80 ? "" : ":" + std::to_string(d.port)) + d.path;
}

void checkHead(const HttpDestination& d) {
  const std::string head = httpRequestHead(d, 1234);
  FUZZ_EXPECT(!head.empty());
  // Six lines, each ended by CRLF, and no CR or LF anywhere else.
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < head.size()) {
    const size_t crlf = head.find("\r\n", start);
    FUZZ_EXPECT(crlf != std::string::npos);
    const std::string line = head.substr(start, crlf - start);
    FUZZ_EXPECT(line.find_first_of("\r\n") == std::string::npos);
    lines.push_back(line);
    start = crlf + 2;
  }
  FUZZ_EXPECT(lines.size() == 6);
  FUZZ_EXPECT(lines[0] == "POST " + d.path + " HTTP/1.1");
  FUZZ_EXPECT(lines[0].find(' ', 5) == 5 + d.path.size());  // the path holds no space
  FUZZ_EXPECT(lines[1] == "Host: " + d.host + (d.port == 80 ? "" : ":" + std::to_string(d.port)));
  FUZZ_EXPECT(lines[3] == "Content-Length: 1234");
  FUZZ_EXPECT(lines[5].empty());
}

void checkAccepted(std::string_view url, const HttpDestination& d) {
  FUZZ_EXPECT(printableWithoutSpace(url));
  const size_t scheme_end = url.find("://");
  FUZZ_EXPECT(scheme_end != std::string_view::npos && lower(url.substr(0, scheme_end)) == "http");
  std::optional<uint32_t> strict = strictDottedQuad(d.host);
  FUZZ_EXPECT(strict.has_value() && *strict == d.address);
  FUZZ_EXPECT(d.port >= 1);
  FUZZ_EXPECT(!d.path.empty() && d.path[0] == '/');
  FUZZ_EXPECT(d.path.find('#') == std::string::npos);
  FUZZ_EXPECT(printableWithoutSpace(d.path) && printableWithoutSpace(d.host));
  checkHead(d);

  // Written back and parsed again: the same destination.
  std::string error;
  const std::string again_url = urlOf(d);
  std::optional<HttpDestination> again = parseHttpDestination(again_url, error);
  FUZZ_EXPECT(again.has_value());
  FUZZ_EXPECT(again->host == d.host && again->address == d.address && again->port == d.port &&
              again->path == d.path);
}

void checkUrl(std::string_view url) {
  std::string parse_error;
  std::optional<HttpDestination> parsed = parseHttpDestination(url, parse_error);
  std::string check_error;
  std::optional<HttpDestination> checked = checkDestination(url, policy(), check_error);
  if (!parsed) {
    FUZZ_EXPECT(!parse_error.empty());
    FUZZ_EXPECT(!checked.has_value() && !check_error.empty());
    return;
  }
  checkAccepted(url, *parsed);
  bool refused = false;
  for (const Net& n : kRefused) refused = refused || inNet(parsed->address, n);
  if (checked) {
    FUZZ_EXPECT(!refused);
    FUZZ_EXPECT(checked->host == parsed->host && checked->address == parsed->address &&
                checked->port == parsed->port && checked->path == parsed->path);
  } else {
    FUZZ_EXPECT(refused);  // parsed, so only the networks can refuse it
    FUZZ_EXPECT(!check_error.empty());
  }
}

void checkNetwork(std::string_view text) {
  std::optional<Ipv4Network> n = parseIpv4Network(text);
  if (!n) return;
  FUZZ_EXPECT(n->prefix_length >= 0 && n->prefix_length <= 32);
  const uint32_t mask = n->prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - n->prefix_length);
  FUZZ_EXPECT((n->address & ~mask) == 0);
  FUZZ_EXPECT(n->contains(n->address));
  std::optional<Ipv4Network> again = parseIpv4Network(n->toString());
  FUZZ_EXPECT(again && again->address == n->address && again->prefix_length == n->prefix_length);
  const size_t slash = text.find('/');
  std::optional<uint32_t> address = parseIpv4(text.substr(0, slash));
  FUZZ_EXPECT(address && n->contains(*address));
}

struct Reader {
  const uint8_t* p;
  size_t left;
  uint8_t u8() {
    if (left == 0) return 0;
    --left;
    return *p++;
  }
};

std::string assembled(const uint8_t* data, size_t size) {
  Reader in{data, size};
  static const char* const kSchemes[] = {"http://", "HTTP://", "https://", "hTtP://", "",
                                         "ftp://",  "http:/",  "http:",    "//",      "http:///"};
  const uint8_t scheme = in.u8();
  const uint8_t a = in.u8(), b = in.u8(), c = in.u8(), d = in.u8();
  const uint8_t host_form = in.u8();
  const uint8_t port_form = in.u8();
  const unsigned port = (unsigned{in.u8()} << 8) | in.u8();
  const std::string quad = std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) +
                           "." + std::to_string(d);
  std::string host;
  switch (host_form % 12) {
    case 0:
    case 1:
    case 2:
      host = quad;
      break;
    case 3:
      host = "0" + quad;
      break;
    case 4: {
      char hex[16];
      snprintf(hex, sizeof hex, "0x%02x.%u.%u.%u", a, b, c, d);
      host = hex;
      break;
    }
    case 5:
      host = std::to_string((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d);
      break;
    case 6:
      host = quad + ".";
      break;
    case 7:
      host = "user:pass@" + quad;
      break;
    case 8:
      host = "[::ffff:" + quad + "]";
      break;
    case 9:
      host = "localhost";
      break;
    case 10:
      host = std::to_string(a) + "." + std::to_string(d);  // "127.1"
      break;
    case 11:
      host = quad + "%2e";
      break;
  }
  std::string port_text;
  switch (port_form % 8) {
    case 0:
    case 1:
      break;
    case 2:
    case 3:
      port_text = ":" + std::to_string(port);
      break;
    case 4:
      port_text = ":00" + std::to_string(port);
      break;
    case 5:
      port_text = ":";
      break;
    case 6:
      port_text = ":+" + std::to_string(port);
      break;
    case 7:
      port_text = ":" + std::to_string(port + 65536u * (port_form >> 3));
      break;
  }
  std::string path(reinterpret_cast<const char*>(in.p), in.left);
  return kSchemes[scheme % 10] + host + port_text + path;
}

void writeSeeds(const std::string& dir) {
  auto raw = [](const std::string& url) { return std::string(1, '\0') + url; };
  auto built = [](uint8_t scheme, std::array<uint8_t, 4> a, uint8_t host_form, uint8_t port_form,
                  uint16_t port, const std::string& path) {
    std::string s(1, '\1');
    s += static_cast<char>(scheme);
    for (uint8_t b : a) s += static_cast<char>(b);
    s += static_cast<char>(host_form);
    s += static_cast<char>(port_form);
    s += static_cast<char>(port >> 8);
    s += static_cast<char>(port & 0xff);
    return s + path;
  };
  const std::vector<std::string> seeds = {
      raw("http://198.18.0.100:8080/events"),
      raw("http://198.18.0.100/"),
      raw("HTTP://192.0.2.7:65535/a/b?c=d#frag"),
      raw("http://127.0.0.1/"),
      raw("http://169.254.169.254/latest/meta-data"),
      raw("http://198.18.1.2/"),
      raw("https://198.18.0.100/"),
      raw("http://198.18.0.100/x\r\nHost: evil"),
      raw("http://user@198.18.0.100/"),
      raw("http://[::1]:80/"),
      raw("http://0x7f.1/"),
      raw("http://198.18.0.100:0/"),
      raw("198.18.0.0/15"),
      raw("0.0.0.0/0"),
      built(0, {198, 18, 0, 100}, 0, 2, 8080, "/events"),
      built(0, {127, 0, 0, 1}, 5, 0, 80, "/"),
      built(1, {224, 0, 0, 1}, 0, 4, 80, "?x#y"),
      built(3, {10, 1, 2, 3}, 6, 7, 1, "/p"),
  };
  for (size_t i = 0; i < seeds.size(); ++i)
    std::ofstream(dir + "/seed-" + std::to_string(i), std::ios::binary) << seeds[i];
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = getenv("DUALSP_FUZZ_WRITE_SEEDS")) {
    writeSeeds(dir);
    exit(0);
  }
  // The target's copy of the refused networks and the library's must name the same ones.
  for (const Ipv4Network& n : specialNetworks()) {
    bool listed = false;
    for (const Net& r : kRefused)
      listed = listed || (r.address == n.address && r.prefix == n.prefix_length);
    FUZZ_EXPECT(listed);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  if (data[0] & 1) {
    checkUrl(assembled(data + 1, size - 1));
  } else {
    const std::string_view url(reinterpret_cast<const char*>(data) + 1, size - 1);
    checkUrl(url);
    checkNetwork(url.substr(0, url.find('\n')));
  }
  return 0;
}
