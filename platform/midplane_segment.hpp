#pragma once
// The midplane: a small memory window both SPs map. On a real chassis it is a window across
// the midplane; on one host a Boost.Interprocess shared-memory object (/dev/shm/<name>);
// under QEMU an ivshmem device (its BAR, /sys/bus/pci/devices/<dev>/resource2). A name that
// starts with '/' is a file mapped as it is; any other name is a shared-memory object.
// Each SP writes its own slot and reads its peer's.
//
// Layout (little-endian, fixed; the harness pokes the cut words from Python):
//   0   u64  magic "DSPMIDPL"          8  u32 layout version (2)
//   16  u32  cut[A]   20  u32 cut[B]   nonzero: that SP's side of the midplane is cut
//   64  slot A (64 bytes)   128 slot B (64 bytes)
//   slot: u64 seqlock, u64 beat_seq, u64 epoch, u32 role, u32 health, u64 boot, u64 sent_us,
//         u32 flags (bit 0: yielding, bit 1: no carrier on the management link),
//         u64 heard_boot (at 56: the boot nonce of the peer the writer last heard)
// A cut side neither writes nor reads, like a connector pulled out.
//
// The chassis power register (the chassis's power controller, not the SPs, acts on it):
//   256 u64 power_off_request[A]  264 u64 power_off_request[B]
//   272 u64 power_off_done[A]     280 u64 power_off_done[B]
// An SP fencing its peer X increments request[X]; the chassis powers X off and then sets
// done[X] = request[X]. The QEMU harness (tools/qemu-pair) is that chassis.
//   288 u64 power_state[A]  296 u64 power_state[B]   written by the chassis, if it can:
//        0 unknown, 1 off, 2 running, 3 stopped (platform/sp_types.hpp PowerState)
//
// How far each SP's acknowledged configuration history reaches (written by the SP before it
// acknowledges a change its peer does not hold; it stays readable after the SP's death, so a
// survivor knows what it lacks):
//   320 history A, 352 history B: u64 seqlock, u64 epoch, u64 seq, u64 last_event_id
//
// Each slot's authentication (layout version 2), written and read under the slot's seqlock:
//   384 auth A, 448 auth B (64 bytes each): u64 boot_counter, u8 mac[32] (HMAC-SHA256 under the
//   pair key over the slot's fields, heartbeat/midplane_path.cpp), 24 bytes reserved

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "platform/sp_types.hpp"

namespace dualsp::platform {

struct MidplaneBeat {
  uint64_t beat_seq = 0;  // increases with every beat; a changed value is a heartbeat
  uint64_t epoch = 0;
  Role role = Role::Starting;
  Health health = Health::Ok;
  uint64_t boot = 0;     // the writer's boot nonce
  uint64_t sent_us = 0;  // the writer's monotonic clock
  bool yielding = false;
  bool no_carrier = false;
  uint64_t heard_boot = 0;
  uint64_t boot_counter = 0;      // the writer's boot counter (sp/boot_counter.hpp)
  std::array<uint8_t, 32> mac{};  // HMAC-SHA256 of the fields above (midplane_path.cpp)
};

class MidplaneSegment {
 public:
  static constexpr size_t kSize = 4096;
  static constexpr size_t kCutOffset = 16;
  static constexpr size_t kPowerRequestOffset = 256;
  static constexpr size_t kPowerDoneOffset = 272;
  static constexpr size_t kPowerStateOffset = 288;
  static constexpr size_t kHistoryOffset = 320;
  static constexpr size_t kAuthOffset = 384;

  // Opens or creates the named segment. Throws std::runtime_error on failure.
  MidplaneSegment(const std::string& name, SpId self);
  ~MidplaneSegment();
  MidplaneSegment(const MidplaneSegment&) = delete;
  MidplaneSegment& operator=(const MidplaneSegment&) = delete;

  // False when this side is cut (nothing written).
  bool write(const MidplaneBeat& beat);
  // The peer's slot; nullopt when this side or the peer's side is cut, or torn.
  std::optional<MidplaneBeat> readPeer() const;
  bool cut(SpId side) const;

  // The chassis power register. requestPowerOff returns the request number to wait for;
  // powerOffDone(target) >= that number means the chassis has powered `target` off.
  uint64_t requestPowerOff(SpId target);
  uint64_t powerOffDone(SpId target) const;
  PowerState powerState(SpId target) const;

  // This SP's history area (false when this side is cut) and the peer's (nullopt when cut,
  // torn, or never written). Thread-safe against the beat slot's writer.
  bool writeHistory(const History& history);
  std::optional<History> readPeerHistory() const;

 private:
  void mapSharedMemory(const std::string& name);
  struct Impl;
  SpId self_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dualsp::platform
