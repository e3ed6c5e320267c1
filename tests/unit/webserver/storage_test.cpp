// The array's storage through the Dispatcher (webserver/routes/storage.cpp) on spd's real
// storage service (sp/storage_service.hpp) over an in-memory store: Swordfish bodies in,
// Swordfish resources and Base registry errors out, nothing stored on a refusal.

#include <CppUTest/TestHarness.h>

#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "sp/storage_service.hpp"
#include "test_dispatcher.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;

namespace {

constexpr uint64_t kHdd = 4'000'787'030'016;
constexpr const char* kPools = "/redfish/v1/Storage/Array/StoragePools";
constexpr const char* kVolumes = "/redfish/v1/Storage/Array/Volumes";

std::vector<platform::DriveInfo> shelf() {
  std::vector<platform::DriveInfo> d;
  for (int slot = 0; slot < 6; ++slot)
    d.push_back({"Disk" + std::to_string(slot), slot, kHdd, "HDD", "SAS", "Sim", "HDD-4T",
                 "SIMD000" + std::to_string(slot), slot == 5});
  return d;
}

struct StorageServed : Served {
  std::mutex mu;
  std::map<std::string, std::string> store;
  std::vector<proto::ConfigWrite> writes;
  std::unique_ptr<sp::StorageService> service;

  // part_bytes: GetStorage's parts (StorageService::Dependencies), small to test them.
  explicit StorageServed(size_t part_bytes = sp::StorageService::Dependencies{}.part_bytes)
      : Served(SpId::A, Role::Active) {
    sp::StorageService::Dependencies d;
    d.part_bytes = part_bytes;
    d.list = [this](const std::string& prefix) {
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
    };
    d.write = [this](proto::Command c, sp::Reply reply) {
      proto::ConfigWrite w;
      CHECK(w.ParseFromString(c.payload()));
      CHECK_EQUAL(std::string("1"), c.args().at("private"));
      {
        std::lock_guard lock(mu);
        writes.push_back(w);
        for (const auto& r : w.records()) {
          if (r.deleted())
            store.erase(r.key());
          else
            store[r.key()] = r.value();
        }
      }
      reply(proto::CommandResult{});
    };
    d.drives = [] { return shelf(); };
    d.self = "A";
    d.active = [] { return true; };
    d.forward_to_active = [](const proto::Command&, sp::Reply reply) {
      reply(sp::errorResult(proto::CommandResult::UNAVAILABLE, "no peer in this test"));
    };
    service = std::make_unique<sp::StorageService>(d);
    service->start();
    auto call = [this](void (sp::StorageService::*fn)(const proto::Command&, sp::Reply)) {
      return [this, fn](const proto::Command& c) -> std::optional<proto::CommandResult> {
        auto promise = std::make_shared<std::promise<proto::CommandResult>>();
        (service.get()->*fn)(c, [promise](proto::CommandResult r) { promise->set_value(r); });
        auto future = promise->get_future();
        if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
          return std::nullopt;
        return future.get();
      };
    };
    get_storage = call(&sp::StorageService::getStorage);
    bus.respond("GetStorage", [this](const proto::Command& c) {
      if (before_get_storage) before_get_storage(c);
      return get_storage(c);
    });
    bus.respond("StorageWrite", call(&sp::StorageService::storageWrite));
  }
  ~StorageServed() { service->stop(); }
  // The service's GetStorage as the bus calls it, and what a test does before each call.
  FakeCommandClient::Responder get_storage;
  std::function<void(const proto::Command&)> before_get_storage;
  void putRecord(const std::string& key, const std::string& value) {
    std::lock_guard lock(mu);
    store[key] = value;
  }
  size_t writeCount() {
    std::lock_guard lock(mu);
    return writes.size();
  }
};

std::string drives(std::initializer_list<int> slots) {
  Json links = Json::array();
  for (int s : slots)
    links.push_back(
        {{"@odata.id", "/redfish/v1/Chassis/Enclosure/Drives/Disk" + std::to_string(s)}});
  return Json::array({{{"ProvidingDrives", links}}}).dump();
}

std::string poolBody(const char* raid, std::initializer_list<int> slots, const char* extra = "") {
  return std::string(R"({"Name": "p", "SupportedRAIDTypes": [")") + raid +
         R"("], "CapacitySources": )" + drives(slots) + extra + "}";
}

