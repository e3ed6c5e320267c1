#include "sp/config_service.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <memory>

#include "ipc/sp_id_proto.hpp"
#include "platform/log.hpp"
#include "sp/events.hpp"

namespace dualsp::sp {
namespace {

constexpr const char* kMarkerFile = "sync.point";
constexpr const char* kEventPrefix = "events/";
constexpr size_t kMaxEventPage = 1000;
constexpr size_t kDefaultEventPage = 100;
constexpr size_t kMaxPendingEvents = 1000;
constexpr std::chrono::milliseconds kMaxResyncBackoff{1000};

bool isEventKey(const std::string& key) {
  return key.rfind(kEventPrefix, 0) == 0;
}

std::string eventKey(uint64_t id) {
  char buf[48];
  snprintf(buf, sizeof buf, "events/%020llu", static_cast<unsigned long long>(id));
  return buf;
}

// The disk, not the request, refused the write.
bool isStorageError(const std::string& error) {
  for (const char* text : {strerror(ENOSPC), strerror(EFBIG), strerror(EDQUOT), strerror(EROFS)})
    if (error.find(text) != std::string::npos) return true;
  return false;
}

proto::Version toProtoVersion(Version v) {
  proto::Version out;
  out.set_epoch(v.epoch);
  out.set_seq(v.seq);
  return out;
}

Version fromProtoVersion(const proto::Version& v) {
  return {v.epoch(), v.seq()};
}

proto::CommandResult okResult(const std::string& payload) {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_payload(payload);
  return r;
}

uint64_t argNumber(const proto::Command& c, const std::string& name, uint64_t fallback) {
  auto it = c.args().find(name);
  if (it == c.args().end() || it->second.empty()) return fallback;
  try {
    return std::stoull(it->second);
  } catch (const std::exception&) {
    return fallback;
  }
}

std::string shortValue(const ConfigRecord& r) {
  if (r.deleted()) return "(removed)";
  std::string v = r.value();
  if (v.size() > 80) v = v.substr(0, 77) + "...";
  return v;
}

// The merge's deterministic order of two writes of one key: the newer version wins; two
// equal versions (each SP stamped its own seq) go to SP-A.
bool newerWrite(const ConfigRecord& a, const ConfigRecord& b) {
  if (versionOf(a) != versionOf(b)) return versionOf(b) < versionOf(a);
  return a.writer() == proto::SP_A && b.writer() != proto::SP_A;
}

bool sameContent(const ConfigRecord& a, const ConfigRecord& b) {
  return a.deleted() == b.deleted() && (a.deleted() || a.value() == b.value());
}

}  // namespace

ConfigService::ConfigService(std::string dir, ConfigServiceDependencies deps,
                             ConfigServiceOptions options)
    : dir_(std::move(dir)),
      deps_(std::move(deps)),
      options_(options),
      store_(dir_, options.snapshot_every),
      resync_backoff_(options.resync_interval) {}

ConfigService::~ConfigService() {
  stop();
}

void ConfigService::start() {
  auto status = store_.open();
  if (!status.ok) {
    open_error_ = status.error;
    if (deps_.fault)
      deps_.fault("config-store", true, std::string(message::kErrorsDetected),
                  "Configuration failed to load: " + status.error, Health::Critical);
  } else {
    std::ifstream in(dir_ + "/" + kMarkerFile);
    uint64_t epoch = 0, seq = 0;
    char dot = 0;
    if (in >> epoch >> dot >> seq && dot == '.') {
      has_marker_ = true;
      marker_ = {epoch, seq};
    }
    Version last = store_.last();
    synced_ = has_marker_ ? std::min(marker_, last) : last;
    visible_ = last;
    auto report = store_.recoveryReport();
    LOG_INFO << "configuration: last version " << toString(last) << ", known on both SPs up to "
             << toString(synced_) << (has_marker_ ? " (sync.point)" : "");
    if (!report.clean()) {
      for (const auto& problem : report.problems)
        pending_events_.push_back(
            makeEvent(message::kErrorsDetected, {"ConfigurationStore", "RecoveredAtStartUp"},
                      managerUri(deps_.self), "Warning", deps_.self, problem));
    }
    if (report.needs_peer_copy && deps_.fault)
      deps_.fault("config-store", true, std::string(message::kErrorsDetected),
                  "The configuration was recovered from an older copy (" + report.describe() +
                      "); changes since may be missing until the peer SP's copy arrives.",
                  Health::Warning);
  }
  worker_ = std::thread([this] { workerLoop(); });
  post([this] { notifyAll(); });
}

void ConfigService::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void ConfigService::post(Job job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void ConfigService::workerLoop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

void ConfigService::onChange(const std::string& prefix, ChangeListener listener) {
  listeners_.emplace_back(prefix, std::move(listener));
}

void ConfigService::setDefault(const std::string& key, const std::string& value) {
  std::lock_guard lock(mu_);
  defaults_[key] = value;
}

std::optional<ConfigRecord> ConfigService::get(const std::string& key) const {
  return store_.get(key);
}

std::vector<ConfigRecord> ConfigService::list(const std::string& prefix) const {
  return store_.list(prefix);
}

Version ConfigService::visibleVersion() const {
  std::lock_guard lock(mu_);
  return visible_;
}

std::vector<proto::Event> ConfigService::eventsAfter(uint64_t after, size_t max) const {
  const Version visible = visibleVersion();
  std::vector<proto::Event> out;
  for (const auto& r : store_.listAfter(kEventPrefix, after ? eventKey(after) : "", max)) {
    if (visible < versionOf(r)) break;
    proto::Event e;
    if (e.ParseFromString(r.value())) out.push_back(std::move(e));
  }
  return out;
}

uint64_t ConfigService::lastEventId() const {
  const Version visible = visibleVersion();
  uint64_t last = 0;
  for (const auto& r : store_.list(kEventPrefix)) {
    if (visible < versionOf(r)) break;
    last = versionOf(r).seq;
  }
  return last;
}

ConfigService::Stats ConfigService::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.peer_in_sync = peer_in_sync_;
  s.last = store_.last();
  s.sync_point = synced_;
  return s;
}

Version ConfigService::nextVersion(Version after) const {
  uint64_t epoch = deps_.epoch ? deps_.epoch() : 0;
  return {std::max(epoch, after.epoch), after.seq + 1};
}

ConfigRecord ConfigService::eventRecord(proto::Event event, Version v) {
  event.set_id(v.seq);
  if (event.time_ms() == 0 && deps_.wall_ms) event.set_time_ms(deps_.wall_ms());
  if (event.reported_by() == proto::SP_UNKNOWN) event.set_reported_by(ipc::toProto(deps_.self));
  ConfigRecord r;
  r.set_key(eventKey(v.seq));
  r.set_value(event.SerializeAsString());
  *r.mutable_version() = toProtoVersion(v);
  r.set_writer(ipc::toProto(deps_.self));
  return r;
}

void ConfigService::notifyListeners(const std::vector<ConfigRecord>& records) {
  for (const auto& record : records)
    for (const auto& [prefix, listener] : listeners_)
      if (record.key().rfind(prefix, 0) == 0) listener(record);
}

void ConfigService::notifyAll() {
  if (!store_.isOpen()) return;
  for (const auto& [prefix, listener] : listeners_)
    for (const auto& record : store_.list(prefix)) listener(record);
}

platform::Status ConfigService::saveSyncPoint(Version v) {
  std::string path = dir_ + "/" + kMarkerFile;
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return platform::Status::failure("open " + tmp + ": " + strerror(errno));
  std::string text = toString(v) + "\n";
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int err = errno;
  if (ok && fsync(fd) != 0) {
    ok = false;
    err = errno;
  }
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) err = errno;
    unlink(tmp.c_str());
    return platform::Status::failure("write " + path + ": " + strerror(err));
  }
  has_marker_ = true;
  marker_ = v;
  return platform::Status::success();
}

