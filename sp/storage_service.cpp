#include "sp/storage_service.hpp"

#include <algorithm>
#include <charconv>
#include <future>
#include <nlohmann/json.hpp>

#include "platform/log.hpp"
#include "sp/idempotency.hpp"
#include "sp/storage_model.hpp"

namespace dualsp::sp {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxWaitingWrites = 32;

std::string arg(const proto::Command& c, const std::string& name) {
  auto it = c.args().find(name);
  return it == c.args().end() ? std::string() : it->second;
}

std::string dumpJson(const json& v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

const char* accessStateName(platform::AluaState state) {
  switch (state) {
    case platform::AluaState::Optimized:
      return "Optimized";
    case platform::AluaState::NonOptimized:
      return "NonOptimized";
    case platform::AluaState::Transitioning:
      return "Transitioning";
    case platform::AluaState::Unavailable:
      return "Unavailable";
  }
  return "Unavailable";
}

// GetStorage's payload (docs/STORAGE.md "Commands"): the model as this SP sees it, `dead`
// naming an SP the election declared dead ("" none).
json modelJson(const storage::Model& m, const std::string& self, const std::string& dead) {
  json drives = json::array(), pools = json::array(), volumes = json::array();
  json ports = json::array(), initiators = json::array(), hosts = json::array();
  json mappings = json::array();
  for (const auto& d : m.drives)
    drives.push_back({{"Id", d.info.id},
                      {"Slot", d.info.slot},
                      {"CapacityBytes", d.info.capacity_bytes},
                      {"MediaType", d.info.media_type},
                      {"Protocol", d.info.protocol},
                      {"Manufacturer", d.info.manufacturer},
                      {"Model", d.info.model},
                      {"SerialNumber", d.info.serial_number},
                      {"Failed", d.info.failed},
                      {"Pool", d.pool}});
  for (const auto& p : m.pools)
    pools.push_back({{"Id", p.id},
                     {"Name", p.name},
                     {"RAIDType", p.raid_type},
                     {"Drives", p.drives},
                     {"DefaultOwner", p.default_owner},
                     {"CapacityBytes", p.capacity_bytes},
                     {"AllocatedBytes", p.allocated_bytes},
                     {"Degraded", p.degraded}});
  for (const auto& v : m.volumes)
    volumes.push_back({{"Id", v.id},
                       {"Name", v.name},
                       {"CapacityBytes", v.capacity_bytes},
                       {"Pool", v.pool},
                       {"WWN", v.wwn},
                       {"DefaultOwner", v.default_owner},
                       {"CurrentOwner", v.current_owner},
                       {"Transitioning", v.transitioning},
                       {"AccessStates",
                        {{"A", accessStateName(storage::accessState(v, "A", dead))},
                         {"B", accessStateName(storage::accessState(v, "B", dead))}}}});
  for (const auto& p : m.ports)
    ports.push_back({{"Id", p.endpointId()},
                     {"SP", p.sp},
                     {"PortId", p.info.id},
                     {"Protocol", p.info.protocol},
                     {"Identifier", p.info.identifier},
                     {"Address", p.info.address},
                     {"LinkUp", p.info.link_up && p.sp != dead},
                     {"SpeedMbps", p.sp == dead ? 0 : p.info.speed_mbps}});
  for (const auto& i : m.initiators)
    initiators.push_back({{"Id", i.id},
                          {"Name", i.name},
                          {"Protocol", i.protocol},
                          {"Identifier", i.identifier},
                          {"Host", i.host}});
  for (const auto& h : m.hosts)
    hosts.push_back({{"Id", h.id},
                     {"Name", h.name},
                     {"Kind", h.group ? "HostGroup" : "Host"},
                     {"Protocol", h.protocol},
                     {"Initiators", h.initiators},
                     {"Hosts", h.hosts},
                     {"MemberOf", h.member_of}});
  for (const auto& map : m.mappings)
    mappings.push_back({{"Id", map.id},
                        {"Group", map.group},
                        {"Volume", map.volume},
                        {"LUN", map.lun},
                        {"ReadOnly", map.read_only},
                        {"Ports", map.ports}});
  return {{"drives", drives},
          {"pools", pools},
          {"volumes", volumes},
          {"ports", ports},
          {"initiators", initiators},
          {"hosts", hosts},
          {"mappings", mappings},
          {"policy",
           {{"AutoFailback", m.policy.auto_failback},
            {"AutoFailbackDelaySeconds", m.policy.auto_failback_delay_seconds}}},
          {"self", self},
          {"dead", dead}};
}

proto::CommandResult refusalResult(const storage::Refusal& r) {
  proto::CommandResult result;
  result.set_status(r.status == 404 ? proto::CommandResult::NOT_FOUND
                                    : proto::CommandResult::BAD_REQUEST);
  result.set_error(r.detail);
  result.set_payload(dumpJson(
      {{"refusal",
        {{"status", r.status}, {"message", r.message}, {"args", r.args}, {"detail", r.detail}}}}));
  return result;
}

}  // namespace

StorageService::StorageService(Dependencies deps) : deps_(std::move(deps)) {
  in_step_ = !deps_.in_step;
}

StorageService::~StorageService() {
  stop();
}

void StorageService::start() {
  std::lock_guard lock(mu_);
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] { workerLoop(); });
}