std::string volumeBody(uint64_t bytes, const char* pool = "1", const char* extra = "") {
  return R"({"Name": "v", "CapacityBytes": )" + std::to_string(bytes) +
         R"(, "CapacitySources": [{"ProvidingPools": [{"@odata.id": "/redfish/v1/Storage/Array/StoragePools/)" +
         pool + R"("}]}])" + extra + "}";
}

}  // namespace

TEST_GROUP(Storage){};

TEST(Storage, TheArrayAndItsDrivesAreServedAndLinkedFromTheRoot) {
  StorageServed a;
  CHECK(a.get("/redfish/v1").body["Storage"]["@odata.id"] == "/redfish/v1/Storage");
  Response list = a.get("/redfish/v1/Storage");
  LONGS_EQUAL(200, list.status);
  CHECK(list.body["Members"][0]["@odata.id"] == "/redfish/v1/Storage/Array");
  Response storage = a.get("/redfish/v1/Storage/Array");
  LONGS_EQUAL(200, storage.status);
  LONGS_EQUAL(6, storage.body["Drives@odata.count"].get<int>());
  CHECK(storage.body["Status"]["Health"] == "Warning");  // Disk5 failed
  Response drive = a.get("/redfish/v1/Chassis/Enclosure/Drives/Disk2");
  LONGS_EQUAL(200, drive.status);
  CHECK(drive.body["CapacityBytes"] == kHdd);
  CHECK(drive.body["MediaType"] == "HDD");
  CHECK(drive.body["Protocol"] == "SAS");
  CHECK(drive.body["PhysicalLocation"]["PartLocation"]["LocationOrdinalValue"] == 2);
  CHECK(drive.body["Status"]["Health"] == "OK");
  CHECK(a.get("/redfish/v1/Chassis/Enclosure/Drives/Disk5").body["Status"]["Health"] == "Critical");
  checkError(a.get("/redfish/v1/Chassis/Enclosure/Drives/Disk9"), 404,
             "Base.1.22.1.ResourceNotFound");
}

TEST(Storage, APoolAndItsVolumesFromCreationToDeletion) {
  StorageServed a;
  Response pool = a.post(
      kPools, poolBody("RAID5", {0, 1, 2}, R"(, "Oem": {"DualSP": {"DefaultOwner": "SPB"}})"));
  LONGS_EQUAL(201, pool.status);
  STRCMP_EQUAL("/redfish/v1/Storage/Array/StoragePools/1",
               pool.header("Location").value_or("").c_str());
  CHECK(pool.body["SupportedRAIDTypes"][0] == "RAID5");
  CHECK(pool.body["Capacity"]["Data"]["AllocatedBytes"] == 2 * kHdd);
  CHECK(pool.body["Oem"]["DualSP"]["DefaultOwner"] == "SPB");
  CHECK(a.get("/redfish/v1/Chassis/Enclosure/Drives/Disk1")
            .body["Links"]["StoragePools"][0]["@odata.id"] ==
        "/redfish/v1/Storage/Array/StoragePools/1");

  Response volume = a.post(kVolumes, volumeBody(uint64_t{1} << 30));
  LONGS_EQUAL(201, volume.status);
  const std::string path = volume.header("Location").value_or("");
  STRCMP_EQUAL("/redfish/v1/Storage/Array/Volumes/1", path.c_str());
  CHECK(volume.body["CapacityBytes"] == uint64_t{1} << 30);
  CHECK(volume.body["RAIDType"] == "RAID5");
  CHECK(volume.body["Identifiers"][0]["DurableNameFormat"] == "NAA");
  STRCMP_EQUAL("6001405", str(volume.body["Identifiers"][0]["DurableName"]).substr(0, 7).c_str());
  CHECK(volume.body["Oem"]["DualSP"]["CurrentOwner"] == "SPB");  // the pool's default owner
  LONGS_EQUAL(3, volume.body["Links"]["Drives@odata.count"].get<int>());
  CHECK(a.get(kPools).body["Members@odata.count"] == 1);
  CHECK(a.get(std::string(kPools) + "/1").body["Capacity"]["Data"]["ConsumedBytes"] == uint64_t{1}
                                                                                           << 30);

  Response grown = a.patch(path, R"({"CapacityBytes": 2147483648, "Name": "bigger"})");
  LONGS_EQUAL(200, grown.status);
  CHECK(grown.body["CapacityBytes"] == uint64_t{2} << 30);
  CHECK(grown.body["Name"] == "bigger");
  CHECK(a.get(path).body["Identifiers"] == volume.body["Identifiers"]);  // durable

  // A pool with a volume stays; then both go.
  checkError(a.del(std::string(kPools) + "/1"), 409, "Base.1.22.1.ResourceInUse");
  LONGS_EQUAL(204, a.del(path).status);
  checkError(a.get(path), 404, "Base.1.22.1.ResourceNotFound");
  LONGS_EQUAL(204, a.del(std::string(kPools) + "/1").status);
  CHECK(a.get(kPools).body["Members@odata.count"] == 0);
  checkError(a.del(std::string(kPools) + "/1"), 404, "Base.1.22.1.ResourceNotFound");
}

