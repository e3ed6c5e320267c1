// GetSpMetrics: this SP's performance figures now (CPU %, memory %, the shelf's I/O rates),
// docs/METRICS.md. Fresh only: about the peer it is the peer's own answer or UNAVAILABLE, never
// an earlier copy (CommandSpec::fresh_only), since old load figures read as current mislead.
#include "sp/command_router.hpp"
#include "sp/commands/commands.hpp"
#include "sp/platform_choice.hpp"

namespace dualsp::sp {

proto::SpMetrics spMetricsOf(SpId self, const platform::PerformanceFigures& f,
                             int64_t sampled_at_ms) {
  proto::SpMetrics m;
  m.set_sp(toProto(self));
  m.set_sampled_at_ms(sampled_at_ms);
  if (f.cpu_percent) m.set_cpu_percent(*f.cpu_percent);
  m.set_cpu_interval_ms(f.cpu_interval.ms);
  m.set_cpu_since_boot(f.cpu_interval.since_boot);
  if (f.memory_percent) m.set_memory_percent(*f.memory_percent);
  if (f.io) {
    m.set_read_iops(f.io->read_iops);
    m.set_write_iops(f.io->write_iops);
    m.set_read_bytes_per_second(f.io->read_bytes_per_second);
    m.set_write_bytes_per_second(f.io->write_bytes_per_second);
  }
  m.set_io_interval_ms(f.io_interval.ms);
  m.set_io_since_boot(f.io_interval.since_boot);
  m.set_error(f.error);
  return m;
}

namespace {

void handleGetSpMetrics(const CommandContext& ctx, const proto::Command&, Reply reply) {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_answered_by(toProto(ctx.self));
  *r.mutable_sp_metrics() = spMetricsOf(ctx.self, ctx.performance->read(), wallMillis());
  reply(std::move(r));
}

}  // namespace

void registerMetricsCommands(CommandRegistry& registry, const CommandContext& context) {
  CommandSpec spec{"GetSpMetrics",
                   [context](const proto::Command& c, Reply reply) {
                     handleGetSpMetrics(context, c, std::move(reply));
                   },
                   /*degraded=*/false, Privilege::Login, /*mutating=*/false};
  spec.fresh_only = true;
  registry.add(std::move(spec));
}

}  // namespace dualsp::sp
