#pragma once
// The channel between the two spd (docs/DESIGN.md "The command path"), over up to two routes:
// real arrays cable it twice. Route 0 is the dedicated peer link, route 1 the management
// network between the SPs' own management addresses; each route is one PeerLink (same port,
// key, protocol and authentication; SP-A dials, SP-B listens), and all share one io_context
// and one request handler. Requests take the preferred route that is healthy (a frame heard
// within sick_after); with none healthy, the route up that was heard most recently; with
// none up they fail at once with PeerError::NotConnected. A response always goes back on the
// connection its request came on.
//
// Single-threaded like PeerLink, except the getters marked "any thread" (atomics).

#include <asio.hpp>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ipc/peer_link.hpp"

namespace dualsp::ipc {

struct PeerRouteOptions {
  std::string name;  // "peer-link", "management": in the log and in statusNow()
  PeerLinkOptions link;
};

class PeerChannel {
 public:
  struct RouteStatus {
    std::string name;
    bool up = false;
    bool healthy = false;
    int64_t since_heard_ms = -1;  // -1: never heard
    uint64_t rtt_us = 0;          // the last ping's round trip; 0: none yet
    uint64_t connections = 0;
  };

  // `routes` by preference; one whose peer address or key is empty is left out (not
  // configured), so indices count the routes kept.
  PeerChannel(asio::io_context& io, std::vector<PeerRouteOptions> routes,
              PeerLink::RequestHandler handler);
  ~PeerChannel();
  PeerChannel(const PeerChannel&) = delete;
  PeerChannel& operator=(const PeerChannel&) = delete;

  void start();
  void stop();
  // Over the route chooseRoute() names; `done` exactly once, never inside request().
  void request(std::string payload, Millis deadline, PeerLink::Done done);
  // Over one given route (NotConnected when it is down or absent): the caller retries an
  // idempotent request on the other route.
  void requestOn(size_t route, std::string payload, Millis deadline, PeerLink::Done done);
  // The route request() takes now: the first healthy one, else the one up heard most
  // recently; none when no route is up.
  std::optional<size_t> chooseRoute() const;

  // Any thread.
  bool upNow() const;            // some route up
  bool healthyNow() const;       // some route healthy
  std::string routeNow() const;  // the route requests take now, by name; "" when none
  size_t routeCount() const { return routes_.size(); }
  const std::string& routeName(size_t route) const { return routes_.at(route).name; }
  std::vector<RouteStatus> statusNow() const;
  uint64_t authenticationFailures() const;  // summed over the routes
  // Counts the times the channel went from no route up to some route up.
  uint64_t generation() const { return generation_.load(std::memory_order_relaxed); }

  // io thread.
  PeerLink::Stats stats(size_t route) const { return routes_.at(route).link->stats(); }
  uint16_t listeningPort(size_t route) const { return routes_.at(route).link->listeningPort(); }

  // The election epoch put into every envelope, on every route; empty: 0.
  std::function<uint64_t()> epoch;

 private:
  struct Route {
    std::string name;
    std::unique_ptr<PeerLink> link;
  };
  // After any route's state changed: the route now, the generation, the log line.
  void evaluate();
  std::string describe(size_t route) const;

  asio::io_context& io_;
  SpId peer_ = SpId::B;
  std::vector<Route> routes_;
  bool running_ = false;
  bool any_up_ = false;
  int logged_route_ = -1;  // the route the last log line named; -1: none
  std::atomic<int> route_now_{-1};
  std::atomic<uint64_t> generation_{0};
};

}  // namespace dualsp::ipc
