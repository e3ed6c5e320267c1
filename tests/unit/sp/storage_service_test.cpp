// The storage service's data path (sp/storage_service.hpp): programmed from the store on every
// SP, and never claiming a volume while this SP's store may be behind the array's.

#include <CppUTest/TestHarness.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "sp/storage_model.hpp"
#include "sp/storage_service.hpp"

using namespace dualsp;
using namespace dualsp::sp;

namespace {

constexpr uint64_t kHdd = 4'000'787'030'016;

// What a back end was told, as the sim back end records it.
class RecordingDataPath final : public platform::DataPath {
 public:
  std::vector<std::string> apply(const platform::DataPathState& wanted) override {
    std::lock_guard lock(mu_);
    history_.push_back(wanted);
    return problems;
  }
  std::vector<std::string> problems;  // what it answers it could not apply (set before)
  std::string describe() const override { return "recording"; }
  std::vector<platform::DataPathState> history() const {
    std::lock_guard lock(mu_);
    return history_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<platform::DataPathState> history_;
};

struct Fixture {
  std::mutex mu;
  std::map<std::string, std::string> store;
  std::atomic<uint64_t> seq{1};
  std::vector<platform::DriveInfo> drives;
  RecordingDataPath path;
  std::atomic<bool> in_step{false};
  std::atomic<int> lists{0};               // the store read whole (a model built)
  std::vector<proto::ConfigWrite> writes;  // what the service asked to write (mu)
  std::unique_ptr<StorageService> service;

  Fixture() {
    for (int slot = 0; slot < 2; ++slot)
      drives.push_back({"Disk" + std::to_string(slot), slot, kHdd, "HDD", "SAS", "Sim", "HDD",
                        "S" + std::to_string(slot), false});
    // SP-A's stale store: a volume it owns (the peer may have taken it over meanwhile).
    apply(
        *storage::createPool(model(), {{"RAIDType", "RAID1"}, {"Drives", {"Disk0", "Disk1"}}}, "1")
             .change);
    apply(*storage::createVolume(model(), {{"CapacityBytes", uint64_t{1} << 30}, {"Pool", "1"}},
                                 "1", storage::newWwn())
               .change);
    StorageService::Dependencies d;
    d.list = [this](const std::string& prefix) {
      ++lists;
      return list(prefix);
    };
    d.write = [this](proto::Command c, Reply reply) {
      proto::ConfigWrite w;
      CHECK_TRUE(w.ParseFromString(c.payload()));
      {
        std::lock_guard lock(mu);
        writes.push_back(w);
      }
      reply(errorResult(proto::CommandResult::UNAVAILABLE, "read-only in this test"));
    };
    d.ports = [] {
      return std::vector<platform::FrontEndPortInfo>{
          {"iSCSI0", "iSCSI", "iqn.2026-12.t:a", "198.18.2.10:3260", true, 25000}};
    };
    d.drives = [this] {
      std::lock_guard lock(mu);
      return drives;
    };
    d.version = [this] { return Version{1, seq.load()}; };
    d.data_path = &path;
    d.in_step = [this] { return in_step.load(); };
    d.self = "A";
    d.active = [] { return false; };
    d.forward_to_active = [](const proto::Command&, Reply reply) {
      reply(errorResult(proto::CommandResult::UNAVAILABLE, "no peer in this test"));
    };
    service = std::make_unique<StorageService>(d);
    service->start();
  }
  ~Fixture() { service->stop(); }

  std::vector<proto::ConfigRecord> list(const std::string& prefix) {
    std::lock_guard lock(mu);
    std::vector<proto::ConfigRecord> out;
    for (auto& [k, v] : store)
      if (k.rfind(prefix, 0) == 0) {
        proto::ConfigRecord r;
        r.set_key(k);
        r.set_value(v);
        out.push_back(r);
      }
    return out;
  }
  storage::Model model() { return storage::buildModel(list(""), drives); }
  void apply(const storage::Change& c) {
    std::lock_guard lock(mu);
    for (const auto& r : c.records) store[r.key()] = r.value();
  }
  std::string getStorage() {
    proto::Command c;
    c.set_name("GetStorage");
    std::promise<proto::CommandResult> p;
    service->getStorage(c, [&p](proto::CommandResult r) { p.set_value(std::move(r)); });
    return p.get_future().get().payload();
  }
  // Ticks (the main loop) until the data path last applied satisfies `pred`, within 5 s.
  template <typename Pred>
  bool programmed(Pred pred) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds{5};
    while (std::chrono::steady_clock::now() < end) {
      service->tick(true);
      auto h = path.history();
      if (!h.empty() && pred(h.back())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds{2});
    }
    return false;
  }
};

bool allIn(const platform::DataPathState& s, platform::AluaState state) {
  if (s.volumes.empty()) return false;
  for (const auto& v : s.volumes)
    if (v.state != state) return false;
  return true;
}

}  // namespace

