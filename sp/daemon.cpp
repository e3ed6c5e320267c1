#include "sp/daemon.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "heartbeat/heartbeat_service.hpp"
#include "ipc/local_bus.hpp"
#include "ipc/peer_channel.hpp"
#include "ipc/status_board.hpp"
#include "platform/log.hpp"
#include "platform/redfish/generated/registries/resource_event.hpp"
#include "sp/account_service.hpp"
#include "sp/array_events.hpp"
#include "sp/boot_counter.hpp"
#include "sp/channel_transport.hpp"
#include "sp/command_router.hpp"
#include "sp/commands/commands.hpp"
#include "sp/config_service.hpp"
#include "sp/daemon_options.hpp"
#include "sp/epoch_store.hpp"
#include "sp/event_delivery.hpp"
#include "sp/events.hpp"
#include "sp/floating_settings.hpp"
#include "sp/health_events.hpp"
#include "sp/health_monitor.hpp"
#include "sp/idempotency.hpp"
#include "sp/storage_service.hpp"
#ifdef DUALSP_SPWEB_TLS
#include "sp/https_certificate.hpp"
#endif
#include "sp/peer_commands.hpp"
#include "sp/platform_choice.hpp"
#include "sp/restart.hpp"
#include "sp/supervisor.hpp"

namespace dualsp::sp {
namespace {

// Signals are taken synchronously by the main thread only; every other thread blocks them.
sigset_t blockSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

// A handler that throws fails that one piece of work, not spd: asio's run() may be called
// again after an exception left it.
void runHandlers(asio::io_context& io, const char* what) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      LOG_ERROR << what << ": a handler failed: " << e.what() << "; carrying on";
    }
  }
}

// spweb's identity, as spd shares the status board and its bus request queue with it (and
// answers its reply queues): only when spd runs as root, since only root can give a segment
// to another group and only a root spweb drops to that identity (docs/SECURITY.md "What runs
// as whom"). Not root (a developer's run): everything stays 0600 and spweb keeps spd's user.
std::optional<platform::UnixIdentity> webShare(const Settings& c) {
  if (::geteuid() != 0) return std::nullopt;
  return c.web.identity;
}

// spd's parts, built in the order they are declared (so destroyed in the reverse order): the
// platform and health, the election, the commands and the peer link, the replicated
// configuration store, event delivery, then the local bus and spweb.
class Daemon {
 public:
  Daemon(const Settings& c, std::string boot_id, uint64_t boot_counter, std::string self_exe,
         std::string initial_admin_hash)
      : c_(c),
        boot_id_(std::move(boot_id)),
        boot_counter_(boot_counter),
        self_exe_(std::move(self_exe)),
        initial_admin_hash_(std::move(initial_admin_hash)),
        epochs_(c.state_dir) {}
  bool buildPlatform();
  bool buildElection();
  void buildCommands();
  void buildConfigService();
  void startServing();
  enum class Exit { Signal, Restart };
  Exit run(const sigset_t& signals);
  void shutDown();
  void release();  // before a re-exec: every socket and segment closed
  HandOverControl handOverControl();

 private:
  std::optional<ipc::StatusSnapshot> readBoard() {
    std::lock_guard lock(board_mu_);  // the reader keeps state between reads
    return own_board_->read();
  }
  bool peerAlive() {
    auto b = readBoard();
    return b && b->peer_alive;
  }
  void onManagementNetwork(const ConfigRecord& record);
  void turn();
  void followHealth();
  void recordArrayEvents();
  void startAccounts();
  void startStorage();
  void startIdempotency();
  void startHttpsCertificate();