void StorageService::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  // Whatever still waits is answered: nothing of it was done.
  std::deque<std::function<void()>> left;
  {
    std::lock_guard lock(mu_);
    left.swap(jobs_);
  }
  for (auto& job : left) job();
}

void StorageService::registerCommands(CommandRegistry& clients) {
  clients.add({"GetStorage",
               [this](const proto::Command& c, Reply r) { getStorage(c, std::move(r)); },
               /*degraded=*/false, Privilege::Login, /*mutating=*/false});
  clients.add({"StorageWrite",
               [this](const proto::Command& c, Reply r) { storageWrite(c, std::move(r)); },
               /*degraded=*/false, Privilege::ConfigureComponents, /*mutating=*/true});
}

void StorageService::getStorage(const proto::Command& command, Reply reply) {
  const bool parts = arg(command, "parts") == "1";
  const std::string tag = arg(command, "tag");
  if (parts && !tag.empty()) {
    // A later part of one reading, from the text kept for it.
    uint64_t offset = 0;
    const std::string at = arg(command, "offset");
    auto [end, ec] = std::from_chars(at.data(), at.data() + at.size(), offset);
    if (ec != std::errc() || end != at.data() + at.size())
      return reply(errorResult(proto::CommandResult::BAD_REQUEST, "GetStorage: bad offset"));
    std::lock_guard lock(parts_mu_);
    if (tag == parts_tag_) {
      if (offset >= parts_text_.size())
        return reply(errorResult(proto::CommandResult::BAD_REQUEST, "GetStorage: bad offset"));
      return reply(partLocked(offset));
    }
    // Gone: the model changed since that reading. The current one, from its start.
  }
  std::string text = modelText();
  if (!parts || text.size() <= deps_.part_bytes) {
    proto::CommandResult result;
    result.set_payload(std::move(text));
    return reply(result);
  }
  std::lock_guard lock(parts_mu_);
  if (text != parts_text_) {  // readers of an unchanged model share one tag
    parts_text_ = std::move(text);
    parts_tag_ =
        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007) +
        "." + std::to_string(++parts_count_);
  }
  reply(partLocked(0));
}

proto::CommandResult StorageService::partLocked(size_t offset) const {
  size_t end = std::min(parts_text_.size(), offset + std::max<size_t>(deps_.part_bytes, 4));
  // Never inside a UTF-8 sequence: each part is text of its own.
  while (end > offset + 1 && end < parts_text_.size() &&
         (static_cast<unsigned char>(parts_text_[end]) & 0xC0) == 0x80)
    --end;
  proto::CommandResult result;
  result.set_payload(
      dumpJson({{"part", {{"tag", parts_tag_}, {"offset", offset}, {"total", parts_text_.size()}}},
                {"data", parts_text_.substr(offset, end - offset)}}));
  return result;
}

