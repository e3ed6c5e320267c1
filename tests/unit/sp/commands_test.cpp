// spd's commands, run through the registry as the router would.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "sp/command_router.hpp"
#include "sp/commands/commands.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::sp;

namespace {

proto::CommandResult runCommand(const CommandRegistry& r, const proto::Command& c) {
  proto::CommandResult out;
  bool replied = false;
  r.find(c.name())->handler(c, [&](proto::CommandResult res) {
    out = std::move(res);
    replied = true;
  });
  CHECK_TRUE(replied);
  return out;
}

}  // namespace

TEST_GROUP(Commands) {
  std::string dir;
  std::string restarted;
  ipc::StatusSnapshot board;
  CommandRegistry registry;

  void setup() override {
    char tmpl[] = "/tmp/dualsp-cmd-XXXXXX";
    dir = mkdtemp(tmpl);
    std::ofstream log(dir + "/spd.log");
    for (int i = 1; i <= 300; ++i) log << "line " << i << "\n";
    log.close();
    board.sp = SpId::A;
    board.role = Role::Active;
    board.epoch = 7;
    ipc::copyField(board.boot_id, "boot-a");
    board.boot_time_ms = 1;
    CommandContext ctx;
    ctx.self = SpId::A;
    ctx.log_file = dir + "/spd.log";
    ctx.status = [this] { return std::optional<ipc::StatusSnapshot>(board); };
    ctx.restart = [this](const std::string& why) { restarted = why; };
    registerAllCommands(registry, ctx);
  }
  void teardown() override {
    std::string cmd = "rm -rf '" + dir + "'";
    CHECK_EQUAL(0, system(cmd.c_str()));
  }
};

TEST(Commands, RegistryDeclaresTheRescueSubsetAndPrivileges) {
  CHECK_TRUE(registry.find("GetSpStatus")->degraded);
  CHECK_TRUE(registry.find("ResetSp")->mutating);
  CHECK(registry.find("ResetSp")->privilege == Privilege::ConfigureManager);
  CHECK(registry.describe().find("GetInventory") != std::string::npos);
}

TEST(Commands, GetSpStatusReportsTheBoard) {
  proto::Command c;
  c.set_name("GetSpStatus");
  auto r = runCommand(registry, c);
  CHECK_EQUAL(proto::CommandResult::OK, r.status());
  CHECK_EQUAL(proto::ROLE_ACTIVE, r.sp_status().role());
  CHECK_EQUAL(7u, r.sp_status().epoch());
  STRCMP_EQUAL("boot-a", r.sp_status().boot_id().c_str());
  CHECK(r.sp_status().uptime_s() > 0);
  CHECK(r.sp_status().memory_total_kb() > 0);  // from the real /proc
}

TEST(Commands, GetSpMetricsReportsThisSpsFiguresFreshOnly) {
  const CommandSpec* spec = registry.find("GetSpMetrics");
  CHECK_TRUE(spec != nullptr);
  CHECK_TRUE(spec->fresh_only);
  CHECK_FALSE(spec->mutating);
  CHECK_FALSE(spec->degraded);
  CHECK(registry.describe().find("read (fresh only)") != std::string::npos);
  proto::Command c;
  c.set_name("GetSpMetrics");
  auto r = runCommand(registry, c);
  CHECK_EQUAL(proto::CommandResult::OK, r.status());
  CHECK_EQUAL(proto::SP_A, r.answered_by());
  CHECK_TRUE(r.has_sp_metrics());
  const proto::SpMetrics& m = r.sp_metrics();
  CHECK_EQUAL(proto::SP_A, m.sp());
  CHECK(m.sampled_at_ms() > 1'600'000'000'000);  // the wall clock
  // from the real /proc
  CHECK_TRUE(m.has_cpu_percent());
  CHECK(m.cpu_percent() >= 0 && m.cpu_percent() <= 100);
  CHECK_TRUE(m.has_memory_percent());
  CHECK(m.memory_percent() > 0 && m.memory_percent() <= 100);
  // no hardware in this context: no I/O figures, and why
  CHECK_FALSE(m.has_read_iops());
  STRCMP_CONTAINS("no hardware", m.error().c_str());
  // GetSpStatus carries the same figures
  c.set_name("GetSpStatus");
  auto status = runCommand(registry, c);
  CHECK_TRUE(status.sp_status().has_metrics());
  CHECK_TRUE(status.sp_status().metrics().has_cpu_percent());
}

