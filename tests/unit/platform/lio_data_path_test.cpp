// The LIO back end's reconciliation against an in-memory configfs: the tree it builds for a
// wanted state, that a second apply changes nothing, that state changes and removals touch
// only what they must, and that what fails is reported and the rest still applied. (The
// real configfs is exercised under QEMU; the build host has no LIO.)

#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "platform/linux/lio_data_path.hpp"

// CppUTest last: its leak-detector macros redefine new.
#include <CppUTest/TestHarness.h>

using namespace dualsp::platform;

namespace {

// configfs as the back end sees it: directories, attribute files, symbolic links. rmdir
// refuses a directory with a directory or link in it (attributes go with it) and a
// directory a link points to (LIO answers EBUSY for a backstore a LUN uses).
class FakeConfigFs final : public ConfigFs {
 public:
  enum class Kind { Dir, File, Link };
  struct Node {
    Kind kind;
    std::string value;    // a file's contents, a link's target
    bool system = false;  // a default group configfs makes with its parent (np/, alua/, ...)
  };
  std::map<std::string, Node> nodes;
  int mutations = 0;
  std::map<std::string, int> fail_write;  // path -> errno

  // As loaded modules leave it: core/ there; iscsi/ only once made (as on a real board).
  explicit FakeConfigFs(const std::string& root) {
    nodes[root] = {Kind::Dir, "", true};
    nodes[root + "/core"] = {Kind::Dir, "", true};
  }

  static bool endsWithGroupOf(const std::string& path, const std::string& parent_name) {
    return parent(path).size() > parent_name.size() &&
           parent(path).compare(parent(path).size() - parent_name.size(), std::string::npos,
                                parent_name) == 0;
  }
  // The default groups configfs makes with a new directory of LIO's.
  std::vector<std::string> defaultGroups(const std::string& path) const {
    const std::string name = path.substr(path.find_last_of('/') + 1);
    if (endsWithGroupOf(path, "/core/iblock_0")) return {"alua", "wwn", "attrib"};
    if (name.rfind("tpgt_", 0) == 0) return {"np", "lun", "acls", "attrib", "param", "auth"};
    if (endsWithGroupOf(path, "/acls")) return {"attrib", "auth", "param"};
    return {};
  }

  static std::string parent(const std::string& p) { return p.substr(0, p.find_last_of('/')); }
  bool has(const std::string& p) const { return nodes.count(p) > 0; }
  std::string value(const std::string& p) const {
    auto it = nodes.find(p);
    return it == nodes.end() ? "<absent>" : it->second.value;
  }

  std::vector<std::string> list(const std::string& dir) override {
    std::vector<std::string> out;
    for (const auto& [p, n] : nodes)
      if (parent(p) == dir && p != dir) out.push_back(p.substr(dir.size() + 1));
    return out;
  }
  bool isDir(const std::string& path) override {
    auto it = nodes.find(path);
    return it != nodes.end() && it->second.kind == Kind::Dir;
  }
  std::optional<std::string> read(const std::string& path) override {
    auto it = nodes.find(path);
    if (it == nodes.end() || it->second.kind != Kind::File) return std::nullopt;
    return it->second.value;
  }
  std::optional<std::string> readLink(const std::string& path) override {
    auto it = nodes.find(path);
    if (it == nodes.end() || it->second.kind != Kind::Link) return std::nullopt;
    return it->second.value;
  }
  int makeDir(const std::string& path) override {
    if (has(path)) return EEXIST;
    if (!isDir(parent(path))) return ENOENT;
    ++mutations;
    nodes[path] = {Kind::Dir, ""};
    for (const std::string& g : defaultGroups(path)) nodes[path + "/" + g] = {Kind::Dir, "", true};
    return 0;
  }
  int removeDir(const std::string& path) override {
    if (!isDir(path)) return ENOENT;
    for (const auto& [p, n] : nodes) {
      if (n.kind == Kind::Link && n.value == path) return EBUSY;
      if (p.compare(0, path.size() + 1, path + "/") == 0 &&
          (n.kind == Kind::Link || (n.kind == Kind::Dir && !n.system)))
        return ENOTEMPTY;
    }
    ++mutations;
    for (auto it = nodes.begin(); it != nodes.end();)
      it = (it->first == path || it->first.compare(0, path.size() + 1, path + "/") == 0)
               ? nodes.erase(it)
               : std::next(it);
    return 0;
  }
  int write(const std::string& path, const std::string& value) override {
    if (auto f = fail_write.find(path); f != fail_write.end()) return f->second;
    if (!isDir(parent(path))) return ENOENT;
    ++mutations;
    nodes[path] = {Kind::File, value};
    return 0;
  }
  int symlink(const std::string& target, const std::string& path) override {
    if (!isDir(target)) return ENOENT;
    if (!isDir(parent(path))) return ENOENT;
    if (has(path)) return EEXIST;
    ++mutations;
    nodes[path] = {Kind::Link, target};
    return 0;
  }
  int unlink(const std::string& path) override {
    auto it = nodes.find(path);
    if (it == nodes.end() || it->second.kind != Kind::Link) return ENOENT;
    ++mutations;
    nodes.erase(it);
    return 0;
  }
};

const std::string kRoot = "/cfg/target";
const std::string kIqnA = "iqn.2026-12.com.dualsp:array.sp-a";
const std::string kTpg = kRoot + "/iscsi/" + kIqnA + "/tpgt_1";
const std::string kHost1 = "iqn.1993-08.org.debian:01:host1";
const std::string kHost2 = "iqn.1993-08.org.debian:01:host2";

DataPathState state(AluaState s = AluaState::Optimized) {
  DataPathState w;
  w.sp = "A";
  w.ports = {{"iSCSI0", "iSCSI", kIqnA, "198.18.2.11:3260"}};
  w.volumes = {{"1", "600140500000000000000000000000a1", 1 << 30, {"vdb"}, s},
               {"2", "600140500000000000000000000000a2", 1 << 30, {"vdb"}, s}};
  w.acls = {{"iSCSI", kHost1, {{3, "1", false, {}}, {4, "2", true, {}}}},
            {"iSCSI", kHost2, {{0, "1", false, {}}}}};
  return w;
}

}  // namespace

