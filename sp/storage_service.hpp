#pragma once
// The array's storage as spd serves it (docs/STORAGE.md): GetStorage reads the model
// (sp/storage_model.hpp) from this SP's copy of the store and the shelf's drives;
// StorageWrite changes it. Changes are decided on the active SP only, one at a time on this
// service's worker, so two clients never both get the last free bytes of a pool: a passive
// SP forwards the command to the active one. Only this service writes storage/ records
// (ConfigService refuses them to unmarked writes, as it does accounts).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "platform/data_path.hpp"
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
    // This SP's front-end ports (the platform's); published in the store by this service.
    std::function<std::vector<platform::FrontEndPortInfo>()> ports;
    // The store's newest version: the data path is recomputed only when it moved.
    std::function<Version()> version;
    // An event beside a write's own (a takeover writes many volumes in one change).
    std::function<void(proto::Event)> record_event;
    // Where this SP's target is programmed (platform/data_path.hpp); may be null.
    platform::DataPath* data_path = nullptr;
    // Whether the store holds all the array has acknowledged (ConfigService::
    // holdsAcknowledgedHistory); until it does, the data path claims no volume (every one
    // Transitioning here). Null: always.
    std::function<bool()> in_step;
    std::string self;  // "A" or "B"
    std::function<bool()> active;
    // Sends the command to the active peer (ConfigService::forwardToActive): used on a
    // passive SP.
    std::function<void(const proto::Command&, Reply)> forward_to_active;
    std::chrono::milliseconds write_timeout{10000};
    // GetStorage answers a model larger than this in parts ("parts" asked for): one local-bus
    // reply holds at most ipc::kBusReplyMessageBytes, and a part's text is escaped once more
    // (at most twice as long).
    size_t part_bytes = 96 * 1024;
  };

  explicit StorageService(Dependencies deps);
  ~StorageService();
  StorageService(const StorageService&) = delete;
  StorageService& operator=(const StorageService&) = delete;

  void start();
  void stop();

  // GetStorage, StorageWrite.
  void registerCommands(CommandRegistry& clients);

  // {"drives": [...], "pools": [...], "volumes": [...], ...} (docs/STORAGE.md "Who decides").
  // With args "parts" = "1" (spweb's storage routes), a model longer than part_bytes is
  // answered in parts: {"part": {"tag", "offset", "total"}, "data": <the model's text from
  // offset>}; the next part is asked for with args "tag" and "offset". Every part of one tag
  // comes from one reading of the store; a tag that is gone (the model changed meanwhile) is
  // answered with the current model's first part under a new tag.
  void getStorage(const proto::Command& command, Reply reply);
  // args: "op" (create_pool, delete_pool, create_volume, patch_volume, delete_volume,
  // move_volume {"To": "A"|"B"}, redistribute), "id"
  // (the pool or volume, not for creations), "body" (the change, JSON). OK with payload
  // {"id", "resource"}; a refusal is BAD_REQUEST/NOT_FOUND with payload
  // {"refusal": {"status", "message", "args", "detail"}}.
  void storageWrite(const proto::Command& command, Reply reply);

  // Called on every turn of spd's main loop. Takeover (docs/STORAGE.md "Owners"): on the
  // active SP while the peer is dead, every volume the peer owns is trespassed on the worker,
  // in one change, with one Critical event per volume. Cheap when there is nothing to do.
  // Also, on every SP: publishes this SP's front-end ports when they change; programs the data
  // path when the model (or who is dead) changed; and, with the auto-failback policy on, moves
  // volumes home once their SP has been back for the policy's delay.
  void tick(bool peer_alive);

  // Called for every stored storage/volumes/ record as it is applied, before the change is
  // acknowledged (ConfigService::onChange, on its worker). A volume whose state on this SP's
  // ports the record changes is reprogrammed here and now: a volume leaving this SP stops
  // being optimized here before the SP it goes to is told (no host sees it optimized on both
  // SPs at once), and one coming here is served optimized before the move is acknowledged
  // and reported.
  void onVolumeRecord(const ConfigRecord& record);

  // The data path as last applied (tests, docs/STORAGE.md "Data path").
  platform::DataPathState appliedDataPath() const;
  // What the back end could not apply at its last change of mind (empty: everything was),
  // once each time it changes; nullopt when unchanged since the last call. The main loop
  // turns it into the SP's "data-path" fault.
  std::optional<std::vector<std::string>> takeDataPathProblems();

 private:
  void workerLoop();
  void decide(const proto::Command& command, Reply reply);
  void redistribute(const proto::Command& command, storage::Model m, Reply reply);
  // A planned move in two changes: Transitioning first (the data path follows), then the owner.
  // `keyed`: the client's command, whose Idempotency-Key the last change records.
  storage::Outcome move(const proto::Caller& caller, const storage::Model& m, const std::string& id,
                        const std::string& to, const std::string& why,
                        const proto::Command* keyed = nullptr);
  // One change written (replicated) with its event, waited for; `extra` events recorded after.
  // `keyed`: the client's command; its idempotency args go on the ConfigWrite (the marker is
  // written in the same change, sp/idempotency.hpp).
  proto::CommandResult commit(const proto::Caller& caller, storage::Change& change,
                              std::vector<proto::Event> extra = {},
                              const proto::Command* keyed = nullptr);
  // The model as the store holds it now; built again only when the store's version or the
  // platform's drives changed (every storage read and decision asks for it).
  struct Snapshot {
    Version version;
    std::string drives;  // drivesSignature
    storage::Model model;
  };
  std::shared_ptr<const Snapshot> snapshot() const;
  storage::Model currentModel() const;
  // GetStorage's text of the current model (kept with the snapshot and the dead peer it shows).
  std::string modelText() const;
  // Queues `job` on the worker unless `flag` says one is queued already (flag under mu_).
  void queueOnce(bool& flag, std::function<void()> job);
  void trespass();
  void publishPorts();
  void autoFailback();
  // Programs the data path for the store as it is now (on the worker).
  void reconcile();

  std::string peer() const { return deps_.self == "A" ? "B" : "A"; }
  // One part of parts_text_ from `offset` (parts_mu_ held).
  proto::CommandResult partLocked(size_t offset) const;

  const Dependencies deps_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // (mu_)
  bool stopping_ = false;                   // (mu_)
  bool trespass_queued_ = false;            // (mu_)
  bool ports_queued_ = false;               // (mu_)
  bool reconcile_queued_ = false;           // (mu_)
  bool failback_queued_ = false;            // (mu_)
  std::atomic<bool> peer_alive_{true};
  std::chrono::steady_clock::time_point peer_alive_since_{};  // main loop only
  std::chrono::steady_clock::time_point ports_checked_{};     // main loop only
  // When the owner checks last read the model, and what they saw (main loop only).
  std::optional<Version> owners_checked_version_;
  bool owners_checked_peer_alive_ = true;
  std::chrono::steady_clock::time_point owners_checked_{};
  // One reconcile at a time, from reading the model to programming the target (the worker's,
  // and onVolumeRecord's before an acknowledgement): a slower one never undoes a newer one.
  std::mutex reconcile_mu_;
  // What the data path was last programmed from, and with (applied_mu_).
  mutable std::mutex applied_mu_;
  std::optional<Version> reconciled_version_;
  std::string reconciled_dead_;
  bool reconciled_in_step_ = false;
  std::atomic<bool> in_step_{false};
  platform::DataPathState applied_;
  std::vector<std::string> problems_;
  bool problems_changed_ = false;
  // The last model built, and its text as GetStorage answers it (model_mu_).
  mutable std::mutex model_mu_;
  mutable std::shared_ptr<const Snapshot> model_;
  mutable std::shared_ptr<const Snapshot> text_of_;
  mutable std::string text_dead_;
  mutable std::string text_;
  // The last model answered in parts, kept for its later parts (parts_mu_).
  mutable std::mutex parts_mu_;
  std::string parts_text_;
  std::string parts_tag_;
  uint64_t parts_count_ = 0;
  std::thread worker_;
};

}  // namespace dualsp::sp