TEST_GROUP(StorageService){};

TEST(StorageService, ARestartedSpClaimsNoVolumeUntilItsStoreIsResynchronised) {
  Fixture f;
  CHECK_TRUE(
      f.programmed([](const auto& s) { return allIn(s, platform::AluaState::Transitioning); }));
  // Never Optimized while the store may be behind, however often the loop turns.
  for (int i = 0; i < 20; ++i) f.service->tick(true);
  for (const auto& s : f.path.history()) CHECK_FALSE(allIn(s, platform::AluaState::Optimized));
  // The resync brought the news: the peer took the volume over while this SP was away.
  f.apply(*storage::trespassAll(f.model(), "A", "B", "SP-A failed", nullptr).change);
  ++f.seq;
  f.in_step = true;
  CHECK_TRUE(
      f.programmed([](const auto& s) { return allIn(s, platform::AluaState::NonOptimized); }));
  for (const auto& s : f.path.history()) CHECK_FALSE(allIn(s, platform::AluaState::Optimized));
}

TEST(StorageService, AnSpInStepProgramsItsOwnVolumesOptimized) {
  Fixture f;
  f.in_step = true;
  CHECK_TRUE(f.programmed([](const auto& s) { return allIn(s, platform::AluaState::Optimized); }));
}

// Every storage read and decision asks for the model: it is built again only when the store
// changed (its version) or the platform's drives did.
TEST(StorageService, TheModelIsBuiltAgainOnlyWhenTheStoreOrTheDrivesChanged) {
  Fixture f;
  f.in_step = true;
  CHECK_TRUE(f.programmed([](const auto& s) { return allIn(s, platform::AluaState::Optimized); }));
  const std::string first = f.getStorage();
  const int built = f.lists;
  for (int i = 0; i < 10; ++i) STRCMP_EQUAL(first.c_str(), f.getStorage().c_str());
  LONGS_EQUAL(built, f.lists.load());
  // A new volume in the store, a new version: the next read shows it.
  f.apply(*storage::createVolume(f.model(), {{"CapacityBytes", uint64_t{1} << 30}, {"Pool", "1"}},
                                 "2", storage::newWwn())
               .change);
  ++f.seq;
  const int before = f.lists;
  nlohmann::json model = nlohmann::json::parse(f.getStorage());
  LONGS_EQUAL(2, model["volumes"].size());
  CHECK(f.lists > before);
  // A drive fails, the store unchanged: the model shows it.
  {
    std::lock_guard lock(f.mu);
    f.drives[1].failed = true;
  }
  model = nlohmann::json::parse(f.getStorage());
  CHECK(model["drives"].at(1).value("Id", std::string()) == "Disk1");
  CHECK(model["drives"].at(1).value("Failed", false));
}

// This SP's ports go into the store with no event of their own: an event without a message
// would be an empty entry in the log.
TEST(StorageService, PublishingThePortsRecordsNoEmptyEvent) {
  Fixture f;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  while (std::chrono::steady_clock::now() < end) {
    f.service->tick(true);
    std::lock_guard lock(f.mu);
    if (!f.writes.empty()) break;
  }
  std::lock_guard lock(f.mu);
  CHECK_FALSE(f.writes.empty());
  STRCMP_EQUAL("storage/ports/A", f.writes[0].records(0).key().c_str());
  CHECK_FALSE(f.writes[0].has_event());
}