namespace {

// What the model takes from the platform's drives, as one string to compare.
std::string drivesSignature(const std::vector<platform::DriveInfo>& drives) {
  std::string out;
  for (const auto& d : drives) {
    for (const std::string* s :
         {&d.id, &d.media_type, &d.protocol, &d.manufacturer, &d.model, &d.serial_number}) {
      out += *s;
      out += '\x1f';
    }
    out += std::to_string(d.slot) + '\x1f' + std::to_string(d.capacity_bytes) +
           (d.failed ? "F" : "-") + '\x1e';
  }
  return out;
}

}  // namespace

std::shared_ptr<const StorageService::Snapshot> StorageService::snapshot() const {
  // The version first: a change landing meanwhile is in the model, and the next reader sees a
  // newer version and builds again. Without a version (tests) nothing is kept.
  const std::optional<Version> version =
      deps_.version ? std::optional<Version>(deps_.version()) : std::nullopt;
  std::vector<platform::DriveInfo> drives = deps_.drives();
  std::string signature = drivesSignature(drives);
  {
    std::lock_guard lock(model_mu_);
    if (version && model_ && model_->version == *version && model_->drives == signature)
      return model_;
  }
  auto fresh = std::make_shared<Snapshot>();
  std::vector<std::string> problems;
  fresh->model = storage::buildModel(deps_.list(std::string(storage::kPrefix)), drives, &problems);
  for (const std::string& p : problems) LOG_WARNING << "storage: " << p << "; skipped";
  fresh->drives = std::move(signature);
  if (!version) return fresh;
  fresh->version = *version;
  std::lock_guard lock(model_mu_);
  model_ = fresh;
  return fresh;
}

storage::Model StorageService::currentModel() const {
  return snapshot()->model;
}

std::string StorageService::modelText() const {
  std::shared_ptr<const Snapshot> s = snapshot();
  const std::string dead = peer_alive_ ? "" : peer();
  {
    std::lock_guard lock(model_mu_);
    if (s == text_of_ && dead == text_dead_) return text_;
  }
  std::string text = dumpJson(modelJson(s->model, deps_.self, dead));
  std::lock_guard lock(model_mu_);
  if (s == model_) {
    text_of_ = s;
    text_dead_ = dead;
    text_ = text;
  }
  return text;
}

void StorageService::storageWrite(const proto::Command& command, Reply reply) {
  if (!deps_.active()) return deps_.forward_to_active(command, std::move(reply));
  std::unique_lock lock(mu_);
  if (stopping_)
    return reply(errorResult(proto::CommandResult::UNAVAILABLE, "spd is stopping: retry"));
  if (jobs_.size() >= kMaxWaitingWrites)
    return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                             "too many storage changes waiting: retry shortly"));
  jobs_.push_back([this, command, reply = std::move(reply)]() mutable {
    bool stopping = false;
    {
      std::lock_guard lock(mu_);
      stopping = stopping_;
    }
    if (stopping)
      return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                               "spd is stopping; the change was not applied: retry"));
    decide(command, std::move(reply));
  });
  lock.unlock();
  wake_.notify_one();
}

void StorageService::workerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    try {
      job();
    } catch (const std::exception& e) {
      LOG_ERROR << "storage: a change failed: " << e.what();
    }
    lock.lock();
  }
}

