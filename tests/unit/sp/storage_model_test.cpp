// The storage model (sp/storage_model.hpp): pools over the shelf's drives with their RAID
// capacity, volumes with capacity accounting and owners, and every refusal leaving nothing
// to write.

#include <CppUTest/TestHarness.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "sp/storage_model.hpp"

using namespace dualsp;
using namespace dualsp::sp::storage;
using json = nlohmann::json;

namespace {

constexpr uint64_t kHdd = 4'000'787'030'016;
constexpr uint64_t kSsd = 1'920'383'410'176;

std::vector<platform::DriveInfo> shelf() {
  std::vector<platform::DriveInfo> d;
  for (int slot = 0; slot < 8; ++slot)
    d.push_back({"Disk" + std::to_string(slot), slot, kHdd, "HDD", "SAS", "Sim", "HDD-4T",
                 "S" + std::to_string(slot), false});
  for (int slot = 8; slot < 12; ++slot)
    d.push_back({"Disk" + std::to_string(slot), slot, kSsd, "SSD", "SAS", "Sim", "SSD-2T",
                 "S" + std::to_string(slot), false});
  return d;
}

// The store the model reads, changed only by applying accepted changes.
struct Store {
  std::vector<proto::ConfigRecord> records;
  std::vector<platform::DriveInfo> drives = shelf();

  Model model() const { return buildModel(records, drives); }
  void apply(const Change& c) {
    for (const auto& r : c.records) {
      std::erase_if(records, [&](const proto::ConfigRecord& x) { return x.key() == r.key(); });
      if (!r.deleted()) records.push_back(r);
    }
  }
  // Applies an outcome that must be accepted; returns the change.
  Change accept(const Outcome& o) {
    if (o.refusal) FAIL(("refused: " + o.refusal->detail).c_str());
    CHECK(o.change.has_value());
    apply(*o.change);
    return *o.change;
  }
};

void checkRefused(const Outcome& o, const char* message, int status = 400) {
  CHECK_FALSE(o.change.has_value());
  CHECK_TRUE(o.refusal.has_value());
  STRCMP_EQUAL_TEXT(message, o.refusal->message.c_str(), o.refusal->detail.c_str());
  LONGS_EQUAL_TEXT(status, o.refusal->status, o.refusal->detail.c_str());
}

json drives(std::initializer_list<int> slots) {
  json out = json::array();
  for (int s : slots) out.push_back("Disk" + std::to_string(s));
  return out;
}

}  // namespace

TEST_GROUP(StorageModel){};

TEST(StorageModel, UsableCapacityOfEachRaidLevel) {
  std::string why;
  CHECK_EQUAL(4 * kHdd, *usableCapacity("RAID0", {kHdd, kHdd, kHdd, kHdd}, why));
  CHECK_EQUAL(kHdd, *usableCapacity("RAID1", {kHdd, kHdd}, why));
  CHECK_EQUAL(2 * kHdd, *usableCapacity("RAID10", {kHdd, kHdd, kHdd, kHdd}, why));
  CHECK_EQUAL(3 * kHdd, *usableCapacity("RAID5", {kHdd, kHdd, kHdd, kHdd}, why));
  CHECK_EQUAL(2 * kHdd, *usableCapacity("RAID6", {kHdd, kHdd, kHdd, kHdd}, why));
  // The smallest drive sets every member's share.
  CHECK_EQUAL(2 * kSsd, *usableCapacity("RAID5", {kHdd, kSsd, kHdd}, why));
  for (auto [raid, n] : {std::pair<const char*, int>{"RAID1", 3},
                         {"RAID10", 3},
                         {"RAID10", 2},
                         {"RAID5", 2},
                         {"RAID6", 3},
                         {"RAID7", 4}}) {
    why.clear();
    CHECK_FALSE_TEXT(usableCapacity(raid, std::vector<uint64_t>(n, kHdd), why), raid);
    CHECK_FALSE(why.empty());
  }
}

