#include "sp/config_service.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
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
// The peer's acknowledged history this SP took over without (docs/CONFIG-STORE.md).
constexpr const char* kMissingFile = "missing.point";
constexpr const char* kEventPrefix = "events/";
constexpr size_t kMaxEventPage = 1000;
constexpr size_t kDefaultEventPage = 100;
constexpr size_t kMaxPendingEvents = 1000;
constexpr std::chrono::milliseconds kMaxResyncBackoff{1000};
// Between checks while a change waits for the passive to become reachable.
constexpr std::chrono::milliseconds kWaitStep{10};
// Offers and copies travel in parts of about this size: a peer-link frame holds 1 MiB.
constexpr size_t kPartBytes = 256 * 1024;

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

Version versionOfHistory(const History& h) {
  return {h.epoch, h.seq};
}

// A transport error after which the request certainly never left this SP.
using ipc::neverSent;

bool writeSmallFile(const std::string& path, const std::string& text, std::string& error) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    error = "open " + tmp + ": " + strerror(errno);
    return false;
  }
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
    error = "write " + path + ": " + strerror(err);
    return false;
  }
  return true;
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
    std::ifstream missing(dir_ + "/" + kMissingFile);
    History h;
    if (missing >> h.epoch >> dot >> h.seq >> h.last_event_id && dot == '.') {
      missing_ = h;
      event_floor_ = h.last_event_id;
    }
    Version last = store_.last();
    synced_ = has_marker_ ? std::min(marker_, last) : last;
    visible_ = last;
    auto report = store_.recoveryReport();
    LOG_INFO << "configuration: last version " << toString(last) << ", known on both SPs up to "
             << toString(synced_) << (has_marker_ ? " (sync.point)" : "") << ", last event "
             << lastStoredEventId();
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
  post([this] {
    publishHistory();
    notifyAll();
  });
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

bool ConfigService::canPublishHistory() const {
  return !deps_.history_publishable || deps_.history_publishable();
}

bool ConfigService::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
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
  std::string from = after ? eventKey(after) : "";
  // Keys follow ids; an event merged back into a hole has an old id and a new version, so
  // visibility is checked per record.
  while (out.size() < max) {
    auto page = store_.listAfter(kEventPrefix, from, max);
    if (page.empty()) break;
    for (const auto& r : page) {
      from = r.key();
      if (visible < versionOf(r)) return out;  // not acknowledged yet: nothing after it either
      proto::Event e;
      if (e.ParseFromString(r.value())) out.push_back(std::move(e));
      if (out.size() >= max) break;
    }
    if (page.size() < max) break;
  }
  return out;
}

uint64_t ConfigService::lastEventId() const {
  const Version visible = visibleVersion();
  uint64_t last = 0;
  for (const auto& r : store_.list(kEventPrefix))
    if (!(visible < versionOf(r))) last = eventIdOf(r.key());
  return last;
}

ConfigService::Stats ConfigService::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.peer_in_sync = peer_in_sync_ && !peer_needs_full_copy_;
  s.last = store_.last();
  s.sync_point = synced_;
  return s;
}

Version ConfigService::nextVersion(Version after) const {
  uint64_t epoch = deps_.epoch ? deps_.epoch() : 0;
  return {std::max(epoch, after.epoch), after.seq + 1};
}

uint64_t ConfigService::lastStoredEventId() const {
  auto r = store_.lastUnder(kEventPrefix);
  return r ? eventIdOf(r->key()) : 0;
}

uint64_t ConfigService::nextEventId() const {
  return std::max(lastStoredEventId(), event_floor_) + 1;
}

ConfigRecord ConfigService::eventRecord(proto::Event event, Version v, uint64_t id) {
  event.set_id(id);
  if (event.time_ms() == 0 && deps_.wall_ms) event.set_time_ms(deps_.wall_ms());
  if (event.reported_by() == proto::SP_UNKNOWN) event.set_reported_by(ipc::toProto(deps_.self));
  ConfigRecord r;
  r.set_key(eventKey(id));
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
  std::string error;
  if (!writeSmallFile(dir_ + "/" + kMarkerFile, toString(v) + "\n", error))
    return platform::Status::failure(error);
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

History ConfigService::currentHistory() const {
  Version last = store_.last();
  return History{last.epoch, last.seq, lastStoredEventId()};
}

void ConfigService::publishHistory() {
  if (store_.isOpen() && deps_.publish_history) deps_.publish_history(currentHistory());
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
  if (!deps_.peer) return {std::nullopt, ipc::PeerError::NoLink};
  auto promise = std::make_shared<std::promise<PeerTransport::Answer>>();
  auto future = promise->get_future();
  deps_.peer->send(command, deadline,
                   [promise](PeerTransport::Answer a) { promise->set_value(std::move(a)); });
  if (future.wait_for(deadline + std::chrono::milliseconds{500}) != std::future_status::ready)
    return {std::nullopt, ipc::PeerError::NoAnswer};
  return future.get();
}

bool ConfigService::callPeer(const std::string& name, const std::string& payload,
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
  const auto arrived = std::chrono::steady_clock::now();
  Role role = deps_.role ? deps_.role() : Role::Active;
  // An SP taking over already holds the floating address: a client's change can reach it
  // a moment before the role is settled. Wait for that moment (bounded) rather than bounce it.
  for (int i = 0; i < 50 && role == Role::TakingOver; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
    role = deps_.role();
  }
  if (role == Role::Active) {
    post([this, change = std::move(change), deadline = arrived + options_.change_wait,
          reply = std::move(reply)]() mutable {
      writeAsActive(std::move(change), deadline, std::move(reply));
    });
    return;
  }
  const std::string self = std::string("SP-") + spLetter(deps_.self);
  const std::string peer = std::string("SP-") + spLetter(peerOf(deps_.self));
  if (command.forwarded()) {
    // The peer took us for the active SP; neither is, for the moment.
    return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                             "no active SP to take the change right now (" + self + " is " +
                                 std::string(roleName(role)) + "); it was not applied: retry"));
  }
  // Not the authority: only the active SP takes changes. A passive never takes one alone
  // (its history would fork from the active's and one of the two would lose in a merge).
  if (!peerAlive())
    return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                             "no active SP: " + self + " is " + std::string(roleName(role)) +
                                 " and does not hear " + peer +
                                 "; the change was not applied: retry shortly"));
  if (!peerReachable())
    return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                             "the active " + peer + " cannot be reached from " + self +
                                 " on the peer link; the change was not applied: retry, or "
                                 "use the array's floating address"));
  proto::Command forward = command;
  forward.set_forwarded(true);
  forward.set_target(proto::SP_UNKNOWN);
  {
    std::lock_guard lock(mu_);
    ++stats_.forwarded;
  }
  deps_.peer->send(
      forward, options_.forward_timeout,
      [this, peer, reply = std::move(reply)](PeerTransport::Answer answer) mutable {
        if (answer.result) {
          answer.result->set_served_by(ipc::toProto(deps_.self));
          return reply(std::move(*answer.result));
        }
        if (neverSent(answer.error))
          return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                                   "the active " + peer + " cannot be reached (" +
                                       ipc::toString(answer.error) +
                                       "); the change was not applied: retry"));
        reply(errorResult(proto::CommandResult::TIMEOUT,
                          "the active " + peer + " did not answer (" + ipc::toString(answer.error) +
                              "); the change may have been applied: read it back before "
                              "retrying"));
      });
}