// On the worker: one change at a time, decided on the store as the previous one left it.
void StorageService::decide(const proto::Command& command, Reply reply) {
  // The role may have changed while it waited.
  if (!deps_.active()) return deps_.forward_to_active(command, std::move(reply));
  const std::string op = arg(command, "op");
  const std::string id = arg(command, "id");
  json body = json::parse(arg(command, "body"), nullptr, false);
  if (body.is_discarded()) body = json::object();
  storage::Model m = currentModel();
  storage::Outcome outcome;
  auto ids = [](const auto& items) {
    std::vector<std::string> out;
    for (const auto& i : items) out.push_back(i.id);
    return out;
  };
  const std::string user = command.caller().user();
  if (op == "create_pool")
    outcome = storage::createPool(m, body, storage::nextId(ids(m.pools)));
  else if (op == "delete_pool")
    outcome = storage::deletePool(m, id);
  else if (op == "create_volume")
    outcome = storage::createVolume(m, body, storage::nextId(ids(m.volumes)), storage::newWwn());
  else if (op == "patch_volume")
    outcome = storage::patchVolume(m, id, body);
  else if (op == "delete_volume")
    outcome = storage::deleteVolume(m, id, body.value("Force", false) == true);
  else if (op == "move_volume")
    outcome = move(command.caller(), m, id, body.value("To", std::string()), "asked by " + user,
                   &command);
  else if (op == "create_initiator")
    outcome = storage::createInitiator(m, body, storage::nextId(ids(m.initiators)));
  else if (op == "delete_initiator")
    outcome = storage::deleteInitiator(m, id);
  else if (op == "create_host")
    outcome = storage::createHost(m, body, storage::nextId(ids(m.hosts)));
  else if (op == "patch_host")
    outcome = storage::patchHost(m, id, body);
  else if (op == "delete_host")
    outcome = storage::deleteHost(m, id);
  else if (op == "create_mapping")
    outcome = storage::createMapping(m, body, storage::nextId(ids(m.mappings)));
  else if (op == "patch_mapping")
    outcome = storage::patchMapping(m, id, body);
  else if (op == "delete_mapping")
    outcome = storage::deleteMapping(m, id);
  else if (op == "set_policy")
    outcome = storage::setPolicy(m, body);
  else if (op == "redistribute")
    return redistribute(command, m, std::move(reply));
  else
    return reply(errorResult(proto::CommandResult::BAD_REQUEST, "unknown storage op '" + op + "'"));
  if (outcome.refusal) {
    LOG_NOTICE << "storage: " << op << (id.empty() ? "" : " " + id) << " by "
               << command.caller().user() << " refused: " << outcome.refusal->detail;
    return reply(refusalResult(*outcome.refusal));
  }
  if (op == "move_volume") {  // written by move()
    proto::CommandResult result;
    result.set_payload(
        dumpJson({{"id", outcome.change->id}, {"resource", outcome.change->resource}}));
    return reply(result);
  }
  // A creation names what it made, for a retry answered from the idempotency marker alone.
  proto::Command keyed = command;
  if (op.rfind("create_", 0) == 0 && command.args().count(idempotency::kArgId))
    (*keyed.mutable_args())[idempotency::kArgCreated] = outcome.change->id;
  proto::CommandResult written = commit(command.caller(), *outcome.change, {}, &keyed);
  if (written.status() != proto::CommandResult::OK) return reply(written);
  reconcile();
  LOG_NOTICE << "storage: " << op << " " << outcome.change->id << " by " << command.caller().user();
  proto::CommandResult result;
  result.set_payload(
      dumpJson({{"id", outcome.change->id}, {"resource", outcome.change->resource}}));
  reply(result);
}

