#include "platform/linux/lio_data_path.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

namespace dualsp::platform {

namespace {

constexpr const char* kHba = "core/iblock_0";
constexpr const char* kPrefix = "dualsp_";
constexpr const char* kTpg = "tpgt_1";

class SystemConfigFs final : public ConfigFs {
 public:
  std::vector<std::string> list(const std::string& dir) override {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(std::move(name));
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
  }
  bool isDir(const std::string& path) override {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  std::optional<std::string> read(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    if (n < 0) return std::nullopt;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\0')) out.pop_back();
    return out;
  }
  std::optional<std::string> readLink(const std::string& path) override {
    char buf[4096];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }
  int makeDir(const std::string& path) override {
    return ::mkdir(path.c_str(), 0755) == 0 ? 0 : errno;
  }
  int removeDir(const std::string& path) override { return ::rmdir(path.c_str()) == 0 ? 0 : errno; }
  int write(const std::string& path, const std::string& value) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    // configfs takes an attribute in one write.
    const std::string text = value + "\n";
    ssize_t n = ::write(fd, text.data(), text.size());
    int err = n < 0 ? errno : (static_cast<size_t>(n) == text.size() ? 0 : EIO);
    ::close(fd);
    return err;
  }
  int symlink(const std::string& target, const std::string& path) override {
    return ::symlink(target.c_str(), path.c_str()) == 0 ? 0 : errno;
  }
  int unlink(const std::string& path) override { return ::unlink(path.c_str()) == 0 ? 0 : errno; }
};

std::string baseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string objectName(const std::string& volume_id) {
  return lioObjectName(volume_id);
}

bool startsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// One apply(): the wanted state, what is there, and the problems met.
class Reconcile {
 public:
  // `placed`: each backstore's extents as its device was last made with (kept by the back
  // end across applies).
  Reconcile(ConfigFs& fs, const LioOptions& options, const DataPathState& wanted,
            std::map<std::string, std::vector<DataPathExtent>>& placed)
      : fs_(fs), root_(options.root), options_(options), wanted_(wanted), placed_(placed) {
    std::string sp = wanted.sp;
    for (char& c : sp) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    group_ = std::string(kPrefix) + "sp_" + sp;
    group_id_ = wanted.sp == "B" ? 2 : 1;
    for (const DataPathPort& p : wanted.ports) {
      if (p.protocol == "iSCSI" && !p.identifier.empty()) {
        targets_[p.identifier].ports.insert(p.id);
        if (!p.address.empty()) targets_[p.identifier].portals.insert(p.address);
      } else {
        problem("port " + p.id + " (" + p.protocol + "): this back end exports iSCSI only");
      }
    }
    for (const DataPathVolume& v : wanted.volumes) objects_[objectName(v.id)] = &v;
  }

  std::vector<std::string> run() {
    if (!fs_.isDir(root_)) {
      problem(root_ +
              " is not there: the LIO target modules (target_core_mod, iscsi_target_mod) are "
              "not loaded or configfs is not mounted");
      return problems_;
    }
    for (const std::string& t : fs_.list(root_ + "/iscsi"))
      if (fs_.isDir(iscsi(t)) && t != "discovery_auth") cleanTarget(t);
    cleanBackstores();
    buildBackstores();
    for (const auto& [iqn, target] : targets_) buildTarget(iqn, target);
    return problems_;
  }

 private:
  struct Target {
    std::set<std::string> ports;    // port ids ("iSCSI0")
    std::set<std::string> portals;  // "198.18.2.11:3260"
  };

  std::string iscsi(const std::string& iqn) const { return root_ + "/iscsi/" + iqn; }
  std::string tpg(const std::string& iqn) const { return iscsi(iqn) + "/" + kTpg; }
  std::string backstore(const std::string& object) const {
    return root_ + "/" + kHba + "/" + object;
  }