  const Settings& c_;
  const std::string boot_id_;
  const uint64_t boot_counter_;
  const std::string self_exe_;
  const std::string initial_admin_hash_;  // read and checked once, by spd_main
  EpochStore epochs_;
  uint64_t start_epoch_ = 0;  // as read at start-up
  std::unique_ptr<RetargetableFloatingAddress> floating_;
  std::unique_ptr<platform::Fencer> fencer_;
  std::unique_ptr<ipc::StatusBoardWriter> board_;
  ipc::StatusSnapshot tmpl_;
  std::unique_ptr<platform::Hardware> hardware_;
  std::unique_ptr<HealthMonitor> monitor_;
  HealthReport health_;
  std::string key_;
  std::unique_ptr<heartbeat::HeartbeatService> service_;
  std::unique_ptr<ipc::StatusBoardReader> own_board_;
  std::mutex board_mu_;
  RestartRequest restart_;
  CommandContext ctx_;
  CommandRegistry registry_;
  PeerCommandRegistry peer_registry_{registry_};  // only for requests on the peer link
  asio::io_context peer_io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> peer_work_;
  std::unique_ptr<ipc::PeerChannel> link_;
  std::unique_ptr<ChannelTransport> transport_;        // the configuration service's
  std::unique_ptr<ChannelTransport> query_transport_;  // the router's
  std::unique_ptr<CommandRouter> router_;
  // The configuration store's faults reach the health monitor through the main loop (the
  // monitor belongs to that thread).
  std::mutex fault_mu_;
  std::vector<std::pair<std::string, std::optional<Fault>>> store_faults_;
  std::unique_ptr<ConfigService> config_service_;
  std::unique_ptr<AccountService> accounts_;
  std::unique_ptr<platform::DataPath> data_path_;  // before storage_, which uses it
  std::unique_ptr<StorageService> storage_;
  // storage_ once started, for the configuration worker's volume listener.
  std::atomic<StorageService*> volume_listener_{nullptr};
  std::unique_ptr<idempotency::IdempotencyService> idempotency_;
#ifdef DUALSP_SPWEB_TLS
  std::unique_ptr<HttpsCertificate> https_;  // null: HTTPS off, or no pair key
#endif
  ManagementNetwork network_;
  std::unique_ptr<EventDelivery> delivery_;
  std::thread peer_thread_;
  std::unique_ptr<ipc::LocalBusServer> bus_;
  std::unique_ptr<Supervisor> web_;
  std::unique_ptr<ArrayEvents> array_events_;
};

bool Daemon::buildPlatform() {
  std::string problem;
  start_epoch_ = epochs_.load(problem);
  if (!problem.empty()) LOG_ERROR << problem;
  LOG_INFO << "epoch " << start_epoch_ << " read from " << epochs_.path();

  floating_ = std::make_unique<RetargetableFloatingAddress>(makeFloating(c_));
  try {
    fencer_ = makeFencer(c_);
  } catch (const std::exception& e) {
    LOG_ERROR << "cannot set up fencing: " << e.what();
    return false;
  }
  if (floating_->held()) {
    LOG_WARNING << "found the floating address " << floating_->describe()
                << " on this SP at start-up; removing it until the election decides";
    auto s = floating_->remove();
    if (!s.ok) LOG_ERROR << "cannot remove it: " << s.error;
  }
  if (!c_.peer.link_address.empty() || !c_.peer.management_address.empty())
    LOG_INFO << "peer " << spName(peerOf(c_.sp)) << " expected at peer link "
             << (c_.peer.link_address.empty() ? "-" : c_.peer.link_address) << ", management "
             << (c_.peer.management_address.empty() ? "-" : c_.peer.management_address);
  try {
    board_ = std::make_unique<ipc::StatusBoardWriter>(ipc::statusBoardName(c_.array_id, c_.sp),
                                                      webShare(c_));
  } catch (const std::exception& e) {
    LOG_CRITICAL << "cannot create the status board: " << e.what();
    return false;
  }
  tmpl_ = boardTemplate(c_, boot_id_, static_cast<uint32_t>(getpid()), wallMillis());

  // Health first: the election and the web server start from the SP's real state.
  hardware_ = makeHardware(c_);
  monitor_ = std::make_unique<HealthMonitor>(hardware_.get(), c_.management.interface, hasCarrier);
  health_ = monitor_->evaluate();
  logHealthChange(HealthReport{}, health_);

  // The pair key signs every heartbeat (both networks and the midplane) and every peer-link
  // frame. spd_main checked it before start-up; it may have gone since.
  std::string key_error;
  key_ = readPairKey(c_.peer_link.key_file, key_error);
  if (key_.empty()) {
    LOG_CRITICAL << key_error << "; no election without the pair key";
    return false;
  }
  return true;
}