proto::CommandResult StorageService::commit(const proto::Caller& caller, storage::Change& change,
                                            std::vector<proto::Event> extra,
                                            const proto::Command* keyed) {
  proto::ConfigWrite w;
  for (auto& r : change.records) *w.add_records() = std::move(r);
  // A change without an event of its own (this SP's ports published) records none: an event
  // without a message would show in the log as an empty entry.
  const bool has_event = !change.event.message().empty() || !change.event.message_id().empty();
  if (has_event) *w.mutable_event() = change.event;
  if (has_event && !caller.user().empty())
    w.mutable_event()->set_message(w.event().message() + " (by " + caller.user() +
                                   (caller.origin().empty() ? "" : " from " + caller.origin()) +
                                   ")");
  proto::Command write;
  write.set_name("ConfigWrite");
  write.set_target(proto::SP_UNKNOWN);
  *write.mutable_caller() = caller;
  (*write.mutable_args())["private"] = "1";  // storage/ is this service's (ConfigService)
  if (keyed) idempotency::passOn(*keyed, write);
  write.set_payload(w.SerializeAsString());
  // Waited for here: the next change must see this one in the store.
  auto promise = std::make_shared<std::promise<proto::CommandResult>>();
  auto future = promise->get_future();
  deps_.write(write, [promise](proto::CommandResult r) { promise->set_value(std::move(r)); });
  if (future.wait_for(deps_.write_timeout) != std::future_status::ready)
    return errorResult(proto::CommandResult::TIMEOUT,
                       "the storage change was not confirmed in time; it may have been "
                       "applied: read it back");
  proto::CommandResult result = future.get();
  if (result.status() == proto::CommandResult::OK && deps_.record_event)
    for (proto::Event& e : extra) deps_.record_event(std::move(e));
  return result;
}

storage::Outcome StorageService::move(const proto::Caller& caller, const storage::Model& m,
                                      const std::string& id, const std::string& to,
                                      const std::string& why, const proto::Command* keyed) {
  storage::Outcome outcome = storage::moveVolume(m, id, to, false, why);
  if (!outcome.change) return outcome;
  // Transitioning first, so no host is told a path is optimized on both SPs at once.
  storage::Outcome begin = storage::beginMove(m, id);
  if (begin.change) {
    proto::CommandResult r = commit(caller, *begin.change);
    if (r.status() != proto::CommandResult::OK) {
      storage::Refusal failed{503,
                              "ServiceTemporarilyUnavailable",
                              {"1"},
                              "the move of volume " + id + " did not start: " + r.error()};
      return {std::nullopt, failed};
    }
    reconcile();
  }
  proto::CommandResult r = commit(caller, *outcome.change, {}, keyed);
  if (r.status() != proto::CommandResult::OK) {
    storage::Refusal failed{503,
                            "ServiceTemporarilyUnavailable",
                            {"1"},
                            "volume " + id + " stays Transitioning: " + r.error()};
    return {std::nullopt, failed};
  }
  reconcile();
  return outcome;
}

// Every volume away from its default owner goes home, one change (and event) each.
void StorageService::redistribute(const proto::Command& command, storage::Model m, Reply reply) {
  json moved = json::array();
  for (const std::string& id : storage::volumesAwayFromHome(m)) {
    const storage::Volume* v = m.volume(id);
    storage::Outcome o = move(command.caller(), m, id, v->default_owner,
                              "redistributed by " + command.caller().user());
    if (o.refusal && o.refusal->status == 503)
      return reply(errorResult(proto::CommandResult::UNAVAILABLE, o.refusal->detail));
    if (!o.change) continue;
    moved.push_back(id);
    m = currentModel();
  }
  LOG_NOTICE << "storage: redistribute by " << command.caller().user() << ": " << moved.size()
             << " volumes moved to their default owner";
  proto::CommandResult result;
  result.set_payload(dumpJson({{"moved", moved}}));
  reply(result);
}

void StorageService::queueOnce(bool& flag, std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || flag) return;
    flag = true;
    jobs_.push_back([this, &flag, job = std::move(job)] {
      {
        std::lock_guard lock(mu_);
        flag = false;
        if (stopping_) return;
      }
      job();
    });
  }
  wake_.notify_one();
}

