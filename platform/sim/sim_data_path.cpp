#include "platform/sim/sim_data_path.hpp"

#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

namespace dualsp::platform {

namespace {

using Json = nlohmann::json;

Json toJson(const DataPathState& s) {
  Json ports = Json::array(), volumes = Json::array(), acls = Json::array();
  for (const auto& p : s.ports)
    ports.push_back({{"id", p.id},
                     {"protocol", p.protocol},
                     {"identifier", p.identifier},
                     {"address", p.address}});
  for (const auto& v : s.volumes) {
    Json extents = Json::array();
    for (const auto& e : v.extents) extents.push_back({e.offset, e.length});
    volumes.push_back({{"id", v.id},
                       {"wwn", v.wwn},
                       {"capacity_bytes", v.capacity_bytes},
                       {"drives", v.drives},
                       {"extents", extents},
                       {"alua", aluaStateName(v.state)}});
  }
  for (const auto& a : s.acls) {
    Json luns = Json::array();
    for (const auto& l : a.luns)
      luns.push_back(
          {{"lun", l.lun}, {"volume", l.volume}, {"read_only", l.read_only}, {"ports", l.ports}});
    acls.push_back({{"protocol", a.protocol}, {"initiator", a.initiator}, {"luns", luns}});
  }
  return {{"sp", s.sp}, {"ports", ports}, {"volumes", volumes}, {"acls", acls}};
}

class SimDataPath final : public DataPath {
 public:
  explicit SimDataPath(std::string path) : path_(std::move(path)) {}

  std::vector<std::string> apply(const DataPathState& wanted) override {
    std::lock_guard lock(mu_);
    if (path_.empty()) return {};
    const std::string tmp = path_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << toJson(wanted).dump(1) << "\n";
      out.flush();
      if (!out) return {"sim data path: cannot write " + tmp};
    }
    if (std::rename(tmp.c_str(), path_.c_str()) != 0)
      return {"sim data path: cannot rename " + tmp + " to " + path_};
    return {};
  }

  std::string describe() const override {
    return path_.empty() ? "sim data path (not recorded)" : "sim data path " + path_;
  }

 private:
  const std::string path_;
  std::mutex mu_;
};

}  // namespace

std::unique_ptr<DataPath> makeSimDataPath(std::string state_path) {
  return std::make_unique<SimDataPath>(std::move(state_path));
}

}  // namespace dualsp::platform