bool Daemon::buildElection() {
  try {
    auto options = serviceOptions(c_, boot_id_, start_epoch_);
    options.initial_health = health_.health;
    options.boot_counter = boot_counter_;
    options.peer.key = key_;
    options.mgmt.key = key_;
    options.midplane.key = key_;
    service_ = std::make_unique<heartbeat::HeartbeatService>(
        options, heartbeat::ServiceDependencies{*floating_, *fencer_,
                                                [this](uint64_t e) { return epochs_.save(e); },
                                                *board_, tmpl_, hasCarrier});
  } catch (const std::exception& e) {
    LOG_CRITICAL << "cannot start the heartbeat service: " << e.what();
    return false;
  }
  service_->setFaults(snapshotFaults(health_));
  return true;
}

// The registry, the peer link and the router between them.
void Daemon::buildCommands() {
  own_board_ = std::make_unique<ipc::StatusBoardReader>(ipc::statusBoardName(c_.array_id, c_.sp),
                                                        webShare(c_));
  ctx_.self = c_.sp;
  ctx_.log_file = c_.state_dir + "/log/spd.log";
  ctx_.hardware = hardware_.get();
  ctx_.status = [this] { return readBoard(); };
  ctx_.force_failover = [this] { return service_->forceFailover(); };
  ctx_.hand_over_gap = [this] { return service_->handOverGap(); };
  ctx_.restart = [this](const std::string& why) { restart_.request(why); };
  registerAllCommands(registry_, ctx_);

  peer_work_.emplace(asio::make_work_guard(peer_io_));
  link_ = std::make_unique<ipc::PeerChannel>(
      peer_io_, peerRoutes(c_, key_),
      commandHandler(peer_io_, [this](proto::Command command, Reply reply) {
        dispatchFromPeer(peer_registry_, *router_, std::move(command), std::move(reply));
      }));
  link_->epoch = [this] { return service_->epoch(); };
  auto peer_alive = [this] { return peerAlive(); };
  transport_ = std::make_unique<ChannelTransport>(peer_io_, *link_, peer_alive, false);
  query_transport_ = std::make_unique<ChannelTransport>(peer_io_, *link_, peer_alive, true);
  router_ = std::make_unique<CommandRouter>(
      c_.sp, registry_, *query_transport_, c_.peer_link.request_timeout,
      [this](const proto::Command& command) -> std::optional<proto::CommandResult> {
        auto board = readBoard();
        if (!board || command.name() != "GetSpStatus") return std::nullopt;
        return peerStatusFromHeartbeats(*board);
      });
  router_->setStaleAfter(c_.peer_link.stale_after, [this](std::chrono::milliseconds delay,
                                                          std::function<void()> work) {
    auto timer = std::make_shared<asio::steady_timer>(peer_io_, delay);
    timer->async_wait([timer, work = std::move(work)](const asio::error_code& ec) {
      if (!ec) work();
    });
  });
}

// The replicated configuration store and event log, then the election (which publishes how
// far this SP's history reaches from its first heartbeat on).
void Daemon::buildConfigService() {
  ConfigServiceDependencies deps;
  deps.self = c_.sp;
  deps.role = [this] { return service_->role(); };
  deps.epoch = [this] { return service_->epoch(); };
  deps.peer_alive = [this] { return peerAlive(); };
  deps.peer_reachable = [this] { return link_->healthyNow(); };
  deps.publish_history = [this](const History& h) { service_->setHistory(h); };
  deps.peer_history = [this] { return service_->peerHistory(); };
  deps.history_publishable = [this] { return service_->historyPublishable(); };
  deps.peer_history_readable = [this] { return service_->peerHistoryReadable(); };
  deps.peer = transport_.get();
  deps.forward = [this](proto::Command command, Reply reply) {
    router_->dispatch(std::move(command), std::move(reply));
  };
  deps.wall_ms = wallMillis;
  deps.fault = [this](const std::string& id, bool raised, const std::string& message_id,
                      const std::string& text, Health severity) {
    std::lock_guard lock(fault_mu_);
    if (raised)
      store_faults_.emplace_back(id, Fault{"firmware:" + id, message_id, text, severity});
    else
      store_faults_.emplace_back(id, std::nullopt);
  };
  // A restarted peer may hold less than before (a torn journal tail): resync it.
  deps.peer_session = [this] {
    auto b = readBoard();
    return std::string(b ? b->peer_boot_id : "");
  };
  config_service_ =
      std::make_unique<ConfigService>(c_.state_dir + "/config", deps, configServiceOptions(c_));
  config_service_->registerCommands(registry_, peer_registry_);
  // The management network: the configuration file's address until an administrator sets
  // another; a change moves the floating address (on the active SP at once).
  network_ = ManagementNetwork{c_.floating.address, c_.floating.prefix_length, ""};
  config_service_->setDefault("network/management", managementNetworkJson(network_));
  config_service_->onChange("network/management",
                            [this](const ConfigRecord& r) { onManagementNetwork(r); });
  // Registered before the service starts (its worker calls listeners); storage_ comes later.
  config_service_->onChange(std::string(storage::kVolumePrefix), [this](const ConfigRecord& r) {
    if (StorageService* s = volume_listener_.load()) s->onVolumeRecord(r);
  });
  startHttpsCertificate();
  config_service_->start();
  startAccounts();
  startStorage();
  startIdempotency();
#ifdef DUALSP_SPWEB_TLS
  if (https_) https_->install();  // before spweb starts (startServing)
#endif
  // A peer deciding the start-up tie-break must not take an unknown history for an empty one.
  service_->setInitialHistory(config_service_->history());
  service_->start();
}