  void problem(std::string line) { problems_.push_back("LIO: " + std::move(line)); }
  bool check(int err, const std::string& what, const std::string& path) {
    if (err == 0) return true;
    problem(what + " " + path + ": " + std::strerror(err));
    return false;
  }
  bool ensureDir(const std::string& path) {
    if (fs_.isDir(path)) return true;
    return check(fs_.makeDir(path), "mkdir", path);
  }
  // Writes `value` unless the attribute already reads `value`.
  bool set(const std::string& path, const std::string& value) {
    if (auto now = fs_.read(path); now && *now == value) return true;
    return check(fs_.write(path, value), "write " + value + " to", path);
  }
  // The one symbolic link in `dir` (a LUN's or a mapped LUN's), by the name it points to.
  std::optional<std::string> linkIn(const std::string& dir, std::string* link_path = nullptr) {
    for (const std::string& e : fs_.list(dir))
      if (auto to = fs_.readLink(dir + "/" + e)) {
        if (link_path) *link_path = dir + "/" + e;
        return baseName(*to);
      }
    return std::nullopt;
  }
  // Removes a LUN or mapped-LUN directory: its link first.
  void removeLinkedDir(const std::string& dir) {
    std::string link;
    if (linkIn(dir, &link)) check(fs_.unlink(link), "unlink", link);
    check(fs_.removeDir(dir), "rmdir", dir);
  }

  static bool isLunDir(const std::string& name) { return startsWith(name, "lun_"); }

  // The host LUN numbers (as "lun_<m>") each wanted initiator maps each volume's object at.
  std::map<std::string, std::string> wantedMappings(const std::string& iqn,
                                                    const std::string& initiator) const {
    std::map<std::string, std::string> out;  // "lun_<m>" -> object
    const Target& target = targets_.at(iqn);
    for (const DataPathAcl& a : wanted_.acls) {
      if (a.protocol != "iSCSI" || a.initiator != initiator) continue;
      for (const DataPathLun& l : a.luns) {
        if (!l.ports.empty() &&
            std::none_of(l.ports.begin(), l.ports.end(),
                         [&](const std::string& p) { return target.ports.count(p) > 0; }))
          continue;
        out["lun_" + std::to_string(l.lun)] = objectName(l.volume);
      }
    }
    return out;
  }

  // Removes from target `iqn` what is not wanted: the whole target, or the ACLs, mapped LUNs,
  // LUNs and portals that are not. Runs before anything is built, so a removed volume's
  // backstore has no LUN left when it goes.
  void cleanTarget(const std::string& iqn) {
    const bool keep = targets_.count(iqn) > 0;
    for (const std::string& t : fs_.list(iscsi(iqn))) {
      const std::string tp = iscsi(iqn) + "/" + t;
      if (!startsWith(t, "tpgt_") || !fs_.isDir(tp)) continue;
      const bool keep_tpg = keep && t == kTpg;
      if (!keep_tpg) set(tp + "/enable", "0");
      // LUN index -> backstore object, as configured.
      std::map<std::string, std::string> luns;
      for (const std::string& l : fs_.list(tp + "/lun"))
        if (isLunDir(l)) luns[l] = linkIn(tp + "/lun/" + l).value_or("");
      for (const std::string& init : fs_.list(tp + "/acls")) {
        const std::string acl = tp + "/acls/" + init;
        if (!fs_.isDir(acl)) continue;
        const auto wanted =
            keep_tpg ? wantedMappings(iqn, init) : std::map<std::string, std::string>{};
        for (const std::string& m : fs_.list(acl)) {
          if (!isLunDir(m) || !fs_.isDir(acl + "/" + m)) continue;
          const auto to = linkIn(acl + "/" + m);
          const auto w = wanted.find(m);
          const bool right = to && w != wanted.end() && luns.count(*to) && luns[*to] == w->second &&
                             objects_.count(w->second);
          if (!right) removeLinkedDir(acl + "/" + m);
        }
        if (wanted.empty()) check(fs_.removeDir(acl), "rmdir", acl);
      }
      for (const auto& [l, object] : luns)
        if (!keep_tpg || !objects_.count(object)) removeLinkedDir(tp + "/lun/" + l);
      for (const std::string& np : fs_.list(tp + "/np"))
        if (fs_.isDir(tp + "/np/" + np) && (!keep_tpg || !targets_.at(iqn).portals.count(np)))
          check(fs_.removeDir(tp + "/np/" + np), "rmdir", tp + "/np/" + np);
      if (!keep_tpg) check(fs_.removeDir(tp), "rmdir", tp);
    }
    if (!keep) check(fs_.removeDir(iscsi(iqn)), "rmdir", iscsi(iqn));
  }

