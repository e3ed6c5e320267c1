#pragma once
// Decides where each command runs (DESIGN.md "The command path"): here when it is about this
// SP, on the peer when it is about the peer (over the peer link), never forwarded twice.
// When the peer does not answer in time, a read is answered from the last known state,
// marked stale with its age. Identical reads about the peer share one round trip.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ipc/sp_id_proto.hpp"
#include "platform/sp_types.hpp"
#include "proto/command.pb.h"
#include "sp/command_registry.hpp"

namespace dualsp::sp {

enum class Route {
  Local,       // run the handler here
  Forward,     // send to the peer over the peer link
  RefuseLoop,  // about the peer but already forwarded once: the peer sent us its own query
  Unknown,     // no such command
};
std::string_view routeName(Route r);

// Pure: the router's decision table.
Route decideRoute(const proto::Command& command, const CommandSpec* spec, SpId self);

// The peer link as the router needs it.
class PeerTransport {
 public:
  struct Answer {
    std::optional<proto::CommandResult> result;  // nullopt: no answer
    std::string error;                           // "timeout", "not connected", ...
  };
  virtual ~PeerTransport() = default;
  // `done` is called exactly once, from any thread, at the latest after `deadline`.
  virtual void send(const proto::Command& command, std::chrono::milliseconds deadline,
                    std::function<void(Answer)> done) = 0;
};

class CommandRouter {
 public:
  using Clock = std::chrono::steady_clock;
  // What this SP knows of the peer without asking it (heartbeats): a stale answer of last
  // resort, or nullopt.
  using PeerFallback = std::function<std::optional<proto::CommandResult>(const proto::Command&)>;

  CommandRouter(SpId self, const CommandRegistry& registry, PeerTransport& peer,
                std::chrono::milliseconds default_deadline, PeerFallback fallback = {},
                std::function<Clock::time_point()> now = Clock::now);

  // Thread-safe; `reply` is called exactly once, maybe from another thread.
  void dispatch(proto::Command command, Reply reply);

  struct Stats {
    uint64_t local = 0;
    uint64_t forwarded = 0;  // round trips actually sent to the peer
    uint64_t coalesced = 0;  // queries that joined a round trip already in flight
    uint64_t stale = 0;      // answered from the last known state
    uint64_t refused_loops = 0;
  };
  Stats stats() const;

 private:
  struct Cached {
    proto::CommandResult result;
    Clock::time_point at;
  };
  void forward(proto::Command command, const CommandSpec& spec, Reply reply);
  void finishForward(const std::string& key, bool mutating, const proto::Command& command,
                     PeerTransport::Answer answer);
  proto::CommandResult staleOrUnavailable(const std::string& key, const proto::Command& command,
                                          const std::string& why);
  void finish(proto::CommandResult& result);

  SpId self_;
  const CommandRegistry& registry_;
  PeerTransport& peer_;
  std::chrono::milliseconds default_deadline_;
  PeerFallback fallback_;
  std::function<Clock::time_point()> now_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<Reply>> in_flight_;
  std::map<std::string, Cached> last_good_;
  Stats stats_;
};

// Identity of a command for coalescing and the stale cache: name, target, sorted args.
std::string commandKey(const proto::Command& command);

using ipc::fromProto;
using ipc::toProto;

}  // namespace dualsp::sp
