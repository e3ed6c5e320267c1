#include "sp/config_service.hpp"

#include <algorithm>
#include <map>
#include <thread>

#include "ipc/sp_id_proto.hpp"
#include "platform/log.hpp"
#include "sp/events.hpp"
#include "sp/idempotency.hpp"

namespace dualsp::sp {

ConfigService::ConfigService(std::string dir, ConfigServiceDependencies deps,
                             ConfigServiceOptions options)
    : core_(std::move(dir), std::move(deps), options),
      takeover_(core_),
      resync_(core_),
      writer_(core_, takeover_, [this] { return resync_.resyncIfDue(); }),
      forwarder_(core_),
      events_(core_, takeover_, writer_, forwarder_) {}

ConfigService::~ConfigService() {
  stop();
}

void ConfigService::queueStartUpReport() {
  auto report = core_.store.recoveryReport();
  if (!report.clean()) {
    for (const auto& problem : report.problems)
      core_.pending_events.push_back(
          makeEvent(message::kErrorsDetected, {"ConfigurationStore", "RecoveredAtStartUp"},
                    managerUri(core_.deps.self), "Warning", core_.deps.self, problem));
  }
  if (report.needs_peer_copy && core_.deps.fault)
    core_.deps.fault("config-store", true, std::string(message::kErrorsDetected),
                     "The configuration was recovered from an older copy (" + report.describe() +
                         "); changes since may be missing until the peer SP's copy arrives.",
                     Health::Warning);
}

void ConfigService::start() {
  auto status = core_.store.open();
  if (!status.ok) {
    core_.open_error = status.error;
    if (core_.deps.fault)
      core_.deps.fault("config-store", true, std::string(message::kErrorsDetected),
                       "Configuration failed to load: " + status.error, Health::Critical);
  } else {
    core_.loadPoints();
    Version last = core_.store.last();
    core_.synced = core_.has_marker ? std::min(core_.marker, last) : last;
    core_.visible = last;
    LOG_INFO << "configuration: last version " << toString(last) << ", known on both SPs up to "
             << toString(core_.synced) << (core_.has_marker ? " (sync.point)" : "")
             << ", last event " << core_.lastStoredEventId();
    queueStartUpReport();
  }
  core_.startWorker();
  core_.post([this] {
    core_.publishHistory();
    core_.notifyAll();
  });
}

void ConfigService::stop() {
  core_.stopWorker();
}

void ConfigService::onChange(const std::string& prefix, ChangeListener listener) {
  core_.listeners.emplace_back(prefix, std::move(listener));
}

void ConfigService::setDefault(const std::string& key, const std::string& value) {
  std::lock_guard lock(core_.mu);
  core_.defaults[key] = value;
}

ConfigService::Stats ConfigService::stats() const {
  std::lock_guard lock(core_.mu);
  Stats s = core_.stats;
  s.peer_in_sync = core_.peer_in_sync && !core_.peer_needs_full_copy;
  s.last = core_.store.last();
  s.sync_point = core_.synced;
  return s;
}

void ConfigService::tick() {
  core_.post([this] {
    Role role = core_.role();
    if (role != Role::Active && role != Role::Passive) return;
    takeover_.noteRole(role);
    std::string session = core_.deps.peer_session ? core_.deps.peer_session() : "";
    if (session != last_peer_session_) {
      last_peer_session_ = session;
      resync_.resyncSoon();
    }
    if (role != Role::Active) {
      {
        // A passive shows what the active has acknowledged (its history, heard in beats).
        std::lock_guard lock(core_.mu);
        core_.peer_in_sync = false;
        if (core_.deps.peer_history) {
          if (auto reach = core_.deps.peer_history())
            core_.visible =
                std::min(core_.store.last(), std::max(core_.visible, versionOfHistory(*reach)));
        }
      }
      events_.flush(role);
      return;
    }
    bool behind = false;
    {
      std::lock_guard lock(core_.mu);
      behind = !core_.peer_in_sync || core_.peer_needs_full_copy;
    }
    if (behind && core_.peerAlive() && core_.peerReachable()) resync_.resyncIfDue();
    events_.flush(role);
  });
}

bool ConfigService::holdsAcknowledgedHistory() const {
  if (core_.role() == Role::Active) return true;
  if (!core_.deps.peer_history) return true;  // no peer to be behind (a lone SP)
  std::optional<History> reach = core_.deps.peer_history();
  return reach && !(core_.store.last() < versionOfHistory(*reach));
}

// ---- Commands ----

void ConfigService::handleWrite(const proto::Command& command, Reply reply) {
  proto::ConfigWrite change;
  if (!change.ParseFromString(command.payload()))
    return reply(errorResult(proto::CommandResult::BAD_REQUEST, "unreadable configuration change"));
  if (change.records().empty() && !change.has_event())
    return reply(errorResult(proto::CommandResult::BAD_REQUEST, "an empty configuration change"));
  for (const auto& r : change.records())
    if (r.key().empty() && change.create_prefix().empty())
      return reply(errorResult(proto::CommandResult::BAD_REQUEST, "a record without a key"));
  // Accounts, sessions and the HTTPS certificate are written by their services only (a
  // route's mistake must not overwrite a password hash); they mark their writes.
  auto marked = command.args().find("private");
  bool from_service = marked != command.args().end() && marked->second == "1";
  for (const auto& r : change.records())
    if (!from_service && isServiceOwnedKey(r.key().empty() ? change.create_prefix() : r.key()))
      return reply(errorResult(proto::CommandResult::FORBIDDEN,
                               "accounts, sessions, the HTTPS certificate and the array's storage "
                               "are changed through their own commands"));
  // A client request's Idempotency-Key: the change records that it was applied, atomically.
  if (std::optional<proto::IdempotencyMarker> marker = idempotency::markerOf(command)) {
    if (!idempotency::validHash(marker->id()) || !idempotency::validHash(marker->fp()) ||
        marker->attempt().empty())
      return reply(
          errorResult(proto::CommandResult::BAD_REQUEST, "a malformed idempotency marker"));
    *change.mutable_idempotency() = std::move(*marker);
  }
  if (!core_.store.isOpen())
    return reply(errorResult(
        proto::CommandResult::UNAVAILABLE,
        "the configuration store of " + core_.selfName() + " is not open: " + core_.open_error));
  const auto arrived = std::chrono::steady_clock::now();
  Role role = core_.role();
  // An SP taking over already holds the floating address: a client's change can reach it
  // a moment before the role is settled. Wait for that moment (bounded) rather than bounce it.
  for (int i = 0; i < 50 && role == Role::TakingOver; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
    role = core_.role();
  }
  if (role != Role::Active) return forwarder_.forwardWrite(command, role, std::move(reply));
  core_.post([this, change = std::move(change), deadline = arrived + core_.options.change_wait,
              reply = std::move(reply)]() mutable {
    writer_.writeAsActive(std::move(change), deadline, std::move(reply));
  });
}

void ConfigService::forwardToActive(const proto::Command& command, Reply reply) {
  forwarder_.forwardWrite(command, core_.role(), std::move(reply));
}

uint64_t ConfigService::lastEventIdAtOrBefore(Version v) const {
  uint64_t id = 0;
  for (const ConfigRecord& r : core_.store.list(kEventPrefix))
    if (!r.deleted() && versionOf(r) <= v) id = std::max(id, eventIdOf(r.key()));
  return id;
}

void ConfigService::handleGetConfig(const proto::Command& c, Reply reply) const {
  auto it = c.args().find("prefix");
  std::string prefix = it == c.args().end() ? "" : it->second;
  if (!core_.store.isOpen())
    return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                             "the configuration store is not open: " + core_.open_error));
  proto::ConfigRecords out;
  auto records = core_.store.list(prefix);
  std::map<std::string, std::string> defaults;
  {
    std::lock_guard lock(core_.mu);
    defaults = core_.defaults;
  }
  for (const auto& [key, value] : defaults) {
    if (key.rfind(prefix, 0) != 0) continue;
    bool present = std::any_of(records.begin(), records.end(),
                               [&](const ConfigRecord& r) { return r.key() == key; });
    if (present) continue;
    ConfigRecord r;
    r.set_key(key);
    r.set_value(value);
    records.push_back(std::move(r));
  }
  std::sort(records.begin(), records.end(),
            [](const ConfigRecord& a, const ConfigRecord& b) { return a.key() < b.key(); });
  // Password and token hashes never leave spd.
  for (auto& r : records)
    if (!isEventKey(r.key()) && !isPrivateKey(r.key())) *out.add_records() = std::move(r);
  *out.mutable_last() = toProtoVersion(core_.store.last());
  reply(okResult(out.SerializeAsString()));
}

