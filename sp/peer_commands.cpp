#include "sp/peer_commands.hpp"

#include <atomic>
#include <memory>
#include <string>

#include "platform/log.hpp"

namespace dualsp::sp {

void dispatchFromPeer(const PeerCommandRegistry& peer_commands, CommandRouter& router,
                      proto::Command command, Reply reply) {
  // A handler's exception answers that command, never ends spd (the peer asked; it waits).
  const std::string name = command.name();
  auto replied = std::make_shared<std::atomic<bool>>(false);
  Reply once = [replied, reply = std::move(reply)](proto::CommandResult result) {
    if (!replied->exchange(true)) reply(std::move(result));
  };
  try {
    if (const Handler* handler = peer_commands.find(name)) return (*handler)(command, once);
    router.dispatch(std::move(command), once);
  } catch (const std::exception& e) {
    LOG_ERROR << "peer command " << name << " failed: " << e.what();
    once(errorResult(proto::CommandResult::INTERNAL, std::string("handler failed: ") + e.what()));
  }
}

}  // namespace dualsp::sp