void ConfigService::resolveUnknownHistory() {
  if (!history_unknown_) return;
  if (deps_.peer_history_readable && !deps_.peer_history_readable()) return;
  history_unknown_ = false;
  LOG_NOTICE << "the midplane can be read again: SP-" << spLetter(peerOf(deps_.self))
             << "'s history is known, changes are taken";
  if (deps_.fault) deps_.fault("config-unknown", false, "", "", Health::Ok);
  checkMissingHistory();
}

ConfigService::Mode ConfigService::writeMode() {
  // Took over without knowing how far the dead peer's history went: nothing is numbered or
  // acknowledged until that is known (the midplane reads again, or a resync with the peer).
  resolveUnknownHistory();
  if (history_unknown_) return Mode::Wait;
  // Dead means the election says so: every heartbeat path silent. Only then alone, and only
  // when how far this history reaches can be left where the peer will read it.
  if (!peerAlive()) return canPublishHistory() ? Mode::Alone : Mode::Wait;
  if (!peerReachable()) return Mode::Wait;
  if (peer_in_sync_ && !peer_needs_full_copy_) return Mode::Replicate;
  // The passive is there but behind (it just started, or a change did not reach it): bring
  // it up to date first, so this change too is acknowledged with both copies.
  if (std::chrono::steady_clock::now() < next_resync_) return Mode::Wait;
  return resyncNow() ? Mode::Replicate : Mode::Wait;
}

ConfigService::Sent ConfigService::replicate(const std::vector<ConfigRecord>& records, Version prev,
                                             Deadline deadline, std::string& error) {
  proto::ReplicateRequest request;
  *request.mutable_prev() = toProtoVersion(prev);
  for (const auto& r : records) *request.add_records() = r;
  request.set_epoch(deps_.epoch ? deps_.epoch() : 0);
  const std::string payload = request.SerializeAsString();
  bool maybe_arrived = false;
  for (int attempt = 0;; ++attempt) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (attempt > 0 && left.count() <= 0) break;
    // The same request again is harmless: the passive answers "applied" for what it holds.
    auto timeout = std::clamp(left, std::chrono::milliseconds{50}, options_.replicate_timeout);
    auto answer = askPeer(peerCommand("ConfigReplicate", payload, timeout), timeout);
    if (answer.result) {
      if (answer.result->status() != proto::CommandResult::OK) {
        error = answer.result->error();
        return maybe_arrived ? Sent::InDoubt : Sent::Refused;
      }
      proto::ReplicateAnswer replicated;
      if (replicated.ParseFromString(answer.result->payload()) && replicated.applied())
        return Sent::Applied;
      error = replicated.error().empty() ? "unreadable answer" : replicated.error();
      return maybe_arrived ? Sent::InDoubt : Sent::Refused;
    }
    error = ipc::toString(answer.error);
    if (!neverSent(answer.error)) maybe_arrived = true;
    if (!peerAlive()) break;  // the election declared it dead meanwhile
    std::this_thread::sleep_for(kWaitStep);
  }
  return maybe_arrived ? Sent::InDoubt : Sent::NotSent;
}

