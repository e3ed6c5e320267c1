// GetLog: the SP's recent log lines (args: "lines", default 200, at most 1000).
#include <fstream>

#include "sp/command_router.hpp"
#include "sp/commands/commands.hpp"

namespace dualsp::sp {
namespace {

constexpr size_t kDefaultLines = 200;
constexpr size_t kMaxLines = 1000;
constexpr size_t kMaxBytes = 48 * 1024;  // fits one local-bus message with room to spare

void handleGetLog(const CommandContext& ctx, const proto::Command& c, Reply reply) {
  size_t lines = kDefaultLines;
  auto it = c.args().find("lines");
  if (it != c.args().end()) {
    try {
      size_t used = 0;
      long n = std::stol(it->second, &used);
      if (used != it->second.size() || n < 1) throw std::invalid_argument("lines");
      lines = std::min(static_cast<size_t>(n), kMaxLines);
    } catch (const std::exception&) {
      reply(errorResult(proto::CommandResult::BAD_REQUEST,
                        "lines must be a positive integer, not '" + it->second + "'"));
      return;
    }
  }
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_answered_by(toProto(ctx.self));
  uint64_t total = 0;
  auto* log = r.mutable_log();
  for (auto& l : tailLines(ctx.log_file, lines, kMaxBytes, &total)) log->add_lines(std::move(l));
  log->set_total(total);
  reply(std::move(r));
}

}  // namespace

std::vector<std::string> tailLines(const std::string& path, size_t max_lines, size_t max_bytes,
                                   uint64_t* total_lines) {
  std::ifstream in(path);
  std::vector<std::string> ring;
  size_t bytes = 0;
  uint64_t total = 0;
  std::string line;
  // Logs rotate before they grow large on the SP; one pass is fine at this size.
  while (std::getline(in, line)) {
    ++total;
    bytes += line.size() + 1;
    ring.push_back(std::move(line));
    while (ring.size() > max_lines || (bytes > max_bytes && ring.size() > 1)) {
      bytes -= ring.front().size() + 1;
      ring.erase(ring.begin());
    }
  }
  if (total_lines) *total_lines = total;
  return ring;
}

void registerLogCommands(CommandRegistry& registry, const CommandContext& context) {
  registry.add({"GetLog",
                [context](const proto::Command& c, Reply reply) {
                  handleGetLog(context, c, std::move(reply));
                },
                /*degraded=*/true, Privilege::Login, /*mutating=*/false});
}

}  // namespace dualsp::sp