// Accounts and sessions live in the store; their service verifies passwords on a thread of
// its own (docs/SECURITY.md "Accounts and sessions").
void Daemon::startAccounts() {
  AccountService::Dependencies deps;
  deps.self = c_.sp;
  deps.list = [this](const std::string& prefix) { return config_service_->list(prefix); };
  deps.write = [this](proto::Command command, Reply reply) {
    registry_.find("ConfigWrite")->handler(command, std::move(reply));
  };
  deps.record_event = [this](proto::Event e) { config_service_->recordEvent(std::move(e)); };
  deps.wall_ms = wallMillis;
  deps.now = [] { return std::chrono::steady_clock::now(); };
  // Failure counts to the peer, fire and forget: a peer that is not heard is not asked.
  deps.tell_peer = [this](proto::Command command) {
    if (!query_transport_->usable()) return;
    constexpr std::chrono::milliseconds kDeadline{1000};
    command.set_deadline_ms(static_cast<uint32_t>(kDeadline.count()));
    query_transport_->send(command, kDeadline, [name = command.name()](PeerTransport::Answer a) {
      if (!a.result || a.result->status() != proto::CommandResult::OK)
        LOG_DEBUG << "accounts: " << name << " not taken by the peer";
    });
  };
  if (initial_admin_hash_.empty() && config_service_->list("accounts/").empty())
    LOG_WARNING << "no account exists and " << c_.accounts.initial_password_file
                << " is missing: nobody can log in until the first administrator is provisioned"
                   " (docs/SECURITY.md)";
  accounts_ = std::make_unique<AccountService>(
      AccountSettings{c_.accounts.initial_admin, c_.accounts.initial_password_file},
      initial_admin_hash_, deps);
  accounts_->registerCommands(registry_, &peer_registry_);
  accounts_->start();
}

// The array's pools and volumes (docs/STORAGE.md): in the store, changed on the active SP.
void Daemon::startStorage() {
  StorageService::Dependencies deps;
  deps.list = [this](const std::string& prefix) { return config_service_->list(prefix); };
  deps.write = [this](proto::Command command, Reply reply) {
    registry_.find("ConfigWrite")->handler(command, std::move(reply));
  };
  // No hardware description (a bare sim SP): no shelf, no drives.
  deps.drives = [this] {
    return hardware_ ? hardware_->drives() : std::vector<platform::DriveInfo>{};
  };
  deps.ports = [this] {
    return hardware_ ? hardware_->ports() : std::vector<platform::FrontEndPortInfo>{};
  };
  deps.version = [this] { return config_service_->lastVersion(); };
  deps.record_event = [this](proto::Event e) { config_service_->recordEvent(std::move(e)); };
  data_path_ = makeDataPath(c_);
  deps.data_path = data_path_.get();
  deps.in_step = [this] { return config_service_->holdsAcknowledgedHistory(); };
  deps.self = c_.sp == SpId::A ? "A" : "B";
  deps.active = [this] { return service_->role() == Role::Active; };
  deps.forward_to_active = [this](const proto::Command& command, Reply reply) {
    config_service_->forwardToActive(command, std::move(reply));
  };
  storage_ = std::make_unique<StorageService>(deps);
  storage_->registerCommands(registry_);
  storage_->start();
  volume_listener_ = storage_.get();
}