TEST(StorageModel, APoolTakesFreeWorkingDrivesOfOneKind) {
  Store s;
  Change c = s.accept(createPool(
      s.model(), {{"Name", "fast"}, {"RAIDType", "RAID5"}, {"Drives", drives({8, 9, 10})}}, "1"));
  STRCMP_EQUAL("storage/pools/1", c.records.at(0).key().c_str());
  STRCMP_EQUAL("ResourceEvent.1.4.3.ResourceCreated", c.event.message_id().c_str());
  STRCMP_EQUAL("/redfish/v1/Storage/Array/StoragePools/1", c.event.origin().c_str());
  Model m = s.model();
  const Pool* p = m.pool("1");
  CHECK(p != nullptr);
  CHECK_EQUAL(2 * kSsd, p->capacity_bytes);
  STRCMP_EQUAL("A", p->default_owner.c_str());  // the default owner unless given
  STRCMP_EQUAL("1", m.drive("Disk9")->pool.c_str());
  STRCMP_EQUAL("", m.drive("Disk0")->pool.c_str());

  // A drive already in a pool: 409 ResourceInUse.
  checkRefused(createPool(m, {{"RAIDType", "RAID1"}, {"Drives", drives({10, 11})}}, "2"),
               "ResourceInUse", 409);
  // HDD with SSD, an unknown drive, one named twice, a failed one.
  checkRefused(createPool(m, {{"RAIDType", "RAID1"}, {"Drives", drives({0, 11})}}, "2"),
               "PropertyValueConflict");
  checkRefused(createPool(m, {{"RAIDType", "RAID1"}, {"Drives", {"Disk0", "Disk99"}}}, "2"),
               "ResourceNotFound");
  checkRefused(createPool(m, {{"RAIDType", "RAID1"}, {"Drives", drives({0, 0})}}, "2"),
               "PropertyValueConflict");
  s.drives[1].failed = true;
  checkRefused(createPool(s.model(), {{"RAIDType", "RAID1"}, {"Drives", drives({0, 1})}}, "2"),
               "PropertyValueOutOfRange");
}

TEST(StorageModel, BadPoolBodiesAreRefusedWithTheirProperty) {
  Store s;
  Model m = s.model();
  checkRefused(createPool(m, json::array(), "1"), "MalformedJSON");
  checkRefused(createPool(m, {{"Drives", drives({0, 1})}}, "1"), "PropertyMissing");
  checkRefused(createPool(m, {{"RAIDType", "RAID1"}}, "1"), "PropertyMissing");
  checkRefused(createPool(m, {{"RAIDType", 5}, {"Drives", drives({0, 1})}}, "1"),
               "PropertyValueTypeError");
  checkRefused(createPool(m, {{"RAIDType", "RAID9"}, {"Drives", drives({0, 1})}}, "1"),
               "PropertyValueNotInList");
  checkRefused(createPool(m, {{"RAIDType", "RAID1"}, {"Drives", "Disk0"}}, "1"),
               "PropertyValueTypeError");
  checkRefused(createPool(m, {{"RAIDType", "RAID1"}, {"Drives", json::array()}}, "1"),
               "PropertyValueTypeError");
  checkRefused(createPool(m, {{"RAIDType", "RAID5"}, {"Drives", drives({0, 1})}}, "1"),
               "PropertyValueConflict");  // too few drives for the level
  checkRefused(
      createPool(m, {{"RAIDType", "RAID1"}, {"Drives", drives({0, 1})}, {"Color", "red"}}, "1"),
      "PropertyUnknown");
  checkRefused(
      createPool(m, {{"RAIDType", "RAID1"}, {"Drives", drives({0, 1})}, {"DefaultOwner", "C"}},
                 "1"),
      "PropertyValueNotInList");
  checkRefused(createPool(m,
                          {{"RAIDType", "RAID1"},
                           {"Drives", drives({0, 1})},
                           {"Name", std::string(kMaxNameLength + 1, 'n')}},
                          "1"),
               "StringValueTooLong");
}

