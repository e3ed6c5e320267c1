// ResetSp: restart the SP's firmware. Answers ACCEPTED first; spd then stops cleanly
// (releasing the floating address) and re-executes itself, as a board reset would reboot.
#include "sp/command_router.hpp"
#include "sp/commands/commands.hpp"

namespace dualsp::sp {
namespace {

void handleResetSp(const CommandContext& ctx, const proto::Command& c, Reply reply) {
  std::string type = "GracefulRestart";
  if (auto it = c.args().find("type"); it != c.args().end()) type = it->second;
  if (type != "GracefulRestart" && type != "ForceRestart") {
    reply(errorResult(proto::CommandResult::BAD_REQUEST, "unsupported reset type '" + type + "'"));
    return;
  }
  // A graceful restart of the active SP hands the role over first; not to a peer that would
  // take over without every acknowledged change (ForceRestart restarts anyway).
  if (type == "GracefulRestart" && ctx.hand_over_gap) {
    if (std::string gap = ctx.hand_over_gap(); !gap.empty()) {
      reply(errorResult(
          proto::CommandResult::BAD_REQUEST,
          "reset refused: " + gap + "; retry once it is resynchronised, or use ForceRestart"));
      return;
    }
  }
  proto::CommandResult r;
  r.set_status(proto::CommandResult::ACCEPTED);
  r.set_answered_by(toProto(ctx.self));
  reply(std::move(r));
  ctx.restart(type + " requested by " +
              (c.caller().origin().empty() ? std::string("a client") : c.caller().origin()));
}

}  // namespace

void registerResetCommands(CommandRegistry& registry, const CommandContext& context) {
  registry.add({"ResetSp",
                [context](const proto::Command& c, Reply reply) {
                  handleResetSp(context, c, std::move(reply));
                },
                /*degraded=*/true, Privilege::ConfigureManager, /*mutating=*/true});
}

}  // namespace dualsp::sp
