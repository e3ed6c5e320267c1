#include "webserver/redfish_format.hpp"

#include <cstdio>
#include <ctime>

namespace dualsp::web {
namespace {

using Uint128 = unsigned __int128;

// FNV-1a, 128-bit parameters (draft-eastlake-fnv): offset basis and prime.
constexpr Uint128 kFnvOffset =
    (Uint128{0x6c62272e07bb0142ULL} << 64) | Uint128{0x62b821756295c58dULL};
constexpr Uint128 kFnvPrime = (Uint128{0x0000000001000000ULL} << 64) | Uint128{0x13BULL};

Uint128 fnv1a128(std::string_view data) {
  Uint128 hash = kFnvOffset;
  for (unsigned char c : data) {
    hash ^= c;
    hash *= kFnvPrime;
  }
  return hash;
}

}  // namespace

std::string nameBasedUuid(std::string_view name) {
  Uint128 h = fnv1a128(name);
  unsigned char b[16];
  for (int i = 0; i < 16; ++i) b[i] = static_cast<unsigned char>(h >> (8 * (15 - i)));
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x80);  // version 8 (RFC 9562 5.8)
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // variant 10
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
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
