#include "sp/config_core.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>

#include "ipc/sp_id_proto.hpp"
#include "platform/log.hpp"
#include "sp/durable_file.hpp"
#include "sp/events.hpp"

namespace dualsp::sp {
namespace {

constexpr const char* kMarkerFile = "sync.point";
// The peer's acknowledged history this SP took over without (docs/CONFIG-STORE.md).
constexpr const char* kMissingFile = "missing.point";

}  // namespace

bool isEventKey(const std::string& key) {
  return key.rfind(kEventPrefix, 0) == 0;
}

uint64_t eventIdOf(const std::string& key) {
  try {
    return std::stoull(key.substr(std::string(kEventPrefix).size()));
  } catch (const std::exception&) {
    return 0;
  }
}

std::string eventKey(uint64_t id) {
  char buf[48];
  snprintf(buf, sizeof buf, "events/%020llu", static_cast<unsigned long long>(id));
  return buf;
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

bool isPrivateKey(const std::string& key) {
  return key.rfind("accounts/", 0) == 0 || key.rfind("sessions/", 0) == 0 ||
         key.rfind("account_service/", 0) == 0 || key.rfind("security/", 0) == 0 ||
         key.rfind("idempotency/", 0) == 0;
}

bool isServiceOwnedKey(const std::string& key) {
  return isPrivateKey(key) || key.rfind("storage/", 0) == 0;
}

proto::CommandResult okResult(const std::string& payload) {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_payload(payload);
  return r;
}

bool isStorageErrno(int err) {
  return err == ENOSPC || err == EFBIG || err == EDQUOT || err == EROFS;
}

ConfigCore::ConfigCore(std::string dir_in, ConfigServiceDependencies deps_in,
                       ConfigServiceOptions options_in)
    : dir(std::move(dir_in)),
      deps(std::move(deps_in)),
      options(options_in),
      store(dir, options_in.snapshot_every) {}

// ---- The worker ----

void ConfigCore::startWorker() {
  worker_ = std::thread([this] { workerLoop(); });
}

void ConfigCore::stopWorker() {
  {
    std::lock_guard lock(mu);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

bool ConfigCore::stopping() const {
  std::lock_guard lock(mu);
  return stopping_;
}

void ConfigCore::post(Job job) {
  {
    std::lock_guard lock(mu);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void ConfigCore::workerLoop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    // One job's failure is that change's (its requester's deadline answers it), not spd's.
    try {
      job();
    } catch (const std::exception& e) {
      LOG_ERROR << "configuration worker: a job failed: " << e.what();
    }
  }
}

std::string ConfigCore::selfName() const {
  return std::string("SP-") + spLetter(deps.self);
}

std::string ConfigCore::peerName() const {
  return std::string("SP-") + spLetter(peerOf(deps.self));
}

// ---- Versions and event ids ----

Version ConfigCore::nextVersion(Version after) const {
  uint64_t epoch = deps.epoch ? deps.epoch() : 0;
  return {std::max(epoch, after.epoch), after.seq + 1};
}

uint64_t ConfigCore::lastStoredEventId() const {
  auto r = store.lastUnder(kEventPrefix);
  return r ? eventIdOf(r->key()) : 0;
}

uint64_t ConfigCore::nextEventId() const {
  return std::max(lastStoredEventId(), event_floor) + 1;
}

ConfigRecord ConfigCore::eventRecord(proto::Event event, Version v, uint64_t id) const {
  event.set_id(id);
  if (event.time_ms() == 0 && deps.wall_ms) event.set_time_ms(deps.wall_ms());
  if (event.reported_by() == proto::SP_UNKNOWN) event.set_reported_by(ipc::toProto(deps.self));
  ConfigRecord r;
  r.set_key(eventKey(id));
  r.set_value(event.SerializeAsString());
  *r.mutable_version() = toProtoVersion(v);
  r.set_writer(ipc::toProto(deps.self));
  return r;
}

Version ConfigCore::visibleVersion() const {
  std::lock_guard lock(mu);
  return visible;
}

uint64_t ConfigCore::lastVisibleEventId() const {
  const Version shown = visibleVersion();
  uint64_t last = 0;
  for (const auto& r : store.list(kEventPrefix)) {
    if (shown < versionOf(r)) break;  // as GetEvents: nothing after one not acknowledged yet
    last = eventIdOf(r.key());
  }
  return last;
}

History ConfigCore::currentHistory() const {
  Version last = store.last();
  return History{last.epoch, last.seq, lastStoredEventId()};
}

void ConfigCore::publishHistory() {
  if (store.isOpen() && deps.publish_history) deps.publish_history(currentHistory());
}

// ---- Listeners, faults ----

void ConfigCore::notifyListeners(const std::vector<ConfigRecord>& records) {
  for (const auto& record : records)
    for (const auto& [prefix, listener] : listeners)
      if (record.key().rfind(prefix, 0) == 0) listener(record);
}

void ConfigCore::notifyAll() {
  if (!store.isOpen()) return;
  for (const auto& [prefix, listener] : listeners)
    for (const auto& record : store.list(prefix)) listener(record);
}

void ConfigCore::storageFault(const platform::Status& status) {
  storage_fault = true;
  if (deps.fault)
    deps.fault("config-storage", true, std::string(message::kInsufficientStorage),
               "A configuration change was refused by the disk: " + status.error, Health::Warning);
}

void ConfigCore::storageRecovered() {
  if (!storage_fault) return;
  storage_fault = false;
  clearFault("config-storage");
}

void ConfigCore::clearFault(const std::string& id) {
  if (deps.fault) deps.fault(id, false, "", "", Health::Ok);
}

void ConfigCore::peerBehind(bool full) {
  std::lock_guard lock(mu);
  peer_in_sync = false;
  if (full) peer_needs_full_copy = true;
}

// ---- Files beside the store ----

void ConfigCore::loadPoints() {
  std::ifstream in(dir + "/" + kMarkerFile);
  uint64_t epoch = 0, seq = 0;
  char dot = 0;
  if (in >> epoch >> dot >> seq && dot == '.') {
    has_marker = true;
    marker = {epoch, seq};
  }
  std::ifstream lacking(dir + "/" + kMissingFile);
  History h;
  if (lacking >> h.epoch >> dot >> h.seq >> h.last_event_id && dot == '.') {
    missing = h;
    event_floor = h.last_event_id;
  }
}

platform::Status ConfigCore::saveSyncPoint(Version v) {
  auto status = writeFileDurably(dir + "/" + kMarkerFile, toString(v) + "\n");
  if (!status.ok) return status;
  has_marker = true;
  marker = v;
  return status;
}

void ConfigCore::clearSyncPoint() {
  if (!has_marker) return;
  auto status = removeFileDurably(dir + "/" + kMarkerFile);
  if (!status.ok) LOG_WARNING << "sync point not removed: " << status.error;
  has_marker = false;
}

Version ConfigCore::syncPoint() const {
  Version last = store.last();
  return has_marker ? std::min(marker, last) : last;
}

void ConfigCore::saveMissing(const History& reach) {
  auto status =
      writeFileDurably(dir + "/" + kMissingFile, toString(versionOfHistory(reach)) + " " +
                                                     std::to_string(reach.last_event_id) + "\n");
  if (!status.ok) LOG_ERROR << "cannot keep the missing history on disk: " << status.error;
}

void ConfigCore::clearMissing() {
  missing.reset();
  auto status = removeFileDurably(dir + "/" + kMissingFile);
  if (!status.ok) LOG_WARNING << "missing history not removed: " << status.error;
}

// ---- The peer-only commands ----

proto::Command ConfigCore::peerCommand(const std::string& name, const std::string& payload,
                                       std::chrono::milliseconds deadline) const {
  proto::Command command;
  command.set_name(name);
  command.set_forwarded(true);
  command.set_payload(payload);
  command.set_deadline_ms(static_cast<uint32_t>(deadline.count()));
  command.mutable_caller()->set_origin("peer " + selfName());
  return command;
}

PeerTransport::Answer ConfigCore::askPeer(const proto::Command& command,
                                          std::chrono::milliseconds deadline) {
  if (!deps.peer) return {std::nullopt, ipc::PeerError::NoLink};
  auto promise = std::make_shared<std::promise<PeerTransport::Answer>>();
  auto future = promise->get_future();
  deps.peer->send(command, deadline,
                  [promise](PeerTransport::Answer a) { promise->set_value(std::move(a)); });
  if (future.wait_for(deadline + std::chrono::milliseconds{500}) != std::future_status::ready)
    return {std::nullopt, ipc::PeerError::NoAnswer};
  return future.get();
}

bool ConfigCore::callPeer(const std::string& name, const std::string& payload,
                          std::chrono::milliseconds deadline, proto::CommandResult& result,
                          std::string& error) {
  auto answer = askPeer(peerCommand(name, payload, deadline), deadline);
  if (!answer.result) {
    error = ipc::toString(answer.error);
    return false;
  }
  if (answer.result->status() != proto::CommandResult::OK) {
    error = answer.result->error();
    return false;
  }
  result = std::move(*answer.result);
  return true;
}

}  // namespace dualsp::sp