// The results of keyed client changes (Idempotency-Key), in the store (sp/idempotency.hpp).
void Daemon::startIdempotency() {
  idempotency::IdempotencyService::Dependencies deps;
  deps.get = [this](const std::string& key) { return config_service_->get(key); };
  deps.list = [this](const std::string& prefix) { return config_service_->list(prefix); };
  deps.write = [this](proto::Command command, Reply reply) {
    registry_.find("ConfigWrite")->handler(command, std::move(reply));
  };
  deps.active = [this] { return service_->role() == Role::Active; };
  deps.forward_to_active = [this](const proto::Command& command, Reply reply) {
    config_service_->forwardToActive(command, std::move(reply));
  };
  deps.wall_ms = wallMillis;
  deps.now = [] { return std::chrono::steady_clock::now(); };
  idempotency_ = std::make_unique<idempotency::IdempotencyService>(deps);
  idempotency_->registerCommands(registry_);
}

// The array's HTTPS certificate, shared by both SPs through the store (sp/https_certificate).
void Daemon::startHttpsCertificate() {
#ifdef DUALSP_SPWEB_TLS
  if (c_.web.https_port == 0) return;
  if (key_.empty()) {
    LOG_WARNING << "no pair key: the SPs cannot share an HTTPS certificate; spweb serves one "
                   "of this SP's own ("
                << c_.web.tls_certificate << ")";
    return;
  }
  HttpsCertificate::Dependencies deps;
  deps.self = c_.sp;
  deps.list = [this](const std::string& prefix) { return config_service_->list(prefix); };
  deps.write = [this](proto::Command command, Reply reply) {
    registry_.find("ConfigWrite")->handler(command, std::move(reply));
  };
  deps.active = [this] { return service_->role() == Role::Active; };
  https_ = std::make_unique<HttpsCertificate>(c_.web.tls_certificate, key_, "dualsp-" + c_.array_id,
                                              std::vector<std::string>{c_.floating.address}, deps);
  https_->registerCommands(registry_);
  config_service_->onChange(kHttpsCertificateKey,
                            [this](const ConfigRecord& r) { https_->onRecord(r); });
#endif
}

void Daemon::onManagementNetwork(const ConfigRecord& record) {
  if (record.deleted()) return;
  std::string error;
  auto next = parseManagementNetwork(record.value(), error);
  if (!next) {
    LOG_ERROR << "management network setting ignored: " << error;
    return;
  }
  if (next->address == network_.address && next->prefix_length == network_.prefix_length) {
    network_ = *next;
    return;
  }
  Settings moved = c_;
  moved.floating.address = next->address;
  moved.floating.prefix_length = next->prefix_length;
  std::string before = floating_->describe();
  auto s = floating_->retarget(makeFloating(moved));
  if (s.ok)
    LOG_NOTICE << "floating management address moved from " << before << " to "
               << floating_->describe();
  else
    LOG_ERROR << "moving the floating management address to " << next->address
              << " failed: " << s.error;
  network_ = *next;
}