TEST(Storage, RefusalsAreRedfishErrorsAndStoreNothing) {
  StorageServed a;
  LONGS_EQUAL(201, a.post(kPools, poolBody("RAID1", {0, 1})).status);
  const size_t writes = a.writeCount();
  struct Case {
    const char* path;
    std::string body;
    int status;
    const char* message;
  };
  const Case cases[] = {
      {kPools, poolBody("RAID1", {1, 2}), 409, "Base.1.22.1.ResourceInUse"},  // Disk1 in pool 1
      {kPools, poolBody("RAID1", {2, 5}), 400, "Base.1.22.1.PropertyValueOutOfRange"},  // failed
      {kPools, poolBody("RAID5", {2, 3}), 400, "Base.1.22.1.PropertyValueConflict"},
      {kPools, poolBody("RAID9", {2, 3}), 400, "Base.1.22.1.PropertyValueNotInList"},
      {kPools, poolBody("RAID1", {2, 9}), 400, "Base.1.22.1.ResourceNotFound"},
      {kPools, R"({"SupportedRAIDTypes": ["RAID1"]})", 400, "Base.1.22.1.PropertyMissing"},
      {kPools,
       R"({"SupportedRAIDTypes": ["RAID1"], "CapacitySources": [{"ProvidingDrives": [{"@odata.id": "/redfish/v1/Chassis/Enclosure"}]}]})",
       400, "Base.1.22.1.PropertyValueFormatError"},
      {kPools, poolBody("RAID1", {2, 3}, R"(, "Color": "red")"), 400,
       "Base.1.22.1.PropertyUnknown"},
      {kPools, poolBody("RAID1", {2, 3}, R"(, "Oem": {"DualSP": {"DefaultOwner": "SPC"}})"), 400,
       "Base.1.22.1.PropertyValueNotInList"},
      {kPools, "{nope", 400, "Base.1.22.1.MalformedJSON"},
      {kVolumes, volumeBody(kHdd + 512), 400, "Base.1.22.1.PropertyValueOutOfRange"},
      {kVolumes, volumeBody(1000), 400, "Base.1.22.1.PropertyValueOutOfRange"},
      {kVolumes, volumeBody(uint64_t{1} << 30, "7"), 400, "Base.1.22.1.ResourceNotFound"},
      {kVolumes,
       R"({"CapacityBytes": "big", "CapacitySources": [{"ProvidingPools": [{"@odata.id": "/redfish/v1/Storage/Array/StoragePools/1"}]}]})",
       400, "Base.1.22.1.PropertyValueTypeError"},
      {kVolumes, R"({"CapacityBytes": 1073741824})", 400, "Base.1.22.1.PropertyMissing"},
  };
  for (const Case& c : cases) {
    Response res = a.post(c.path, c.body);
    LONGS_EQUAL_TEXT(c.status, res.status, c.body.c_str());
    STRCMP_EQUAL_TEXT(c.message, str(res.body["error"]["code"]).c_str(), c.body.c_str());
  }
  // The property named as the client wrote it, and spd's reason after the registry's words.
  Response full = a.post(kVolumes, volumeBody(kHdd + 512));
  CHECK(full.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"][1] == "CapacityBytes");
  CHECK(str(full.body["error"]["message"]).find("bytes free") != std::string::npos);
  LONGS_EQUAL(writes, a.writeCount());
}

TEST(Storage, AReadOnlyUserReadsButChangesNothing) {
  StorageServed a;
  a.identity = Identity{"viewer", "ReadOnly", "", false};
  LONGS_EQUAL(200, a.get(kPools).status);
  checkError(a.post(kPools, poolBody("RAID1", {0, 1})), 403, "Base.1.22.1.InsufficientPrivilege");
  LONGS_EQUAL(0, a.writeCount());
}

// A planned move, a redistribute, and the trespass spd makes on takeover (checkOwnership).
TEST(Storage, OwnershipMovesTrespassAndRedistribute) {
  StorageServed a;
  LONGS_EQUAL(201, a.post(kPools, poolBody("RAID1", {0, 1},
                                           R"(, "Oem": {"DualSP": {"DefaultOwner": "SPB"}})"))
                       .status);
  LONGS_EQUAL(201, a.post(kVolumes, volumeBody(uint64_t{1} << 30)).status);
  const std::string path = std::string(kVolumes) + "/1";
  Response v = a.get(path);
  const std::string move = str(v.body["Actions"]["Oem"]["#DualSPVolume.Move"]["target"]);
  STRCMP_EQUAL("/redfish/v1/Storage/Array/Volumes/1/Actions/Oem/DualSPVolume.Move", move.c_str());
  LONGS_EQUAL(204, a.post(move, R"({"TargetSP": "SPA"})").status);
  CHECK(a.get(path).body["Oem"]["DualSP"]["CurrentOwner"] == "SPA");
  CHECK(a.get(path).body["Oem"]["DualSP"]["DefaultOwner"] == "SPB");
  checkError(a.post(move, R"({"TargetSP": "SPA"})"), 400,
             "Base.1.22.1.ActionParameterValueConflict");
  checkError(a.post(move, R"({"TargetSP": "SPC"})"), 400,
             "Base.1.22.1.ActionParameterValueNotInList");
  checkError(a.post(move, R"({})"), 400, "Base.1.22.1.ActionParameterMissing");
  checkError(
      a.post(std::string(kVolumes) + "/9/Actions/Oem/DualSPVolume.Move", R"({"TargetSP": "SPA"})"),
      404, "Base.1.22.1.ResourceNotFound");

  // Redistribute: home again.
  const std::string redistribute =
      str(a.get("/redfish/v1/Storage/Array")
              .body["Actions"]["Oem"]["#DualSPStorage.Redistribute"]["target"]);
  LONGS_EQUAL(204, a.post(redistribute, "").status);
  CHECK(a.get(path).body["Oem"]["DualSP"]["CurrentOwner"] == "SPB");

  // SP-B dies: the active SP-A takes its volumes, one Critical event each; nothing while the
  // peer is alive.
  const size_t before = a.writeCount();
  a.service->tick(true);
  a.service->tick(false);
  for (int i = 0; i < 500 && a.get(path).body["Oem"]["DualSP"]["CurrentOwner"] != "SPA"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(a.get(path).body["Oem"]["DualSP"]["CurrentOwner"] == "SPA");
  LONGS_EQUAL(before + 1, a.writeCount());
  {
    std::lock_guard lock(a.mu);
    STRCMP_EQUAL("Critical", a.writes.back().event().severity().c_str());
  }
  a.service->tick(false);  // nothing left to take
  LONGS_EQUAL(before + 1, a.writeCount());
}

// Fabrics: an initiator, a host and a Connection through the routes, on the real service.
TEST(Storage, AHostSeesAVolumeThroughAConnectionWithEachSpsAccessState) {
  StorageServed a;
  {
    std::lock_guard lock(a.mu);
    a.store["storage/ports/A"] =
        R"({"Ports": [{"Id": "iSCSI0", "Protocol": "iSCSI", "Identifier": "iqn.2026-12.t:a",
            "Address": "198.18.2.10:3260", "LinkUp": true, "SpeedMbps": 25000}]})";
    a.store["storage/ports/B"] =
        R"({"Ports": [{"Id": "iSCSI0", "Protocol": "iSCSI", "Identifier": "iqn.2026-12.t:b",
            "Address": "198.18.2.20:3260", "LinkUp": false, "SpeedMbps": 0}]})";
  }
  const std::string fabric = "/redfish/v1/Fabrics/iSCSI";
  Response fabrics = a.get("/redfish/v1/Fabrics");
  LONGS_EQUAL(1, fabrics.body["Members@odata.count"].get<int>());
  LONGS_EQUAL(404, a.get("/redfish/v1/Fabrics/FC").status);
  LONGS_EQUAL(201, a.post(kPools, poolBody("RAID1", {0, 1})).status);
  LONGS_EQUAL(201, a.post(kVolumes, volumeBody(uint64_t{1} << 30)).status);

  Response i = a.post(fabric + "/Endpoints",
                      R"({"Identifiers": [{"DurableName": "iqn.2026-12.org.example:h1",
                          "DurableNameFormat": "iQN"}],
                          "ConnectedEntities": [{"EntityRole": "Initiator"}]})");
  LONGS_EQUAL(201, i.status);
  const std::string initiator = str(i.body["@odata.id"]);
  Response h =
      a.post(fabric + "/EndpointGroups",
             R"({"Name": "h1", "Links": {"Endpoints": [{"@odata.id": ")" + initiator + R"("}]}})");
  LONGS_EQUAL(201, h.status);
  const std::string host = str(h.body["@odata.id"]);
  STRCMP_EQUAL("Client", str(h.body["GroupType"]).c_str());
  const std::string body = R"({"VolumeInfo": [{"Volume": {"@odata.id": ")" + std::string(kVolumes) +
                           R"(/1"}, "LUN": 7, "AccessCapabilities": ["Read"]}],
      "Links": {"InitiatorEndpointGroups": [{"@odata.id": ")" +
                           host + R"("}]}})";
  Response c = a.post(fabric + "/Connections", body);
  LONGS_EQUAL(201, c.status);
  // One entry per SP: the owner (SP-A, the pool's default) Optimized, SP-B NonOptimized.
  LONGS_EQUAL(2, c.body["VolumeInfo"].size());
  LONGS_EQUAL(7, c.body["VolumeInfo"][0]["LUN"].get<int>());
  CHECK(c.body["VolumeInfo"][0]["AccessCapabilities"] == Json::array({"Read"}));
  STRCMP_EQUAL("Optimized", str(c.body["VolumeInfo"][0]["AccessState"]).c_str());
  STRCMP_EQUAL("NonOptimized", str(c.body["VolumeInfo"][1]["AccessState"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Fabrics/iSCSI/EndpointGroups/SPB",
               str(c.body["Links"]["TargetEndpointGroups"][1]["@odata.id"]).c_str());
  // The same LUN again for that host: 409, nothing stored.
  const size_t writes = a.writeCount();
  checkError(a.post(fabric + "/Connections", body), 409, "Base.1.22.1.ResourceInUse");
  checkError(a.post(fabric + "/Connections", R"({"VolumeInfo": []})"), 400,
             "Base.1.22.1.PropertyValueFormatError");
  checkError(a.post(fabric + "/Endpoints", R"({"Identifiers": [{"DurableName": "nope"}]})"), 400,
             "Base.1.22.1.PropertyValueFormatError");
  checkError(a.del(std::string(kVolumes) + "/1"), 409, "Base.1.22.1.ResourceInUse");
  checkError(a.del(fabric + "/Endpoints/SPA-iSCSI0"), 405, "Base.1.22.1.OperationNotAllowed");
  LONGS_EQUAL(writes, a.writeCount());
  // The target port shows its link; the controllers their ports and volumes.
  Response port = a.get(fabric + "/Endpoints/SPB-iSCSI0");
  STRCMP_EQUAL("Warning", str(port.body["Status"]["Health"]).c_str());
  Response ctl = a.get("/redfish/v1/Storage/Array/Controllers/SPA");
  LONGS_EQUAL(1, ctl.body["Links"]["AttachedVolumes"].size());
  STRCMP_EQUAL(
      "LinkDown",
      str(a.get("/redfish/v1/Storage/Array/Controllers/SPB/Ports/iSCSI0").body["LinkStatus"])
          .c_str());
  // PATCH the LUN; DELETE unmaps; then the volume goes.
  const std::string conn = str(c.body["@odata.id"]);
  Response p = a.patch(conn, R"({"VolumeInfo": [{"LUN": 3}]})");
  LONGS_EQUAL(200, p.status);
  LONGS_EQUAL(3, p.body["VolumeInfo"][0]["LUN"].get<int>());
  LONGS_EQUAL(204, a.del(conn).status);
  LONGS_EQUAL(204, a.del(std::string(kVolumes) + "/1").status);
}

// A model longer than one local-bus reply holds (1,000 volumes do not fit in 256 KiB) is read
// in parts, each of them text on its own (never cut inside a UTF-8 sequence).
TEST(Storage, ALargeModelIsReadInParts) {
  StorageServed a(512);
  LONGS_EQUAL(201, a.post(kPools, poolBody("RAID5", {0, 1, 2})).status);
  for (int i = 0; i < 20; ++i)
    LONGS_EQUAL(201, a.post(kVolumes, R"({"Name": "v\u00e9\u65e5\u672c)" + std::to_string(i) +
                                          R"(", "CapacityBytes": 1073741824, "CapacitySources": )"
                                          R"([{"ProvidingPools": [{"@odata.id": )"
                                          R"("/redfish/v1/Storage/Array/StoragePools/1"}]}]})")
                         .status);
  const size_t before = a.bus.commandsNamed("GetStorage").size();
  Response list = a.get(kVolumes);
  LONGS_EQUAL(200, list.status);
  LONGS_EQUAL(20, list.body["Members@odata.count"].get<int>());
  std::vector<proto::Command> reads = a.bus.commandsNamed("GetStorage");
  CHECK(reads.size() - before > 5);  // 20 volumes of ~400 bytes in parts of 512
  STRCMP_EQUAL("1", reads[before].args().at("parts").c_str());
  CHECK(reads[before].args().count("tag") == 0);
  CHECK(reads.back().args().count("tag") == 1);
  Response volume = a.get(std::string(kVolumes) + "/20");
  LONGS_EQUAL(200, volume.status);
  STRCMP_EQUAL("v\u00e9\u65e5\u672c19", str(volume.body["Name"]).c_str());
}

