#pragma once
// The array's storage as spd serves it (docs/STORAGE.md): GetStorage reads the model
// (sp/storage_model.hpp) from this SP's copy of the store and the shelf's drives;
// StorageWrite changes it. Changes are decided on the active SP only, one at a time on this
// service's worker, so two clients never both get the last free bytes of a pool: a passive
// SP forwards the command to the active one. Only this service writes storage/ records
// (ConfigService refuses them to unmarked writes, as it does accounts).

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "platform/hardware.hpp"
#include "sp/command_registry.hpp"
#include "sp/config_store/config_store.hpp"
#include "sp/storage_model.hpp"

namespace dualsp::sp {

class StorageService {
 public:
  struct Dependencies {
    std::function<std::vector<ConfigRecord>(const std::string& prefix)> list;
    // ConfigService's ConfigWrite handler (replicated before it answers).
    std::function<void(proto::Command, Reply)> write;
    std::function<std::vector<platform::DriveInfo>()> drives;
    std::function<bool()> active;
    // Sends the command to the active peer (ConfigService::forwardToActive): used on a
    // passive SP.
    std::function<void(const proto::Command&, Reply)> forward_to_active;
    std::chrono::milliseconds write_timeout{10000};
  };

  explicit StorageService(Dependencies deps);
  ~StorageService();
  StorageService(const StorageService&) = delete;
  StorageService& operator=(const StorageService&) = delete;

  void start();
  void stop();

  // GetStorage, StorageWrite.
  void registerCommands(CommandRegistry& clients);

  // {"drives": [...], "pools": [...], "volumes": [...]} (docs/STORAGE.md "Commands").
  void getStorage(const proto::Command& command, Reply reply);
  // args: "op" (create_pool, delete_pool, create_volume, patch_volume, delete_volume,
  // move_volume {"To": "A"|"B"}, redistribute), "id"
  // (the pool or volume, not for creations), "body" (the change, JSON). OK with payload
  // {"id", "resource"}; a refusal is BAD_REQUEST/NOT_FOUND with payload
  // {"refusal": {"status", "message", "args", "detail"}}.
  void storageWrite(const proto::Command& command, Reply reply);

  // Takeover (docs/STORAGE.md "Owners"): called on every turn of spd's main loop. On the
  // active SP while the peer is dead, every volume the peer owns is trespassed here, one
  // change and one Critical event each, on the worker. Cheap when there is nothing to do.
  void checkOwnership(bool peer_alive, const std::string& peer, const std::string& self);

 private:
  void workerLoop();
  void decide(const proto::Command& command, Reply reply);
  void redistribute(const proto::Command& command, storage::Model m, Reply reply);
  // One change written (replicated) with its event, waited for.
  proto::CommandResult commit(const proto::Caller& caller, storage::Change& change);

  const Dependencies deps_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // (mu_)
  bool stopping_ = false;                   // (mu_)
  bool trespass_queued_ = false;            // (mu_)
  std::thread worker_;
};

}  // namespace dualsp::sp