void StorageService::tick(bool peer_alive) {
  using Clock = std::chrono::steady_clock;
  const auto now = Clock::now();
  if (peer_alive && !peer_alive_) peer_alive_since_ = now;
  peer_alive_ = peer_alive;
  const bool in_step = !deps_.in_step || deps_.in_step();
  in_step_ = in_step;
  // The data path follows the store (and who is dead, and whether the store is behind) on
  // every SP.
  bool stale = false;
  if (deps_.data_path) {
    std::lock_guard lock(applied_mu_);
    stale = !reconciled_version_ || !deps_.version || deps_.version() != *reconciled_version_ ||
            reconciled_dead_ != (peer_alive ? "" : peer()) || reconciled_in_step_ != in_step;
  }
  if (stale) queueOnce(reconcile_queued_, [this] { reconcile(); });
  // This SP's ports, looked at once a second (the sim reads a file, Linux sysfs).
  if (deps_.ports && now - ports_checked_ >= std::chrono::seconds{1}) {
    ports_checked_ = now;
    queueOnce(ports_queued_, [this] { publishPorts(); });
  }
  if (!deps_.active()) {
    owners_checked_version_.reset();  // a new active SP looks at once
    return;
  }
  // The owner checks read the whole model: only when the store or the peer changed, or once
  // a second (the auto-failback delay runs on time alone).
  const Version version = deps_.version ? deps_.version() : Version{};
  if (owners_checked_version_ && *owners_checked_version_ == version &&
      owners_checked_peer_alive_ == peer_alive && now - owners_checked_ < std::chrono::seconds{1})
    return;
  owners_checked_version_ = version;
  owners_checked_peer_alive_ = peer_alive;
  owners_checked_ = now;
  storage::Model m = currentModel();
  if (!peer_alive) {
    if (!storage::volumesOwnedBy(m, peer()).empty())
      queueOnce(trespass_queued_, [this] { trespass(); });
    return;
  }
  if (m.policy.auto_failback && !storage::volumesAwayFromHome(m).empty() &&
      now - peer_alive_since_ >= std::chrono::seconds{m.policy.auto_failback_delay_seconds})
    queueOnce(failback_queued_, [this] { autoFailback(); });
}

// On the worker: every volume of the dead peer to this SP, in one change.
void StorageService::trespass() {
  if (!deps_.active() || peer_alive_) return;
  storage::Model m = currentModel();
  std::vector<proto::Event> events;
  storage::Outcome o =
      storage::trespassAll(m, peer(), deps_.self, "SP-" + peer() + " failed", &events);
  if (!o.change) return;
  const size_t count = o.change->records.size();
  proto::Caller firmware;
  firmware.set_origin("SP-" + deps_.self + " taking over");
  proto::CommandResult r = commit(firmware, *o.change, std::move(events));
  if (r.status() != proto::CommandResult::OK) {
    LOG_WARNING << "storage: SP-" << peer() << "'s volumes not trespassed to SP-" << deps_.self
                << ": " << r.error() << "; tried again shortly";
    return;
  }
  LOG_WARNING << "storage: " << count << " volumes trespassed from SP-" << peer() << " to SP-"
              << deps_.self << " (SP-" << peer() << " failed)";
  reconcile();
}

// On the worker: the auto-failback policy moves every volume home (planned moves).
void StorageService::autoFailback() {
  if (!deps_.active() || !peer_alive_) return;
  storage::Model m = currentModel();
  if (!m.policy.auto_failback) return;
  proto::Caller firmware;
  firmware.set_origin("automatic failback");
  size_t moved = 0;
  for (const std::string& id : storage::volumesAwayFromHome(m)) {
    const storage::Volume* v = m.volume(id);
    storage::Outcome o = move(firmware, m, id, v->default_owner, "automatic failback");
    if (o.refusal && o.refusal->status == 503) {
      LOG_WARNING << "storage: automatic failback stopped: " << o.refusal->detail;
      return;
    }
    if (o.change) ++moved;
    m = currentModel();
  }
  if (moved) LOG_NOTICE << "storage: automatic failback moved " << moved << " volumes home";
}