// Another reader saw a changed model between two parts of a reading: that reading starts over
// and answers the new model, never a mix of both.
TEST(Storage, AModelThatChangesBetweenPartsIsReadAgain) {
  StorageServed a(512);
  LONGS_EQUAL(201, a.post(kPools, poolBody("RAID5", {0, 1, 2})).status);
  for (int i = 0; i < 10; ++i)
    LONGS_EQUAL(201, a.post(kVolumes, volumeBody(uint64_t{1} << 30)).status);
  bool changed = false;
  a.before_get_storage = [&](const proto::Command& c) {
    if (changed || c.args().count("tag") == 0) return;
    changed = true;
    a.putRecord("storage/volumes/11",
                R"({"Name": "late", "CapacityBytes": 1073741824, "Pool": "1", "WWN": )"
                R"("60014050000000000000000000000011", "DefaultOwner": "A", "CurrentOwner": "A"})");
    proto::Command other;
    other.set_name("GetStorage");
    (*other.mutable_args())["parts"] = "1";
    auto first = a.get_storage(other);  // another reader: the kept model is the new one
    CHECK(first && first->status() == proto::CommandResult::OK);
  };
  Response list = a.get(kVolumes);
  LONGS_EQUAL(200, list.status);
  CHECK(changed);
  LONGS_EQUAL(11, list.body["Members@odata.count"].get<int>());
  CHECK(list.body["Members"][10]["@odata.id"] == std::string(kVolumes) + "/11");
}