bool ConfigService::stampChange(proto::ConfigWrite& change, Version v,
                                std::vector<ConfigRecord>& records,
                                proto::ConfigWriteAnswer& answer, const Reply& reply) {
  records.clear();
  answer.Clear();
  for (const auto& in : change.records()) {
    ConfigRecord r = in;
    if (!change.create_prefix().empty()) r.set_key(change.create_prefix() + std::to_string(v.seq));
    if (r.deleted()) {
      r.clear_value();
      if (!store_.get(r.key())) {
        reply(errorResult(proto::CommandResult::NOT_FOUND, "no " + r.key() + " to remove"));
        return false;
      }
    }
    *r.mutable_version() = toProtoVersion(v);
    r.set_writer(ipc::toProto(deps_.self));
    answer.add_keys(r.key());
    records.push_back(std::move(r));
    ++v.seq;
    if (!change.create_prefix().empty()) break;
  }
  *answer.mutable_version() = toProtoVersion(records.empty() ? v : versionOf(records.back()));
  if (change.has_event()) {
    proto::Event event = change.event();
    // A created object: the event is about it, not about its collection.
    if (!change.create_prefix().empty() && !event.origin().empty() && !answer.keys().empty())
      event.set_origin(event.origin() + "/" + answer.keys(0).substr(change.create_prefix().size()));
    records.push_back(eventRecord(std::move(event), v, nextEventId()));
  }
  return true;
}

platform::Status ConfigService::commitLocal(std::vector<ConfigRecord>& records, bool alone) {
  // Records after the sync point may be news to the peer: keep the point on disk before
  // the first of them, so a restart still knows what to offer in a merge.
  if (alone && !has_marker_) {
    auto s = saveSyncPoint(synced_);
    if (!s.ok) return s;
  }
  auto status = store_.commit(records);
  if (!status.ok) {
    if (isStorageError(status.error)) storageFault(status);
    return status;
  }
  if (storage_fault_) {
    storage_fault_ = false;
    if (deps_.fault) deps_.fault("config-storage", false, "", "", Health::Ok);
  }
  notifyListeners(records);
  acknowledged(alone);
  return status;
}

void ConfigService::acknowledged(bool alone) {
  {
    std::lock_guard lock(mu_);
    ++stats_.writes;
    if (alone) {
      ++stats_.alone;
      peer_in_sync_ = false;
    } else {
      ++stats_.replicated;
      synced_ = store_.last();
    }
    // The active SP commits only acknowledged changes: all of its store is visible.
    visible_ = store_.last();
  }
  // Before the caller answers: a survivor must know how far this history reaches.
  publishHistory();
}

void ConfigService::writeAsActive(proto::ConfigWrite change, Deadline deadline, Reply reply) {
  const std::string self = std::string("SP-") + spLetter(deps_.self);
  const std::string peer = std::string("SP-") + spLetter(peerOf(deps_.self));
  auto unavailable = [&](const std::string& why) {
    {
      std::lock_guard lock(mu_);
      ++stats_.refused;
    }
    reply(errorResult(proto::CommandResult::UNAVAILABLE, why));
  };
  auto stored = [&](const platform::Status& status, const std::string& after) {
    auto code = isStorageError(status.error) ? proto::CommandResult::INSUFFICIENT_STORAGE
                                             : proto::CommandResult::INTERNAL;
    reply(errorResult(code, "the configuration change was not stored: " + status.error + after));
  };
  std::string last_refusal;
  for (int round = 0;; ++round) {
    if (!store_.isOpen())
      return reply(errorResult(proto::CommandResult::UNAVAILABLE, "configuration store not open"));
    if (deps_.role && deps_.role() != Role::Active)
      return unavailable(self + " stopped being the active SP; the change was not applied: retry");
    noteRole(Role::Active);
    if (round > 0 && stopping()) {
      // spd is shutting down or restarting: a change not yet sent is refused now rather than
      // holding the shutdown (and the floating address, with nobody answering) for its wait.
      LOG_WARNING << "configuration change refused: " << self << " is shutting down";
      return unavailable(self +
                         " is restarting or shutting down; the change was not applied "
                         "anywhere: retry");
    }
    if (round > 0 && std::chrono::steady_clock::now() >= deadline) {
      LOG_WARNING << "configuration change refused after " << options_.change_wait.count()
                  << " ms: " << (last_refusal.empty() ? peer + " unreachable" : last_refusal);
      if (history_unknown_)
        return unavailable(self + " took over from " + peer + " without reading on the midplane " +
                           "how far " + peer + "'s configuration history reached, so it takes " +
                           "no change until it can or " + peer +
                           " returns; it was not applied: " + "retry");
      if (!peerAlive())
        return unavailable(peer + " is down and " + self + " cannot record on the midplane how " +
                           "far its configuration history reaches (its side of the midplane " +
                           "is cut), so it cannot take a change alone; it was not applied: retry");
      if (!last_refusal.empty())
        return unavailable(peer + " did not take the change (" + last_refusal +
                           "); it was not applied anywhere: retry");
      return unavailable(peer + " is alive (its heartbeats are heard) but cannot be reached on " +
                         "the peer link, so the change cannot be written on both SPs; it was " +
                         "not applied anywhere: retry");
    }
    const Mode mode = writeMode();
    if (mode == Mode::Wait) {
      std::this_thread::sleep_for(kWaitStep);
      continue;
    }
    const bool alone = mode == Mode::Alone;
    const Version prev = store_.last();
    std::vector<ConfigRecord> records;
    proto::ConfigWriteAnswer answer;
    if (alone && change.has_event())
      change.mutable_event()->set_message(change.event().message() + " (acknowledged by " + self +
                                          " alone: " + peer + " was down)");
    if (!stampChange(change, nextVersion(prev), records, answer, reply)) return;

    bool held_alone = alone;
    if (!alone) {
      std::string error;
      const Deadline until =
          std::max(deadline, std::chrono::steady_clock::now() + options_.replicate_timeout);
      const Sent sent = replicate(records, prev, until, error);
      if (sent == Sent::Refused || sent == Sent::NotSent) {
        std::lock_guard lock(mu_);
        if (sent == Sent::Refused) peer_in_sync_ = false;
      }
      if (sent == Sent::Refused) {
        LOG_WARNING << peer << " refused configuration " << toString(versionOf(records.back()))
                    << ": " << error;
        if (error.find("epoch") != std::string::npos)
          return unavailable(peer + " refused the change (" + error + "): " + self +
                             " is no longer the active SP; it was not applied: retry");
        if (isStorageError(error))
          return reply(errorResult(
              proto::CommandResult::INSUFFICIENT_STORAGE,
              peer + " could not store the change (" + error + "); it was not applied anywhere"));
        last_refusal = error;
        continue;  // out of sync: resynchronise and try again within the deadline
      }
      if (sent == Sent::NotSent) continue;  // the loop waits or finds the peer dead
      if (sent == Sent::InDoubt) {
        // Declared dead meanwhile: whatever it got, this SP's copy is the one that counts, but
        // only where this SP can leave how far its history reaches on the midplane (else a
        // survivor would give this change's event id to another: chaos seed 11).
        const bool hold_alone = !peerAlive() && canPublishHistory();
        if (!hold_alone) {
          {
            std::lock_guard lock(mu_);
            peer_in_sync_ = false;
            peer_needs_full_copy_ = true;
            ++stats_.in_doubt;
          }
          LOG_WARNING << "configuration " << toString(versionOf(records.back())) << " sent to "
                      << peer << " without a confirmation (" << error << "); not applied on "
                      << self << ", dropped on " << peer << " at the next resynchronisation";
          return reply(errorResult(proto::CommandResult::TIMEOUT,
                                   peer + " did not confirm the change (" + error +
                                       "). It was not applied on " + self + " and " + peer +
                                       " drops it at the next resynchronisation, unless " + self +
                                       " fails first: read it back before retrying"));
        }
        held_alone = true;
      }
    }
    auto status = commitLocal(records, held_alone);
    if (!status.ok) {
      if (!held_alone) {
        // The passive journaled what this SP could not: its copy goes with the next resync.
        std::lock_guard lock(mu_);
        peer_in_sync_ = false;
        peer_needs_full_copy_ = true;
      }
      return stored(status, held_alone ? ""
                                       : "; " + peer +
                                             "'s copy is dropped at the next "
                                             "resynchronisation");
    }
    answer.set_replicated(!held_alone);
    answer.set_written_by(ipc::toProto(deps_.self));
    auto result = okResult(answer.SerializeAsString());
    result.set_answered_by(ipc::toProto(deps_.self));
    result.set_served_by(ipc::toProto(deps_.self));
    return reply(std::move(result));
  }
}

