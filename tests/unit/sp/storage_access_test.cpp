// Hosts' access to the volumes (sp/storage_access.cpp): initiators, hosts and host groups,
// mappings and their validation, the ports each SP publishes, ALUA access states, the batched
// trespass, and the data-path state each SP is programmed with.

#include <CppUTest/TestHarness.h>

#include <nlohmann/json.hpp>

#include "sp/storage_model.hpp"

using namespace dualsp;
using namespace dualsp::sp::storage;
using json = nlohmann::json;

namespace {

constexpr uint64_t kHdd = 4'000'787'030'016;
constexpr uint64_t kGib = uint64_t{1} << 30;

struct Store {
  std::vector<proto::ConfigRecord> records;
  std::vector<platform::DriveInfo> drives;

  Store() {
    for (int slot = 0; slot < 4; ++slot)
      drives.push_back({"Disk" + std::to_string(slot), slot, kHdd, "HDD", "SAS", "Sim", "HDD",
                        "S" + std::to_string(slot), false});
  }
  Model model() const { return buildModel(records, drives); }
  void apply(const Change& c) {
    for (const auto& r : c.records) {
      std::erase_if(records, [&](const proto::ConfigRecord& x) { return x.key() == r.key(); });
      if (!r.deleted()) records.push_back(r);
    }
  }
  Change accept(const Outcome& o) {
    if (o.refusal) FAIL(("refused: " + o.refusal->detail).c_str());
    apply(*o.change);
    return *o.change;
  }
  std::string id(const Outcome& o) { return accept(o).id; }
  // A pool of two drives and `n` volumes owned by `owner`.
  void volumes(int n, const char* owner = "A") {
    accept(createPool(
        model(), {{"RAIDType", "RAID1"}, {"Drives", {"Disk0", "Disk1"}}, {"DefaultOwner", owner}},
        "1"));
    for (int i = 1; i <= n; ++i)
      accept(createVolume(model(), {{"CapacityBytes", kGib}, {"Pool", "1"}}, std::to_string(i),
                          newWwn()));
  }
  void ports() {
    std::vector<platform::FrontEndPortInfo> a = {
        {"iSCSI0", "iSCSI", "iqn.2026-12.t:a", "198.18.2.10:3260", true, 25000},
        {"FC0", "FC", "5001405a00000001", "", true, 16000}};
    std::vector<platform::FrontEndPortInfo> b = {
        {"iSCSI0", "iSCSI", "iqn.2026-12.t:b", "198.18.2.20:3260", true, 25000}};
    records.push_back(*portsRecord(model(), "A", a));
    records.push_back(*portsRecord(model(), "B", b));
  }
};

void checkRefused(const Outcome& o, const char* message, int status) {
  CHECK_FALSE(o.change.has_value());
  CHECK_TRUE(o.refusal.has_value());
  STRCMP_EQUAL_TEXT(message, o.refusal->message.c_str(), o.refusal->detail.c_str());
  LONGS_EQUAL_TEXT(status, o.refusal->status, o.refusal->detail.c_str());
}

json iscsi(const char* name) {
  return {{"Protocol", "iSCSI"}, {"Identifier", name}};
}

}  // namespace

TEST_GROUP(StorageAccess){};