void ConfigService::clearSyncPoint() {
  if (!has_marker_) return;
  unlink((dir_ + "/" + kMarkerFile).c_str());
  has_marker_ = false;
}

Version ConfigService::syncPoint() const {
  Version last = store_.last();
  return has_marker_ ? std::min(marker_, last) : last;
}

void ConfigService::storageFault(const platform::Status& status) {
  storage_fault_ = true;
  if (deps_.fault)
    deps_.fault("config-storage", true, std::string(message::kInsufficientStorage),
                "A configuration change was refused by the disk: " + status.error, Health::Warning);
}

proto::Command ConfigService::peerCommand(const std::string& name, const std::string& payload,
                                          std::chrono::milliseconds deadline) const {
  proto::Command command;
  command.set_name(name);
  command.set_forwarded(true);
  command.set_payload(payload);
  command.set_deadline_ms(static_cast<uint32_t>(deadline.count()));
  command.mutable_caller()->set_origin(std::string("peer SP-") + spLetter(deps_.self));
  return command;
}

PeerTransport::Answer ConfigService::askPeer(const proto::Command& command,
                                             std::chrono::milliseconds deadline) {
  if (!deps_.peer) return {std::nullopt, "no peer link"};
  auto promise = std::make_shared<std::promise<PeerTransport::Answer>>();
  auto future = promise->get_future();
  deps_.peer->send(command, deadline,
                   [promise](PeerTransport::Answer a) { promise->set_value(std::move(a)); });
  if (future.wait_for(deadline + std::chrono::milliseconds{500}) != std::future_status::ready)
    return {std::nullopt, "no answer"};
  return future.get();
}

