#include "ipc/peer_channel.hpp"

#include <limits>

#include "platform/log.hpp"

namespace dualsp::ipc {

PeerChannel::PeerChannel(asio::io_context& io, std::vector<PeerRouteOptions> routes,
                         PeerLink::RequestHandler handler)
    : io_(io) {
  // One handler for every route: copies of the std::function would each hold their own state.
  auto shared = std::make_shared<PeerLink::RequestHandler>(std::move(handler));
  for (auto& r : routes) {
    peer_ = peerOf(r.link.self);
    if (r.link.peer_address.empty() || r.link.key.empty()) continue;  // not cabled or no key
    auto link = std::make_unique<PeerLink>(
        io, r.link, [shared](const proto::Envelope& request, PeerLink::Respond respond) {
          if (*shared) (*shared)(request, std::move(respond));
        });
    link->epoch = [this] { return epoch ? epoch() : 0; };
    link->on_change = [this] { evaluate(); };
    routes_.push_back(Route{std::move(r.name), std::move(link)});
  }
}

PeerChannel::~PeerChannel() {
  for (auto& r : routes_) r.link->on_change = nullptr;  // stopping them must not call back
  routes_.clear();
}

void PeerChannel::start() {
  if (running_) return;
  running_ = true;
  for (auto& r : routes_) r.link->start();
  evaluate();
}

void PeerChannel::stop() {
  running_ = false;
  for (auto& r : routes_) r.link->stop();
  evaluate();
}

std::optional<size_t> PeerChannel::chooseRoute() const {
  // A route that has been answering steadily, then one that answers now (a lossy link goes
  // silent now and then: the other route is preferred while it is steady), then the one heard
  // most recently.
  for (size_t i = 0; i < routes_.size(); ++i)
    if (routes_[i].link->stable()) return i;
  for (size_t i = 0; i < routes_.size(); ++i)
    if (routes_[i].link->healthy()) return i;
  std::optional<size_t> best;
  Millis best_silence = Millis::max();
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (!routes_[i].link->connected()) continue;
    const Millis silence = routes_[i].link->sinceHeard();
    if (!best || silence < best_silence) {
      best = i;
      best_silence = silence;
    }
  }
  return best;
}

void PeerChannel::request(std::string payload, Millis deadline, PeerLink::Done done) {
  const auto route = chooseRoute();
  if (!route) {
    // Posted, never called from inside request(), like PeerLink's own failures.
    asio::post(io_, [done = std::move(done)] {
      done(PeerLink::Result{false, "", PeerError::NotConnected});
    });
    return;
  }
  routes_[*route].link->request(std::move(payload), deadline, std::move(done));
}

void PeerChannel::requestOn(size_t route, std::string payload, Millis deadline,
                            PeerLink::Done done) {
  if (route >= routes_.size()) {
    asio::post(io_, [done = std::move(done)] {
      done(PeerLink::Result{false, "", PeerError::NotConnected});
    });
    return;
  }
  routes_[route].link->request(std::move(payload), deadline, std::move(done));
}

bool PeerChannel::upNow() const {
  for (const auto& r : routes_)
    if (r.link->upNow()) return true;
  return false;
}

bool PeerChannel::healthyNow() const {
  for (const auto& r : routes_)
    if (r.link->healthyNow()) return true;
  return false;
}

std::string PeerChannel::routeNow() const {
  const int route = route_now_.load(std::memory_order_acquire);
  return route < 0 ? std::string() : routes_[static_cast<size_t>(route)].name;
}

std::vector<PeerChannel::RouteStatus> PeerChannel::statusNow() const {
  std::vector<RouteStatus> out;
  for (const auto& r : routes_) {
    RouteStatus s;
    s.name = r.name;
    s.up = r.link->upNow();
    s.healthy = r.link->healthyNow();
    const Millis silence = r.link->sinceHeard();
    s.since_heard_ms = silence == Millis::max() ? -1 : silence.count();
    s.rtt_us = r.link->lastRttUs();
    s.connections = r.link->connectionsNow();
    out.push_back(std::move(s));
  }
  return out;
}

uint64_t PeerChannel::authenticationFailures() const {
  uint64_t total = 0;
  for (const auto& r : routes_) total += r.link->authenticationFailures();
  return total;
}

std::string PeerChannel::describe(size_t route) const {
  const PeerLink& link = *routes_[route].link;
  if (!link.connected()) return "down";
  if (link.healthy()) return "healthy";
  return "silent for " + std::to_string(link.sinceHeard().count()) + " ms";
}

void PeerChannel::evaluate() {
  const auto route = chooseRoute();
  const int now = route ? static_cast<int>(*route) : -1;
  route_now_.store(now, std::memory_order_release);
  const bool any_up = route.has_value();  // chooseRoute() names one whenever one is up
  if (any_up && !any_up_) generation_.fetch_add(1, std::memory_order_relaxed);
  any_up_ = any_up;
  // With one route, PeerLink's own "peer link up/down" lines say it all.
  if (now == logged_route_ || !running_ || routes_.size() < 2) {
    logged_route_ = now;
    return;
  }
  logged_route_ = now;
  std::string others;
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (static_cast<int>(i) == now) continue;
    others += (others.empty() ? "" : ", ") + routes_[i].name + ": " + describe(i);
  }
  if (now < 0) {
    LOG_WARNING << "peer link to " << spName(peer_) << ": no route up (" << others << ")";
  } else if (now == 0) {
    LOG_NOTICE << "peer link to " << spName(peer_) << " now over the " << routes_[0].name
               << " network (" << others << ")";
  } else {
    const auto& name = routes_[static_cast<size_t>(now)].name;
    LOG_WARNING << "peer link to " << spName(peer_) << " now over the " << name << " network"
                << (routes_[static_cast<size_t>(now)].link->healthy()
                        ? ""
                        : ", " + describe(static_cast<size_t>(now)))
                << " (" << others << ")";
  }
}

}  // namespace dualsp::ipc
