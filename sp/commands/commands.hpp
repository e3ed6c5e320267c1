#pragma once
// The commands spd serves, one file per family. Each registers itself in the registry.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ipc/status_board.hpp"
#include "platform/hardware.hpp"
#include "platform/performance.hpp"
#include "sp/command_registry.hpp"

namespace dualsp::sp {

struct CommandContext {
  SpId self = SpId::A;
  std::string log_file;  // this SP's spd.log
  platform::Hardware* hardware = nullptr;
  // CPU, memory and I/O figures, one for GetSpStatus and GetSpMetrics so both see the same
  // intervals; registerAllCommands makes one over `hardware` when none is given.
  std::shared_ptr<platform::PerformanceMonitor> performance;
  std::function<std::optional<ipc::StatusSnapshot>()> status;  // this SP's status board
  std::function<void(const std::string& why)> restart;         // re-executes spd
  std::function<std::string()> force_failover;                 // empty on success, else the refusal
  // Why handing the active role over now would lose acknowledged changes; empty otherwise.
  std::function<std::string()> hand_over_gap;
};

void registerStatusCommands(CommandRegistry& registry, const CommandContext& context);
void registerHardwareCommands(CommandRegistry& registry, const CommandContext& context);
void registerLogCommands(CommandRegistry& registry, const CommandContext& context);
void registerResetCommands(CommandRegistry& registry, const CommandContext& context);
void registerFailoverCommands(CommandRegistry& registry, const CommandContext& context);
void registerMetricsCommands(CommandRegistry& registry, const CommandContext& context);

inline void registerAllCommands(CommandRegistry& registry, CommandContext context) {
  if (!context.performance)
    context.performance = std::make_shared<platform::PerformanceMonitor>(context.hardware);
  registerStatusCommands(registry, context);
  registerHardwareCommands(registry, context);
  registerLogCommands(registry, context);
  registerResetCommands(registry, context);
  registerFailoverCommands(registry, context);
  registerMetricsCommands(registry, context);
}

// This SP's performance figures now, as GetSpMetrics answers them (sp/commands/metrics.cpp).
proto::SpMetrics spMetricsOf(SpId self, const platform::PerformanceFigures& figures,
                             int64_t sampled_at_ms);

// What the heartbeats told this SP about its peer, as a stale GetSpStatus answer (the
// router's last resort when the peer does not answer and no fresher copy exists).
std::optional<proto::CommandResult> peerStatusFromHeartbeats(const ipc::StatusSnapshot& board);

// The last `max_lines` lines of a text file, at most `max_bytes` of them.
std::vector<std::string> tailLines(const std::string& path, size_t max_lines, size_t max_bytes,
                                   uint64_t* total_lines = nullptr);

}  // namespace dualsp::sp