bool ConfigService::callPeer(const std::string& name, const std::string& payload,
                             std::chrono::milliseconds deadline, proto::CommandResult& result,
                             std::string& error) {
  auto answer = askPeer(peerCommand(name, payload, deadline), deadline);
  if (!answer.result) {
    error = answer.error;
    return false;
  }
  if (answer.result->status() != proto::CommandResult::OK) {
    error = answer.result->error();
    return false;
  }
  result = std::move(*answer.result);
  return true;
}

void ConfigService::postLocalWrite(proto::ConfigWrite change, bool authority, Reply reply) {
  post([this, authority, change = std::move(change), reply = std::move(reply)]() mutable {
    writeLocal(std::move(change), authority, std::move(reply));
  });
}

// ---- Writes ----

void ConfigService::handleWrite(const proto::Command& command, Reply reply) {
  proto::ConfigWrite change;
  if (!change.ParseFromString(command.payload()))
    return reply(errorResult(proto::CommandResult::BAD_REQUEST, "unreadable configuration change"));
  if (change.records().empty() && !change.has_event())
    return reply(errorResult(proto::CommandResult::BAD_REQUEST, "an empty configuration change"));
  for (const auto& r : change.records())
    if (r.key().empty() && change.create_prefix().empty())
      return reply(errorResult(proto::CommandResult::BAD_REQUEST, "a record without a key"));
  if (!store_.isOpen())
    return reply(
        errorResult(proto::CommandResult::UNAVAILABLE, "the configuration store of SP-" +
                                                           std::string(1, spLetter(deps_.self)) +
                                                           " is not open: " + open_error_));
  Role role = deps_.role ? deps_.role() : Role::Active;
  // An SP taking over already holds the floating address: a client's change can reach it
  // a moment before the role is settled. Wait for that moment (bounded) rather than bounce it.
  for (int i = 0; i < 50 && role == Role::TakingOver; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
    role = deps_.role();
  }
  if (role == Role::Active) {
    return postLocalWrite(std::move(change), /*authority=*/true, std::move(reply));
  }
  if (command.forwarded()) {
    // The peer took us for the active SP; neither is, for the moment.
    return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                             "no active SP to take the change right now (this SP is " +
                                 std::string(roleName(role)) + "); retry shortly"));
  }
  // Not the authority: the active SP takes the change; while the link is down, this SP
  // takes it alone and the histories are merged when the link returns.
  if (deps_.peer_link_heard && !deps_.peer_link_heard()) {
    return postLocalWrite(std::move(change), /*authority=*/false, std::move(reply));
  }
  proto::Command forward = command;
  forward.set_forwarded(true);
  forward.set_target(proto::SP_UNKNOWN);
  {
    std::lock_guard lock(mu_);
    ++stats_.forwarded;
  }
  deps_.peer->send(forward, options_.forward_timeout,
                   [this, change = std::move(change),
                    reply = std::move(reply)](PeerTransport::Answer answer) mutable {
                     if (answer.result) {
                       answer.result->set_served_by(ipc::toProto(deps_.self));
                       return reply(std::move(*answer.result));
                     }
                     if (answer.error == "not connected") {
                       return postLocalWrite(std::move(change), /*authority=*/false,
                                             std::move(reply));
                     }
                     reply(errorResult(proto::CommandResult::UNAVAILABLE,
                                       "the active SP did not answer (" + answer.error +
                                           "); the change may have been applied: read it back "
                                           "before retrying"));
                   });
}

platform::Status ConfigService::commitStamped(std::vector<ConfigRecord>& records) {
  // Records after the sync point may be news to the peer: keep the point on disk before
  // the first of them, so a restart still knows what to offer in a merge.
  if (!has_marker_) {
    auto s = saveSyncPoint(synced_);
    if (!s.ok) return s;
  }
  return store_.commit(records);
}