// Event delivery, the peer link's thread, the local bus and spweb; then the array events.
void Daemon::startServing() {
  // Push delivery of new events to EventService subscribers, by the active SP.
  delivery_ = std::make_unique<EventDelivery>(
      EventDelivery::Source{
          [this, warned = std::set<std::string>{},
           created = std::map<std::string, std::pair<Version, uint64_t>>{}]() mutable {
            std::vector<Subscription> out;
            std::map<std::string, std::pair<Version, uint64_t>> current;
            for (const auto& r : config_service_->list("subscriptions/")) {
              std::string error;
              auto sub = parseSubscription(r.key().substr(std::string("subscriptions/").size()),
                                           r.value(), error);
              if (!sub) {
                if (warned.insert(r.key() + toString(versionOf(r))).second)
                  LOG_WARNING << "event delivery: " << error;
                continue;
              }
              // The newest event when it was written: the events after it are its own. Kept
              // per record version (a scan of the event log once per new subscription); a
              // removed subscription's entry goes with the next call.
              const Version v = versionOf(r);
              auto known = created.find(r.key());
              std::pair<Version, uint64_t> entry =
                  known != created.end() && known->second.first == v
                      ? known->second
                      : std::make_pair(v, config_service_->lastEventIdAtOrBefore(v));
              current.emplace(r.key(), entry);
              sub->created_after = entry.second;
              out.push_back(std::move(*sub));
            }
            created = std::move(current);
            return out;
          },
          [this](uint64_t after, size_t max) { return config_service_->eventsAfter(after, max); },
          [this] { return config_service_->activeSince(); },
          [this] { return service_->role() == Role::Active; }},
      deliveryOptions(c_));
  delivery_->start();

  const bool link_configured = !key_.empty() && link_->routeCount() > 0;
  if (link_configured) asio::post(peer_io_, [this] { link_->start(); });
  peer_thread_ = std::thread([this] { runHandlers(peer_io_, "peer link"); });

  try {
    bus_ = std::make_unique<ipc::LocalBusServer>(
        ipc::busRequestQueueName(c_.array_id, c_.sp),
        [this](const proto::Command& command, ipc::LocalBusServer::Reply reply) {
          router_->dispatch(command, std::move(reply));
        },
        webShare(c_));
    bus_->start();
  } catch (const std::exception& e) {
    LOG_CRITICAL << "cannot start the local bus: " << e.what();
  }

  web_ =
      std::make_unique<Supervisor>(findSpweb(c_, self_exe_), spwebArguments(c_, modeFor(health_)));
  web_->on_exit = [this, request_queue = ipc::busRequestQueueName(c_.array_id, c_.sp)](pid_t pid) {
    if (ipc::removeBusReplyQueue(request_queue, pid))
      LOG_INFO << "removed the local-bus reply queue of the ended spweb (pid " << pid << ")";
    // It may have died holding the request queue's lock: start the next one on a fresh queue.
    if (!bus_) return;
    try {
      bus_->recreate();
    } catch (const std::exception& e) {
      LOG_CRITICAL << "cannot recreate the local bus: " << e.what();
    }
  };
  web_->start();

  // Array events seen from here: role, health, faults, the peer and the peer link.
  array_events_ =
      std::make_unique<ArrayEvents>(c_.sp, link_configured, std::chrono::steady_clock::now());
  for (auto& e : startupFaultEvents(c_.sp, health_)) config_service_->recordEvent(std::move(e));
}

Daemon::Exit Daemon::run(const sigset_t& signals) {
  for (;;) {
    timespec timeout{0, 100 * 1000 * 1000};
    int sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig == SIGTERM || sig == SIGINT) {
      LOG_NOTICE << "received " << strsignal(sig) << "; shutting down";
      return Exit::Signal;
    }
    turn();
    if (restart_.pending()) {
      LOG_NOTICE << "restarting the SP firmware: " << restart_.reason();
      return Exit::Restart;
    }
  }
}

// One turn of the main loop: spweb, health, array events, the configuration service's timers.
void Daemon::turn() {
  web_->poll();
  if (web_->crashLooping())
    monitor_->setFirmwareFault(
        "web-crash-loop",
        Fault{"firmware:web-crash-loop",
              std::string(redfish::registries::resource_event::kResourceErrorThresholdExceeded),
              "The full web server crashed " + std::to_string(Supervisor::kCrashLoopCount) +
                  " times within " + std::to_string(Supervisor::kCrashLoopWindow.count()) +
                  " s; serving the degraded web server.",
              Health::Critical});
  {
    std::lock_guard lock(fault_mu_);
    for (auto& [id, fault] : store_faults_) monitor_->setFirmwareFault(id, std::move(fault));
    store_faults_.clear();
  }
  followHealth();
  recordArrayEvents();
  config_service_->tick();
  // A dead peer's volumes to this (active) SP: trespass (docs/STORAGE.md "Owners").
  if (storage_) {
    storage_->tick(peerAlive());
    // What the target back end could not apply: a Warning fault of this SP, raised and
    // cleared with events like any other (docs/STORAGE.md "Data path").
    if (auto problems = storage_->takeDataPathProblems()) {
      std::optional<Fault> fault;
      if (!problems->empty())
        fault = Fault{"firmware:data-path",
                      std::string(redfish::registries::resource_event::kResourceErrorsDetected),
                      "The data path could not apply the array's state: " + problems->front() +
                          (problems->size() > 1 ? " (and " + std::to_string(problems->size() - 1) +
                                                      " more; spd's log has each)"
                                                : ""),
                      Health::Warning};
      monitor_->setFirmwareFault("data-path", std::move(fault));
    }
  }
  if (idempotency_) idempotency_->tick();
#ifdef DUALSP_SPWEB_TLS
  if (https_) {
    https_->tick();
    if (https_->takeFileChanged()) web_->restart("the array's HTTPS certificate changed");
  }
#endif
}