TEST(StorageAccess, InitiatorNamesAreCheckedAndKeptInOneSpelling) {
  Store s;
  Change c = s.accept(createInitiator(s.model(), iscsi("IQN.2026-12.Org.Example:Host1"), "1"));
  STRCMP_EQUAL("iqn.2026-12.org.example:host1",
               c.resource["Identifier"].get<std::string>().c_str());
  s.accept(createInitiator(s.model(),
                           {{"Protocol", "FC"}, {"Identifier", "21:00:00:24:FF:31:4C:5A"}}, "2"));
  STRCMP_EQUAL("21000024ff314c5a", s.model().initiator("2")->identifier.c_str());
  s.accept(createInitiator(s.model(), iscsi("eui.0123456789abcdef"), "3"));
  // The same name again, in another case: already defined.
  checkRefused(createInitiator(s.model(), iscsi("iqn.2026-12.ORG.example:host1"), "9"),
               "ResourceAlreadyExists", 409);
  for (const char* bad : {"iqn.26-12.x", "iqn.2026-12.a b", "host1", "eui.0123", "naa.12"})
    checkRefused(createInitiator(s.model(), iscsi(bad), "9"), "PropertyValueFormatError", 400);
  checkRefused(createInitiator(s.model(), {{"Protocol", "FC"}, {"Identifier", "21:00"}}, "9"),
               "PropertyValueFormatError", 400);
  checkRefused(createInitiator(s.model(), {{"Protocol", "NVMe"}, {"Identifier", "x"}}, "9"),
               "PropertyValueNotInList", 400);
  checkRefused(createInitiator(s.model(), {{"Identifier", "iqn.2026-12.a:b"}}, "9"),
               "PropertyMissing", 400);
  checkRefused(createInitiator(s.model(), {{"Protocol", "iSCSI"}, {"Identifier", 7}}, "9"),
               "PropertyValueTypeError", 400);
  checkRefused(createInitiator(
                   s.model(),
                   {{"Protocol", "iSCSI"}, {"Identifier", "iqn.2026-12.a:b"}, {"Colour", 1}}, "9"),
               "PropertyUnknown", 400);
  LONGS_EQUAL(3, s.model().initiators.size());
}

TEST(StorageAccess, AHostHasItsOwnInitiatorsOfOneProtocol) {
  Store s;
  s.accept(createInitiator(s.model(), iscsi("iqn.2026-12.a:1"), "1"));
  s.accept(createInitiator(s.model(), iscsi("iqn.2026-12.a:2"), "2"));
  s.accept(
      createInitiator(s.model(), {{"Protocol", "FC"}, {"Identifier", "21000024ff314c5a"}}, "3"));
  s.accept(createHost(s.model(), {{"Name", "db"}, {"Initiators", {"1"}}}, "1"));
  CHECK(s.model().initiator("1")->host == "1");
  STRCMP_EQUAL("iSCSI", s.model().host("1")->protocol.c_str());
  // Initiator 1 is host 1's: not another's.
  checkRefused(createHost(s.model(), {{"Initiators", {"1", "2"}}}, "2"), "ResourceInUse", 409);
  checkRefused(createHost(s.model(), {{"Initiators", {"2", "3"}}}, "2"), "PropertyValueConflict",
               400);
  checkRefused(createHost(s.model(), {{"Initiators", {"9"}}}, "2"), "ResourceNotFound", 400);
  checkRefused(createHost(s.model(), {{"Initiators", json::array()}}, "2"),
               "PropertyValueOutOfRange", 400);
  checkRefused(createHost(s.model(), {{"Initiators", {"2", "2"}}}, "2"), "PropertyValueConflict",
               400);
  checkRefused(createHost(s.model(), {{"Kind", "Cluster"}, {"Hosts", {"1"}}}, "2"),
               "PropertyValueNotInList", 400);
  LONGS_EQUAL(1, s.model().hosts.size());
  // Its initiators change by PATCH; the one it gave up is free again.
  s.accept(patchHost(s.model(), "1", {{"Initiators", {"2"}}}));
  CHECK(s.model().initiator("1")->host.empty());
  s.accept(deleteInitiator(s.model(), "1"));
  checkRefused(deleteInitiator(s.model(), "2"), "ResourceInUse", 409);
}

