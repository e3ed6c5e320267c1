// ForceFailover: an administrator hands the active role to the healthy passive SP
// (docs/DESIGN.md "Election": graceful, the address is released before the peer takes it).
#include "sp/command_router.hpp"
#include "sp/commands/commands.hpp"

namespace dualsp::sp {
namespace {

void handleForceFailover(const CommandContext& ctx, const proto::Command& c, Reply reply) {
  std::string refusal = ctx.force_failover ? ctx.force_failover() : "not supported";
  if (!refusal.empty()) {
    reply(errorResult(proto::CommandResult::BAD_REQUEST, "failover refused: " + refusal));
    return;
  }
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_answered_by(toProto(ctx.self));
  reply(std::move(r));
}

}  // namespace

void registerFailoverCommands(CommandRegistry& registry, const CommandContext& context) {
  registry.add({"ForceFailover",
                [context](const proto::Command& c, Reply reply) {
                  handleForceFailover(context, c, std::move(reply));
                },
                /*degraded=*/false, Privilege::ConfigureManager, /*mutating=*/true});
}

}  // namespace dualsp::sp