void ConfigService::writeLocal(proto::ConfigWrite change, bool authority, Reply reply) {
  if (!store_.isOpen())
    return reply(errorResult(proto::CommandResult::UNAVAILABLE, "configuration store not open"));
  if (authority && deps_.role && deps_.role() != Role::Active)
    return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                             "this SP stopped being the active one; retry shortly"));
  if (authority) noteRole(Role::Active);
  if (authority && !peer_in_sync_ && !resync_in_flight_ && deps_.peer_link_heard &&
      deps_.peer_link_heard() && std::chrono::steady_clock::now() >= next_resync_) {
    // The passive is there but behind (it just started, or a change failed to reach it):
    // bring it up to date first, so this change too is acknowledged with both copies.
    resyncNow();
  }
  Version prev = store_.last();
  Version v = nextVersion(prev);
  std::vector<ConfigRecord> records;
  proto::ConfigWriteAnswer answer;
  for (const auto& in : change.records()) {
    ConfigRecord r = in;
    if (!change.create_prefix().empty()) r.set_key(change.create_prefix() + std::to_string(v.seq));
    if (r.deleted()) {
      r.clear_value();
      if (!store_.get(r.key()))
        return reply(errorResult(proto::CommandResult::NOT_FOUND, "no " + r.key() + " to remove"));
    }
    *r.mutable_version() = toProtoVersion(v);
    r.set_writer(ipc::toProto(deps_.self));
    answer.add_keys(r.key());
    records.push_back(std::move(r));
    ++v.seq;
    if (!change.create_prefix().empty()) break;
  }
  Version change_version = records.empty() ? v : versionOf(records.back());
  if (change.has_event()) {
    proto::Event event = change.event();
    // A created object: the event is about it, not about its collection.
    if (!change.create_prefix().empty() && !event.origin().empty() && !answer.keys().empty())
      event.set_origin(event.origin() + "/" + answer.keys(0).substr(change.create_prefix().size()));
    if (!authority)
      event.set_message(event.message() + " (taken by SP-" + std::string(1, spLetter(deps_.self)) +
                        " alone: the peer link was down)");
    records.push_back(eventRecord(std::move(event), v));
  }
  auto status = commitStamped(records);
  if (!status.ok) {
    if (isStorageError(status.error)) {
      storageFault(status);
      return reply(errorResult(proto::CommandResult::INSUFFICIENT_STORAGE,
                               "the configuration change was not stored: " + status.error));
    }
    return reply(errorResult(proto::CommandResult::INTERNAL,
                             "the configuration change was not stored: " + status.error));
  }
  if (storage_fault_) {
    storage_fault_ = false;
    if (deps_.fault) deps_.fault("config-storage", false, "", "", Health::Ok);
  }
  notifyListeners(records);
  bool replicated = false;
  if (authority && peer_in_sync_) {
    if (!deps_.peer_link_heard || deps_.peer_link_heard()) {
      replicated = replicate(records, prev);
    } else {
      LOG_WARNING << "configuration " << toString(versionOf(records.back())) << " not sent to SP-"
                  << spLetter(peerOf(deps_.self))
                  << ": its peer-link heartbeats are silent; acknowledged with this SP's copy, "
                     "the peer catches up when the link returns";
      std::lock_guard lock(mu_);
      peer_in_sync_ = false;
    }
  }
  {
    std::lock_guard lock(mu_);
    if (replicated) synced_ = store_.last();
    ++stats_.writes;
    if (replicated)
      ++stats_.replicated;
    else
      ++stats_.queued;
    visible_ = store_.last();
  }
  *answer.mutable_version() = toProtoVersion(change_version);
  answer.set_replicated(replicated);
  answer.set_written_by(ipc::toProto(deps_.self));
  auto result = okResult(answer.SerializeAsString());
  result.set_answered_by(ipc::toProto(deps_.self));
  result.set_served_by(ipc::toProto(deps_.self));
  reply(std::move(result));
}

bool ConfigService::replicate(const std::vector<ConfigRecord>& records, Version prev) {
  proto::ReplicateRequest request;
  *request.mutable_prev() = toProtoVersion(prev);
  for (const auto& r : records) *request.add_records() = r;
  request.set_epoch(deps_.epoch ? deps_.epoch() : 0);
  proto::CommandResult result;
  std::string error;
  proto::ReplicateAnswer answer;
  if (callPeer("ConfigReplicate", request.SerializeAsString(), options_.replicate_timeout, result,
               error)) {
    if (answer.ParseFromString(result.payload()) && answer.applied()) return true;
    error = answer.error().empty() ? "unreadable answer" : answer.error();
  }
  LOG_WARNING << "configuration " << toString(versionOf(records.back())) << " not replicated to SP-"
              << spLetter(peerOf(deps_.self)) << " (" << error
              << "); acknowledged with this SP's copy, the peer catches up when it can";
  std::lock_guard lock(mu_);
  peer_in_sync_ = false;
  return false;
}

// ---- The passive side ----

