#include "webserver/sse_stream.hpp"

#include <algorithm>
#include <vector>

#include "ipc/event_json.hpp"
#include "proto/config.pb.h"
#include "webserver/bus_command.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kKeepAlive = ": keep-alive\n\n";

proto::Command getEventsCommand(const std::string& origin, uint64_t after, uint32_t top) {
  proto::Command command;
  command.set_name(std::string(kGetEvents));
  command.set_target(proto::SP_UNKNOWN);  // the array's log
  command.mutable_caller()->set_origin(origin);
  (*command.mutable_args())["after"] = std::to_string(after);
  (*command.mutable_args())["top"] = std::to_string(top);
  return command;
}

std::optional<proto::EventPage> askEvents(ipc::CommandClient& bus, const proto::Command& command,
                                          std::chrono::milliseconds timeout) {
  std::optional<proto::CommandResult> result = bus.call(command, timeout);
  if (!result || result->status() != proto::CommandResult::OK) return std::nullopt;
  proto::EventPage page;
  if (!page.ParseFromString(result->payload())) return std::nullopt;
  return page;
}

// One SSE message: the event's id, and the Event resource on one data line.
std::string sseMessage(const proto::Event& event) {
  const std::string data = ipc::eventPayloadJson({event}, "")
                               .dump(-1, ' ', false, ipc::EventJson::error_handler_t::replace);
  return "id: " + std::to_string(event.id()) + "\ndata: " + data + "\n\n";
}

}  // namespace

void StopSignal::raise() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    raised_ = true;
  }
  cv_.notify_all();
}

void StopSignal::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  raised_ = false;
}

bool StopSignal::raised() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return raised_;
}

bool StopSignal::waitFor(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] { return raised_; });
}

EventStream::EventStream(ipc::CommandClient& bus, std::string origin,
                         std::optional<uint64_t> last_event_id, EventStreamTiming timing)
    : bus_(bus), origin_(std::move(origin)), timing_(timing), last_sent_(last_event_id) {}

std::string EventStream::poll() {
  if (!last_sent_) {
    // No Last-Event-ID: start at the log's newest event (top 0 answers only the count and it).
    std::optional<proto::EventPage> head =
        askEvents(bus_, getEventsCommand(origin_, 0, 0), timing_.bus_timeout);
    if (!head) return {};
    last_sent_ = head->last_id();
    return {};
  }
  std::optional<proto::EventPage> page = askEvents(
      bus_, getEventsCommand(origin_, *last_sent_, timing_.page_size), timing_.bus_timeout);
  if (!page) return {};
  std::vector<const proto::Event*> events;
  for (const proto::Event& e : page->events())
    if (e.id() > *last_sent_) events.push_back(&e);  // never one twice, whatever spd answers
  std::sort(events.begin(), events.end(),
            [](const proto::Event* a, const proto::Event* b) { return a->id() < b->id(); });
  std::string text;
  for (const proto::Event* e : events) {
    if (e->id() <= *last_sent_) continue;  // a duplicate id within the page
    text += sseMessage(*e);
    last_sent_ = e->id();
  }
  return text;
}

StreamEnd runEventStream(EventStream& stream, const EventStreamTiming& timing,
                         const StreamWriter& write, const StopSignal& stop, const SteadyNow& now) {
  const auto start = now();
  auto last_write = start;
  for (;;) {
    if (stop.raised()) return StreamEnd::Stopping;
    if (now() - start >= timing.max_duration) return StreamEnd::MaxDuration;
    std::string text = stream.poll();
    if (!text.empty()) {
      if (!write(text)) return StreamEnd::ClientGone;
      last_write = now();
    } else if (now() - last_write >= timing.keep_alive) {
      if (!write(kKeepAlive)) return StreamEnd::ClientGone;
      last_write = now();
    }
    const bool stopping =
        timing.poll_interval.count() > 0 ? stop.waitFor(timing.poll_interval) : stop.raised();
    if (stopping) return StreamEnd::Stopping;
  }
}

}  // namespace dualsp::web