void Daemon::followHealth() {
  HealthReport now = monitor_->evaluate();
  if (now == health_) return;
  logHealthChange(health_, now);
  for (auto& e : healthEvents(c_.sp, health_, now)) config_service_->recordEvent(std::move(e));
  service_->setHealth(now.health);
  service_->setFaults(snapshotFaults(now));
  health_ = now;
  web_->setMode(modeFor(health_));
}

void Daemon::recordArrayEvents() {
  const auto board = readBoard();
  ArraySight s;
  s.now = std::chrono::steady_clock::now();
  s.role = service_->role();
  s.epoch = service_->epoch();
  s.peer_alive = board && board->peer_alive;
  if (board) {
    s.paths_configured = board->paths_configured;
    s.paths_alive = board->paths_alive;
  }
  s.link_up = link_->upNow();
  s.route = link_->routeNow();
  s.route_count = link_->routeCount();
  s.auth_failures = link_->authenticationFailures();
  // The route on the status board, whether or not it is news.
  service_->setPeerLinkRoute(s.route);
  auto changes = array_events_->observe(s);
  for (auto& e : changes.events) config_service_->recordEvent(std::move(e));
  if (changes.peer_link_fault)
    monitor_->setFirmwareFault(ArrayEvents::kPeerLinkFault, *changes.peer_link_fault);
  if (changes.pair_key_fault)
    monitor_->setFirmwareFault(ArrayEvents::kPairKeyFault, *changes.pair_key_fault);
}

void Daemon::shutDown() {
  if (bus_) bus_->stop();
  delivery_->stop();
  volume_listener_ = nullptr;
  if (storage_) storage_->stop();
  if (accounts_) accounts_->stop();
  config_service_->stop();
  asio::post(peer_io_, [this] { link_->stop(); });
  peer_work_.reset();
  peer_io_.stop();
  peer_thread_.join();
  service_->stop();
  if (floating_->held()) {
    auto s = floating_->remove();
    if (s.ok)
      LOG_NOTICE << "released the floating address " << floating_->describe() << " on shutdown";
    else
      LOG_ERROR << "cannot release the floating address on shutdown: " << s.error;
  }
  web_->stop(std::chrono::milliseconds{2000});
}

void Daemon::release() {
  bus_.reset();
  link_.reset();
  service_.reset();
  board_.reset();
}

HandOverControl Daemon::handOverControl() {
  HandOverControl control;
  control.role = [this] { return service_->role(); };
  control.force_failover = [this](std::chrono::milliseconds wait) {
    return service_->forceFailover(wait);
  };
  control.peer_active = [this] {
    auto b = readBoard();
    return b && b->peer_alive && b->peer_role == Role::Active;
  };
  return control;
}

}  // namespace

int runDaemon(const Settings& c, const std::string& settings_path, const std::string& self_exe,
              std::string initial_admin_hash) {
  const std::string boot_id = newBootId();
  LOG_NOTICE << "spd " << DUALSP_FIRMWARE_VERSION << " starting: " << spName(c.sp) << " of array '"
             << c.array_id << "', settings " << settings_path << ", boot id " << boot_id;
  const sigset_t signals = blockSignals();

  // Stored before the first beat: a beat of this boot must never name a counter the next boot
  // could repeat.
  uint64_t boot_counter = 0;
  if (auto s = advanceBootCounter(c.state_dir, boot_counter); !s.ok) {
    LOG_CRITICAL << s.error;
    return 1;
  }
  LOG_INFO << "boot counter " << boot_counter;
  Daemon daemon(c, boot_id, boot_counter, self_exe, std::move(initial_admin_hash));
  if (!daemon.buildPlatform() || !daemon.buildElection()) return 1;
  daemon.buildCommands();
  daemon.buildConfigService();
  daemon.startServing();
  if (daemon.run(signals) == Daemon::Exit::Restart) {
    return restartSp(
        daemon.handOverControl(),
        [&daemon] {
          daemon.shutDown();
          daemon.release();
        },
        self_exe, settings_path);
  }
  daemon.shutDown();
  LOG_NOTICE << "spd stopped";
  return 0;
}

}  // namespace dualsp::sp
