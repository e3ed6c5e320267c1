#include "webserver/dispatcher.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>

#include "platform/log.hpp"
#include "platform/text.hpp"
#include "webserver/redfish_messages.hpp"

namespace dualsp::web {

std::vector<messages::FaultMessage> faultsOnBoard(const ipc::StatusSnapshot& status) {
  std::vector<messages::FaultMessage> out;
  const size_t count = std::min<size_t>(status.fault_count, ipc::StatusSnapshot::kMaxFaults);
  for (size_t i = 0; i < count; ++i) {
    const ipc::SnapshotFault& f = status.faults[i];
    // Bounded reads: the board is another process's memory.
    out.push_back({std::string(f.message_id, strnlen(f.message_id, sizeof f.message_id)),
                   std::string(f.text, strnlen(f.text, sizeof f.text)), healthState(f.severity)});
  }
  return out;
}

int64_t systemWallClockMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Dispatcher::Dispatcher(RouteTable routes, ServiceConfig config, StatusReader read_status,
                       ipc::CommandClient& bus, WallClockMs now_ms)
    : routes_(std::move(routes)),
      config_(std::move(config)),
      read_status_(std::move(read_status)),
      bus_(bus),
      now_ms_(std::move(now_ms)) {}

Response Dispatcher::handle(const Request& request) const {
  Response res;
  try {
    route(request, res);
  } catch (const std::exception& e) {
    LOG_ERROR << methodName(request.method) << " " << request.path << ": " << e.what();
    res = Response{};
    messages::internalError(res);
  }
  addCommonHeaders(res);
  return res;
}

void Dispatcher::route(const Request& request, Response& res) const {
  // No resource has a name that is not UTF-8, and a path parameter that is not would reach
  // spd inside a protobuf string, which spd cannot parse: it drops the command and the client
  // waits for the whole bus timeout (found by tests/fuzz/request_handlers_fuzz.cpp).
  std::optional<RouteMatch> match;
  if (text::validUtf8(request.path)) match = routes_.match(request.path, request.method);
  if (!match) {
    messages::resourceNotFound(res, "Resource", request.path);
    return;
  }
  const Route& route = *match->route;
  if (!route.methods.contains(request.method)) {
    messages::operationNotAllowed(res, match->allowed);
    return;
  }
  if (!servedInMode(*match, config_.mode, config_.sp)) {
    answerDegraded(res);
    return;
  }
  if (request.body_too_large) {
    messages::payloadTooLarge(res);
    return;
  }
  std::optional<ipc::StatusSnapshot> status;
  if (route.source == DataSource::StatusBoard || route.source == DataSource::LocalBusAndBoard) {
    status = readStatus();
    if (!status && route.source == DataSource::StatusBoard) {
      messages::serviceTemporarilyUnavailable(res, kRetryAfterNoStatusSeconds);
      return;
    }
  }
  RequestContext ctx{request, match->params, config_, status ? &*status : nullptr, bus_, now_ms_()};
  route.handler(ctx, res);
}

void Dispatcher::answerDegraded(Response& res) const {
  std::optional<ipc::StatusSnapshot> status = readStatus();
  std::optional<std::vector<messages::FaultMessage>> faults;
  if (status) faults = faultsOnBoard(*status);
  messages::serviceDegraded(res, kRetryAfterDegradedSeconds, spName(config_.sp),
                            faults ? &*faults : nullptr);
}

std::optional<ipc::StatusSnapshot> Dispatcher::readStatus() const {
  std::optional<ipc::StatusSnapshot> status = read_status_();
  const char* problem = nullptr;
  if (!status) {
    problem = "not published yet";
  } else if (status->layout_version != ipc::StatusSnapshot::kLayoutVersion) {
    problem = "written with another layout version";
    status.reset();
  } else if (status->sp != config_.sp) {
    // The board of the other SP: answering from it would make this SP speak as its peer.
    problem = "belongs to the other SP";
    status.reset();
  }
  BoardState now = status ? BoardState::Readable : BoardState::Unreadable;
  BoardState before = board_state_.exchange(now);
  if (now != before && problem) {
    LOG_WARNING << "status board " << problem << ": its routes answer 503";
  } else if (now != before && before == BoardState::Unreadable) {
    LOG_NOTICE << "status board readable again";
  }
  return status;
}

void Dispatcher::addCommonHeaders(Response& res) const {
  res.addHeader("X-DualSP-SP", std::string(1, spLetter(config_.sp)));
  res.addHeader("OData-Version", "4.0");
  // An event stream sets its own (text/event-stream, no-cache).
  if (!res.header("Cache-Control")) res.addHeader("Cache-Control", "no-store");
  if (!res.body.is_null() && !res.header("Content-Type"))
    res.addHeader("Content-Type", "application/json; charset=utf-8");
}

}  // namespace dualsp::web