TEST_GROUP(LioDataPath) {
  FakeConfigFs* fs = nullptr;
  std::unique_ptr<DataPath> path;
  std::set<std::string> no_device;
  std::vector<std::string> released;
  std::vector<std::string> devices_made;  // volume ids, each time its device is (re)made

  void setup() override {
    auto owned = std::make_unique<FakeConfigFs>(kRoot);
    fs = owned.get();
    LioOptions options;
    options.root = kRoot;
    options.device = [this](const DataPathVolume& v,
                            std::string& why) -> std::optional<std::string> {
      if (no_device.count(v.id)) {
        why = "test: no extent";
        return std::nullopt;
      }
      devices_made.push_back(v.id);
      return "/dev/mapper/dualsp-vol" + v.id;
    };
    options.release = [this](const std::string& object) { released.push_back(object); };
    path = makeLioDataPath(options, std::move(owned));
  }
  void teardown() override {
    path.reset();
  }

  std::string join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
};

TEST(LioDataPath, BuildsBackstoresTargetLunsAluaAndAcls) {
  CHECK_EQUAL(std::string(), join(path->apply(state())));
  const std::string bs = kRoot + "/core/iblock_0/dualsp_1";
  STRCMP_EQUAL("udev_path=/dev/mapper/dualsp-vol1", fs->value(bs + "/control").c_str());
  STRCMP_EQUAL("600140500000000000000000000000a1", fs->value(bs + "/wwn/vpd_unit_serial").c_str());
  STRCMP_EQUAL("1", fs->value(bs + "/enable").c_str());
  STRCMP_EQUAL("1", fs->value(bs + "/alua/dualsp_sp_a/tg_pt_gp_id").c_str());
  STRCMP_EQUAL("1", fs->value(bs + "/alua/dualsp_sp_a/alua_access_type").c_str());
  STRCMP_EQUAL("0", fs->value(bs + "/alua/dualsp_sp_a/alua_access_state").c_str());
  CHECK_TRUE(fs->isDir(kTpg + "/np/198.18.2.11:3260"));
  STRCMP_EQUAL("0", fs->value(kTpg + "/attrib/generate_node_acls").c_str());
  STRCMP_EQUAL("1", fs->value(kTpg + "/enable").c_str());
  // One TPG LUN per volume, linked to its backstore, in this SP's port group.
  STRCMP_EQUAL(bs.c_str(), fs->value(kTpg + "/lun/lun_0/dualsp_1").c_str());
  STRCMP_EQUAL((kRoot + "/core/iblock_0/dualsp_2").c_str(),
               fs->value(kTpg + "/lun/lun_1/dualsp_2").c_str());
  STRCMP_EQUAL("dualsp_sp_a", fs->value(kTpg + "/lun/lun_0/alua_tg_pt_gp").c_str());
  // Each host sees its mappings at its LUN numbers, read-only where mapped so.
  STRCMP_EQUAL((kTpg + "/lun/lun_0").c_str(),
               fs->value(kTpg + "/acls/" + kHost1 + "/lun_3/lun").c_str());
  STRCMP_EQUAL("0", fs->value(kTpg + "/acls/" + kHost1 + "/lun_3/write_protect").c_str());
  STRCMP_EQUAL((kTpg + "/lun/lun_1").c_str(),
               fs->value(kTpg + "/acls/" + kHost1 + "/lun_4/lun").c_str());
  STRCMP_EQUAL("1", fs->value(kTpg + "/acls/" + kHost1 + "/lun_4/write_protect").c_str());
  STRCMP_EQUAL((kTpg + "/lun/lun_0").c_str(),
               fs->value(kTpg + "/acls/" + kHost2 + "/lun_0/lun").c_str());
  CHECK_FALSE(fs->has(kTpg + "/acls/" + kHost2 + "/lun_4"));
}

