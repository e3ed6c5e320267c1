#pragma once
// The status board: spd publishes the SP's state into a small shared-memory segment
// (Boost.Interprocess), spweb reads it without asking spd. A seqlock keeps readers from
// seeing a half-written snapshot; the writer never waits for readers.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "platform/privilege.hpp"
#include "platform/sp_types.hpp"

namespace dualsp::ipc {

// One fault of the SP (health monitor), as spweb shows it.
struct SnapshotFault {
  char message_id[64] = {};  // Redfish registry id
  char text[160] = {};
  Health severity = Health::Critical;
};

// Plain data, fixed layout: it lives in shared memory between two processes.
struct StatusSnapshot {
  static constexpr uint32_t kLayoutVersion = 3;
  static constexpr size_t kMaxFaults = 8;
  uint32_t layout_version = kLayoutVersion;
  uint32_t spd_pid = 0;
  char array_id[32] = {};
  char boot_id[40] = {};  // UUID, new at every spd start
  char firmware_version[48] = {};
  char management_address[48] = {};
  char floating_address[48] = {};
  SpId sp = SpId::A;
  Role role = Role::Starting;
  Health health = Health::Ok;
  bool holds_floating = false;
  uint64_t epoch = 0;
  int64_t boot_time_ms = 0;  // wall clock, ms since 1970, when spd started
  int64_t updated_ms = 0;    // wall clock of this snapshot

  // The peer as this SP last heard it on the heartbeat paths.
  bool peer_alive = false;
  Role peer_role = Role::Starting;
  Health peer_health = Health::Ok;
  uint64_t peer_epoch = 0;
  int64_t peer_last_heard_ms = 0;  // wall clock; 0 = never heard
  uint8_t paths_configured = 0;    // bit per heartbeat path (peer, mgmt, midplane)
  uint8_t paths_alive = 0;
  char peer_boot_id[40] = {};
  // Carrier on the management link: the SP (and its peer, as heard) can serve clients.
  bool can_serve = true;
  bool peer_can_serve = true;
  // The route the peer link takes now: "peer-link", "management", or empty (none up).
  char peer_link_route[16] = {};
  // Acknowledged configuration history of this SP and of its peer (as last heard).
  History history{};
  History peer_history{};

  // The SP's own faults, worst first (health monitor); health is their roll-up.
  uint8_t fault_count = 0;
  SnapshotFault faults[kMaxFaults] = {};
};

std::string statusBoardName(const std::string& array_id, SpId sp);

class StatusBoardWriter {
 public:
  // Creates (or takes over a stale) segment, removed again by the destructor. With `web`
  // (spd as root, spweb unprivileged: docs/SECURITY.md "What runs as whom") the segment is
  // given the web group, mode 0640: spweb reads it, nobody else. Otherwise 0600.
  // Throws std::runtime_error on failure.
  explicit StatusBoardWriter(std::string name, std::optional<platform::UnixIdentity> web = {});
  ~StatusBoardWriter();
  StatusBoardWriter(const StatusBoardWriter&) = delete;
  StatusBoardWriter& operator=(const StatusBoardWriter&) = delete;
  void publish(const StatusSnapshot& snapshot);
  const std::string& name() const { return name_; }

 private:
  struct Impl;
  std::string name_;
  std::unique_ptr<Impl> impl_;
};

class StatusBoardReader {
 public:
  // With `web` (spweb's identity, dropped to or not), a board of root's (or this user's) with
  // the web group and mode 0640 is trusted too; 0600 always is (docs/SECURITY.md).
  explicit StatusBoardReader(std::string name, std::optional<platform::UnixIdentity> web = {});
  ~StatusBoardReader();
  // nullopt while spd has not published yet (segment absent or never written).
  // Reopens the segment if spd restarted and recreated it.
  std::optional<StatusSnapshot> read();

 private:
  struct Impl;
  std::string name_;
  std::unique_ptr<Impl> impl_;
};

// Copies a string into a fixed char array, always NUL-terminated.
template <size_t N>
void copyField(char (&dst)[N], const std::string& src) {
  size_t n = src.size() < N - 1 ? src.size() : N - 1;
  for (size_t i = 0; i < n; ++i) dst[i] = src[i];
  for (size_t i = n; i < N; ++i) dst[i] = 0;
}

}  // namespace dualsp::ipc