TEST(StorageAccess, ALunIsUsedOnceForEachHostItReaches) {
  Store s;
  s.volumes(3);
  for (int i = 1; i <= 3; ++i)
    s.accept(createInitiator(s.model(), iscsi(("iqn.2026-12.a:" + std::to_string(i)).c_str()),
                             std::to_string(i)));
  s.accept(createHost(s.model(), {{"Initiators", {"1"}}}, "1"));
  s.accept(createHost(s.model(), {{"Initiators", {"2"}}}, "2"));
  s.accept(createHost(s.model(), {{"Initiators", {"3"}}}, "3"));
  s.accept(createHost(s.model(), {{"Kind", "HostGroup"}, {"Hosts", {"1", "2"}}}, "4"));
  // The group sees volume 1 at LUN 0: so do hosts 1 and 2.
  s.accept(createMapping(s.model(), {{"Group", "4"}, {"Volume", "1"}, {"LUN", 0}}, "1"));
  LONGS_EQUAL(1, s.model().mappingsSeenBy("1").size());
  checkRefused(createMapping(s.model(), {{"Group", "1"}, {"Volume", "2"}, {"LUN", 0}}, "2"),
               "ResourceInUse", 409);
  checkRefused(createMapping(s.model(), {{"Group", "2"}, {"Volume", "1"}, {"LUN", 3}}, "2"),
               "ResourceInUse", 409);
  // Host 3 is not in the group: LUN 0 is free for it. Without a LUN, the lowest free one.
  s.accept(createMapping(s.model(), {{"Group", "3"}, {"Volume", "2"}, {"LUN", 0}}, "2"));
  Change c = s.accept(createMapping(s.model(), {{"Group", "1"}, {"Volume", "2"}}, "3"));
  LONGS_EQUAL(1, c.resource["LUN"].get<int>());
  // Host 3 joining the group would see LUN 0 twice.
  checkRefused(patchHost(s.model(), "4", {{"Hosts", {"1", "2", "3"}}}), "ResourceInUse", 409);
  // A host in a group is not in another; a host with mappings is not deleted.
  checkRefused(createHost(s.model(), {{"Kind", "HostGroup"}, {"Hosts", {"1"}}}, "5"),
               "ResourceInUse", 409);
  checkRefused(deleteHost(s.model(), "4"), "ResourceInUse", 409);
  checkRefused(deleteHost(s.model(), "1"), "ResourceInUse", 409);
  // Bad mapping bodies.
  checkRefused(createMapping(s.model(), {{"Group", "1"}, {"Volume", "3"}, {"LUN", 16384}}, "9"),
               "PropertyValueOutOfRange", 400);
  checkRefused(createMapping(s.model(), {{"Group", "1"}, {"Volume", "3"}, {"LUN", -1}}, "9"),
               "PropertyValueOutOfRange", 400);
  checkRefused(createMapping(s.model(), {{"Group", "1"}, {"Volume", "3"}, {"LUN", "1"}}, "9"),
               "PropertyValueTypeError", 400);
  checkRefused(createMapping(s.model(), {{"Group", "1"}, {"Volume", "9"}}, "9"), "ResourceNotFound",
               400);
  checkRefused(createMapping(s.model(), {{"Group", "9"}, {"Volume", "3"}}, "9"), "ResourceNotFound",
               400);
  checkRefused(
      createMapping(s.model(), {{"Group", "1"}, {"Volume", "3"}, {"ReadOnly", "yes"}}, "9"),
      "PropertyValueTypeError", 400);
  checkRefused(
      createMapping(s.model(), {{"Group", "1"}, {"Volume", "3"}, {"Ports", {"SPC-x"}}}, "9"),
      "ResourceNotFound", 400);
  LONGS_EQUAL(3, s.model().mappings.size());
  // A volume a host sees is deleted only by force, its mappings with it.
  checkRefused(deleteVolume(s.model(), "2"), "ResourceInUse", 409);
  Change forced = s.accept(deleteVolume(s.model(), "2", true));
  LONGS_EQUAL(3, forced.records.size());  // two mappings and the volume
  LONGS_EQUAL(1, s.model().mappings.size());
}

TEST(StorageAccess, PortsArePublishedOnlyWhenTheyChange) {
  Store s;
  s.ports();
  Model m = s.model();
  LONGS_EQUAL(3, m.ports.size());
  CHECK(m.port("SPA-FC0") != nullptr);
  std::vector<platform::FrontEndPortInfo> b = {
      {"iSCSI0", "iSCSI", "iqn.2026-12.t:b", "198.18.2.20:3260", true, 25000}};
  CHECK_FALSE(portsRecord(m, "B", b).has_value());
  b[0].link_up = false;
  CHECK(portsRecord(m, "B", b).has_value());
  // A mapping through chosen ports: of the host's protocol only.
  s.accept(createInitiator(s.model(), iscsi("iqn.2026-12.a:1"), "1"));
  s.accept(createHost(s.model(), {{"Initiators", {"1"}}}, "1"));
  s.volumes(1);
  checkRefused(
      createMapping(s.model(), {{"Group", "1"}, {"Volume", "1"}, {"Ports", {"SPA-FC0"}}}, "1"),
      "PropertyValueConflict", 400);
  s.accept(
      createMapping(s.model(), {{"Group", "1"}, {"Volume", "1"}, {"Ports", {"SPB-iSCSI0"}}}, "1"));
  // SP-A's target does not show it (not through its ports); SP-B's does.
  platform::DataPathState a = dataPathState(s.model(), "A", "");
  platform::DataPathState bs = dataPathState(s.model(), "B", "");
  LONGS_EQUAL(1, a.acls.size());
  CHECK(a.acls[0].luns.empty());
  LONGS_EQUAL(1, bs.acls[0].luns.size());
  STRCMP_EQUAL("iSCSI0", bs.acls[0].luns[0].ports.at(0).c_str());
}

