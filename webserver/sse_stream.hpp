#pragma once
// The Server-Sent Events stream of GET /redfish/v1/EventService/SSE (DSP0266 "Server-sent
// events"), apart from CivetWeb so it is tested with a fake bus and a fake clock: spd's event
// log polled with GetEvents, each new event written once, in id order, as
//   id: <event id>\ndata: <Event resource, one line>\n\n
// with a ": keep-alive" comment when nothing was written for a while. web_server.cpp runs it
// on the connection's CivetWeb thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/local_bus.hpp"

namespace dualsp::web {

struct EventStreamTiming {
  std::chrono::milliseconds poll_interval{100};  // how soon a new event reaches the client
  std::chrono::milliseconds keep_alive{5000};    // a comment after this long without a write
  std::chrono::milliseconds max_duration{std::chrono::hours(1)};  // then the client reconnects
  // A poll waits at most this for spd (it answers GetEvents from its own store), so a
  // silent spd delays neither the keep-alives nor spweb's stop by much.
  std::chrono::milliseconds bus_timeout{500};
  uint32_t page_size = 100;  // events asked for per poll
};

// At most this many streams at once: each holds a CivetWeb worker thread for its whole life,
// and web_server.cpp sizes its thread pool so these never starve ordinary requests (each
// client's streams also count among its requests at once, ListenConfig::max_client_requests).
inline constexpr int kMaxEventStreams = 4;

// Raised once when spweb stops; a stream waits on it between polls, so CivetWeb's mg_stop,
// which waits for every worker thread, is not held up by open streams.
class StopSignal {
 public:
  void raise();
  void reset();
  bool raised() const;
  // Waits up to `timeout`; true when raised (at once, if it already was).
  bool waitFor(std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  bool raised_ = false;
};

// What one client has been sent: the events after the last one written.
class EventStream {
 public:
  // `last_event_id`: the client's Last-Event-ID, stream every event after it. None: only the
  // events newer than the log's newest when the stream first reaches spd.
  EventStream(ipc::CommandClient& bus, std::string origin, std::optional<uint64_t> last_event_id,
              EventStreamTiming timing = {});

  // Asks spd for what is new and returns it as SSE text ("" when nothing is, or when spd did
  // not answer: the next poll asks again from the same point).
  std::string poll();

  // The id of the last event written, or of the start point; none until spd first answered
  // a stream started without Last-Event-ID.
  std::optional<uint64_t> lastSent() const { return last_sent_; }

 private:
  ipc::CommandClient& bus_;
  std::string origin_;
  EventStreamTiming timing_;
  std::optional<uint64_t> last_sent_;
};

// Writes the text to the client; false when the client has gone.
using StreamWriter = std::function<bool(std::string_view text)>;
using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;

enum class StreamEnd { ClientGone, Stopping, MaxDuration };

// The loop: poll, write what is new, a keep-alive when due, wait a poll interval, until a
// write fails, `stop` is raised or the stream's time is up.
StreamEnd runEventStream(EventStream& stream, const EventStreamTiming& timing,
                         const StreamWriter& write, const StopSignal& stop,
                         const SteadyNow& now = std::chrono::steady_clock::now);

}  // namespace dualsp::web