// ---- The passive side ----

void ConfigService::applyReplicate(const proto::ReplicateRequest& request, Reply reply) {
  proto::ReplicateAnswer answer;
  Version last = store_.last();
  Version prev = fromProtoVersion(request.prev());
  auto holdsAlready = [&] {
    // The same request again (its answer was lost): answer it as applied.
    if (request.records().empty()) return false;
    if (versionOf(*request.records().rbegin()) != last) return false;
    for (const auto& r : request.records()) {
      auto mine = store_.find(r.key());
      if (!mine || versionOf(*mine) != versionOf(r) || !sameContent(*mine, r)) return false;
    }
    return true;
  };
  if (deps_.role && deps_.role() == Role::Active) {
    answer.set_error("SP-" + std::string(1, spLetter(deps_.self)) + " is active itself");
  } else if (deps_.epoch && request.epoch() < deps_.epoch()) {
    // An SP that lost the role without knowing it (it was hung, the peer took over).
    answer.set_error("change from epoch " + std::to_string(request.epoch()) +
                     " refused: this SP is at epoch " + std::to_string(deps_.epoch()));
  } else if (holdsAlready()) {
    answer.set_applied(true);
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
      synced_ = store_.last();
    }
  }
  if (answer.applied()) {
    // Everything up to `prev` is acknowledged on the active SP (it commits only what this
    // SP holds); the change itself becomes visible when the active's history says so.
    {
      std::lock_guard lock(mu_);
      visible_ = std::max(visible_, std::min(prev, store_.last()));
    }
    publishHistory();
  }
  *answer.mutable_last() = toProtoVersion(store_.last());
  reply(okResult(answer.SerializeAsString()));
}

proto::SyncOffer ConfigService::makeOffer(bool everything, std::optional<Version> after,
                                          std::optional<Version> shared) {
  proto::SyncOffer offer;
  // This SP's own point assumes everything it journaled is shared; the active may know less
  // (a change this SP journaled whose confirmation the active never had before it died):
  // records after the active's shared point are offered too.
  Version point = everything ? Version{} : syncPoint();
  if (shared && *shared < point) point = *shared;
  *offer.mutable_sync_point() = toProtoVersion(point);
  *offer.mutable_last() = toProtoVersion(store_.last());
  size_t bytes = 0;
  for (auto& r : store_.since(after ? std::max(*after, point) : point)) {
    if (bytes > kPartBytes) {
      offer.set_more(true);
      break;
    }
    bytes += r.ByteSizeLong();
    *offer.add_divergent() = std::move(r);
  }
  offer.set_needs_copy(store_.recoveryReport().needs_peer_copy);
  return offer;
}

