#include "sp/command_router.hpp"

#include <algorithm>

#include "platform/log.hpp"
#include "sp/idempotency.hpp"

namespace dualsp::sp {

using Status = proto::CommandResult::Status;

std::string_view routeName(Route r) {
  switch (r) {
    case Route::Local:
      return "local";
    case Route::Forward:
      return "forward";
    case Route::RefuseLoop:
      return "refuse-loop";
    case Route::Unknown:
      return "unknown";
  }
  return "unknown";
}

Route decideRoute(const proto::Command& command, const CommandSpec* spec, SpId self) {
  if (!spec) return Route::Unknown;
  auto target = fromProto(command.target());
  if (!target || *target == self) return Route::Local;
  return command.forwarded() ? Route::RefuseLoop : Route::Forward;
}

proto::CommandResult::Status statusFor(ipc::PeerError error) {
  return ipc::neverSent(error) ? proto::CommandResult::UNAVAILABLE : proto::CommandResult::TIMEOUT;
}

std::string commandKey(const proto::Command& command) {
  std::vector<std::pair<std::string, std::string>> args(command.args().begin(),
                                                        command.args().end());
  std::sort(args.begin(), args.end());
  std::string key = command.name() + "|" + std::to_string(command.target());
  for (const auto& [k, v] : args) key += "|" + k + "=" + v;
  return key;
}

CommandRouter::CommandRouter(SpId self, const CommandRegistry& registry, PeerTransport& peer,
                             std::chrono::milliseconds default_deadline, PeerFallback fallback,
                             std::function<Clock::time_point()> now)
    : self_(self),
      registry_(registry),
      peer_(peer),
      default_deadline_(default_deadline),
      fallback_(std::move(fallback)),
      now_(std::move(now)) {}

void CommandRouter::setStaleAfter(std::chrono::milliseconds stale_after, Scheduler after) {
  stale_after_ = stale_after;
  after_ = std::move(after);
}

CommandRouter::Stats CommandRouter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void CommandRouter::finish(proto::CommandResult& result) {
  result.set_served_by(toProto(self_));
  if (result.answered_by() == proto::SP_UNKNOWN) result.set_answered_by(toProto(self_));
}

void CommandRouter::dispatch(proto::Command command, Reply reply) {
  const CommandSpec* spec = registry_.find(command.name());
  // spweb marks every command of a keyed client change; only a change records the key.
  if (spec && !spec->mutating) idempotency::dropArgs(command);
  switch (decideRoute(command, spec, self_)) {
    case Route::Unknown: {
      auto r = errorResult(proto::CommandResult::NOT_FOUND, "unknown command " + command.name());
      finish(r);
      reply(std::move(r));
      return;
    }
    case Route::RefuseLoop: {
      {
        std::lock_guard lock(mu_);
        ++stats_.refused_loops;
      }
      LOG_WARNING << "refused " << command.name() << " about " << spName(peerOf(self_))
                  << ": it was already forwarded once (" << command.caller().origin() << ")";
      auto r = errorResult(proto::CommandResult::BAD_REQUEST,
                           "a forwarded command is never forwarded again");
      finish(r);
      reply(std::move(r));
      return;
    }
    case Route::Local: {
      {
        std::lock_guard lock(mu_);
        ++stats_.local;
      }
      spec->handler(command, [this, reply](proto::CommandResult r) {
        finish(r);
        reply(std::move(r));
      });
      return;
    }
    case Route::Forward:
      forward(std::move(command), *spec, std::move(reply));
      return;
  }
}

void CommandRouter::forward(proto::Command command, const CommandSpec& spec, Reply reply) {
  const std::string peer_name = std::string(spName(peerOf(self_)));
  if (!peer_.usable()) {
    // Known sick (no heartbeats, no route answering): waiting would only hold the caller.
    {
      std::lock_guard lock(mu_);
      ++stats_.unusable;
    }
    proto::CommandResult r;
    if (spec.mutating) {
      r = errorResult(proto::CommandResult::UNAVAILABLE,
                      peer_name + " cannot be reached on the peer link; nothing was done: retry");
    } else if (spec.fresh_only) {
      r = notFresh(command, "it cannot be reached on the peer link");
    } else {
      r = staleOrUnavailable(commandKey(command), command, "the peer link is down");
    }
    finish(r);
    reply(std::move(r));
    return;
  }
  std::string key = commandKey(command);
  uint64_t flight = 0;
  if (!spec.mutating) {
    {
      std::lock_guard lock(mu_);
      auto it = in_flight_.find(key);
      if (it != in_flight_.end()) {
        ++stats_.coalesced;
        if (!it->second.answered_stale) {
          it->second.waiting.push_back(std::move(reply));  // rides on the round trip
          return;
        }
      } else {
        flight = next_flight_++;
        in_flight_[key] = InFlight{flight, {reply}, false};
        ++stats_.forwarded;
      }
    }
    if (flight == 0) {
      // A round trip is under way but already past stale_after: the last known state now.
      proto::CommandResult r = staleOrUnavailable(key, command, "the peer is slow to answer");
      finish(r);
      reply(std::move(r));
      return;
    }
  } else {
    std::lock_guard lock(mu_);
    ++stats_.forwarded;
  }
  auto deadline =
      command.deadline_ms() ? std::chrono::milliseconds(command.deadline_ms()) : default_deadline_;
  command.set_forwarded(true);
  command.set_deadline_ms(static_cast<uint32_t>(deadline.count()));
  bool mutating = spec.mutating;
  bool fresh_only = spec.fresh_only;
  proto::Command sent = command;
  if (!mutating && !fresh_only && after_ && stale_after_.count() > 0 && stale_after_ < deadline)
    after_(stale_after_, [this, key, flight, command] { onStaleAfter(key, flight, command); });
  peer_.send(sent, deadline,
             [this, key, mutating, fresh_only, command = std::move(command),
              reply = mutating ? std::move(reply) : Reply{}](PeerTransport::Answer answer) {
               if (mutating) {
                 proto::CommandResult r =
                     answer.result
                         ? *answer.result
                         : errorResult(statusFor(answer.error),
                                       std::string(spName(peerOf(self_))) +
                                           " did not answer: " + ipc::toString(answer.error));
                 finish(r);
                 reply(std::move(r));
                 return;
               }
               finishForward(key, fresh_only, command, std::move(answer));
             });
}

void CommandRouter::onStaleAfter(const std::string& key, uint64_t id,
                                 const proto::Command& command) {
  std::optional<proto::CommandResult> r = staleAnswer(key, command);
  if (!r) return;  // nothing known yet: the callers wait for the round trip
  std::vector<Reply> waiting;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(key);
    if (it == in_flight_.end() || it->second.id != id) return;  // answered meanwhile
    it->second.answered_stale = true;
    waiting = std::move(it->second.waiting);
    it->second.waiting.clear();
    stats_.late += waiting.size();
  }
  finish(*r);
  for (auto& w : waiting) w(*r);
}

