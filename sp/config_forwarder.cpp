#include "sp/config_forwarder.hpp"

#include "ipc/sp_id_proto.hpp"
#include "platform/log.hpp"

namespace dualsp::sp {

proto::Command ConfigForwarder::toPeer(proto::Command command) const {
  command.set_target(ipc::toProto(peerOf(core_.deps.self)));
  command.set_forwarded(false);  // the router marks it forwarded as it sends it
  command.set_deadline_ms(static_cast<uint32_t>(core_.options.forward_timeout.count()));
  return command;
}

bool ConfigForwarder::noAnswerFromPeer(const proto::CommandResult& result) const {
  // The router answers for the peer only when none came back (no route, or none in time).
  return result.answered_by() == ipc::toProto(core_.deps.self) &&
         (result.status() == proto::CommandResult::UNAVAILABLE ||
          result.status() == proto::CommandResult::TIMEOUT);
}

void ConfigForwarder::forwardWrite(const proto::Command& command, Role role, Reply reply) {
  const std::string self = core_.selfName();
  const std::string peer = core_.peerName();
  if (command.forwarded()) {
    // The peer took us for the active SP; neither is, for the moment.
    return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                             "no active SP to take the change right now (" + self + " is " +
                                 std::string(roleName(role)) + "); it was not applied: retry"));
  }
  // Not the authority: only the active SP takes changes. A passive never takes one alone
  // (its history would fork from the active's and one of the two would lose in a merge).
  if (!core_.peerAlive())
    return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                             "no active SP: " + self + " is " + std::string(roleName(role)) +
                                 " and does not hear " + peer +
                                 "; the change was not applied: retry shortly"));
  if (!core_.peerReachable() || !core_.deps.forward)
    return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                             "the active " + peer + " cannot be reached from " + self +
                                 " on the peer link; the change was not applied: retry, or "
                                 "use the array's floating address"));
  {
    std::lock_guard lock(core_.mu);
    ++core_.stats.forwarded;
  }
  core_.deps.forward(
      toPeer(command), [this, peer, reply = std::move(reply)](proto::CommandResult result) {
        if (!noAnswerFromPeer(result)) return reply(std::move(result));
        // No answer: the router says whether the change certainly never left (UNAVAILABLE) or
        // may have been applied there (TIMEOUT).
        if (result.status() == proto::CommandResult::UNAVAILABLE)
          return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                                   "the active " + peer + " cannot be reached (" + result.error() +
                                       "); the change was not applied: retry"));
        reply(errorResult(proto::CommandResult::TIMEOUT,
                          "the active " + peer + " did not answer (" + result.error() +
                              "); the change may have been applied: read it back before "
                              "retrying"));
      });
}

void ConfigForwarder::forwardEvent(const proto::Event& event, std::function<void()> requeue) {
  if (!core_.deps.forward) return requeue();
  proto::ConfigWrite change;
  *change.mutable_event() = event;
  proto::Command command;
  command.set_name("ConfigWrite");
  command.set_payload(change.SerializeAsString());
  command.mutable_caller()->set_origin("spd " + core_.selfName());
  core_.deps.forward(toPeer(std::move(command)), [this, requeue = std::move(requeue)](
                                                     proto::CommandResult result) {
    if (result.status() == proto::CommandResult::OK) return;
    if (!noAnswerFromPeer(result) && result.status() != proto::CommandResult::UNAVAILABLE) {
      LOG_WARNING << "an event was not recorded: " << result.error();
      return;
    }
    requeue();
  });
}

}  // namespace dualsp::sp