void ConfigService::handleSyncOffer(const proto::Command& c, Reply reply) {
  const auto request = ConfigResync::parseOfferPayload(c.payload());
  core_.post([this, request, reply = std::move(reply)] {
    if (core_.deps.role && core_.deps.role() == Role::Active)
      return reply(errorResult(proto::CommandResult::UNAVAILABLE, "this SP is active itself"));
    if (!core_.store.isOpen())
      return reply(
          errorResult(proto::CommandResult::UNAVAILABLE, "the configuration store is not open"));
    reply(okResult(
        resync_.makeOffer(request.everything, request.after, request.shared).SerializeAsString()));
  });
}

template <typename Message>
Handler ConfigService::parsedOnWorker(const char* unreadable,
                                      std::function<void(const Message&, Reply)> handle) {
  return [this, unreadable, handle](const proto::Command& c, Reply reply) {
    Message m;
    if (!m.ParseFromString(c.payload()))
      return reply(errorResult(proto::CommandResult::BAD_REQUEST, unreadable));
    core_.post([handle, m = std::move(m), reply = std::move(reply)] { handle(m, reply); });
  };
}

void ConfigService::registerCommands(CommandRegistry& clients, PeerCommandRegistry& peers) {
  clients.add({"ConfigWrite",
               [this](const proto::Command& c, Reply reply) { handleWrite(c, std::move(reply)); },
               /*degraded=*/false, Privilege::ConfigureComponents, /*mutating=*/true});
  clients.add(
      {"GetConfig",
       [this](const proto::Command& c, Reply reply) { handleGetConfig(c, std::move(reply)); },
       /*degraded=*/true, Privilege::Login, /*mutating=*/false});
  clients.add({"GetEvents",
               [this](const proto::Command& c, Reply reply) {
                 events_.handleGetEvents(c, std::move(reply));
               },
               /*degraded=*/true, Privilege::Login, /*mutating=*/false});
  peers.add("ConfigReplicate",
            parsedOnWorker<proto::ReplicateRequest>(
                "unreadable replication", [this](const proto::ReplicateRequest& r, Reply reply) {
                  writer_.applyReplicate(r, std::move(reply));
                }));
  peers.add("ConfigSyncOffer",
            [this](const proto::Command& c, Reply reply) { handleSyncOffer(c, std::move(reply)); });
  peers.add("ConfigSyncInstall",
            parsedOnWorker<proto::SyncInstall>("unreadable resync",
                                               [this](const proto::SyncInstall& i, Reply reply) {
                                                 resync_.applyInstall(i, std::move(reply));
                                               }));
}

}  // namespace dualsp::sp