void ConfigService::applyReplicate(const proto::ReplicateRequest& request, Reply reply) {
  proto::ReplicateAnswer answer;
  Version last = store_.last();
  Version prev = fromProtoVersion(request.prev());
  if (deps_.role && deps_.role() == Role::Active) {
    answer.set_error("SP-" + std::string(1, spLetter(deps_.self)) + " is active itself");
  } else if (deps_.epoch && request.epoch() < deps_.epoch()) {
    // An SP that lost the role without knowing it (it was hung, the peer took over).
    answer.set_error("change from epoch " + std::to_string(request.epoch()) +
                     " refused: this SP is at epoch " + std::to_string(deps_.epoch()));
  } else if (has_marker_) {
    answer.set_error("this SP has changes the active SP has not seen: resync needed");
  } else if (prev != last) {
    answer.set_error("out of sync: this SP is at " + toString(last) + ", the change follows " +
                     toString(prev));
  } else {
    std::vector<ConfigRecord> records(request.records().begin(), request.records().end());
    auto status = store_.commit(records);
    if (!status.ok) {
      if (isStorageError(status.error)) storageFault(status);
      answer.set_error(status.error);
    } else {
      answer.set_applied(true);
      notifyListeners(records);
      std::lock_guard lock(mu_);
      synced_ = visible_ = store_.last();
    }
  }
  *answer.mutable_last() = toProtoVersion(store_.last());
  reply(okResult(answer.SerializeAsString()));
}

proto::SyncOffer ConfigService::makeOffer(bool everything) {
  proto::SyncOffer offer;
  Version point = everything ? Version{} : syncPoint();
  *offer.mutable_sync_point() = toProtoVersion(point);
  *offer.mutable_last() = toProtoVersion(store_.last());
  for (auto& r : store_.since(point)) *offer.add_divergent() = std::move(r);
  offer.set_needs_copy(store_.recoveryReport().needs_peer_copy);
  return offer;
}

void ConfigService::applyInstall(const proto::SyncInstall& install, Reply reply) {
  proto::ReplicateAnswer answer;
  if (deps_.role && deps_.role() == Role::Active) {
    answer.set_error("SP-" + std::string(1, spLetter(deps_.self)) + " is active itself");
  } else {
    platform::Status status;
    if (install.full()) {
      status = store_.install(install.snapshot());
    } else if (fromProtoVersion(install.prev()) != store_.last()) {
      // (A sync.point here is no obstacle: the active found nothing after it that it lacks.)
      status = platform::Status::failure("incremental resync from " +
                                         toString(fromProtoVersion(install.prev())) +
                                         " does not fit this SP's " + toString(store_.last()));
    } else {
      std::vector<ConfigRecord> records(install.records().begin(), install.records().end());
      status = store_.commit(records);
    }
    if (!status.ok) {
      if (isStorageError(status.error)) storageFault(status);
      answer.set_error(status.error);
      LOG_ERROR << "resync from the active SP not applied: " << status.error;
    } else {
      answer.set_applied(true);
      clearSyncPoint();
      {
        std::lock_guard lock(mu_);
        synced_ = visible_ = store_.last();
      }
      if (deps_.fault) deps_.fault("config-store", false, "", "", Health::Ok);
      LOG_NOTICE << "configuration resynchronised from SP-" << spLetter(peerOf(deps_.self)) << " ("
                 << (install.full() ? "full copy"
                                    : std::to_string(install.records_size()) + " records")
                 << "), now at " << toString(store_.last());
      notifyAll();
    }
  }
  *answer.mutable_last() = toProtoVersion(store_.last());
  reply(okResult(answer.SerializeAsString()));
}

// ---- Resync and merge (the active side) ----

proto::Command ConfigService::offerRequest(bool everything) const {
  return peerCommand("ConfigSyncOffer", everything ? "all" : "", options_.replicate_timeout);
}

void ConfigService::startResync() {
  if (resync_in_flight_ || !store_.isOpen() || (deps_.role && deps_.role() != Role::Active)) return;
  if (std::chrono::steady_clock::now() < next_resync_ || !deps_.peer) return;
  // Asked without blocking the worker: writes go on (queued for the passive) while a
  // silent peer link times the question out.
  bool everything = store_.recoveryReport().needs_peer_copy;
  resync_in_flight_ = true;
  deps_.peer->send(offerRequest(everything), options_.replicate_timeout,
                   [this, everything](PeerTransport::Answer answer) {
                     post([this, everything, answer = std::move(answer)] {
                       resync_in_flight_ = false;
                       finishResync(answer, everything);
                     });
                   });
}