TEST(StorageModel, VolumesAreAccountedAgainstTheirPool) {
  Store s;
  s.accept(createPool(
      s.model(), {{"RAIDType", "RAID1"}, {"Drives", drives({0, 1})}, {"DefaultOwner", "B"}}, "1"));
  const uint64_t half = kHdd / 2 / kBlockBytes * kBlockBytes;
  Change v1 = s.accept(createVolume(
      s.model(), {{"Name", "db"}, {"CapacityBytes", half}, {"Pool", "1"}}, "1", newWwn()));
  json r = json::parse(v1.records.at(0).value());
  // The pool's default owner is the volume's unless given; current = default at creation.
  STRCMP_EQUAL("B", r["DefaultOwner"].get<std::string>().c_str());
  STRCMP_EQUAL("B", r["CurrentOwner"].get<std::string>().c_str());
  CHECK(std::regex_match(r["WWN"].get<std::string>(), std::regex("6001405[0-9a-f]{25}")));
  CHECK_EQUAL(half, s.model().pool("1")->allocated_bytes);

  // More than what is left: refused, naming the capacity; exactly what is left: taken.
  const uint64_t left = kHdd - half;
  checkRefused(createVolume(s.model(), {{"CapacityBytes", left + kBlockBytes}, {"Pool", "1"}}, "2",
                            newWwn()),
               "PropertyValueOutOfRange");
  s.accept(createVolume(s.model(), {{"CapacityBytes", left}, {"Pool", "1"}, {"DefaultOwner", "A"}},
                        "2", newWwn()));
  CHECK_EQUAL(kHdd, s.model().pool("1")->allocated_bytes);
  CHECK_EQUAL(2u, s.model().volumes.size());
  STRCMP_EQUAL("A", s.model().volume("2")->current_owner.c_str());

  // Growing past the pool refused; shrinking refused; a name change taken.
  checkRefused(patchVolume(s.model(), "1", {{"CapacityBytes", half + kBlockBytes}}),
               "PropertyValueOutOfRange");
  checkRefused(patchVolume(s.model(), "1", {{"CapacityBytes", half - kBlockBytes}}),
               "PropertyValueOutOfRange");
  s.accept(patchVolume(s.model(), "1", {{"Name", "database"}}));
  STRCMP_EQUAL("database", s.model().volume("1")->name.c_str());
  CHECK_EQUAL(half, s.model().volume("1")->capacity_bytes);

  // A pool with volumes stays; without them it goes, and its drives are free again.
  checkRefused(deletePool(s.model(), "1"), "ResourceInUse", 409);
  s.accept(deleteVolume(s.model(), "1"));
  s.accept(deleteVolume(s.model(), "2"));
  checkRefused(deleteVolume(s.model(), "2"), "ResourceNotFound", 404);
  s.accept(deletePool(s.model(), "1"));
  STRCMP_EQUAL("", s.model().drive("Disk0")->pool.c_str());
  checkRefused(deletePool(s.model(), "1"), "ResourceNotFound", 404);
}

TEST(StorageModel, BadVolumeBodiesAreRefused) {
  Store s;
  s.accept(createPool(s.model(), {{"RAIDType", "RAID1"}, {"Drives", drives({0, 1})}}, "1"));
  Model m = s.model();
  const std::string w = newWwn();
  checkRefused(createVolume(m, {{"Pool", "1"}}, "1", w), "PropertyMissing");
  checkRefused(createVolume(m, {{"CapacityBytes", kMinVolumeBytes}}, "1", w), "PropertyMissing");
  checkRefused(createVolume(m, {{"CapacityBytes", "big"}, {"Pool", "1"}}, "1", w),
               "PropertyValueTypeError");
  checkRefused(createVolume(m, {{"CapacityBytes", -1048576}, {"Pool", "1"}}, "1", w),
               "PropertyValueOutOfRange");
  checkRefused(createVolume(m, {{"CapacityBytes", kMinVolumeBytes + 1}, {"Pool", "1"}}, "1", w),
               "PropertyValueOutOfRange");
  checkRefused(createVolume(m, {{"CapacityBytes", 4096}, {"Pool", "1"}}, "1", w),
               "PropertyValueOutOfRange");
  checkRefused(createVolume(m, {{"CapacityBytes", kMinVolumeBytes}, {"Pool", "7"}}, "1", w),
               "ResourceNotFound");
  checkRefused(createVolume(m, {{"CapacityBytes", kMinVolumeBytes}, {"Pool", 1}}, "1", w),
               "PropertyValueTypeError");
  checkRefused(
      createVolume(m, {{"CapacityBytes", kMinVolumeBytes}, {"Pool", "1"}, {"Size", 1}}, "1", w),
      "PropertyUnknown");
  checkRefused(patchVolume(m, "9", {{"Name", "x"}}), "ResourceNotFound", 404);
}