  void cleanBackstores() {
    const std::string hba = root_ + "/" + kHba;
    for (const std::string& object : fs_.list(hba)) {
      if (!startsWith(object, kPrefix) || !fs_.isDir(hba + "/" + object)) continue;
      if (objects_.count(object)) continue;
      for (const std::string& g : fs_.list(hba + "/" + object + "/alua"))
        if (startsWith(g, kPrefix))
          check(fs_.removeDir(hba + "/" + object + "/alua/" + g), "rmdir",
                hba + "/" + object + "/alua/" + g);
      if (!check(fs_.removeDir(hba + "/" + object), "rmdir", hba + "/" + object)) continue;
      placed_.erase(object);
      if (options_.release) options_.release(object);
    }
  }

  void buildBackstores() {
    if (objects_.empty()) return;
    if (!ensureDir(root_ + "/core") || !ensureDir(root_ + "/" + kHba)) {
      objects_.clear();
      return;
    }
    for (auto it = objects_.begin(); it != objects_.end();) {
      if (buildBackstore(it->first, *it->second))
        ++it;
      else
        it = objects_.erase(it);  // no LUN for it: hosts do not see a volume we cannot serve
    }
  }

  bool buildBackstore(const std::string& object, const DataPathVolume& v) {
    const std::string dir = backstore(object);
    if (fs_.isDir(dir)) {
      // A volume that grew (or a backstore this spd has not placed yet, after a restart of
      // spd): its device's table is made again. device-mapper swaps the table in one
      // suspend/resume; the backstore reads its device's size on every READ CAPACITY.
      if (options_.device) {
        auto was = placed_.find(object);
        if (was == placed_.end() || was->second != v.extents) {
          std::string why;
          if (options_.device(v, why))
            placed_[object] = v.extents;
          else
            problem("volume " + v.id + ": its device was not made again for its placement (" + why +
                    "); it is served as it was");
        }
      }
    } else {
      std::string why;
      const auto device = options_.device ? options_.device(v, why) : std::nullopt;
      if (!device) {
        problem("volume " + v.id + " is not exported: no block device for it (" +
                (why.empty() ? "no placement on the shelf" : why) + ")");
        return false;
      }
      placed_[object] = v.extents;
      if (!check(fs_.makeDir(dir), "mkdir", dir)) return false;
      // The unit serial is set before the device is enabled: LIO derives the NAA identifier
      // hosts see from it, the same on both SPs.
      if (!check(fs_.write(dir + "/control", "udev_path=" + *device), "configure", dir) ||
          !check(fs_.write(dir + "/wwn/vpd_unit_serial", v.wwn), "serial of", dir) ||
          !check(fs_.write(dir + "/enable", "1"), "enable", dir))
        return false;
    }
    const std::string group = dir + "/alua/" + group_;
    if (!ensureDir(group)) return false;
    set(group + "/tg_pt_gp_id", std::to_string(group_id_));
    set(group + "/alua_access_type", "1");  // implicit: the SPs change states, not hosts
    return set(group + "/alua_access_state", std::to_string(lioAluaStateCode(v.state)));
  }

