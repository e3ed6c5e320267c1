#include "webserver/redfish_format.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>

namespace dualsp::web {
namespace {

// FNV-1a with the 128-bit parameters (draft-eastlake-fnv), in two 64-bit halves so that
// 32-bit targets (armhf has no __int128) name every resource with the same UUID.
struct Hash128 {
  uint64_t hi;
  uint64_t lo;
};
constexpr Hash128 kFnvOffset{0x6c62272e07bb0142ULL, 0x62b821756295c58dULL};
// The prime is 2^88 + 0x13B.
constexpr uint64_t kFnvPrimeLow = 0x13B;
constexpr int kFnvPrimeShift = 88;

// h * (2^88 + 0x13B) mod 2^128.
Hash128 multiplyByPrime(Hash128 h) {
  // h * 0x13B, with the low half's 64x9-bit product split into 32-bit limbs.
  const uint64_t lo_lo = (h.lo & 0xffffffffULL) * kFnvPrimeLow;
  const uint64_t lo_hi = (h.lo >> 32) * kFnvPrimeLow + (lo_lo >> 32);
  Hash128 r;
  r.lo = (lo_hi << 32) | (lo_lo & 0xffffffffULL);
  r.hi = h.hi * kFnvPrimeLow + (lo_hi >> 32);
  // + h * 2^88: only the low half reaches the result, shifted into the high half by 24.
  r.hi += h.lo << (kFnvPrimeShift - 64);
  return r;
}

Hash128 fnv1a128(std::string_view data) {
  Hash128 hash = kFnvOffset;
  for (unsigned char c : data) {
    hash.lo ^= c;
    hash = multiplyByPrime(hash);
  }
  return hash;
}

}  // namespace

std::string nameBasedUuid(std::string_view name) {
  const Hash128 h = fnv1a128(name);
  unsigned char b[16];
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<unsigned char>(h.hi >> (8 * (7 - i)));
    b[8 + i] = static_cast<unsigned char>(h.lo >> (8 * (7 - i)));
  }
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
