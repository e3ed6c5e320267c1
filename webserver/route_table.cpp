#include "webserver/route_table.hpp"

#include <algorithm>
#include <iomanip>
#include <ostream>
#include <stdexcept>

namespace dualsp::web {
namespace {

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> out;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path.empty() || path.front() != '/') return out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool isParameter(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

std::string_view privilegeName(Privilege privilege) {
  switch (privilege) {
    case Privilege::NoAuth:
      return "NoAuth";
    case Privilege::Login:
      return "Login";
    case Privilege::ConfigureManager:
      return "ConfigureManager";
    case Privilege::ConfigureUsers:
      return "ConfigureUsers";
    case Privilege::ConfigureComponents:
      return "ConfigureComponents";
    case Privilege::ConfigureSelf:
      return "ConfigureSelf";
  }
  return "?";
}

std::string_view degradedServiceName(DegradedService degraded) {
  switch (degraded) {
    case DegradedService::No:
      return "no";
    case DegradedService::Yes:
      return "yes";
    case DegradedService::ThisSpOnly:
      return "this SP only";
  }
  return "?";
}

std::string_view dataSourceName(DataSource source) {
  switch (source) {
    case DataSource::None:
      return "-";
    case DataSource::StatusBoard:
      return "board";
    case DataSource::LocalBus:
      return "bus";
    case DataSource::LocalBusAndBoard:
      return "bus+board";
  }
  return "?";
}

void RouteTable::add(Route route) {
  if (route.pattern.empty() || route.pattern.front() != '/' ||
      (route.pattern.size() > 1 && route.pattern.back() == '/'))
    throw std::logic_error("route pattern must start and not end with '/': " + route.pattern);
  if (!route.handler) throw std::logic_error("route without handler: " + route.pattern);
  std::vector<std::string> segments = splitPath(route.pattern);
  bool has_parameter = std::any_of(segments.begin(), segments.end(), isParameter);
  if (route.degraded == DegradedService::ThisSpOnly && !has_parameter)
    throw std::logic_error("ThisSpOnly route without a Manager id parameter: " + route.pattern);
  for (const Route& r : routes_)
    if (r.pattern == route.pattern && r.methods.overlaps(route.methods))
      throw std::logic_error("duplicate route: " + route.pattern);
  routes_.push_back(std::move(route));
  segments_.push_back(std::move(segments));
}

std::optional<RouteMatch> RouteTable::match(std::string_view path, HttpMethod method) const {
  std::vector<std::string> wanted = splitPath(path);
  if (wanted.empty() && path != "/") return std::nullopt;
  std::optional<RouteMatch> best;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const std::vector<std::string>& pattern = segments_[i];
    if (pattern.size() != wanted.size()) continue;
    if (best && best->route->pattern == routes_[i].pattern) {
      // Another route of the pattern already matched: it may be the one for `method`.
      best->allowed |= routes_[i].methods;
      if (!best->route->methods.contains(method) && routes_[i].methods.contains(method))
        best->route = &routes_[i];
      continue;
    }
    RouteMatch candidate{&routes_[i], {}, routes_[i].methods};
    bool ok = true;
    for (size_t s = 0; s < pattern.size() && ok; ++s) {
      if (!isParameter(pattern[s])) {
        ok = pattern[s] == wanted[s];
      } else {
        ok = !wanted[s].empty();
        candidate.params.push_back(wanted[s]);
      }
    }
    if (ok && (!best || candidate.params.size() < best->params.size())) best = std::move(candidate);
  }
  return best;
}

void RouteTable::print(std::ostream& out) const {
  size_t width = 4;
  for (const Route& r : routes_) width = std::max(width, r.pattern.size());
  out << std::left << std::setw(static_cast<int>(width + 2)) << "PATH" << std::setw(16) << "METHODS"
      << std::setw(20) << "PRIVILEGE" << std::setw(15) << "DEGRADED"
      << "DATA\n";
  for (const Route& r : routes_) {
    out << std::setw(static_cast<int>(width + 2)) << r.pattern << std::setw(16)
        << r.methods.toString() << std::setw(20) << privilegeName(r.privilege) << std::setw(15)
        << degradedServiceName(r.degraded) << dataSourceName(r.source) << "\n";
  }
}

bool servedInMode(const RouteMatch& match, ServeMode mode, SpId sp) {
  if (mode == ServeMode::Full) return true;
  switch (match.route->degraded) {
    case DegradedService::No:
      return false;
    case DegradedService::Yes:
      return true;
    case DegradedService::ThisSpOnly:
      return !match.params.empty() && match.params.front() != managerId(peerOf(sp));
  }
  return false;
}

}  // namespace dualsp::web