TEST(StorageModel, AFailedOrMissingDriveDegradesItsPoolWithoutShrinkingIt) {
  Store s;
  s.accept(createPool(s.model(), {{"RAIDType", "RAID5"}, {"Drives", drives({0, 1, 2})}}, "1"));
  CHECK_FALSE(s.model().pool("1")->degraded);
  s.drives[1].failed = true;
  CHECK(s.model().pool("1")->degraded);
  CHECK_EQUAL(2 * kHdd, s.model().pool("1")->capacity_bytes);
  s.drives.erase(s.drives.begin() + 2);  // pulled out of the shelf
  CHECK(s.model().pool("1")->degraded);
  CHECK_EQUAL(2 * kHdd, s.model().pool("1")->capacity_bytes);
}

TEST(StorageModel, UnreadableRecordsAreSkippedAndNamed) {
  Store s;
  proto::ConfigRecord bad;
  bad.set_key("storage/pools/3");
  bad.set_value("not json");
  proto::ConfigRecord orphan;
  orphan.set_key("storage/volumes/4");
  orphan.set_value(R"({"CapacityBytes": 1048576, "Pool": "9"})");
  s.records = {bad, orphan};
  std::vector<std::string> problems;
  Model m = buildModel(s.records, s.drives, &problems);
  CHECK(m.pools.empty());
  CHECK_EQUAL(1u, m.volumes.size());
  CHECK_EQUAL(2u, problems.size());
}

TEST(StorageModel, IdsContinueAfterTheLargest) {
  STRCMP_EQUAL("1", nextId({}).c_str());
  STRCMP_EQUAL("11", nextId({"2", "10", "9"}).c_str());
  STRCMP_EQUAL("3", nextId({"2", "x"}).c_str());
  CHECK(newWwn() != newWwn());
}

TEST(StorageModel, OwnershipMovesAndWhatIsAwayFromHome) {
  Store s;
  s.accept(createPool(
      s.model(), {{"RAIDType", "RAID1"}, {"Drives", drives({0, 1})}, {"DefaultOwner", "B"}}, "1"));
  s.accept(
      createVolume(s.model(), {{"CapacityBytes", kMinVolumeBytes}, {"Pool", "1"}}, "1", newWwn()));
  s.accept(createVolume(s.model(),
                        {{"CapacityBytes", kMinVolumeBytes}, {"Pool", "1"}, {"DefaultOwner", "A"}},
                        "2", newWwn()));
  CHECK(volumesOwnedBy(s.model(), "B") == std::vector<std::string>{"1"});
  CHECK(volumesAwayFromHome(s.model()).empty());
  // A trespass: Critical, the volume keeps its default owner and its name.
  const std::string wwn = s.model().volume("1")->wwn;
  Change c = s.accept(moveVolume(s.model(), "1", "A", true, "SP-B failed"));
  STRCMP_EQUAL("Critical", c.event.severity().c_str());
  CHECK(c.event.message().find("trespassed from SP-B to SP-A") != std::string::npos);
  STRCMP_EQUAL("A", s.model().volume("1")->current_owner.c_str());
  STRCMP_EQUAL("B", s.model().volume("1")->default_owner.c_str());
  STRCMP_EQUAL(wwn.c_str(), s.model().volume("1")->wwn.c_str());
  CHECK(volumesOwnedBy(s.model(), "B").empty());
  CHECK(volumesAwayFromHome(s.model()) == std::vector<std::string>{"1"});
  // A planned move back: OK severity.
  Change back = s.accept(moveVolume(s.model(), "1", "B", false, "asked by admin"));
  STRCMP_EQUAL("OK", back.event.severity().c_str());
  CHECK(volumesAwayFromHome(s.model()).empty());
  checkRefused(moveVolume(s.model(), "1", "B", false, ""), "ActionParameterValueConflict");
  checkRefused(moveVolume(s.model(), "1", "C", false, ""), "ActionParameterValueNotInList");
  checkRefused(moveVolume(s.model(), "9", "A", false, ""), "ResourceNotFound", 404);
}