// On the worker: this SP's ports into the store when they differ from what it holds.
void StorageService::publishPorts() {
  if (!deps_.ports) return;
  storage::Model m = currentModel();
  std::optional<proto::ConfigRecord> record = storage::portsRecord(m, deps_.self, deps_.ports());
  if (!record) return;
  storage::Change change;
  change.records.push_back(std::move(*record));
  proto::Caller firmware;
  firmware.set_origin("SP-" + deps_.self + " ports");
  proto::CommandResult r = commit(firmware, change);
  if (r.status() != proto::CommandResult::OK)
    LOG_INFO << "storage: SP-" << deps_.self << "'s ports not published yet: " << r.error();
  else
    LOG_NOTICE << "storage: SP-" << deps_.self << "'s front-end ports published";
}

void StorageService::onVolumeRecord(const ConfigRecord& record) {
  if (!deps_.data_path || record.deleted()) return;
  const std::string id = record.key().substr(storage::kVolumePrefix.size());
  std::optional<platform::AluaState> here;
  {
    std::lock_guard lock(applied_mu_);
    for (const platform::DataPathVolume& v : applied_.volumes)
      if (v.id == id) here = v.state;
  }
  if (!here) return;  // a new volume: the main loop's next turn exports it
  const json v = json::parse(record.value(), nullptr, false);
  if (!v.is_object()) return;
  using platform::AluaState;
  const std::string owner = v.value("CurrentOwner", v.value("DefaultOwner", std::string()));
  const AluaState said = v.value("Transitioning", false) == true ? AluaState::Transitioning
                         : owner == deps_.self                   ? AluaState::Optimized
                                                                 : AluaState::NonOptimized;
  if (said == *here) return;
  // Leaving (optimized here, no more): before the SP it goes to is told. Arriving: the move
  // is acknowledged, and reported, once this SP's target serves it so. reconcile() decides
  // the state with everything it knows (a dead peer, a store behind the array's).
  LOG_INFO << "storage: volume " << id << " goes from " << platform::aluaStateName(*here) << " to "
           << platform::aluaStateName(said) << " on SP-" << deps_.self
           << "'s ports before the change is acknowledged";
  reconcile();
}

void StorageService::reconcile() {
  if (!deps_.data_path) return;
  std::lock_guard reconciling(reconcile_mu_);
  const Version version = deps_.version ? deps_.version() : Version{};
  const std::string dead = peer_alive_ ? "" : peer();
  const bool in_step = in_step_;
  storage::Model m = currentModel();
  platform::DataPathState wanted = storage::dataPathState(m, deps_.self, dead, in_step);
  {
    std::lock_guard lock(applied_mu_);
    reconciled_version_ = version;
    reconciled_dead_ = dead;
    reconciled_in_step_ = in_step;
    if (wanted == applied_ && !applied_.sp.empty()) return;
  }
  std::vector<std::string> problems = deps_.data_path->apply(wanted);
  for (const std::string& p : problems) LOG_WARNING << "storage: data path: " << p;
  size_t optimized = 0;
  for (const auto& v : wanted.volumes) optimized += v.state == platform::AluaState::Optimized;
  LOG_INFO << "storage: data path programmed (" << deps_.data_path->describe()
           << "): " << wanted.volumes.size() << " volumes, " << optimized << " optimized here, "
           << wanted.acls.size() << " initiators"
           << (in_step ? "" : " (all Transitioning until the store is resynchronised)");
  std::lock_guard lock(applied_mu_);
  applied_ = std::move(wanted);
  if (problems != problems_) {
    problems_ = std::move(problems);
    problems_changed_ = true;
  }
}

std::optional<std::vector<std::string>> StorageService::takeDataPathProblems() {
  std::lock_guard lock(applied_mu_);
  if (!problems_changed_) return std::nullopt;
  problems_changed_ = false;
  return problems_;
}

platform::DataPathState StorageService::appliedDataPath() const {
  std::lock_guard lock(applied_mu_);
  return applied_;
}

}  // namespace dualsp::sp