void ConfigService::resyncNow() {
  bool everything = store_.recoveryReport().needs_peer_copy;
  finishResync(askPeer(offerRequest(everything), options_.replicate_timeout), everything);
}

bool ConfigService::finishResync(const PeerTransport::Answer& answer, bool everything) {
  if (!store_.isOpen() || (deps_.role && deps_.role() != Role::Active)) return false;
  auto fail = [this](const std::string& why) {
    if (why != last_resync_error_)
      LOG_INFO << "resync of SP-" << spLetter(peerOf(deps_.self)) << " not done: " << why;
    last_resync_error_ = why;
    std::lock_guard lock(mu_);
    if (why == "not connected") {
      // Nothing was sent: cheap to ask again at the next tick, when the link may be back.
      next_resync_ = std::chrono::steady_clock::now();
      return false;
    }
    next_resync_ = std::chrono::steady_clock::now() + resync_backoff_;
    resync_backoff_ = std::min(resync_backoff_ * 2, kMaxResyncBackoff);
    return false;
  };
  if (!answer.result) return fail(answer.error);
  if (answer.result->status() != proto::CommandResult::OK) return fail(answer.result->error());
  proto::SyncOffer offer;
  if (!offer.ParseFromString(answer.result->payload())) return fail("unreadable offer");
  proto::CommandResult result;
  std::string error;

  const SpId peer = peerOf(deps_.self);
  const std::string peer_name = std::string("SP-") + spLetter(peer);
  Version peer_last = fromProtoVersion(offer.last());
  // Both sync points are lower bounds of the shared history, so their max is too; unless
  // the passive lost records since (its store was damaged): then only its own point holds,
  // and what it wrote after it may carry versions this SP used for other changes.
  Version common = fromProtoVersion(offer.sync_point());
  if (!offer.needs_copy() && !(peer_last < synced_)) common = std::max(synced_, common);
  std::vector<ConfigRecord> divergent;
  for (const auto& r : offer.divergent())
    if (everything || common < versionOf(r)) divergent.push_back(r);
  std::sort(divergent.begin(), divergent.end(), [](const ConfigRecord& a, const ConfigRecord& b) {
    return versionOf(a) < versionOf(b);
  });

  // Merge the peer's own history into this one: each of its changes is taken unless this
  // SP changed the same object since the common point; then the newer version wins and
  // the loser is reported, never dropped silently.
  std::vector<ConfigRecord> merged;
  Version v = nextVersion(store_.last());
  size_t taken = 0, conflicts = 0, events = 0;
  auto take = [&](ConfigRecord r) {
    *r.mutable_version() = toProtoVersion(v);
    r.set_writer(ipc::toProto(deps_.self));
    merged.push_back(std::move(r));
    ++v.seq;
  };
  for (const auto& r : divergent) {
    if (isEventKey(r.key())) {
      if (r.deleted()) continue;
      proto::Event event;
      if (!event.ParseFromString(r.value())) continue;
      event.set_message(event.message() + " (recorded by " + peer_name +
                        " while the peers were apart, event " + std::to_string(event.id()) +
                        " there)");
      merged.push_back(eventRecord(std::move(event), v));
      ++v.seq;
      ++events;
      continue;
    }
    auto mine = store_.find(r.key());
    if (mine && sameContent(*mine, r)) continue;
    bool changed_here = mine && common < versionOf(*mine);
    if (everything) {
      // Recovering lost data from the peer: its copy fills what is missing or older here.
      if (!mine || versionOf(*mine) < versionOf(r)) {
        take(r);
        ++taken;
      }
      continue;
    }
    if (changed_here) {
      bool theirs = newerWrite(r, *mine);
      auto who = [](const ConfigRecord& x) {
        return std::string("SP-") + (x.writer() == proto::SP_B ? "B" : "A");
      };
      std::string detail =
          "Both SPs changed '" + r.key() + "' while the peer link was down: " + who(*mine) +
          " wrote '" + shortValue(*mine) + "' (version " + toString(versionOf(*mine)) + "), " +
          who(r) + " wrote '" + shortValue(r) + "' (version " + toString(versionOf(r)) +
          "); kept the newer, " + (theirs ? who(r) : who(*mine)) + "'s.";
      LOG_WARNING << "configuration conflict: " << detail;
      merged.push_back(eventRecord(makeEvent(message::kErrorsDetected, {r.key(), "MergeConflict"},
                                             managerUri(deps_.self), "Warning", deps_.self, detail),
                                   v));
      ++v.seq;
      ++conflicts;
      if (!theirs) continue;
    }
    take(r);
    ++taken;
  }
  bool full = offer.needs_copy() || !divergent.empty() || store_.last() < peer_last;
  size_t behind = full ? 0 : store_.since(peer_last).size();
  if (behind > options_.max_incremental) full = true;
  std::string detail = "Resynchronised " + peer_name + " from version " + toString(peer_last) +
                       " (" + (full ? "full copy" : std::to_string(behind) + " changes") + ")";
  if (!divergent.empty())
    detail += "; merged its " + std::to_string(taken) + " configuration changes and " +
              std::to_string(events) + " events, " + std::to_string(conflicts) + " conflicts";
  detail += ".";
  merged.push_back(eventRecord(
      makeEvent(message::kStateChanged, {managerUri(peer) + " configuration", "Synchronized"},
                managerUri(peer), conflicts ? "Warning" : "OK", deps_.self, detail),
      v));
  auto status = commitStamped(merged);
  if (!status.ok) {
    if (isStorageError(status.error)) storageFault(status);
    return fail("merge not stored: " + status.error);
  }
  notifyListeners(merged);

  proto::SyncInstall install;
  install.set_full(full);
  if (full) {
    *install.mutable_snapshot() = store_.copy();
  } else {
    *install.mutable_prev() = toProtoVersion(peer_last);
    for (auto& r : store_.since(peer_last)) *install.add_records() = std::move(r);
  }
  proto::ReplicateAnswer installed;
  if (!callPeer("ConfigSyncInstall", install.SerializeAsString(), options_.replicate_timeout * 3,
                result, error))
    return fail("install: " + error);
  if (!installed.ParseFromString(result.payload()) || !installed.applied())
    return fail("install refused: " + installed.error());
  if (everything) {
    store_.clearNeedsPeerCopy();
    if (deps_.fault) deps_.fault("config-store", false, "", "", Health::Ok);
  }
  LOG_NOTICE << detail;
  last_resync_error_.clear();
  std::lock_guard lock(mu_);
  resync_backoff_ = options_.resync_interval;
  peer_in_sync_ = true;
  synced_ = visible_ = store_.last();
  ++stats_.resyncs;
  stats_.conflicts += conflicts;
  return true;
}