void ConfigService::applyInstall(const proto::SyncInstall& install, Reply reply) {
  proto::ReplicateAnswer answer;
  if (deps_.role && deps_.role() == Role::Active) {
    answer.set_error("SP-" + std::string(1, spLetter(deps_.self)) + " is active itself");
    staged_.reset();
  } else if (install.full() && install.more()) {
    // A part of a full copy: kept aside until the last one (nothing changes before).
    if (install.part() == 0) {
      staged_ = install.snapshot();
      staged_parts_ = 1;
      answer.set_applied(true);
    } else if (staged_ && install.part() == staged_parts_) {
      for (const auto& r : install.snapshot().records()) *staged_->add_records() = r;
      ++staged_parts_;
      answer.set_applied(true);
    } else {
      answer.set_error("part " + std::to_string(install.part()) + " of a full copy out of order");
      staged_.reset();
    }
  } else {
    platform::Status status;
    if (install.full()) {
      if (install.part() == 0) {
        status = store_.install(install.snapshot());
      } else if (staged_ && install.part() == staged_parts_) {
        for (const auto& r : install.snapshot().records()) *staged_->add_records() = r;
        status = store_.install(*staged_);
      } else {
        status = platform::Status::failure("last part " + std::to_string(install.part()) +
                                           " of a full copy out of order");
      }
      staged_.reset();
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
        // The active installs only what it has acknowledged.
        std::lock_guard lock(mu_);
        synced_ = visible_ = store_.last();
      }
      if (deps_.fault) deps_.fault("config-store", false, "", "", Health::Ok);
      LOG_NOTICE << "configuration resynchronised from SP-" << spLetter(peerOf(deps_.self)) << " ("
                 << (install.full() ? "full copy"
                                    : std::to_string(install.records_size()) + " records")
                 << "), now at " << toString(store_.last()) << ", last event "
                 << lastStoredEventId();
      notifyAll();
      publishHistory();
    }
  }
  *answer.mutable_last() = toProtoVersion(store_.last());
  reply(okResult(answer.SerializeAsString()));
}

// ---- Resync and merge (the active side) ----

proto::Command ConfigService::offerRequest(bool everything, std::optional<Version> after) const {
  std::string payload = everything ? "all" : "";
  if (after) payload += (payload.empty() ? "" : " ") + std::string("after ") + toString(*after);
  Version shared;
  {
    std::lock_guard lock(mu_);
    shared = synced_;
  }
  payload += (payload.empty() ? "" : " ") + std::string("shared ") + toString(shared);
  return peerCommand("ConfigSyncOffer", payload, options_.replicate_timeout);
}

bool ConfigService::resyncNow() {
  if (!store_.isOpen() || (deps_.role && deps_.role() != Role::Active) || !deps_.peer) return false;
  bool everything = store_.recoveryReport().needs_peer_copy;
  // The offer comes in pages; the first answer carries everything but the later records.
  PeerTransport::Answer first = askPeer(offerRequest(everything), options_.replicate_timeout);
  if (first.result && first.result->status() == proto::CommandResult::OK) {
    proto::SyncOffer offer;
    if (offer.ParseFromString(first.result->payload()) && offer.more()) {
      for (int page = 0; page < 10000 && offer.more() && offer.divergent_size() > 0; ++page) {
        Version after = versionOf(*offer.divergent().rbegin());
        auto next = askPeer(offerRequest(everything, after), options_.replicate_timeout);
        proto::SyncOffer part;
        if (!next.result || next.result->status() != proto::CommandResult::OK ||
            !part.ParseFromString(next.result->payload()))
          return finishResync(next.result ? next : PeerTransport::Answer{std::nullopt, next.error},
                              everything);
        for (auto& r : *part.mutable_divergent()) *offer.add_divergent() = std::move(r);
        offer.set_more(part.more());
      }
      first.result->set_payload(offer.SerializeAsString());
    }
  }
  return finishResync(first, everything);
}

bool ConfigService::sendCopy(bool full, Version peer_last, std::string& error) {
  proto::CommandResult result;
  proto::ReplicateAnswer installed;
  auto send = [&](const proto::SyncInstall& install) {
    if (!callPeer("ConfigSyncInstall", install.SerializeAsString(), options_.replicate_timeout * 3,
                  result, error))
      return false;
    if (!installed.ParseFromString(result.payload()) || !installed.applied()) {
      error = "refused: " + installed.error();
      return false;
    }
    return true;
  };
  if (full) {
    proto::ConfigSnapshot copy = store_.copy();
    proto::SyncInstall install;
    install.set_full(true);
    *install.mutable_snapshot()->mutable_last() = copy.last();
    size_t bytes = 0;
    uint32_t part = 0;
    for (int i = 0; i < copy.records_size(); ++i) {
      if (bytes > kPartBytes) {
        install.set_part(part++);
        install.set_more(true);
        if (!send(install)) return false;
        install.mutable_snapshot()->clear_records();
        bytes = 0;
      }
      bytes += copy.records(i).ByteSizeLong();
      *install.mutable_snapshot()->add_records() = copy.records(i);
    }
    install.set_part(part);
    install.set_more(false);
    return send(install);
  }
  proto::SyncInstall install;
  *install.mutable_prev() = toProtoVersion(peer_last);
  size_t bytes = 0;
  for (auto& r : store_.since(peer_last)) {
    if (bytes > kPartBytes) {
      if (!send(install)) return false;
      *install.mutable_prev() = install.records().rbegin()->version();
      install.clear_records();
      bytes = 0;
    }
    bytes += r.ByteSizeLong();
    *install.add_records() = std::move(r);
  }
  return send(install);
}

