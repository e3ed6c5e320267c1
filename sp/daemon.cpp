#include "sp/daemon.hpp"

#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "heartbeat/heartbeat_service.hpp"
#include "ipc/local_bus.hpp"
#include "ipc/peer_channel.hpp"
#include "ipc/peer_link.hpp"
#include "ipc/status_board.hpp"
#include "platform/linux/gpio_fencer.hpp"
#include "platform/linux/link_state.hpp"
#include "platform/linux/linux_hardware.hpp"
#include "platform/linux/netlink_address.hpp"
#include "platform/log.hpp"
#include "platform/loopback/loopback_address.hpp"
#include "platform/sim/chassis_power_fencer.hpp"
#include "platform/sim/power_controller_fencer.hpp"
#include "platform/sim/sim_hardware.hpp"
#include "sp/command_router.hpp"
#include "sp/commands/commands.hpp"
#include "sp/config_service.hpp"
#include "sp/epoch_store.hpp"
#include "sp/event_delivery.hpp"
#include "sp/events.hpp"
#include "sp/floating_settings.hpp"
#include "sp/health_monitor.hpp"
#include "sp/peer_commands.hpp"
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
  if (c.platform.backend == "qemu") {
    return platform::makeChassisPowerFencer(c.heartbeat.midplane_segment, c.sp);
  }
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

std::unique_ptr<platform::Hardware> makeHardware(const Config& c) {
  if (c.platform.backend == "linux") return platform::makeLinuxHardware();
  if (c.platform.hardware.empty()) return nullptr;
  return platform::makeSimHardware(c.platform.hardware);
}

// The pair key: hex text (at least 32 bytes of key) in a file only root reads.
std::string readPairKey(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read the pair key " + path + " (peer_link.key_file)";
    return {};
  }
  std::string hex;
  in >> hex;
  if (hex.size() < 64 || hex.size() % 2 != 0 ||
      hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    error = "the pair key " + path + " must hold at least 64 hex digits";
    return {};
  }
  std::string key;
  for (size_t i = 0; i < hex.size(); i += 2)
    key.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return key;
}

// The peer link (both routes) as the router and the configuration service see it: commands
// out, results back, on the link's thread. usable(): the heartbeats hear the peer and some
// route answers. With `skip_dead` (the router's queries), a peer the heartbeats have declared
// dead is not asked: a powered-off board never closes its TCP connection. The configuration
// service has its own liveness rules and sends regardless.
class ChannelTransport : public PeerTransport {
 public:
  ChannelTransport(asio::io_context& io, ipc::PeerChannel& channel,
                   std::function<bool()> peer_alive, bool skip_dead)
      : io_(io), channel_(channel), peer_alive_(std::move(peer_alive)), skip_dead_(skip_dead) {}
  bool usable() const override { return peer_alive_() && channel_.healthyNow(); }
  void send(const proto::Command& command, std::chrono::milliseconds deadline,
            std::function<void(Answer)> done) override {
    if (skip_dead_ && !peer_alive_()) {
      return done(Answer{std::nullopt, "no heartbeats from the peer"});
    }
    asio::post(io_, [this, payload = command.SerializeAsString(), deadline,
                     done = std::move(done)]() mutable {
      channel_.request(std::move(payload), deadline,
                       [done = std::move(done)](ipc::PeerLink::Result r) {
                         if (!r.ok) return done(Answer{std::nullopt, r.error});
                         proto::CommandResult result;
                         if (!result.ParseFromString(r.payload))
                           return done(Answer{std::nullopt, "unreadable answer"});
                         done(Answer{std::move(result), ""});
                       });
    });
  }

 private:
  asio::io_context& io_;
  ipc::PeerChannel& channel_;
  std::function<bool()> peer_alive_;
  bool skip_dead_;
};

// The routes of the peer link: the dedicated link, then the management network.
std::vector<ipc::PeerRouteOptions> peerRoutes(const Config& c, const std::string& key) {
  auto route = [&](const char* name, const std::string& local, const std::string& peer) {
    ipc::PeerRouteOptions r;
    r.name = name;
    r.link.self = c.sp;
    r.link.local_address = local;
    r.link.peer_address = peer;
    r.link.port = c.peer_link.port;
    r.link.key = key;
    r.link.ping_interval = c.peer_link.ping_interval;
    r.link.sick_after = c.peer_link.sick_after;
    r.link.dead_after = c.peer_link.dead_after;
    return r;
  };
  std::vector<ipc::PeerRouteOptions> routes;
  if (!c.peer_link.address.empty() && !c.peer.link_address.empty())
    routes.push_back(route("peer-link", c.peer_link.address, c.peer.link_address));
  if (c.peer_link.management_route && !c.management.address.empty() &&
      !c.peer.management_address.empty())
    routes.push_back(route("management", c.management.address, c.peer.management_address));
  return routes;
}