TEST(Commands, SpMetricsOfLeavesOutWhatIsNotKnown) {
  platform::PerformanceFigures f;
  f.cpu_percent = 12.5;
  f.cpu_interval = {1500, false};
  f.io = platform::IoRates{1, 2, 3, 4};
  f.io_interval = {2000, true};
  f.error = "cannot read MemTotal";
  proto::SpMetrics m = spMetricsOf(SpId::B, f, 1234);
  CHECK_EQUAL(proto::SP_B, m.sp());
  CHECK_EQUAL(1234, m.sampled_at_ms());
  DOUBLES_EQUAL(12.5, m.cpu_percent(), 1e-9);
  CHECK_EQUAL(1500u, m.cpu_interval_ms());
  CHECK_FALSE(m.cpu_since_boot());
  CHECK_FALSE(m.has_memory_percent());
  DOUBLES_EQUAL(1, m.read_iops(), 1e-9);
  DOUBLES_EQUAL(4, m.write_bytes_per_second(), 1e-9);
  CHECK_EQUAL(2000u, m.io_interval_ms());
  CHECK_TRUE(m.io_since_boot());
  STRCMP_EQUAL("cannot read MemTotal", m.error().c_str());
}

TEST(Commands, GetLogReturnsTheLastLines) {
  proto::Command c;
  c.set_name("GetLog");
  (*c.mutable_args())["lines"] = "3";
  auto r = runCommand(registry, c);
  CHECK_EQUAL(3, r.log().lines_size());
  STRCMP_EQUAL("line 298", r.log().lines(0).c_str());
  STRCMP_EQUAL("line 300", r.log().lines(2).c_str());
  CHECK_EQUAL(300u, r.log().total());
}

TEST(Commands, GetLogRefusesABadLineCount) {
  proto::Command c;
  c.set_name("GetLog");
  (*c.mutable_args())["lines"] = "ten";
  auto r = runCommand(registry, c);
  CHECK_EQUAL(proto::CommandResult::BAD_REQUEST, r.status());
  CHECK(r.error().find("'ten'") != std::string::npos);
}

TEST(Commands, ResetSpAcceptsThenRestarts) {
  proto::Command c;
  c.set_name("ResetSp");
  c.mutable_caller()->set_origin("web 198.18.0.100");
  auto r = runCommand(registry, c);
  CHECK_EQUAL(proto::CommandResult::ACCEPTED, r.status());
  CHECK(restarted.find("GracefulRestart requested by web 198.18.0.100") != std::string::npos);
}

TEST(Commands, ResetSpRefusesAnUnknownType) {
  proto::Command c;
  c.set_name("ResetSp");
  (*c.mutable_args())["type"] = "PowerCycleTheDatacenter";
  auto r = runCommand(registry, c);
  CHECK_EQUAL(proto::CommandResult::BAD_REQUEST, r.status());
  CHECK_TRUE(restarted.empty());
}

TEST(Commands, PeerStatusFromHeartbeatsIsStaleWithAge) {
  board.peer_last_heard_ms = 0;
  CHECK_FALSE(peerStatusFromHeartbeats(board).has_value());  // never heard
  board.peer_last_heard_ms = 1000;                           // long ago
  board.peer_role = Role::Passive;
  board.peer_epoch = 7;
  ipc::copyField(board.peer_boot_id, "boot-b");
  auto r = peerStatusFromHeartbeats(board);
  CHECK_TRUE(r->stale());
  CHECK_EQUAL(proto::SP_B, r->answered_by());
  STRCMP_EQUAL("boot-b", r->sp_status().boot_id().c_str());
  CHECK(r->age_ms() > 1000);
}

TEST(Commands, TailLinesKeepsWithinTheByteBudget) {
  auto lines = tailLines(dir + "/spd.log", 1000, 30);
  CHECK(lines.size() <= 4);  // "line 300\n" is 9 bytes
  STRCMP_EQUAL("line 300", lines.back().c_str());
}
