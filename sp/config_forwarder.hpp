#pragma once
// A passive SP never takes a change itself (docs/CONFIG-STORE.md "Writes on the passive"): it
// forwards a client's write, and the events it saw, to the active SP through the one router
// path to the peer (ConfigServiceDependencies::forward, CommandRouter::dispatch), and says
// plainly when the outcome is unknown.

#include <functional>

#include "sp/config_core.hpp"

namespace dualsp::sp {

class ConfigForwarder {
 public:
  explicit ConfigForwarder(ConfigCore& core) : core_(core) {}
  // A client's ConfigWrite on an SP that is not the active one (`role`).
  void forwardWrite(const proto::Command& command, Role role, Reply reply);
  // One event for the active SP to record. `requeue` is called when it was not recorded
  // and may be sent again (the active could not be reached or was not active).
  void forwardEvent(const proto::Event& event, std::function<void()> requeue);

 private:
  // The command as the router sends it to the peer, waiting `forward_timeout`.
  proto::Command toPeer(proto::Command command) const;
  // Whether the router answered `result` itself because the peer gave no answer.
  bool noAnswerFromPeer(const proto::CommandResult& result) const;

  ConfigCore& core_;
};

}  // namespace dualsp::sp