TEST(LioDataPath, ASecondApplyChangesNothing) {
  path->apply(state());
  const int before = fs->mutations;
  CHECK_EQUAL(std::string(), join(path->apply(state())));
  LONGS_EQUAL(before, fs->mutations);
}

TEST(LioDataPath, AStateChangeWritesOnlyTheAccessStates) {
  path->apply(state(AluaState::Optimized));
  const int before = fs->mutations;
  path->apply(state(AluaState::Transitioning));
  LONGS_EQUAL(before + 2, fs->mutations);  // one per volume
  STRCMP_EQUAL(
      "15",
      fs->value(kRoot + "/core/iblock_0/dualsp_1/alua/dualsp_sp_a/alua_access_state").c_str());
  path->apply(state(AluaState::NonOptimized));
  STRCMP_EQUAL(
      "1", fs->value(kRoot + "/core/iblock_0/dualsp_2/alua/dualsp_sp_a/alua_access_state").c_str());
  path->apply(state(AluaState::Unavailable));
  STRCMP_EQUAL(
      "3", fs->value(kRoot + "/core/iblock_0/dualsp_2/alua/dualsp_sp_a/alua_access_state").c_str());
}

TEST(LioDataPath, SpBHasItsOwnPortGroup) {
  DataPathState w = state(AluaState::NonOptimized);
  w.sp = "B";
  path->apply(w);
  const std::string group = kRoot + "/core/iblock_0/dualsp_1/alua/dualsp_sp_b";
  STRCMP_EQUAL("2", fs->value(group + "/tg_pt_gp_id").c_str());
  STRCMP_EQUAL("1", fs->value(group + "/alua_access_state").c_str());
  STRCMP_EQUAL("dualsp_sp_b", fs->value(kTpg + "/lun/lun_0/alua_tg_pt_gp").c_str());
}

TEST(LioDataPath, UnmappingRemovesTheVolumeFromThatHostOnly) {
  path->apply(state());
  DataPathState w = state();
  w.acls[0].luns.pop_back();  // host1 loses LUN 4 (volume 2)
  w.acls.pop_back();          // host2 loses everything
  CHECK_EQUAL(std::string(), join(path->apply(w)));
  CHECK_FALSE(fs->has(kTpg + "/acls/" + kHost1 + "/lun_4"));
  CHECK_TRUE(fs->has(kTpg + "/acls/" + kHost1 + "/lun_3/lun"));
  CHECK_FALSE(fs->has(kTpg + "/acls/" + kHost2));
  CHECK_TRUE(fs->has(kTpg + "/lun/lun_1/dualsp_2"));  // still exported, just not to them
}

TEST(LioDataPath, ADeletedVolumeLeavesNoLunAndNoBackstore) {
  path->apply(state());
  DataPathState w = state();
  w.volumes.erase(w.volumes.begin());  // volume 1, mapped to both hosts
  w.acls[0].luns.erase(w.acls[0].luns.begin());
  w.acls.pop_back();
  CHECK_EQUAL(std::string(), join(path->apply(w)));
  CHECK_FALSE(fs->has(kTpg + "/lun/lun_0"));
  CHECK_FALSE(fs->has(kRoot + "/core/iblock_0/dualsp_1"));
  CHECK_FALSE(fs->has(kTpg + "/acls/" + kHost1 + "/lun_3"));
  CHECK_TRUE(fs->has(kTpg + "/lun/lun_1/dualsp_2"));
  CHECK(released == std::vector<std::string>{"dualsp_1"});  // its device may go now
  // A new volume takes the free LUN index, not the next one.
  w.volumes.push_back(
      {"7", "600140500000000000000000000000a7", 1 << 30, {"vdb"}, AluaState::Optimized});
  path->apply(w);
  CHECK_TRUE(fs->has(kTpg + "/lun/lun_0/dualsp_7"));
}