std::optional<proto::CommandResult> CommandRouter::staleAnswer(const std::string& key,
                                                               const proto::Command& command) {
  std::optional<proto::CommandResult> cached;
  {
    std::lock_guard lock(mu_);
    auto it = last_good_.find(key);
    if (it != last_good_.end()) {
      ++stats_.stale;
      cached = it->second.result;
      auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now_() - it->second.at);
      cached->set_stale(true);
      cached->set_age_ms(cached->age_ms() + static_cast<uint64_t>(age.count()));
    }
  }
  if (cached) {
    preferNewerHeartbeats(command, *cached);
    return cached;
  }
  if (fallback_) {
    if (auto r = fallback_(command)) {
      std::lock_guard lock(mu_);
      ++stats_.stale;
      r->set_stale(true);
      return r;
    }
  }
  return std::nullopt;
}

void CommandRouter::preferNewerHeartbeats(const proto::Command& command,
                                          proto::CommandResult& r) const {
  if (!fallback_ || !r.has_sp_status()) return;
  std::optional<proto::CommandResult> beats = fallback_(command);
  if (!beats || !beats->has_sp_status() || beats->age_ms() >= r.age_ms()) return;
  const proto::SpStatus& newer = beats->sp_status();
  if (!newer.boot_id().empty() && newer.boot_id() != r.sp_status().boot_id()) {
    // The peer restarted since it last answered: nothing of that answer is its state now.
    r = std::move(*beats);
    r.set_stale(true);
    return;
  }
  proto::SpStatus* s = r.mutable_sp_status();
  s->set_role(newer.role());
  s->set_health(newer.health());
  s->set_epoch(newer.epoch());
}

proto::CommandResult CommandRouter::staleOrUnavailable(const std::string& key,
                                                       const proto::Command& command,
                                                       const std::string& why) {
  if (auto r = staleAnswer(key, command)) return *r;
  return errorResult(proto::CommandResult::UNAVAILABLE, std::string(spName(peerOf(self_))) +
                                                            " did not answer (" + why +
                                                            ") and nothing is known of it yet");
}

proto::CommandResult CommandRouter::notFresh(const proto::Command& command,
                                             const std::string& why) {
  const std::string peer_name(spName(peerOf(self_)));
  return errorResult(proto::CommandResult::UNAVAILABLE,
                     peer_name + " did not answer " + command.name() + " (" + why + "); only " +
                         peer_name + " itself answers it, never an earlier copy");
}

void CommandRouter::finishForward(const std::string& key, bool fresh_only,
                                  const proto::Command& command, PeerTransport::Answer answer) {
  proto::CommandResult r;
  if (answer.result && answer.result->status() == proto::CommandResult::OK) {
    r = std::move(*answer.result);
    if (!fresh_only) {
      std::lock_guard lock(mu_);
      last_good_[key] = Cached{r, now_()};
    }
  } else if (answer.result && answer.result->status() != proto::CommandResult::UNAVAILABLE &&
             answer.result->status() != proto::CommandResult::TIMEOUT) {
    r = std::move(*answer.result);  // the peer's own answer (not found, bad request, ...)
  } else {
    const std::string why = answer.result ? answer.result->error() : ipc::toString(answer.error);
    r = fresh_only ? notFresh(command, why) : staleOrUnavailable(key, command, why);
  }
  finish(r);
  std::vector<Reply> waiting;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(key);
    if (it != in_flight_.end()) {
      waiting = std::move(it->second.waiting);
      in_flight_.erase(it);
    }
  }
  for (auto& w : waiting) w(r);
}

}  // namespace dualsp::sp
