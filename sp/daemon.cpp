#include "sp/daemon.hpp"

#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "heartbeat/heartbeat_service.hpp"
#include "ipc/status_board.hpp"
#include "platform/linux/gpio_fencer.hpp"
#include "platform/linux/netlink_address.hpp"
#include "platform/log.hpp"
#include "platform/loopback/loopback_address.hpp"
#include "platform/sim/power_controller_fencer.hpp"
#include "sp/epoch_store.hpp"
#include "sp/supervisor.hpp"

namespace dualsp::sp {
namespace {

namespace fs = std::filesystem;

std::string newBootId() {
  std::ifstream in("/proc/sys/kernel/random/uuid");
  std::string id;
  std::getline(in, id);
  return id;
}

int64_t wallMillis() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  return static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

std::unique_ptr<platform::FloatingAddress> makeFloating(const Config& c) {
  if (c.floating.mode == "loopback")
    return platform::makeLoopbackFloatingAddress(c.floating.address, c.floating.port,
                                                 c.management.address, c.web.port);
  return platform::makeNetlinkFloatingAddress(c.floating.address, c.floating.prefix_length,
                                              c.floating.interface);
}

std::unique_ptr<platform::Fencer> makeFencer(const Config& c) {
  if (c.platform.backend == "linux") return platform::makeGpioFencer(c.platform.fence_gpio);
  return platform::makePowerControllerFencer(c.platform.power_controller, peerOf(c.sp));
}

// spweb: configured path, else beside spd (installed), else in the build tree.
std::string findSpweb(const Config& c, const std::string& self_exe) {
  if (!c.web.spweb.empty()) return c.web.spweb;
  fs::path dir = fs::path(self_exe).parent_path();
  for (fs::path p : {dir / "spweb", dir / ".." / "webserver" / "spweb"})
    if (access(p.c_str(), X_OK) == 0) return fs::weakly_canonical(p).string();
  return "spweb";
}

heartbeat::ServiceOptions serviceOptions(const Config& c, const std::string& boot_id,
                                         uint64_t epoch) {
  heartbeat::ServiceOptions o;
  o.array_id = c.array_id;
  o.boot_id = boot_id;
  o.election.self = c.sp;
  auto timing = [](const PathConfig& p) { return heartbeat::PathTiming{p.enabled, p.dead}; };
  o.election.paths[static_cast<size_t>(heartbeat::Path::Peer)] = timing(c.heartbeat.peer);
  o.election.paths[static_cast<size_t>(heartbeat::Path::Mgmt)] = timing(c.heartbeat.mgmt);
  o.election.paths[static_cast<size_t>(heartbeat::Path::Midplane)] = timing(c.heartbeat.midplane);
  o.election.startup_wait = c.heartbeat.startup_wait;
  o.election.fence_delay = c.fenceDelay();
  o.election.fence_retry = c.heartbeat.fence_retry;
  o.peer = {c.heartbeat.peer.enabled, c.peer_link.address, c.peer.link_address, c.heartbeat.port,
            c.heartbeat.peer.interval};
  o.mgmt = {c.heartbeat.mgmt.enabled, c.management.address, c.peer.management_address,
            c.heartbeat.port, c.heartbeat.mgmt.interval};
  o.midplane = {c.heartbeat.midplane.enabled, c.heartbeat.midplane_segment,
                c.heartbeat.midplane.interval};
  o.persisted_epoch = epoch;
  o.realtime_priority = c.heartbeat.realtime_priority;
  o.garp_count = c.floating.garp_count;
  o.garp_interval = c.floating.garp_interval;
  o.fence_timeout = c.heartbeat.fence_timeout;
  return o;
}

}  // namespace

int runDaemon(const Config& c, const std::string& config_path, const std::string& self_exe) {
  const std::string boot_id = newBootId();
  LOG_NOTICE << "spd " << DUALSP_FIRMWARE_VERSION << " starting: " << spName(c.sp) << " of array '"
             << c.array_id << "', config " << config_path << ", boot id " << boot_id;

  // Signals are taken synchronously by this thread only; every other thread blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  EpochStore epochs(c.state_dir);
  std::string problem;
  uint64_t epoch = epochs.load(problem);
  if (!problem.empty()) LOG_ERROR << problem;
  LOG_INFO << "epoch " << epoch << " read from " << epochs.path();

  auto floating = makeFloating(c);
  auto fencer = makeFencer(c);
  if (floating->held()) {
    LOG_WARNING << "found the floating address " << floating->describe()
                << " on this SP at start-up; removing it until the election decides";
    auto s = floating->remove();
    if (!s.ok) LOG_ERROR << "cannot remove it: " << s.error;
  }
  if (!c.peer.link_address.empty() || !c.peer.management_address.empty())
    LOG_INFO << "peer " << spName(peerOf(c.sp)) << " expected at peer link "
             << (c.peer.link_address.empty() ? "-" : c.peer.link_address) << ", management "
             << (c.peer.management_address.empty() ? "-" : c.peer.management_address);

  std::unique_ptr<ipc::StatusBoardWriter> board;
  try {
    board = std::make_unique<ipc::StatusBoardWriter>(ipc::statusBoardName(c.array_id, c.sp));
  } catch (const std::exception& e) {
    LOG_CRITICAL << "cannot create the status board: " << e.what();
    return 1;
  }
  ipc::StatusSnapshot tmpl;
  tmpl.spd_pid = static_cast<uint32_t>(getpid());
  tmpl.sp = c.sp;
  tmpl.boot_time_ms = wallMillis();
  ipc::copyField(tmpl.array_id, c.array_id);
  ipc::copyField(tmpl.boot_id, boot_id);
  ipc::copyField(tmpl.firmware_version, DUALSP_FIRMWARE_VERSION);
  ipc::copyField(tmpl.management_address, c.management.address);
  ipc::copyField(tmpl.floating_address, c.floating.address);

  std::unique_ptr<heartbeat::HeartbeatService> service;
  try {
    service = std::make_unique<heartbeat::HeartbeatService>(
        serviceOptions(c, boot_id, epoch),
        heartbeat::ServiceDependencies{
            *floating, *fencer, [&epochs](uint64_t e) { return epochs.save(e); }, *board, tmpl});
  } catch (const std::exception& e) {
    LOG_CRITICAL << "cannot start the heartbeat service: " << e.what();
    return 1;
  }
  service->start();

  std::string listen = c.web.listen;
  Supervisor web(findSpweb(c, self_exe),
                 {"--mode", "full", "--sp", std::string(1, spLetter(c.sp)), "--array-id",
                  c.array_id, "--listen", listen, "--port", std::to_string(c.web.port),
                  "--log-file", c.state_dir + "/log/spweb.log"});
  web.start();

  int exit_code = 0;
  for (;;) {
    timespec timeout{0, 100 * 1000 * 1000};
    int sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig == SIGTERM || sig == SIGINT) {
      LOG_NOTICE << "received " << strsignal(sig) << "; shutting down";
      break;
    }
    web.poll();
  }

  service->stop();
  if (floating->held()) {
    auto s = floating->remove();
    if (s.ok)
      LOG_NOTICE << "released the floating address " << floating->describe() << " on shutdown";
    else
      LOG_ERROR << "cannot release the floating address on shutdown: " << s.error;
  }
  web.stop(std::chrono::milliseconds{2000});
  LOG_NOTICE << "spd stopped";
  return exit_code;
}

}  // namespace dualsp::sp