bool ConfigService::finishResync(const PeerTransport::Answer& answer, bool everything) {
  if (!store_.isOpen() || (deps_.role && deps_.role() != Role::Active)) return false;
  auto fail = [this](const std::string& why, bool never_sent = false) {
    if (why != last_resync_error_)
      LOG_INFO << "resync of SP-" << spLetter(peerOf(deps_.self)) << " not done: " << why;
    last_resync_error_ = why;
    std::lock_guard lock(mu_);
    if (never_sent) {
      // Nothing was sent: cheap to ask again at the next tick, when the link may be back.
      next_resync_ = std::chrono::steady_clock::now();
      return false;
    }
    next_resync_ = std::chrono::steady_clock::now() + resync_backoff_;
    resync_backoff_ = std::min(resync_backoff_ * 2, kMaxResyncBackoff);
    return false;
  };
  if (!answer.result) return fail(ipc::toString(answer.error), neverSent(answer.error));
  if (answer.result->status() != proto::CommandResult::OK) return fail(answer.result->error());
  proto::SyncOffer offer;
  if (!offer.ParseFromString(answer.result->payload())) return fail("unreadable offer");
  std::string error;

  const SpId peer = peerOf(deps_.self);
  const std::string peer_name = std::string("SP-") + spLetter(peer);
  const std::string self_name = std::string("SP-") + spLetter(deps_.self);
  Version peer_last = fromProtoVersion(offer.last());
  // Both sync points are lower bounds of the shared history, so their max is too; unless
  // the passive lost records since (its store was damaged): then only its own point holds,
  // and what it wrote after it may carry versions this SP used for other changes.
  Version common = fromProtoVersion(offer.sync_point());
  if (!offer.needs_copy() && !(peer_last < synced_)) common = std::max(synced_, common);
  std::vector<ConfigRecord> divergent;
  size_t dropped = 0;
  for (const auto& r : offer.divergent()) {
    if (!everything && !(common < versionOf(r))) continue;
    auto mine = store_.find(r.key());
    if (mine && versionOf(*mine) == versionOf(r) && sameContent(*mine, r)) continue;  // shared
    if (r.writer() == ipc::toProto(deps_.self) && store_.last() < versionOf(r) && !everything) {
      // Stamped by this SP but never committed here: a change whose confirmation was lost
      // (answered as not confirmed). The full copy below drops it there.
      ++dropped;
      continue;
    }
    divergent.push_back(r);
  }
  std::sort(divergent.begin(), divergent.end(), [](const ConfigRecord& a, const ConfigRecord& b) {
    return versionOf(a) < versionOf(b);
  });

  // Merge the peer's own history into this one: each of its changes is taken unless this
  // SP changed the same object since the common point; then the newer version wins and
  // the loser is reported, never dropped silently. Its events keep their ids where this
  // SP left their ids free (it took over knowing how far the peer's history reached).
  std::vector<ConfigRecord> merged;
  Version v = nextVersion(store_.last());
  uint64_t next_id = nextEventId();
  size_t taken = 0, conflicts = 0, events = 0, restored = 0;
  auto take = [&](ConfigRecord r) {
    *r.mutable_version() = toProtoVersion(v);
    r.set_writer(ipc::toProto(deps_.self));
    merged.push_back(std::move(r));
    ++v.seq;
  };
  auto newEvent = [&](proto::Event e) {
    merged.push_back(eventRecord(std::move(e), v, next_id++));
    ++v.seq;
  };
  for (const auto& r : divergent) {
    if (isEventKey(r.key())) {
      if (r.deleted()) continue;
      proto::Event event;
      if (!event.ParseFromString(r.value())) continue;
      const uint64_t id = eventIdOf(r.key());
      const bool free = !store_.find(r.key()) && id < next_id &&
                        std::none_of(merged.begin(), merged.end(),
                                     [&](const ConfigRecord& m) { return m.key() == r.key(); });
      if (free) {
        // A client may have seen it under this id (the peer acknowledged it alone): kept as it
        // was, id and text, only marked as restored.
        event.set_restored(true);
        merged.push_back(eventRecord(std::move(event), v, id));
        ++v.seq;
        ++restored;
      } else {
        event.set_message(event.message() + " (recorded by " + peer_name +
                          " while the peers were apart, event " + std::to_string(id) +
                          " there; restored from " + peer_name + ")");
        newEvent(std::move(event));
        ++events;
      }
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
          "Both SPs changed '" + r.key() + "' while they were apart: " + who(*mine) + " wrote '" +
          shortValue(*mine) + "' (version " + toString(versionOf(*mine)) + "), " + who(r) +
          " wrote '" + shortValue(r) + "' (version " + toString(versionOf(r)) +
          "); kept the newer, " + (theirs ? who(r) : who(*mine)) + "'s.";
      LOG_WARNING << "configuration conflict: " << detail;
      newEvent(makeEvent(message::kErrorsDetected, {r.key(), "MergeConflict"},
                         managerUri(deps_.self), "Warning", deps_.self, detail));
      ++conflicts;
      if (!theirs) continue;
    }
    take(r);
    ++taken;
  }
  bool full = offer.needs_copy() || !divergent.empty() || dropped > 0 || peer_needs_full_copy_ ||
              store_.last() < peer_last;
  size_t behind = full ? 0 : store_.since(peer_last).size();
  if (behind > options_.max_incremental) full = true;
  std::string detail = "Resynchronised " + peer_name + " from version " + toString(peer_last) +
                       " (" + (full ? "full copy" : std::to_string(behind) + " changes") + ")";
  if (!divergent.empty())
    detail += "; merged its " + std::to_string(taken) + " configuration changes and " +
              std::to_string(events + restored) + " events (" + std::to_string(restored) +
              " under their own ids), " + std::to_string(conflicts) + " conflicts";
  if (dropped > 0)
    detail += "; dropped " + std::to_string(dropped) + " unconfirmed records of " + self_name;
  detail += ".";
  newEvent(makeEvent(message::kStateChanged, {managerUri(peer) + " configuration", "Synchronized"},
                     managerUri(peer), conflicts ? "Warning" : "OK", deps_.self, detail));
  std::optional<History> restored_missing;
  if (missing_ && !(peer_last < versionOfHistory(*missing_))) restored_missing = missing_;
  if (restored_missing) {
    newEvent(makeEvent(message::kErrorsCorrected, {"ConfigurationStore", "MissingChanges"},
                       managerUri(deps_.self), "OK", deps_.self,
                       "The configuration changes up to version " +
                           toString(versionOfHistory(*restored_missing)) + " that " + peer_name +
                           " acknowledged alone are merged back."));
  }
  // Merged records are new changes of this SP: before they are journaled, the sync point.
  if (!has_marker_) {
    auto s = saveSyncPoint(synced_);
    if (!s.ok) return fail("merge not stored: " + s.error);
  }
  auto status = store_.commit(merged);
  if (!status.ok) {
    if (isStorageError(status.error)) storageFault(status);
    return fail("merge not stored: " + status.error);
  }
  notifyListeners(merged);

  if (!sendCopy(full, peer_last, error)) {
    // The merged records are this SP's (acknowledged) history now; the peer gets them next time.
    {
      std::lock_guard lock(mu_);
      visible_ = store_.last();
    }
    publishHistory();
    return fail("install: " + error);
  }
  if (everything) {
    store_.clearNeedsPeerCopy();
    if (deps_.fault) deps_.fault("config-store", false, "", "", Health::Ok);
  }
  if (restored_missing) {
    missing_.reset();
    unlink((dir_ + "/" + kMissingFile).c_str());
    if (deps_.fault) deps_.fault("config-missing", false, "", "", Health::Ok);
  }
  clearSyncPoint();  // the peer holds everything this SP has
  if (history_unknown_) {
    // The peer's own history has just been offered and merged: nothing is unknown any more.
    history_unknown_ = false;
    if (deps_.fault) deps_.fault("config-unknown", false, "", "", Health::Ok);
  }
  LOG_NOTICE << detail;
  last_resync_error_.clear();
  {
    std::lock_guard lock(mu_);
    resync_backoff_ = options_.resync_interval;
    peer_in_sync_ = true;
    peer_needs_full_copy_ = false;
    synced_ = visible_ = store_.last();
    ++stats_.resyncs;
    stats_.conflicts += conflicts;
  }
  publishHistory();
  return true;
}