// A model that changes under every reading (another writer faster than the reader): the reader
// starts over a few times, then answers 503 with Retry-After rather than a mix of models or
// an endless loop.
TEST(Storage, AModelThatNeverHoldsStillIsAnswered503) {
  StorageServed a(512);
  LONGS_EQUAL(201, a.post(kPools, poolBody("RAID5", {0, 1, 2})).status);
  for (int i = 0; i < 10; ++i)
    LONGS_EQUAL(201, a.post(kVolumes, volumeBody(uint64_t{1} << 30)).status);
  int changes = 0;
  a.before_get_storage = [&](const proto::Command& c) {
    if (c.args().count("tag") == 0) return;
    ++changes;
    a.putRecord("storage/volumes/" + std::to_string(100 + changes),
                R"({"Name": "late", "CapacityBytes": 1073741824, "Pool": "1", "WWN": )"
                R"("60014050000000000000000000000011", "DefaultOwner": "A", "CurrentOwner": "A"})");
    proto::Command other;
    other.set_name("GetStorage");
    (*other.mutable_args())["parts"] = "1";
    CHECK(a.get_storage(other).has_value());  // another reader: the kept model is the new one
  };
  Response list = a.get(kVolumes);
  checkError(list, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  CHECK(list.header("Retry-After").has_value());
  CHECK(changes >= 5 && changes < 20);
}

// An expanded collection of a model read in parts: the parts are read and put together once
// for the whole request, not once per member.
TEST(Storage, AnExpandedCollectionOfALargeModelReadsItsPartsOnce) {
  StorageServed a(512);
  LONGS_EQUAL(201, a.post(kPools, poolBody("RAID5", {0, 1, 2})).status);
  for (int i = 0; i < 20; ++i)
    LONGS_EQUAL(201, a.post(kVolumes, volumeBody(uint64_t{1} << 30)).status);
  const size_t before = a.bus.commandsNamed("GetStorage").size();
  LONGS_EQUAL(200, a.get(kVolumes).status);
  const size_t one_reading = a.bus.commandsNamed("GetStorage").size() - before;
  CHECK(one_reading > 5);
  Response all = a.get(kVolumes, "$expand=.");
  LONGS_EQUAL(200, all.status);
  LONGS_EQUAL(20, all.body["Members"].size());
  CHECK(all.body["Members"][19]["CapacityBytes"] == uint64_t{1} << 30);
  LONGS_EQUAL(before + 2 * one_reading, a.bus.commandsNamed("GetStorage").size());
}

// The volume collection expanded and filtered (docs/WEB.md "Query parameters"): every volume
// handler asks for the whole model, and the request sends GetStorage once.
TEST(Storage, AnExpandedFilteredVolumeCollectionReadsTheModelOnce) {
  StorageServed a;
  LONGS_EQUAL(201, a.post(kPools, poolBody("RAID5", {0, 1, 2})).status);
  for (int i = 0; i < 20; ++i) {
    const char* owner = i % 2 == 0 ? R"(, "Oem": {"DualSP": {"DefaultOwner": "SPA"}})"
                                   : R"(, "Oem": {"DualSP": {"DefaultOwner": "SPB"}})";
    LONGS_EQUAL(201, a.post(kVolumes, volumeBody(uint64_t(i + 1) << 30, "1", owner)).status);
  }
  const size_t before = a.bus.commandsNamed("GetStorage").size();
  Response all = a.get(kVolumes, "$expand=.");
  LONGS_EQUAL(200, all.status);
  LONGS_EQUAL(20, all.body["Members"].size());
  CHECK(all.body["Members"][19]["CapacityBytes"] == uint64_t{20} << 30);
  LONGS_EQUAL(before + 1, a.bus.commandsNamed("GetStorage").size());

  Response owned =
      a.get(kVolumes, "$filter=Oem/DualSP/CurrentOwner eq 'SPB' and CapacityBytes gt 10737418240");
  LONGS_EQUAL(200, owned.status);
  LONGS_EQUAL(5, owned.body["Members@odata.count"].get<int>());  // 12, 14, 16, 18, 20 GiB
  STRCMP_EQUAL("/redfish/v1/Storage/Array/Volumes/12",
               str(owned.body["Members"][0]["@odata.id"]).c_str());
  LONGS_EQUAL(before + 2, a.bus.commandsNamed("GetStorage").size());
}