TEST(StorageModel, VolumesArePlacedInTheirPoolWithoutOverlapAndKeepTheirBlocks) {
  Store s;
  s.accept(createPool(s.model(), {{"RAIDType", "RAID1"}, {"Drives", drives({0, 1})}}, "1"));
  const uint64_t gib = 1ull << 30;
  for (const char* id : {"1", "2", "3"})
    s.accept(createVolume(s.model(), {{"CapacityBytes", gib}, {"Pool", "1"}}, id, newWwn()));
  CHECK(s.model().volume("1")->extents == (std::vector<Extent>{{0, gib}}));
  CHECK(s.model().volume("2")->extents == (std::vector<Extent>{{gib, gib}}));
  CHECK(s.model().volume("3")->extents == (std::vector<Extent>{{2 * gib, gib}}));
  // Stored with the volume, so a reader of the store (the peer) has the same placement.
  json r = json::parse(s.records.back().value());
  STRCMP_EQUAL("[[2147483648,1073741824]]", r["Extents"].dump().c_str());

  // The hole a deleted volume leaves is reused first; growing appends after the last block,
  // and stays one extent when the room is right behind it.
  s.accept(deleteVolume(s.model(), "2"));
  s.accept(createVolume(s.model(), {{"CapacityBytes", gib / 2}, {"Pool", "1"}}, "4", newWwn()));
  CHECK(s.model().volume("4")->extents == (std::vector<Extent>{{gib, gib / 2}}));
  s.accept(patchVolume(s.model(), "4", {{"CapacityBytes", gib}}));
  CHECK(s.model().volume("4")->extents == (std::vector<Extent>{{gib, gib}}));
  s.accept(patchVolume(s.model(), "1", {{"CapacityBytes", 2 * gib}}));
  CHECK(s.model().volume("1")->extents == (std::vector<Extent>{{0, gib}, {3 * gib, gib}}));
  // An owner move keeps the placement.
  s.accept(moveVolume(s.model(), "1", "B", false, "test"));
  CHECK(s.model().volume("1")->extents == (std::vector<Extent>{{0, gib}, {3 * gib, gib}}));

  // No two volumes share a block, and the free space is exactly what they leave.
  uint64_t used = 0;
  const Model m = s.model();
  for (const Volume& a : m.volumes)
    for (const Extent& x : a.extents) {
      used += x.length;
      for (const Volume& b : m.volumes)
        if (&a != &b)
          for (const Extent& y : b.extents)
            CHECK_FALSE(x.offset < y.offset + y.length && y.offset < x.offset + x.length);
    }
  uint64_t free = 0;
  for (const Extent& f : freeExtents(m, "1")) free += f.length;
  CHECK_EQUAL(m.pool("1")->capacity_bytes, used + free);
}

TEST(StorageModel, AVolumeStoredWithoutPlacementIsLaidOutTheSameOnEveryRead) {
  Store s;
  s.accept(createPool(s.model(), {{"RAIDType", "RAID1"}, {"Drives", drives({0, 1})}}, "1"));
  const uint64_t gib = 1ull << 30;
  s.accept(createVolume(s.model(), {{"CapacityBytes", gib}, {"Pool", "1"}}, "1", newWwn()));
  s.accept(createVolume(s.model(), {{"CapacityBytes", gib}, {"Pool", "1"}}, "2", newWwn()));
  // Volume 1 as a store written before placement existed; volume 2's record is overlapping
  // garbage: both are laid out again around what stays valid.
  for (auto& r : s.records) {
    json v = json::parse(r.value(), nullptr, false);
    if (r.key() == "storage/volumes/1") v.erase("Extents");
    if (r.key() == "storage/volumes/2") v["Extents"] = json::parse("[[0, 1073741824]]");
    r.set_value(v.dump());
  }
  const Model m1 = s.model(), m2 = s.model();
  CHECK(m1.volume("1")->extents == m2.volume("1")->extents);
  CHECK(m1.volume("2")->extents == m2.volume("2")->extents);
  CHECK_EQUAL(gib, m1.volume("1")->extents.at(0).length);
  const Extent a = m1.volume("1")->extents.at(0), b = m1.volume("2")->extents.at(0);
  CHECK_FALSE(a.offset < b.offset + b.length && b.offset < a.offset + a.length);
}