void ConfigService::checkMissingHistory() {
  if (!deps_.peer_history || !store_.isOpen()) return;
  auto reach = deps_.peer_history();
  if (!reach) return;
  const Version mine = store_.last();
  const Version theirs = versionOfHistory(*reach);
  if (!(mine < theirs)) return;
  if (missing_ && !(versionOfHistory(*missing_) < theirs)) return;  // known already
  const std::string peer = std::string("SP-") + spLetter(peerOf(deps_.self));
  const std::string self = std::string("SP-") + spLetter(deps_.self);
  const uint64_t my_last_event = lastStoredEventId();
  std::string text = self + " became active without the configuration versions after " +
                     toString(mine) + " up to " + toString(theirs);
  if (reach->last_event_id > my_last_event)
    text += " (events " + std::to_string(my_last_event + 1) + " to " +
            std::to_string(reach->last_event_id) + ")";
  text += ", which " + peer + " acknowledged alone while " + self + " was down; they are merged " +
          "back when " + peer + " returns.";
  LOG_CRITICAL << text;
  missing_ = reach;
  event_floor_ = std::max(event_floor_, reach->last_event_id);
  std::string error;
  if (!writeSmallFile(dir_ + "/" + kMissingFile,
                      toString(theirs) + " " + std::to_string(reach->last_event_id) + "\n", error))
    LOG_ERROR << "cannot keep the missing history on disk: " << error;
  if (deps_.fault)
    deps_.fault("config-missing", true, std::string(message::kErrorsDetected), text,
                Health::Warning);
  pending_events_.push_back(makeEvent(message::kErrorsDetected,
                                      {"ConfigurationStore", "MissingChanges"},
                                      managerUri(deps_.self), "Critical", deps_.self, text));
}

void ConfigService::noteRole(Role role) {
  if (role == Role::Active && !acting_active_) {
    // What this SP holds is the array's history now; what the dead peer held beyond it is
    // named, and its event ids stay free for when it returns.
    {
      std::lock_guard lock(mu_);
      visible_ = store_.last();
    }
    if (!peerAlive() && deps_.peer_history_readable && !deps_.peer_history_readable()) {
      history_unknown_ = true;
      const std::string text =
          std::string("SP-") + spLetter(deps_.self) + " took over from SP-" +
          spLetter(peerOf(deps_.self)) +
          " without reading on the midplane how far its history reached (the midplane is " +
          "cut): configuration changes are refused until it can, or SP-" +
          spLetter(peerOf(deps_.self)) + " returns.";
      LOG_CRITICAL << text;
      if (deps_.fault)
        deps_.fault("config-unknown", true, std::string(message::kErrorsDetected), text,
                    Health::Warning);
    }
    checkMissingHistory();
    active_since_ = lastEventId();
    publishHistory();
  }
  acting_active_ = role == Role::Active;
}

