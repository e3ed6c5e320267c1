#include "webserver/redfish_format.hpp"

#include <ctime>

#include <boost/uuid/name_generator_sha1.hpp>
#include <boost/uuid/string_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

namespace dualsp::web {
namespace {

boost::uuids::uuid dualspNamespace() {
  static const boost::uuids::uuid ns =
      boost::uuids::string_generator()(std::string(kUuidNamespace));
  return ns;
}

}  // namespace

std::string nameBasedUuid(std::string_view name) {
  const boost::uuids::name_generator_sha1 generate(dualspNamespace());
  return boost::uuids::to_string(generate(name.data(), name.size()));
}

std::string serviceRootUuid(std::string_view array_id) {
  return nameBasedUuid("dualsp/service-root/" + std::string(array_id));
}

std::string managerUuid(std::string_view array_id, SpId sp) {
  return nameBasedUuid("dualsp/manager/" + std::string(array_id) + "/" +
                       std::string(managerId(sp)));
}

std::string dateTimeString(int64_t ms_since_epoch) {
  std::time_t seconds = static_cast<std::time_t>(ms_since_epoch / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char out[40];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S+00:00", &utc);
  return out;
}

std::string managerPath(SpId sp) {
  return "/redfish/v1/Managers/" + std::string(managerId(sp));
}

std::string enclosurePath() {
  return "/redfish/v1/Chassis/" + std::string(kEnclosureId);
}

std::optional<SpId> spOfManagerId(std::string_view id) {
  for (SpId sp : {SpId::A, SpId::B})
    if (id == managerId(sp)) return sp;
  return std::nullopt;
}

Json odataLink(std::string path) {
  return {{"@odata.id", std::move(path)}};
}

}  // namespace dualsp::web
