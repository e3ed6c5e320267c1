// Subscription destinations (ipc/event_destination.hpp), with the URLs an attacker uses to
// make an SP send requests where it must not (docs/SECURITY.md "Hostile input").

#include <CppUTest/TestHarness.h>

#include <string>

#include "ipc/event_destination.hpp"

using namespace dualsp::ipc;

namespace {

// The harness's SP-A: the peer link 198.18.1.0/24, both management addresses, the floating
// address and its broadcast (sp/daemon_options.cpp ownNetworks).
DestinationPolicy spPolicy() {
  DestinationPolicy p;
  for (const char* n :
       {"198.18.1.0/24", "198.18.0.11", "198.18.0.12", "198.18.0.10", "198.18.0.255"})
    p.refused.push_back(*parseIpv4Network(n));
  return p;
}

bool accepted(const std::string& url) {
  std::string why;
  return checkDestination(url, spPolicy(), why).has_value();
}

}  // namespace

TEST_GROUP(EventDestination){};

TEST(EventDestination, AListenerOnTheManagementNetworkIsAccepted) {
  std::string why;
  std::optional<HttpDestination> d =
      checkDestination("http://198.18.0.100:8088/events?x=1", spPolicy(), why);
  CHECK_TEXT(d.has_value(), why.c_str());
  STRCMP_EQUAL("198.18.0.100", ipv4Text(d->address).c_str());
  LONGS_EQUAL(8088, d->port);
  STRCMP_EQUAL("/events?x=1", d->path.c_str());
  CHECK(accepted("http://203.0.113.7/"));
}

TEST(EventDestination, TheSpItselfAndSpecialAddressesAreRefused) {
  for (const char* url : {
           "http://127.0.0.1/",               // loopback: spd, spweb, anything local
           "http://127.255.0.9:8080/",        //
           "http://169.254.169.254/latest/",  // link-local: a metadata service
           "http://0.0.0.0:22/",              // unspecified: connects to the SP itself
           "http://224.0.0.1/",               // multicast
           "http://255.255.255.255/",         // broadcast
           "http://198.18.1.12:7500/",        // the peer's link address: its peer-link port
           "http://198.18.1.99/",             // anywhere on the peer link
           "http://198.18.0.11/",             // the SPs' own management addresses
           "http://198.18.0.12/",
           "http://198.18.0.10/",
           "http://198.18.0.255/",
       })
    CHECK_FALSE_TEXT(accepted(url), url);
}

TEST(EventDestination, OtherSpellingsOfAnAddressAreNotAccepted) {
  for (const char* url : {"http://127.1/", "http://2130706433/", "http://0x7f000001/",
                          "http://0177.0.0.1/", "http://localhost/", "http://[::1]/",
                          "http://[::ffff:127.0.0.1]/", "http://evil@198.18.0.100/"})
    CHECK_FALSE_TEXT(accepted(url), url);
}

TEST(EventDestination, ControlCharactersAndSpacesAreRefusedAnywhere) {
  for (const std::string& url :
       {std::string("http://198.18.0.100/x HTTP/1.1\r\nHost: a\r\n\r\nDELETE /y"),
        std::string("http://198.18.0.100/a\nb"), std::string("http://198.18.0.100/a b"),
        std::string("http://198.18.0.100/a\tb"), std::string("http://198.18.0.100\r/"),
        std::string("http://198.18.0.100/\x7f"), std::string("http://198.18.0.100/caf\xc3\xa9"),
        std::string("http://198.18.0.100/a\0b", 24)}) {
    std::string why;
    CHECK_FALSE_TEXT(parseHttpDestination(url, why).has_value(), url.c_str());
  }
}

TEST(EventDestination, HttpsWhereSpdHasATlsClient) {
  std::string why;
  std::optional<HttpDestination> to = parseHttpDestination("https://198.18.0.100/in", why);
  if (!kHttpsDestinations) {
    CHECK_FALSE(to);
    CHECK(why.find("https") != std::string::npos);
    return;
  }
  CHECK_TEXT(to, why.c_str());
  CHECK(to->tls);
  LONGS_EQUAL(443, to->port);
  STRCMP_EQUAL("/in", to->path.c_str());
  // The default port of the scheme is not written into Host; another one is.
  CHECK(httpRequestHead(*to, 2).find("Host: 198.18.0.100\r\n") != std::string::npos);
  to = parseHttpDestination("HTTPS://198.18.0.100:8443/", why);
  CHECK_TEXT(to, why.c_str());
  CHECK(to->tls);
  LONGS_EQUAL(8443, to->port);
  CHECK(httpRequestHead(*to, 2).find("Host: 198.18.0.100:8443\r\n") != std::string::npos);
  to = parseHttpDestination("http://198.18.0.100:443/", why);
  CHECK_FALSE(to->tls);
  CHECK(httpRequestHead(*to, 2).find("Host: 198.18.0.100:443\r\n") != std::string::npos);
  // The policy applies to https as to http.
  CHECK_FALSE(checkDestination("https://127.0.0.1/", DestinationPolicy{}, why));
}

TEST(EventDestination, OnlyHttpToALiteralAddress) {
  std::string why;
  for (const char* url : {"ftp://198.18.0.100/", "198.18.0.100/", "http://listener.example/",
                          "http://198.18.0.100:0/", "http://198.18.0.100:65536/", "http:///x"})
    CHECK_FALSE_TEXT(parseHttpDestination(url, why).has_value(), url);
}

TEST(EventDestination, NetworksClearTheirHostBits) {
  STRCMP_EQUAL("198.18.1.0/24", parseIpv4Network("198.18.1.12/24")->toString().c_str());
  STRCMP_EQUAL("198.18.0.11/32", parseIpv4Network("198.18.0.11")->toString().c_str());
  CHECK_FALSE(parseIpv4Network("198.18.1.0/33"));
  CHECK_FALSE(parseIpv4Network("198.18.1/24"));
  CHECK_FALSE(parseIpv4Network("198.18.1.0/"));
}