  void buildTarget(const std::string& iqn, const Target& target) {
    const std::string tp = tpg(iqn);
    // iscsi/ appears when first made (LIO registers the fabric then), not with the modules.
    if (!ensureDir(root_ + "/iscsi") || !ensureDir(iscsi(iqn)) || !ensureDir(tp)) return;
    for (const std::string& portal : target.portals) ensureDir(tp + "/np/" + portal);
    set(tp + "/attrib/authentication", "0");
    set(tp + "/attrib/generate_node_acls", "0");  // ACLs: each host sees its mappings only
    set(tp + "/attrib/demo_mode_write_protect", "1");

    std::map<std::string, std::string> lun_of;  // object -> "lun_<n>"
    std::set<std::string> used;
    for (const std::string& l : fs_.list(tp + "/lun"))
      if (isLunDir(l)) {
        used.insert(l);
        if (auto object = linkIn(tp + "/lun/" + l)) lun_of[*object] = l;
      }
    for (const auto& [object, volume] : objects_) {
      if (!lun_of.count(object)) {
        std::string l;
        for (int n = 0; l.empty() || used.count(l); ++n) l = "lun_" + std::to_string(n);
        const std::string dir = tp + "/lun/" + l;
        if (!check(fs_.makeDir(dir), "mkdir", dir) ||
            !check(fs_.symlink(backstore(object), dir + "/" + object), "link", dir))
          continue;
        used.insert(l);
        lun_of[object] = l;
      }
      const std::string member = tp + "/lun/" + lun_of[object] + "/alua_tg_pt_gp";
      if (auto now = fs_.read(member); !now || now->find(group_) == std::string::npos)
        check(fs_.write(member, group_), "write " + group_ + " to", member);
    }

    std::set<std::string> initiators;
    for (const DataPathAcl& a : wanted_.acls)
      if (a.protocol == "iSCSI") initiators.insert(a.initiator);
    for (const std::string& init : initiators) {
      auto mappings = wantedMappings(iqn, init);
      for (auto it = mappings.begin(); it != mappings.end();)
        it = lun_of.count(it->second) ? std::next(it) : mappings.erase(it);  // said above
      if (mappings.empty()) continue;
      const std::string acl = tp + "/acls/" + init;
      if (!ensureDir(tp + "/acls") || !ensureDir(acl)) continue;
      for (const auto& [m, object] : mappings) {
        const std::string dir = acl + "/" + m;
        if (!fs_.isDir(dir) &&
            (!check(fs_.makeDir(dir), "mkdir", dir) ||
             !check(fs_.symlink(tp + "/lun/" + lun_of[object], dir + "/lun"), "link", dir)))
          continue;
        set(dir + "/write_protect", readOnly(init, m) ? "1" : "0");
      }
    }
    set(tp + "/enable", "1");
  }

  bool readOnly(const std::string& initiator, const std::string& lun_dir) const {
    for (const DataPathAcl& a : wanted_.acls)
      if (a.initiator == initiator)
        for (const DataPathLun& l : a.luns)
          if ("lun_" + std::to_string(l.lun) == lun_dir) return l.read_only;
    return false;
  }

  ConfigFs& fs_;
  std::string root_;
  const LioOptions& options_;
  const DataPathState& wanted_;
  std::map<std::string, std::vector<DataPathExtent>>& placed_;
  std::string group_;
  int group_id_ = 1;
  std::map<std::string, Target> targets_;                 // by IQN
  std::map<std::string, const DataPathVolume*> objects_;  // backstore name -> volume
  std::vector<std::string> problems_;
};

class LioDataPath final : public DataPath {
 public:
  LioDataPath(LioOptions options, std::unique_ptr<ConfigFs> fs)
      : options_(std::move(options)), fs_(std::move(fs)) {}

  std::vector<std::string> apply(const DataPathState& wanted) override {
    std::lock_guard lock(mu_);
    return Reconcile(*fs_, options_, wanted, placed_).run();
  }
  std::string describe() const override { return "LIO target (" + options_.root + ")"; }

 private:
  LioOptions options_;
  std::unique_ptr<ConfigFs> fs_;
  std::mutex mu_;
  std::map<std::string, std::vector<DataPathExtent>> placed_;  // (mu_)
};

}  // namespace

std::string lioObjectName(const std::string& volume_id) {
  std::string out = kPrefix;
  for (char c : volume_id)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return out;
}

std::unique_ptr<ConfigFs> makeSystemConfigFs() {
  return std::make_unique<SystemConfigFs>();
}

int lioAluaStateCode(AluaState state) {
  switch (state) {
    case AluaState::Optimized:
      return 0;
    case AluaState::NonOptimized:
      return 1;
    case AluaState::Transitioning:
      return 15;
    case AluaState::Unavailable:
      return 3;
  }
  return 3;
}

std::unique_ptr<DataPath> makeLioDataPath(LioOptions options, std::unique_ptr<ConfigFs> fs) {
  return std::make_unique<LioDataPath>(std::move(options), std::move(fs));
}

}  // namespace dualsp::platform
