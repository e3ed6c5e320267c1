// GetSpStatus: health, role, epoch, uptime, boot id, firmware, load, memory, performance
// figures (as GetSpMetrics), temperatures.
#include <sys/time.h>

#include "platform/system_metrics.hpp"
#include "sp/command_router.hpp"
#include "sp/commands/commands.hpp"

namespace dualsp::sp {
namespace {

int64_t wallMillis() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  return static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

void handleGetSpStatus(const CommandContext& ctx, const proto::Command&, Reply reply) {
  auto board = ctx.status();
  if (!board) {
    reply(errorResult(proto::CommandResult::UNAVAILABLE, "spd has not published its state yet"));
    return;
  }
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_answered_by(toProto(ctx.self));
  auto* s = r.mutable_sp_status();
  s->set_sp(toProto(ctx.self));
  s->set_role(static_cast<proto::Role>(board->role));
  s->set_health(static_cast<proto::Health>(board->health));
  s->set_epoch(board->epoch);
  s->set_boot_id(board->boot_id);
  s->set_firmware_version(board->firmware_version);
  s->set_boot_time_ms(board->boot_time_ms);
  s->set_uptime_s(static_cast<uint64_t>(std::max<int64_t>(0, wallMillis() - board->boot_time_ms)) /
                  1000);
  s->set_holds_floating(board->holds_floating);
  s->set_management_address(board->management_address);
  s->set_peer_link_route(board->peer_link_route);
  s->set_no_carrier(!board->can_serve);
  s->set_history_epoch(board->history.epoch);
  s->set_history_seq(board->history.seq);
  s->set_last_event_id(board->history.last_event_id);
  for (size_t i = 0; i < board->fault_count && i < ipc::StatusSnapshot::kMaxFaults; ++i) {
    auto* f = s->add_faults();
    f->set_message_id(board->faults[i].message_id);
    f->set_text(board->faults[i].text);
    f->set_severity(static_cast<proto::Health>(board->faults[i].severity));
  }
  auto metrics = platform::readSystemMetrics();
  s->set_cpu_load_1m(metrics.cpu_load_1m);
  s->set_memory_total_kb(metrics.memory_total_kb);
  s->set_memory_available_kb(metrics.memory_available_kb);
  if (ctx.performance)
    *s->mutable_metrics() = spMetricsOf(ctx.self, ctx.performance->read(), wallMillis());
  if (ctx.hardware) {
    for (const auto& sensor : ctx.hardware->sensors()) {
      if (sensor.kind != "Temperature") continue;
      auto* t = s->add_temperatures();
      t->set_name(sensor.name);
      t->set_celsius(sensor.reading);
    }
  }
  reply(std::move(r));
}

}  // namespace

std::optional<proto::CommandResult> peerStatusFromHeartbeats(const ipc::StatusSnapshot& board) {
  if (board.peer_last_heard_ms == 0) return std::nullopt;
  SpId peer = peerOf(board.sp);
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_answered_by(toProto(peer));
  r.set_stale(true);
  r.set_age_ms(
      static_cast<uint64_t>(std::max<int64_t>(0, wallMillis() - board.peer_last_heard_ms)));
  auto* s = r.mutable_sp_status();
  s->set_sp(toProto(peer));
  s->set_role(static_cast<proto::Role>(board.peer_role));
  s->set_health(static_cast<proto::Health>(board.peer_health));
  s->set_epoch(board.peer_epoch);
  s->set_boot_id(board.peer_boot_id);
  return r;
}

void registerStatusCommands(CommandRegistry& registry, const CommandContext& context) {
  registry.add({"GetSpStatus",
                [context](const proto::Command& c, Reply reply) {
                  handleGetSpStatus(context, c, std::move(reply));
                },
                /*degraded=*/true, Privilege::Login, /*mutating=*/false});
}

}  // namespace dualsp::sp