void ConfigService::noteRole(Role role) {
  if (role == Role::Active && !acting_active_) active_since_ = lastEventId();
  acting_active_ = role == Role::Active;
}

void ConfigService::tick() {
  post([this] {
    Role role = deps_.role ? deps_.role() : Role::Active;
    if (role != Role::Active && role != Role::Passive) return;
    noteRole(role);
    flushEvents(role);
    std::string session = deps_.peer_session ? deps_.peer_session() : "";
    if (session != last_peer_session_) {
      last_peer_session_ = session;
      std::lock_guard lock(mu_);
      peer_in_sync_ = false;
      next_resync_ = std::chrono::steady_clock::now();
    }
    if (role != Role::Active) {
      std::lock_guard lock(mu_);
      peer_in_sync_ = false;
      return;
    }
    if (!peer_in_sync_ && deps_.peer_alive && deps_.peer_alive() &&
        (!deps_.peer_link_heard || deps_.peer_link_heard()))
      startResync();
  });
}

void ConfigService::recordEvent(proto::Event event) {
  if (event.time_ms() == 0 && deps_.wall_ms) event.set_time_ms(deps_.wall_ms());
  if (event.reported_by() == proto::SP_UNKNOWN) event.set_reported_by(ipc::toProto(deps_.self));
  LOG_INFO << "event " << event.message_id() << ": " << event.message();
  post([this, event = std::move(event)]() mutable {
    pending_events_.push_back(std::move(event));
    Role role = deps_.role ? deps_.role() : Role::Active;
    if (role == Role::Active || role == Role::Passive) flushEvents(role);
  });
}

// On the worker: events wait here until there is an authority to record them (the election
// may not have settled); one the active SP could not take yet comes back for the next tick.
void ConfigService::flushEvents(Role role) {
  if (pending_events_.empty() || !store_.isOpen()) return;
  if (pending_events_.size() > kMaxPendingEvents) {
    LOG_WARNING << (pending_events_.size() - kMaxPendingEvents)
                << " array events dropped: none could be recorded for too long";
    pending_events_.erase(pending_events_.begin(),
                          pending_events_.end() - static_cast<long>(kMaxPendingEvents));
  }
  auto events = std::move(pending_events_);
  pending_events_.clear();
  for (auto& event : events) {
    proto::ConfigWrite change;
    *change.mutable_event() = event;
    auto retry = [this, event](proto::CommandResult r) {
      if (r.status() == proto::CommandResult::OK) return;
      if (r.status() == proto::CommandResult::UNAVAILABLE) {
        post([this, event] { pending_events_.push_back(event); });
        return;
      }
      LOG_WARNING << "an event was not recorded: " << r.error();
    };
    if (role == Role::Active) {
      writeLocal(std::move(change), /*authority=*/true, retry);
    } else {
      proto::Command command;
      command.set_name("ConfigWrite");
      command.set_payload(change.SerializeAsString());
      command.mutable_caller()->set_origin("spd");
      handleWrite(command, retry);
    }
  }
}