// An active SP that restarts hands the role over first: otherwise its silence during the
// restart looks like a death and the peer fences (powers off) the rebooting SP.
void handOverBeforeRestart(heartbeat::HeartbeatService& service,
                           const std::function<bool()>& peer_active) {
  std::string refusal = service.forceFailover(std::chrono::milliseconds{100});
  if (!refusal.empty()) {
    LOG_WARNING << "restarting as the active SP without a hand-over: " << refusal;
    return;
  }
  // Keep beating until the peer has really taken the role (bounded: 2 s).
  for (int i = 0; i < 100 && (service.role() == Role::Active || !peer_active()); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  if (peer_active())
    LOG_NOTICE << "handed the active role over before restarting";
  else
    LOG_WARNING << "the peer did not take the role within 2 s; restarting anyway";
}

std::string modeFor(const HealthReport& r) {
  return r.health == Health::Critical ? "degraded" : "full";
}

std::vector<ipc::SnapshotFault> snapshotFaults(const HealthReport& r) {
  std::vector<ipc::SnapshotFault> out;
  for (const auto& f : r.faults) {
    ipc::SnapshotFault s;
    ipc::copyField(s.message_id, f.message_id);
    ipc::copyField(s.text, f.text);
    s.severity = f.severity;
    out.push_back(s);
  }
  return out;
}

// One line per fault raised or cleared, then the new roll-up.
void logHealthChange(const HealthReport& before, const HealthReport& after) {
  auto has = [](const HealthReport& r, const Fault& f) {
    return std::find(r.faults.begin(), r.faults.end(), f) != r.faults.end();
  };
  for (const auto& f : after.faults)
    if (!has(before, f))
      log::write(f.severity == Health::Critical ? log::Level::Error : log::Level::Warning,
                 "fault raised: " + f.message_id + ": " + f.text);
  for (const auto& f : before.faults)
    if (!has(after, f)) LOG_NOTICE << "fault cleared: " << f.message_id << ": " << f.text;
  if (before.health != after.health || before.faults.empty() != after.faults.empty())
    LOG_NOTICE << "health " << healthName(before.health) << " -> " << healthName(after.health)
               << " (" << after.faults.size() << " fault" << (after.faults.size() == 1 ? "" : "s")
               << ")";
}

// One event per fault raised or cleared and one when the roll-up changes.
void recordHealthEvents(ConfigService& events, SpId self, const HealthReport& before,
                        const HealthReport& after) {
  auto has = [](const HealthReport& r, const Fault& f) {
    return std::find(r.faults.begin(), r.faults.end(), f) != r.faults.end();
  };
  auto severity = [](Health h) {
    return h == Health::Critical ? "Critical" : h == Health::Warning ? "Warning" : "OK";
  };
  for (const auto& f : after.faults)
    if (!has(before, f))
      events.recordEvent(makeEvent(f.message_id, {}, managerUri(self), severity(f.severity), self,
                                   "Fault raised: " + f.text));
  for (const auto& f : before.faults)
    if (!has(after, f))
      events.recordEvent(
          makeEvent(f.message_id, {}, managerUri(self), "OK", self, "Fault cleared: " + f.text));
  if (before.health != after.health) {
    auto id = after.health == Health::Critical  ? message::kHealthCritical
              : after.health == Health::Warning ? message::kHealthWarning
                                                : message::kHealthOk;
    events.recordEvent(makeEvent(id, {managerUri(self), std::string(healthName(after.health))},
                                 managerUri(self), severity(after.health), self));
  }
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
  o.election.startup_fence_always = c.heartbeat.startup_fence_always;
  // The heartbeat thread ticks every 2 ms: a gap of a whole dead interval is our own stall.
  Millis shortest_dead{0};
  for (const PathConfig* p : {&c.heartbeat.peer, &c.heartbeat.mgmt, &c.heartbeat.midplane})
    if (p->enabled && (shortest_dead.count() == 0 || p->dead < shortest_dead))
      shortest_dead = p->dead;
  o.election.stall_threshold = shortest_dead;
  o.peer = {c.heartbeat.peer.enabled, c.peer_link.address,       c.peer.link_address,
            c.heartbeat.port,         c.heartbeat.peer.interval, /*key=*/""};
  o.mgmt = {c.heartbeat.mgmt.enabled, c.management.address,      c.peer.management_address,
            c.heartbeat.port,         c.heartbeat.mgmt.interval, /*key=*/""};
  o.midplane = {c.heartbeat.midplane.enabled, c.heartbeat.midplane_segment,
                c.heartbeat.midplane.interval};
  o.persisted_epoch = epoch;
  o.realtime_priority = c.heartbeat.realtime_priority;
  o.garp_count = c.floating.garp_count;
  o.garp_interval = c.floating.garp_interval;
  o.garp_refresh = c.floating.garp_refresh;
  // Serving clients needs carrier where the floating address lives (none on loopback).
  if (c.floating.mode == "netlink") o.carrier_interface = c.floating.interface;
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

  auto floating = std::make_unique<RetargetableFloatingAddress>(makeFloating(c));
  std::unique_ptr<platform::Fencer> fencer;
  try {
    fencer = makeFencer(c);
  } catch (const std::exception& e) {
    LOG_ERROR << "cannot set up fencing: " << e.what();
    return 1;
  }
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

  // Health first: the election and the web server start from the SP's real state.
  auto hardware = makeHardware(c);
  HealthMonitor monitor(hardware.get(), c.management.interface,
                        [](const std::string& i) { return platform::linkHasCarrier(i); });
  HealthReport health = monitor.evaluate();
  logHealthChange(HealthReport{}, health);

  // The pair key signs the UDP heartbeats and every peer-link frame.
  std::string key_error;
  std::string key = readPairKey(c.peer_link.key_file, key_error);
  if (key.empty()) {
    LOG_CRITICAL << key_error << "; heartbeats go unsigned, the peer link stays down and "
                 << "queries about " << spName(peerOf(c.sp))
                 << " are answered from heartbeats only";
  }

  std::unique_ptr<heartbeat::HeartbeatService> service;
  try {
    auto options = serviceOptions(c, boot_id, epoch);
    options.initial_health = health.health;
    options.peer.key = key;
    options.mgmt.key = key;
    service = std::make_unique<heartbeat::HeartbeatService>(
        options, heartbeat::ServiceDependencies{
                     *floating, *fencer, [&epochs](uint64_t e) { return epochs.save(e); }, *board,
                     tmpl, [](const std::string& i) { return platform::linkHasCarrier(i); }});
  } catch (const std::exception& e) {
    LOG_CRITICAL << "cannot start the heartbeat service: " << e.what();
    return 1;
  }
  service->setFaults(snapshotFaults(health));

  // Commands: the registry, the peer link and the router between them.
  ipc::StatusBoardReader own_board(ipc::statusBoardName(c.array_id, c.sp));
  std::mutex board_mu;  // the reader keeps state between reads
  auto read_board = [&own_board, &board_mu] {
    std::lock_guard lock(board_mu);
    return own_board.read();
  };
  std::atomic<bool> restart_requested{false};
  std::string restart_reason;
  std::mutex restart_mu;
  CommandContext ctx;
  ctx.self = c.sp;
  ctx.log_file = c.state_dir + "/log/spd.log";
  ctx.hardware = hardware.get();
  ctx.status = read_board;
  ctx.force_failover = [&service] { return service->forceFailover(); };
  ctx.hand_over_gap = [&service] { return service->handOverGap(); };
  ctx.restart = [&](const std::string& why) {
    std::lock_guard lock(restart_mu);
    restart_reason = why;
    restart_requested = true;
  };
  CommandRegistry registry;
  registerAllCommands(registry, ctx);
  PeerCommandRegistry peer_registry(registry);  // only for requests on the peer link

  asio::io_context peer_io;
  auto peer_work = asio::make_work_guard(peer_io);
  std::unique_ptr<ipc::PeerChannel> link;
  std::unique_ptr<ChannelTransport> transport;        // the configuration service's
  std::unique_ptr<ChannelTransport> query_transport;  // the router's
  std::unique_ptr<CommandRouter> router;
  link = std::make_unique<ipc::PeerChannel>(
      peer_io, peerRoutes(c, key),
      [&router, &peer_io, &peer_registry](const proto::Envelope& request,
                                          ipc::PeerLink::Respond respond) {
        proto::Command command;
        if (!command.ParseFromString(request.payload())) {
          respond(errorResult(proto::CommandResult::BAD_REQUEST, "unreadable command")
                      .SerializeAsString());
          return;
        }
        dispatchFromPeer(
            peer_registry, *router, std::move(command),
            [&peer_io, respond](proto::CommandResult r) {
              asio::post(peer_io, [respond, payload = r.SerializeAsString()] { respond(payload); });
            });
      });
  link->epoch = [&service] { return service->epoch(); };
  auto peer_alive = [&read_board] {
    auto b = read_board();
    return b && b->peer_alive;
  };
  transport = std::make_unique<ChannelTransport>(peer_io, *link, peer_alive, /*skip_dead=*/false);
  query_transport =
      std::make_unique<ChannelTransport>(peer_io, *link, peer_alive, /*skip_dead=*/true);
  router = std::make_unique<CommandRouter>(
      c.sp, registry, *query_transport, c.peer_link.request_timeout,
      [read_board](const proto::Command& command) -> std::optional<proto::CommandResult> {
        auto board = read_board();
        if (!board || command.name() != "GetSpStatus") return std::nullopt;
        return peerStatusFromHeartbeats(*board);
      });
  router->setStaleAfter(c.peer_link.stale_after, [&peer_io](std::chrono::milliseconds delay,
                                                            std::function<void()> work) {
    auto timer = std::make_shared<asio::steady_timer>(peer_io, delay);
    timer->async_wait([timer, work = std::move(work)](const asio::error_code& ec) {
      if (!ec) work();
    });
  });
  // The replicated configuration store and event log: its faults reach the health monitor
  // through the main loop (the monitor belongs to this thread).
  std::mutex fault_mu;
  std::vector<std::pair<std::string, std::optional<Fault>>> store_faults;
  ConfigServiceDependencies config_deps;
  config_deps.self = c.sp;
  config_deps.role = [&service] { return service->role(); };
  config_deps.epoch = [&service] { return service->epoch(); };
  config_deps.peer_alive = [&read_board] {
    auto b = read_board();
    return b && b->peer_alive;
  };
  config_deps.peer_reachable = [&link] { return link->healthyNow(); };
  config_deps.publish_history = [&service](const History& h) { service->setHistory(h); };
  config_deps.peer_history = [&service] { return service->peerHistory(); };
  config_deps.history_publishable = [&service] { return service->historyPublishable(); };
  config_deps.peer_history_readable = [&service] { return service->peerHistoryReadable(); };
  config_deps.peer = transport.get();
  config_deps.forward = [&router](proto::Command command, Reply reply) {
    router->dispatch(std::move(command), std::move(reply));
  };
  config_deps.wall_ms = wallMillis;
  config_deps.fault = [&](const std::string& id, bool raised, const std::string& message_id,
                          const std::string& text, Health severity) {
    std::lock_guard lock(fault_mu);
    if (raised)
      store_faults.emplace_back(id, Fault{"firmware:" + id, message_id, text, severity});
    else
      store_faults.emplace_back(id, std::nullopt);
  };
  // A restarted peer may hold less than before (a torn journal tail): resync it.
  config_deps.peer_session = [&read_board] {
    auto b = read_board();
    return std::string(b ? b->peer_boot_id : "");
  };
  ConfigServiceOptions config_options;
  config_options.replicate_timeout = c.peer_link.request_timeout;
  config_options.change_wait = c.peer_link.change_wait;
  // Longer than the active can take: its wait, a resync and one more attempt.
  config_options.forward_timeout =
      c.peer_link.change_wait + 4 * c.peer_link.request_timeout + std::chrono::milliseconds{500};
  ConfigService config_service(c.state_dir + "/config", config_deps, config_options);
  config_service.registerCommands(registry, peer_registry);
  // The management network: the configuration file's address until an administrator sets
  // another; a change moves the floating address (on the active SP at once).
  ManagementNetwork network{c.floating.address, c.floating.prefix_length, ""};
  config_service.setDefault("network/management", managementNetworkJson(network));
  config_service.onChange("network/management", [&](const ConfigRecord& record) {
    if (record.deleted()) return;
    std::string error;
    auto next = parseManagementNetwork(record.value(), error);
    if (!next) {
      LOG_ERROR << "management network setting ignored: " << error;
      return;
    }
    if (next->address == network.address && next->prefix_length == network.prefix_length) {
      network = *next;
      return;
    }
    Config moved = c;
    moved.floating.address = next->address;
    moved.floating.prefix_length = next->prefix_length;
    std::string before = floating->describe();
    auto s = floating->retarget(makeFloating(moved));
    if (s.ok)
      LOG_NOTICE << "floating management address moved from " << before << " to "
                 << floating->describe();
    else
      LOG_ERROR << "moving the floating management address to " << next->address
                << " failed: " << s.error;
    network = *next;
  });
  config_service.start();
  // The heartbeats say how far this SP's history reaches from the first one on: a peer
  // deciding the start-up tie-break must not take an unknown history for an empty one.
  service->setInitialHistory(config_service.history());
  service->start();

  // Push delivery of new events to EventService subscribers, by the active SP.
  EventDelivery delivery(EventDelivery::Source{
      [&config_service, warned = std::set<std::string>{}]() mutable {
        std::vector<Subscription> out;
        for (const auto& r : config_service.list("subscriptions/")) {
          std::string error;
          auto sub = parseSubscription(r.key().substr(std::string("subscriptions/").size()),
                                       r.value(), error);
          if (!sub) {
            if (warned.insert(r.key() + toString(versionOf(r))).second)
              LOG_WARNING << "event delivery: " << error;
            continue;
          }
          // Its record's seq: the events recorded after it have larger ids.
          sub->created_after = versionOf(r).seq;
          out.push_back(std::move(*sub));
        }
        return out;
      },
      [&config_service](uint64_t after, size_t max) {
        return config_service.eventsAfter(after, max);
      },
      [&config_service] { return config_service.activeSince(); },
      [&service] { return service->role() == Role::Active; }});
  delivery.start();

  if (!key.empty() && link->routeCount() > 0) asio::post(peer_io, [&link] { link->start(); });
  std::thread peer_thread([&peer_io] { peer_io.run(); });

  std::unique_ptr<ipc::LocalBusServer> bus;
  try {
    bus = std::make_unique<ipc::LocalBusServer>(
        ipc::busRequestQueueName(c.array_id, c.sp),
        [&router](const proto::Command& command, ipc::LocalBusServer::Reply reply) {
          router->dispatch(command, std::move(reply));
        });
    bus->start();
  } catch (const std::exception& e) {
    LOG_CRITICAL << "cannot start the local bus: " << e.what();
  }

  std::string listen = c.web.listen;
  Supervisor web(findSpweb(c, self_exe),
                 {"--mode", modeFor(health), "--sp", std::string(1, spLetter(c.sp)), "--array-id",
                  c.array_id, "--listen", listen, "--port", std::to_string(c.web.port),
                  "--log-file", c.state_dir + "/log/spweb.log"});
  web.on_exit = [&bus, request_queue = ipc::busRequestQueueName(c.array_id, c.sp)](pid_t pid) {
    if (ipc::removeBusReplyQueue(request_queue, pid))
      LOG_INFO << "removed the local-bus reply queue of the ended spweb (pid " << pid << ")";
    // It may have died holding the request queue's lock: start the next one on a fresh queue.
    if (!bus) return;
    try {
      bus->recreate();
    } catch (const std::exception& e) {
      LOG_CRITICAL << "cannot recreate the local bus: " << e.what();
    }
  };
  web.start();

  // Array events seen from here: role, health, faults, the peer and the peer link.
  const bool link_configured = !key.empty() && link->routeCount() > 0;
  Role event_role = Role::Starting;
  bool event_peer_alive = false;
  bool partition_reported = false;
  std::string route_reported, route_candidate;  // the route the last event named, now
  auto route_since = std::chrono::steady_clock::now();
  auto link_down_since = std::chrono::steady_clock::now();
  uint64_t auth_failures_while_up = 0;  // the link's count the last time it was up
  HealthReport event_health = health;
  std::string silent_candidate, silent_reported;
  auto silent_since = std::chrono::steady_clock::now();
  for (const auto& f : health.faults)
    config_service.recordEvent(makeEvent(f.message_id, {}, managerUri(c.sp),
                                         f.severity == Health::Critical ? "Critical" : "Warning",
                                         c.sp, f.text));

  auto recordArrayEvents = [&] {
    const SpId peer = peerOf(c.sp);
    auto board_now = read_board();
    bool alive = board_now && board_now->peer_alive;
    const bool link_up = link->upNow();
    // Which route carries the peer link: on the status board, and an event when it moves
    // between the dedicated link and the management network and stays there a moment (no
    // route at all is the LinkDown event below; a dead peer is PeerLost).
    const std::string route = link->routeNow();
    service->setPeerLinkRoute(route);
    if (route != route_candidate) {
      route_candidate = route;
      route_since = std::chrono::steady_clock::now();
    }
    if (alive && !route.empty() && link->routeCount() > 1 &&
        std::chrono::steady_clock::now() - route_since >= std::chrono::milliseconds{300} &&
        route != route_reported) {
      // The dedicated link coming up first is how it should be, not news.
      if (!(route_reported.empty() && route == "peer-link")) {
        const std::string who = std::string("SP-") + spLetter(peer);
        const bool dedicated = route == "peer-link";
        config_service.recordEvent(
            makeEvent(message::kStateChanged, {"PeerLink", route}, managerUri(c.sp),
                      dedicated ? "OK" : "Warning", c.sp,
                      dedicated ? "The peer link to " + who + " runs over the dedicated link again."
                                : "The peer link to " + who + " runs over the " + route +
                                      " network: the dedicated link does not answer."));
      }
      route_reported = route;
    }
    Role role = service->role();
    if (role != event_role && (role == Role::Active || role == Role::Passive)) {
      std::string detail = std::string("SP-") + spLetter(c.sp) + " is now " +
                           std::string(roleName(role)) + " (epoch " +
                           std::to_string(service->epoch()) + ")";
      if (role == Role::Active && event_role == Role::Passive)
        detail += alive ? "; the peer handed the role over" : "; took over from its peer";
      config_service.recordEvent(makeEvent(message::kStateChanged,
                                           {managerUri(c.sp), std::string(roleName(role))},
                                           managerUri(c.sp), "OK", c.sp, detail + "."));
      event_role = role;
    }
    if (alive != event_peer_alive) {
      config_service.recordEvent(makeEvent(
          message::kStateChanged, {managerUri(peer), alive ? "Enabled" : "UnavailableOffline"},
          managerUri(peer), alive ? "OK" : "Warning", c.sp,
          alive ? std::string("Heartbeats from SP-") + spLetter(peer) + " arrive again."
                : std::string("Lost the heartbeats of SP-") + spLetter(peer) + " on every path."));
      event_peer_alive = alive;
    }
    auto now_tp = std::chrono::steady_clock::now();
    if (!alive || link_up) link_down_since = now_tp;
    const uint64_t auth_failures = link ? link->authenticationFailures() : 0;
    if (link_up) auth_failures_while_up = auth_failures;
    bool partitioned = link_configured && now_tp - link_down_since > std::chrono::milliseconds{500};
    if (partitioned != partition_reported) {
      std::string detail = std::string("The peer link to SP-") + spLetter(peer);
      if (partitioned) {
        detail +=
            " is down on every route while its heartbeats still arrive: configuration changes "
            "are refused (nothing is applied) until it returns, since they could not be "
            "written on both SPs.";
        // The likeliest cause an administrator can fix: the boards hold different keys.
        if (uint64_t refused = auth_failures - auth_failures_while_up; refused > 0) {
          detail += " " + std::to_string(refused) + " of its frames were refused for a bad " +
                    "MAC: the two SPs do not hold the same pair key.";
        }
      } else {
        detail += " is back.";
      }
      config_service.recordEvent(
          makeEvent(partitioned ? message::kErrorsDetected : message::kErrorsCorrected,
                    {"PeerLink", "LinkDown"}, managerUri(c.sp), partitioned ? "Warning" : "OK",
                    c.sp, detail));
      // The event is recorded once the two SPs can write it together again: meanwhile the
      // alarm is a fault of this SP, shown at once in its Manager resource.
      // (The status board keeps 160 characters of a fault's text: the short form.)
      std::string fault_text = std::string("Peer link to SP-") + spLetter(peer) +
                               " down on every route; changes refused.";
      if (uint64_t refused = auth_failures - auth_failures_while_up; refused > 0)
        fault_text += " Frames refused for a bad MAC: the SPs do not hold the same pair key.";
      monitor.setFirmwareFault("peer-link", partitioned ? std::optional<Fault>(Fault{
                                                              "firmware:peer-link",
                                                              std::string(message::kErrorsDetected),
                                                              fault_text, Health::Warning})
                                                        : std::nullopt);
      partition_reported = partitioned;
    }
    // The heartbeat paths the peer is silent on while it is heard on others, named again
    // whenever the set changes and stays changed (paths heal one by one in a moment).
    std::string silent = silent_reported;  // a dead peer changes nothing here
    if (alive && board_now) {
      silent.clear();
      for (size_t i = 0; i < heartbeat::kPathCount; ++i) {
        const uint8_t bit = static_cast<uint8_t>(1u << i);
        if ((board_now->paths_configured & bit) && !(board_now->paths_alive & bit))
          silent += (silent.empty() ? "" : ", ") +
                    std::string(heartbeat::pathName(static_cast<heartbeat::Path>(i)));
      }
    }
    if (silent != silent_candidate) {
      silent_candidate = silent;
      silent_since = now_tp;
    }
    if (silent != silent_reported && now_tp - silent_since >= std::chrono::milliseconds{200}) {
      const std::string who = std::string("SP-") + spLetter(peer);
      config_service.recordEvent(
          silent.empty() ? makeEvent(message::kErrorsCorrected, {"HeartbeatPaths", "Partition"},
                                     managerUri(c.sp), "OK", c.sp,
                                     "Every heartbeat path carries " + who + "'s heartbeats again.")
                         : makeEvent(message::kErrorsDetected, {"HeartbeatPaths", "Partition"},
                                     managerUri(c.sp), "Warning", c.sp,
                                     who + " is alive but its heartbeats are silent on: " + silent +
                                         "; roles unchanged."));
      silent_reported = silent;
    }
  };

  int exit_code = 0;
  for (;;) {
    timespec timeout{0, 100 * 1000 * 1000};
    int sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig == SIGTERM || sig == SIGINT) {
      LOG_NOTICE << "received " << strsignal(sig) << "; shutting down";
      break;
    }
    web.poll();
    if (web.crashLooping())
      monitor.setFirmwareFault(
          "web-crash-loop",
          Fault{"firmware:web-crash-loop", "ResourceEvent.1.4.3.ResourceErrorThresholdExceeded",
                "The full web server crashed " + std::to_string(Supervisor::kCrashLoopCount) +
                    " times within " + std::to_string(Supervisor::kCrashLoopWindow.count()) +
                    " s; serving the degraded web server.",
                Health::Critical});
    {
      std::lock_guard lock(fault_mu);
      for (auto& [id, fault] : store_faults) monitor.setFirmwareFault(id, std::move(fault));
      store_faults.clear();
    }
    HealthReport now = monitor.evaluate();
    if (now != health) {
      logHealthChange(health, now);
      recordHealthEvents(config_service, c.sp, health, now);
      service->setHealth(now.health);
      service->setFaults(snapshotFaults(now));
      health = now;
      web.setMode(modeFor(health));
    }
    recordArrayEvents();
    config_service.tick();
    if (restart_requested) {
      std::lock_guard lock(restart_mu);
      LOG_NOTICE << "restarting the SP firmware: " << restart_reason;
      if (service->role() == Role::Active)
        handOverBeforeRestart(*service, [&read_board] {
          auto b = read_board();
          return b && b->peer_alive && b->peer_role == Role::Active;
        });
      break;
    }
  }

  if (bus) bus->stop();
  delivery.stop();
  config_service.stop();
  asio::post(peer_io, [&link] { link->stop(); });
  peer_work.reset();
  peer_io.stop();
  peer_thread.join();
  service->stop();
  if (floating->held()) {
    auto s = floating->remove();
    if (s.ok)
      LOG_NOTICE << "released the floating address " << floating->describe() << " on shutdown";
    else
      LOG_ERROR << "cannot release the floating address on shutdown: " << s.error;
  }
  web.stop(std::chrono::milliseconds{2000});
  if (restart_requested) {
    // Every socket and segment must be closed before the new image binds them again.
    bus.reset();
    link.reset();
    service.reset();
    board.reset();
    LOG_NOTICE << "spd re-executing " << self_exe;
    // The new image starts like a freshly booted board: new boot id, election from scratch.
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, nullptr);
    execl(self_exe.c_str(), self_exe.c_str(), "--config", config_path.c_str(),
          static_cast<char*>(nullptr));
    LOG_CRITICAL << "cannot re-execute " << self_exe << ": " << strerror(errno);
    return 1;
  }
  LOG_NOTICE << "spd stopped";
  return exit_code;
}

}  // namespace dualsp::sp