void ConfigService::tick() {
  post([this] {
    Role role = deps_.role ? deps_.role() : Role::Active;
    if (role != Role::Active && role != Role::Passive) return;
    noteRole(role);
    std::string session = deps_.peer_session ? deps_.peer_session() : "";
    if (session != last_peer_session_) {
      last_peer_session_ = session;
      std::lock_guard lock(mu_);
      peer_in_sync_ = false;
      next_resync_ = std::chrono::steady_clock::now();
    }
    if (role != Role::Active) {
      {
        // A passive shows what the active has acknowledged (its history, heard in beats).
        std::lock_guard lock(mu_);
        peer_in_sync_ = false;
        if (deps_.peer_history) {
          if (auto reach = deps_.peer_history())
            visible_ = std::min(store_.last(), std::max(visible_, versionOfHistory(*reach)));
        }
      }
      flushEvents(role);
      return;
    }
    if ((!peer_in_sync_ || peer_needs_full_copy_) && peerAlive() && peerReachable() &&
        std::chrono::steady_clock::now() >= next_resync_)
      resyncNow();
    flushEvents(role);
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

// On the worker: events wait here until they can be recorded like any change (the election
// may not have settled, the passive may be unreachable); they never block a change.
void ConfigService::flushEvents(Role role) {
  if (pending_events_.empty() || !store_.isOpen()) return;
  // Before an id is given: a new active SP first learns how far its peer's ids went (chaos
  // seed 1: the first events of an SP that took over reused the dead peer's ids).
  noteRole(role);
  if (pending_events_.size() > kMaxPendingEvents) {
    LOG_WARNING << (pending_events_.size() - kMaxPendingEvents)
                << " array events dropped: none could be recorded for too long";
    pending_events_.erase(pending_events_.begin(),
                          pending_events_.end() - static_cast<long>(kMaxPendingEvents));
  }
  if (role != Role::Active) {
    // The active SP records them; until it can be reached they wait here.
    if (!peerAlive() || !peerReachable() || !deps_.peer) return;
    auto events = std::move(pending_events_);
    pending_events_.clear();
    for (auto& event : events) {
      proto::ConfigWrite change;
      *change.mutable_event() = event;
      proto::Command command;
      command.set_name("ConfigWrite");
      command.set_forwarded(true);
      command.set_payload(change.SerializeAsString());
      command.mutable_caller()->set_origin(std::string("spd SP-") + spLetter(deps_.self));
      deps_.peer->send(
          command, options_.forward_timeout, [this, event](PeerTransport::Answer answer) {
            if (answer.result && answer.result->status() == proto::CommandResult::OK) return;
            if (answer.result && answer.result->status() != proto::CommandResult::UNAVAILABLE) {
              LOG_WARNING << "an event was not recorded: " << answer.result->error();
              return;
            }
            post([this, event] { pending_events_.push_back(event); });
          });
    }
    return;
  }
  const Mode mode = writeMode();
  if (mode == Mode::Wait) return;
  const bool alone = mode == Mode::Alone;
  const Version prev = store_.last();
  Version v = nextVersion(prev);
  uint64_t id = nextEventId();
  std::vector<ConfigRecord> records;
  for (const auto& event : pending_events_) {
    records.push_back(eventRecord(event, v, id++));
    ++v.seq;
  }
  bool held_alone = alone;
  if (!alone) {
    std::string error;
    const Sent sent = replicate(
        records, prev, std::chrono::steady_clock::now() + options_.replicate_timeout, error);
    if (sent == Sent::InDoubt && !peerAlive()) {
      held_alone = true;
    } else if (sent != Sent::Applied) {
      std::lock_guard lock(mu_);
      peer_in_sync_ = false;
      if (sent == Sent::InDoubt) peer_needs_full_copy_ = true;
      return;  // they wait for the next tick
    }
  }
  auto status = commitLocal(records, held_alone);
  if (!status.ok) {
    LOG_WARNING << records.size() << " array events not recorded: " << status.error;
    if (!held_alone) {
      std::lock_guard lock(mu_);
      peer_in_sync_ = false;
      peer_needs_full_copy_ = true;
    }
    if (isStorageError(status.error)) pending_events_.clear();  // logged in spd.log above
    return;
  }
  pending_events_.clear();
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
           if (visible < versionOf(r)) continue;  // not acknowledged yet
           const uint64_t id = eventIdOf(r.key());
           ++total;
           page.set_last_id(std::max(page.last_id(), id));
           if (id <= after || skipped++ < skip) continue;
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
                  // "all", "after <epoch>.<seq>" (the next page), "shared <epoch>.<seq>" (how
                  // far the active knows the history to be on both SPs).
                  const std::string& text = c.payload();
                  bool everything = text.rfind("all", 0) == 0;
                  auto versionAfter = [&text](const char* word) -> std::optional<Version> {
                    const std::string key = std::string(word) + " ";
                    auto at = text.find(key);
                    uint64_t epoch = 0, seq = 0;
                    if (at == std::string::npos ||
                        std::sscanf(text.c_str() + at + key.size(), "%" SCNu64 ".%" SCNu64, &epoch,
                                    &seq) != 2)
                      return std::nullopt;
                    return Version{epoch, seq};
                  };
                  const std::optional<Version> after = versionAfter("after");
                  const std::optional<Version> shared = versionAfter("shared");
                  post([this, everything, after, shared, reply = std::move(reply)] {
                    if (deps_.role && deps_.role() == Role::Active)
                      return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                                               "this SP is active itself"));
                    if (!store_.isOpen())
                      return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                                               "the configuration store is not open"));
                    reply(okResult(makeOffer(everything, after, shared).SerializeAsString()));
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