// ---- Commands ----

// A peer command whose payload is a `Message`: parsed on the caller's thread, handled on the
// worker.
template <typename Message>
Handler ConfigService::parsedOnWorker(const char* unreadable,
                                      std::function<void(const Message&, Reply)> handle) {
  return [this, unreadable, handle](const proto::Command& c, Reply reply) {
    Message m;
    if (!m.ParseFromString(c.payload()))
      return reply(errorResult(proto::CommandResult::BAD_REQUEST, unreadable));
    post([handle, m = std::move(m), reply = std::move(reply)] { handle(m, reply); });
  };
}

void ConfigService::registerCommands(CommandRegistry& registry) {
  registry.add({"ConfigWrite",
                [this](const proto::Command& c, Reply reply) { handleWrite(c, std::move(reply)); },
                /*degraded=*/false, Privilege::ConfigureComponents, /*mutating=*/true});
  registry.add(
      {"GetConfig",
       [this](const proto::Command& c, Reply reply) {
         auto it = c.args().find("prefix");
         std::string prefix = it == c.args().end() ? "" : it->second;
         if (!store_.isOpen())
           return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                                    "the configuration store is not open: " + open_error_));
         proto::ConfigRecords out;
         auto records = store_.list(prefix);
         std::map<std::string, std::string> defaults;
         {
           std::lock_guard lock(mu_);
           defaults = defaults_;
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
         for (auto& r : records)
           if (!isEventKey(r.key())) *out.add_records() = std::move(r);
         *out.mutable_last() = toProtoVersion(store_.last());
         reply(okResult(out.SerializeAsString()));
       },
       /*degraded=*/true, Privilege::Login, /*mutating=*/false});
  registry.add(
      {"GetEvents",
       [this](const proto::Command& c, Reply reply) {
         if (!store_.isOpen())
           return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                                    "the configuration store is not open: " + open_error_));
         uint64_t after = argNumber(c, "after", 0);
         uint64_t skip = argNumber(c, "skip", 0);
         size_t top = std::min<uint64_t>(argNumber(c, "top", kDefaultEventPage), kMaxEventPage);
         const Version visible = visibleVersion();
         proto::EventPage page;
         // One pass over the visible events: the count, the newest id and the page.
         uint64_t total = 0, skipped = 0;
         for (const auto& r : store_.list(kEventPrefix)) {
           const Version v = versionOf(r);
           if (visible < v) break;  // keys and versions both follow seq
           ++total;
           page.set_last_id(v.seq);
           if (v.seq <= after || skipped++ < skip) continue;
           proto::Event e;
           if (static_cast<size_t>(page.events_size()) < top && e.ParseFromString(r.value()))
             *page.add_events() = std::move(e);
         }
         page.set_total(total);
         reply(okResult(page.SerializeAsString()));
       },
       /*degraded=*/true, Privilege::Login, /*mutating=*/false});
  registry.add({"ConfigReplicate",
                parsedOnWorker<proto::ReplicateRequest>(
                    "unreadable replication", [this](const proto::ReplicateRequest& r,
                                                     Reply reply) { applyReplicate(r, reply); }),
                /*degraded=*/false, Privilege::ConfigureManager, /*mutating=*/true});
  registry.add({"ConfigSyncOffer",
                [this](const proto::Command& c, Reply reply) {
                  bool everything = c.payload() == "all";
                  post([this, everything, reply = std::move(reply)] {
                    if (deps_.role && deps_.role() == Role::Active)
                      return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                                               "this SP is active itself"));
                    if (!store_.isOpen())
                      return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                                               "the configuration store is not open"));
                    reply(okResult(makeOffer(everything).SerializeAsString()));
                  });
                },
                /*degraded=*/false, Privilege::ConfigureManager, /*mutating=*/true});
  registry.add({"ConfigSyncInstall",
                parsedOnWorker<proto::SyncInstall>(
                    "unreadable resync",
                    [this](const proto::SyncInstall& i, Reply reply) { applyInstall(i, reply); }),
                /*degraded=*/false, Privilege::ConfigureManager, /*mutating=*/true});
}

}  // namespace dualsp::sp