TEST(LioDataPath, AVolumeWithoutADeviceIsReportedAndNotExported) {
  no_device = {"1"};
  const std::string out = join(path->apply(state()));
  CHECK_TRUE(out.find("volume 1 is not exported") != std::string::npos);
  CHECK_TRUE(out.find("test: no extent") != std::string::npos);
  CHECK_FALSE(fs->has(kRoot + "/core/iblock_0/dualsp_1"));
  CHECK_FALSE(fs->has(kTpg + "/acls/" + kHost1 + "/lun_3"));
  CHECK_FALSE(fs->has(kTpg + "/acls/" + kHost2));  // it mapped only volume 1
  CHECK_TRUE(fs->has(kTpg + "/acls/" + kHost1 + "/lun_4/lun"));
}

TEST(LioDataPath, NoConfigfsIsOneClearProblem) {
  auto other = makeLioDataPath({"/nowhere/target", {}}, std::make_unique<FakeConfigFs>(kRoot));
  const auto out = other->apply(state());
  LONGS_EQUAL(1, out.size());
  CHECK_TRUE(out[0].find("not loaded or configfs is not mounted") != std::string::npos);
}

TEST(LioDataPath, AMappingThroughAnotherPortIsNotInThisTarget) {
  DataPathState w = state();
  w.acls[1].luns[0].ports = {"iSCSI1"};  // host2 only through a port this target lacks
  path->apply(w);
  CHECK_FALSE(fs->has(kTpg + "/acls/" + kHost2));
  w.acls[1].luns[0].ports = {"iSCSI0"};
  path->apply(w);
  CHECK_TRUE(fs->has(kTpg + "/acls/" + kHost2 + "/lun_0/lun"));
}

TEST(LioDataPath, AFailedWriteIsReportedAndTheRestApplied) {
  fs->fail_write[kRoot + "/core/iblock_0/dualsp_2/alua/dualsp_sp_a/alua_access_state"] = EIO;
  path->apply(state(AluaState::NonOptimized));
  const std::string out = join(path->apply(state(AluaState::Optimized)));
  CHECK_TRUE(out.find("dualsp_2/alua/dualsp_sp_a/alua_access_state") != std::string::npos);
  CHECK_TRUE(out.find(std::strerror(EIO)) != std::string::npos);
  STRCMP_EQUAL(
      "0", fs->value(kRoot + "/core/iblock_0/dualsp_1/alua/dualsp_sp_a/alua_access_state").c_str());
}

TEST(LioDataPath, ATargetNoLongerPublishedIsRemoved) {
  path->apply(state());
  DataPathState w = state();
  w.ports[0].identifier = "iqn.2026-12.com.dualsp:renamed.sp-a";
  CHECK_EQUAL(std::string(), join(path->apply(w)));
  CHECK_FALSE(fs->has(kRoot + "/iscsi/" + kIqnA));
  CHECK_TRUE(fs->has(kRoot + "/iscsi/iqn.2026-12.com.dualsp:renamed.sp-a/tpgt_1/lun/lun_0"));
}

// A grown volume: its device is made again with the new placement (a table swap), the
// backstore is kept (hosts keep their LUN); an unchanged placement remakes nothing. A new
// back end (spd restarted) remakes each existing backstore's device once.
TEST(LioDataPath, AGrownVolumesDeviceIsMadeAgainAndItsBackstoreKept) {
  DataPathState w = state();
  w.volumes[0].extents = {{0, 1 << 30}};
  path->apply(w);
  CHECK(devices_made == std::vector<std::string>({"1", "2"}));
  path->apply(w);
  CHECK(devices_made == std::vector<std::string>({"1", "2"}));
  w.volumes[0].capacity_bytes = uint64_t{2} << 30;
  w.volumes[0].extents = {{0, 1 << 30}, {uint64_t{2} << 30, 1 << 30}};
  CHECK_EQUAL(std::string(), join(path->apply(w)));
  CHECK(devices_made == std::vector<std::string>({"1", "2", "1"}));
  STRCMP_EQUAL("udev_path=/dev/mapper/dualsp-vol1",
               fs->value(kRoot + "/core/iblock_0/dualsp_1/control").c_str());
  CHECK(fs->isDir(kTpg + "/acls/" + kHost1 + "/lun_3"));
  // What cannot be made again is reported; the volume stays exported as it was.
  w.volumes[0].extents.push_back({uint64_t{4} << 30, 1 << 30});
  no_device = {"1"};
  STRCMP_CONTAINS("volume 1: its device was not made again", join(path->apply(w)).c_str());
  CHECK(fs->isDir(kTpg + "/acls/" + kHost1 + "/lun_3"));
}
