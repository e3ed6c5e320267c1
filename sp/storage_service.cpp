#include "sp/storage_service.hpp"

#include <future>
#include <nlohmann/json.hpp>

#include "platform/log.hpp"
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

json modelJson(const storage::Model& m) {
  json drives = json::array(), pools = json::array(), volumes = json::array();
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
                       {"CurrentOwner", v.current_owner}});
  return {{"drives", drives}, {"pools", pools}, {"volumes", volumes}};
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

StorageService::StorageService(Dependencies deps) : deps_(std::move(deps)) {}

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

void StorageService::getStorage(const proto::Command&, Reply reply) {
  std::vector<std::string> problems;
  storage::Model m =
      storage::buildModel(deps_.list(std::string(storage::kPrefix)), deps_.drives(), &problems);
  for (const std::string& p : problems) LOG_WARNING << "storage: " << p << "; skipped";
  proto::CommandResult result;
  result.set_payload(dumpJson(modelJson(m)));
  reply(result);
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
  storage::Model m = storage::buildModel(deps_.list(std::string(storage::kPrefix)), deps_.drives());
  storage::Outcome outcome;
  auto ids = [](const auto& items) {
    std::vector<std::string> out;
    for (const auto& i : items) out.push_back(i.id);
    return out;
  };
  if (op == "create_pool")
    outcome = storage::createPool(m, body, storage::nextId(ids(m.pools)));
  else if (op == "delete_pool")
    outcome = storage::deletePool(m, id);
  else if (op == "create_volume")
    outcome = storage::createVolume(m, body, storage::nextId(ids(m.volumes)), storage::newWwn());
  else if (op == "patch_volume")
    outcome = storage::patchVolume(m, id, body);
  else if (op == "delete_volume")
    outcome = storage::deleteVolume(m, id);
  else if (op == "move_volume")
    outcome = storage::moveVolume(m, id, body.value("To", std::string()), false,
                                  "asked by " + command.caller().user());
  else if (op == "redistribute")
    return redistribute(command, m, std::move(reply));
  else
    return reply(errorResult(proto::CommandResult::BAD_REQUEST, "unknown storage op '" + op + "'"));
  if (outcome.refusal) {
    LOG_NOTICE << "storage: " << op << (id.empty() ? "" : " " + id) << " by "
               << command.caller().user() << " refused: " << outcome.refusal->detail;
    return reply(refusalResult(*outcome.refusal));
  }
  proto::CommandResult written = commit(command.caller(), *outcome.change);
  if (written.status() != proto::CommandResult::OK) return reply(written);
  LOG_NOTICE << "storage: " << op << " " << outcome.change->id << " by " << command.caller().user();
  proto::CommandResult result;
  result.set_payload(
      dumpJson({{"id", outcome.change->id}, {"resource", outcome.change->resource}}));
  reply(result);
}

proto::CommandResult StorageService::commit(const proto::Caller& caller, storage::Change& change) {
  proto::ConfigWrite w;
  for (auto& r : change.records) *w.add_records() = std::move(r);
  *w.mutable_event() = change.event;
  if (!caller.user().empty())
    w.mutable_event()->set_message(w.event().message() + " (by " + caller.user() +
                                   (caller.origin().empty() ? "" : " from " + caller.origin()) +
                                   ")");
  proto::Command write;
  write.set_name("ConfigWrite");
  write.set_target(proto::SP_UNKNOWN);
  *write.mutable_caller() = caller;
  (*write.mutable_args())["private"] = "1";  // storage/ is this service's (ConfigService)
  write.set_payload(w.SerializeAsString());
  // Waited for here: the next change must see this one in the store.
  auto promise = std::make_shared<std::promise<proto::CommandResult>>();
  auto future = promise->get_future();
  deps_.write(write, [promise](proto::CommandResult r) { promise->set_value(std::move(r)); });
  if (future.wait_for(deps_.write_timeout) != std::future_status::ready)
    return errorResult(proto::CommandResult::TIMEOUT,
                       "the storage change was not confirmed in time; it may have been "
                       "applied: read it back");
  return future.get();
}

// Every volume away from its default owner goes home, one change (and event) each.
void StorageService::redistribute(const proto::Command& command, storage::Model m, Reply reply) {
  json moved = json::array();
  for (const std::string& id : storage::volumesAwayFromHome(m)) {
    const storage::Volume* v = m.volume(id);
    storage::Outcome o = storage::moveVolume(m, id, v->default_owner, false,
                                             "redistributed by " + command.caller().user());
    if (!o.change) continue;
    proto::CommandResult r = commit(command.caller(), *o.change);
    if (r.status() != proto::CommandResult::OK) return reply(r);
    moved.push_back(id);
    m = storage::buildModel(deps_.list(std::string(storage::kPrefix)), deps_.drives());
  }
  LOG_NOTICE << "storage: redistribute by " << command.caller().user() << ": " << moved.size()
             << " volumes moved to their default owner";
  proto::CommandResult result;
  result.set_payload(dumpJson({{"moved", moved}}));
  reply(result);
}

void StorageService::checkOwnership(bool peer_alive, const std::string& peer,
                                    const std::string& self) {
  if (peer_alive || !deps_.active()) return;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || trespass_queued_) return;
  }
  storage::Model m = storage::buildModel(deps_.list(std::string(storage::kPrefix)), deps_.drives());
  if (storage::volumesOwnedBy(m, peer).empty()) return;
  std::lock_guard lock(mu_);
  trespass_queued_ = true;
  jobs_.push_back([this, peer, self] {
    {
      std::lock_guard lock(mu_);
      trespass_queued_ = false;
      if (stopping_) return;
    }
    if (!deps_.active()) return;
    storage::Model m =
        storage::buildModel(deps_.list(std::string(storage::kPrefix)), deps_.drives());
    for (const std::string& id : storage::volumesOwnedBy(m, peer)) {
      storage::Outcome o = storage::moveVolume(m, id, self, true, "SP-" + peer + " failed");
      if (!o.change) continue;
      proto::Caller firmware;
      firmware.set_origin("SP-" + self + " taking over");
      proto::CommandResult r = commit(firmware, *o.change);
      if (r.status() != proto::CommandResult::OK) {
        LOG_WARNING << "storage: volume " << id << " not trespassed to SP-" << self << ": "
                    << r.error() << "; tried again shortly";
        return;
      }
      LOG_WARNING << "storage: volume " << id << " trespassed from SP-" << peer << " to SP-" << self
                  << " (SP-" << peer << " failed)";
      m = storage::buildModel(deps_.list(std::string(storage::kPrefix)), deps_.drives());
    }
  });
  wake_.notify_one();
}

}  // namespace dualsp::sp