TEST(StorageAccess, AccessStatesFollowTheOwnerAMoveAndADeadSp) {
  Store s;
  s.volumes(2, "A");
  Model m = s.model();
  const Volume& v = *m.volume("1");
  using platform::AluaState;
  CHECK(accessState(v, "A", "") == AluaState::Optimized);
  CHECK(accessState(v, "B", "") == AluaState::NonOptimized);
  // SP-A dead, not yet trespassed: Transitioning on the survivor, Unavailable on the dead SP.
  CHECK(accessState(v, "B", "A") == AluaState::Transitioning);
  CHECK(accessState(v, "A", "A") == AluaState::Unavailable);
  s.accept(beginMove(m, "1"));
  CHECK(accessState(*s.model().volume("1"), "A", "") == AluaState::Transitioning);
  CHECK(accessState(*s.model().volume("1"), "B", "") == AluaState::Transitioning);
  s.accept(moveVolume(s.model(), "1", "B", false, "test"));
  CHECK(accessState(*s.model().volume("1"), "B", "") == AluaState::Optimized);
  CHECK(accessState(*s.model().volume("1"), "A", "") == AluaState::NonOptimized);
  // Never optimized on both SPs.
  for (const Volume& vol : s.model().volumes)
    CHECK_FALSE(accessState(vol, "A", "") == AluaState::Optimized &&
                accessState(vol, "B", "") == AluaState::Optimized);
}

TEST(StorageAccess, ATakeoverIsOneChangeWithAnEventPerVolume) {
  Store s;
  s.volumes(5, "B");
  s.accept(moveVolume(s.model(), "5", "A", false, "test"));
  std::vector<proto::Event> events;
  Change c = s.accept(trespassAll(s.model(), "B", "A", "SP-B failed", &events));
  LONGS_EQUAL(4, c.records.size());
  LONGS_EQUAL(4, events.size());
  STRCMP_EQUAL("Critical", c.event.severity().c_str());
  for (const auto& e : events) STRCMP_EQUAL("Critical", e.severity().c_str());
  CHECK(volumesOwnedBy(s.model(), "B").empty());
  checkRefused(trespassAll(s.model(), "B", "A", "again", nullptr), "NoOperation", 400);
}

TEST(StorageAccess, ThePolicyIsCheckedAndKept) {
  Store s;
  CHECK_FALSE(s.model().policy.auto_failback);
  s.accept(setPolicy(s.model(), {{"AutoFailback", true}, {"AutoFailbackDelaySeconds", 5}}));
  CHECK(s.model().policy.auto_failback);
  LONGS_EQUAL(5, s.model().policy.auto_failback_delay_seconds);
  checkRefused(setPolicy(s.model(), {{"AutoFailback", 1}}), "PropertyValueTypeError", 400);
  checkRefused(setPolicy(s.model(), {{"AutoFailbackDelaySeconds", 3601}}),
               "PropertyValueOutOfRange", 400);
  checkRefused(setPolicy(s.model(), {{"Delay", 1}}), "PropertyUnknown", 400);
}

// A store that may be behind (a restarted SP before its resync) claims no volume: everything
// Transitioning here, whatever owner it names.
TEST(StorageAccess, AStoreThatMayBeBehindProgramsEveryVolumeTransitioning) {
  Store s;
  s.volumes(2, "A");
  platform::DataPathState in_step = dataPathState(s.model(), "A", "");
  CHECK(in_step.volumes.at(0).state == platform::AluaState::Optimized);
  platform::DataPathState behind = dataPathState(s.model(), "A", "", false);
  LONGS_EQUAL(2, behind.volumes.size());
  for (const auto& v : behind.volumes) CHECK(v.state == platform::AluaState::Transitioning);
  CHECK(dataPathState(s.model(), "A", "B", false).volumes.at(0).state ==
        platform::AluaState::Transitioning);
}