TEST(StorageService, WhatTheBackEndCouldNotApplyIsHandedOnOnceEachTimeItChanges) {
  Fixture f;
  f.path.problems = {"LIO: volume 1 is not exported: no block device for it (test)"};
  f.in_step = true;
  CHECK_TRUE(f.programmed([](const auto& s) { return allIn(s, platform::AluaState::Optimized); }));
  auto p = f.service->takeDataPathProblems();
  CHECK_TRUE(p.has_value());
  CHECK(*p == f.path.problems);
  CHECK_FALSE(f.service->takeDataPathProblems().has_value());  // once
  // The next change applies cleanly: an empty list, once (the fault is cleared).
  f.path.problems.clear();
  f.apply(*storage::patchVolume(f.model(), "1", {{"CapacityBytes", uint64_t{2} << 30}}).change);
  ++f.seq;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  std::optional<std::vector<std::string>> cleared;
  while (!cleared && std::chrono::steady_clock::now() < end) {
    f.service->tick(true);
    cleared = f.service->takeDataPathProblems();
    if (!cleared) std::this_thread::sleep_for(std::chrono::milliseconds{2});
  }
  CHECK_TRUE(cleared.has_value());
  CHECK_TRUE(cleared->empty());
}

// A planned move away from this SP: the Transitioning record is programmed into this SP's
// target when it is stored, before the change is acknowledged to the SP the volume goes to
// (not on a later turn of the main loop), so the volume is never optimized on both SPs.
TEST(StorageService, AVolumeLeavingThisSpIsDemotedBeforeItsChangeIsAcknowledged) {
  Fixture f;
  f.in_step = true;
  CHECK_TRUE(f.programmed([](const auto& s) { return allIn(s, platform::AluaState::Optimized); }));
  const size_t before = f.path.history().size();
  storage::Outcome begin = storage::beginMove(f.model(), "1");
  CHECK_TRUE(begin.change.has_value());
  f.apply(*begin.change);
  ++f.seq;
  // The store's listener, as the configuration worker calls it: no tick in between.
  for (const auto& r : begin.change->records) f.service->onVolumeRecord(r);
  auto h = f.path.history();
  CHECK_EQUAL(before + 1, h.size());
  CHECK_TRUE(allIn(h.back(), platform::AluaState::Transitioning));
  // The owner change to B, stored next: NonOptimized here, again before the acknowledgement.
  storage::Outcome moved = storage::moveVolume(f.model(), "1", "B", false, "test");
  CHECK_TRUE(moved.change.has_value());
  f.apply(*moved.change);
  ++f.seq;
  for (const auto& r : moved.change->records) f.service->onVolumeRecord(r);
  CHECK_TRUE(
      f.programmed([](const auto& s) { return allIn(s, platform::AluaState::NonOptimized); }));
}

// A volume given to this SP is served active/optimized by its target before the change is
// acknowledged (so before the move is answered and reported), not on a later turn.
TEST(StorageService, AVolumeComingToThisSpIsOptimizedBeforeItsChangeIsAcknowledged) {
  Fixture f;
  f.in_step = true;
  f.apply(*storage::trespassAll(f.model(), "A", "B", "SP-A failed", nullptr).change);
  ++f.seq;
  CHECK_TRUE(
      f.programmed([](const auto& s) { return allIn(s, platform::AluaState::NonOptimized); }));
  const size_t before = f.path.history().size();
  storage::Outcome home = storage::moveVolume(f.model(), "1", "A", false, "test");
  CHECK_TRUE(home.change.has_value());
  f.apply(*home.change);
  ++f.seq;
  for (const auto& r : home.change->records) f.service->onVolumeRecord(r);
  auto h = f.path.history();
  CHECK_EQUAL(before + 1, h.size());
  CHECK_TRUE(allIn(h.back(), platform::AluaState::Optimized));
}

// Records that do not change this SP's state of a volume reprogram nothing outside the main
// loop (a grown volume waits for the next turn).
TEST(StorageService, ARecordThatTakesNothingAwayIsLeftToTheMainLoop) {
  Fixture f;
  f.in_step = true;
  CHECK_TRUE(f.programmed([](const auto& s) { return allIn(s, platform::AluaState::Optimized); }));
  const size_t before = f.path.history().size();
  storage::Outcome grown =
      storage::patchVolume(f.model(), "1", {{"CapacityBytes", uint64_t{2} << 30}});
  CHECK_TRUE(grown.change.has_value());
  f.apply(*grown.change);
  ++f.seq;
  for (const auto& r : grown.change->records) f.service->onVolumeRecord(r);
  CHECK_EQUAL(before, f.path.history().size());
}
