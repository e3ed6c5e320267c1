#pragma once
// Decides where each command runs (docs/DESIGN.md "The command path"): here when it is about this
// SP, on the peer when it is about the peer (over the peer link), never forwarded twice.
// A read about the peer never waits on a link known to be sick: with no usable route it is
// answered at once from the last known state, marked stale with its age; otherwise the
// round trip gets `stale_after` before its callers are answered from that state, while it
// goes on to refresh it. Identical reads about the peer share one round trip. A fresh_only
// read (CommandSpec) is never answered from the last known state: the peer's answer, or
// UNAVAILABLE.

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
#include "sp/peer_transport.hpp"

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

// The status a forwarded command gets when the peer link brought no answer: UNAVAILABLE when
// the request certainly never left this SP (ipc::neverSent: applied nowhere), TIMEOUT when it
// may have arrived (its outcome is unknown). The web server maps both to HTTP in one place.
proto::CommandResult::Status statusFor(ipc::PeerError error);

class CommandRouter {
 public:
  using Clock = std::chrono::steady_clock;
  // What this SP knows of the peer without asking it (heartbeats): a stale answer of last
  // resort, or nullopt.
  using PeerFallback = std::function<std::optional<proto::CommandResult>(const proto::Command&)>;
  // Runs `work` once after `delay`, on any thread (spd: a timer on the peer link's thread).
  using Scheduler =
      std::function<void(std::chrono::milliseconds delay, std::function<void()> work)>;

  CommandRouter(SpId self, const CommandRegistry& registry, PeerTransport& peer,
                std::chrono::milliseconds default_deadline, PeerFallback fallback = {},
                std::function<Clock::time_point()> now = Clock::now);
  // Reads about the peer not answered within `stale_after` are answered from the last known
  // state (when there is one) while the round trip goes on; without a scheduler they wait.
  void setStaleAfter(std::chrono::milliseconds stale_after, Scheduler after);

  // Thread-safe; `reply` is called exactly once, maybe from another thread.
  void dispatch(proto::Command command, Reply reply);

  struct Stats {
    uint64_t local = 0;
    uint64_t forwarded = 0;  // round trips actually sent to the peer
    uint64_t coalesced = 0;  // queries that joined a round trip already in flight
    uint64_t stale = 0;      // answered from the last known state
    uint64_t unusable = 0;   // answered at once: no usable route to the peer
    uint64_t late = 0;       // answered from the last known state at stale_after
    uint64_t refused_loops = 0;
  };
  Stats stats() const;

 private:
  struct Cached {
    proto::CommandResult result;
    Clock::time_point at;
  };
  struct InFlight {
    uint64_t id = 0;
    std::vector<Reply> waiting;
    bool answered_stale = false;  // past stale_after: newcomers get the last known state
  };
  void onStaleAfter(const std::string& key, uint64_t id, const proto::Command& command);
  // The heartbeats may know the peer later than its last answer (it took or handed over the
  // role, then died): their role, health and epoch win when they are newer; an answer of an
  // earlier boot is replaced whole by what they tell.
  void preferNewerHeartbeats(const proto::Command& command, proto::CommandResult& r) const;
  // The last known state now, or nullopt (the caller holds no lock).
  std::optional<proto::CommandResult> staleAnswer(const std::string& key,
                                                  const proto::Command& command);
  void forward(proto::Command command, const CommandSpec& spec, Reply reply);
  void finishForward(const std::string& key, bool fresh_only, const proto::Command& command,
                     PeerTransport::Answer answer);
  // UNAVAILABLE for a fresh_only read the peer did not answer.
  proto::CommandResult notFresh(const proto::Command& command, const std::string& why);
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
  std::map<std::string, InFlight> in_flight_;
  uint64_t next_flight_ = 1;
  std::chrono::milliseconds stale_after_{0};
  Scheduler after_;
  std::map<std::string, Cached> last_good_;
  Stats stats_;
};

// Identity of a command for coalescing and the stale cache: name, target, sorted args.
std::string commandKey(const proto::Command& command);

using ipc::fromProto;
using ipc::toProto;

}  // namespace dualsp::sp
