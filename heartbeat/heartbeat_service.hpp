#pragma once
// Runs the election for real: one thread (real-time priority where allowed) with the
// heartbeat paths, the timers, and the executor of the election's actions (floating IP,
// fencing, epoch persistence, alerts). It publishes the SP's state on the status board.

#include <asio.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "heartbeat/election.hpp"
#include "heartbeat/midplane_path.hpp"
#include "heartbeat/udp_path.hpp"
#include "ipc/status_board.hpp"
#include "platform/midplane_segment.hpp"
#include "platform/platform.hpp"

namespace dualsp::heartbeat {

struct MidplaneOptions {
  bool enabled = true;
  std::string segment;
  Millis interval{5};
  std::string key;  // the pair key: each slot carries an HMAC-SHA256 (heartbeat/midplane_path.hpp)
};

struct ServiceOptions {
  std::string array_id;
  std::string boot_id;
  // This start's boot counter (sp/boot_counter.hpp): carried in every beat, so the peer refuses
  // beats captured during an earlier boot.
  uint64_t boot_counter = 0;
  ElectionConfig election;
  UdpPathOptions peer;
  UdpPathOptions mgmt;
  MidplaneOptions midplane;
  uint64_t persisted_epoch = 0;
  Health initial_health = Health::Ok;
  int realtime_priority = 0;
  int garp_count = 5;
  Millis garp_interval{20};
  // One gratuitous ARP this often while active (0: never), so caches that missed the
  // takeover's (a switch port that was down, a host that ignored them) are corrected.
  Millis garp_refresh{10000};
  // The interface whose carrier decides whether this SP can serve clients (empty: always).
  std::string carrier_interface;
  // A sysfs read: cheap enough to look often (a pulled cable is a hand-over, docs/ELECTION.md).
  Millis carrier_poll{10};
  Millis fence_timeout{2000};
  Millis reconcile_interval{200};  // check that the address is where the role says
};

struct ServiceDependencies {
  platform::FloatingAddress& floating;
  platform::Fencer& fencer;
  std::function<platform::Status(uint64_t)> persist_epoch;
  ipc::StatusBoardWriter& board;
  ipc::StatusSnapshot board_template;  // the static fields (ids, addresses, versions)
  // Carrier of an interface (platform::linkHasCarrier); empty: always true.
  std::function<bool(const std::string&)> has_carrier;
};

class HeartbeatService {
 public:
  HeartbeatService(ServiceOptions options, ServiceDependencies deps);
  ~HeartbeatService();
  HeartbeatService(const HeartbeatService&) = delete;
  HeartbeatService& operator=(const HeartbeatService&) = delete;

  // Before start(): this SP's history as the store holds it, carried from the first beat.
  void setInitialHistory(const History& history);
  void start();
  // Stops the thread; the caller releases the address afterwards if it wants to.
  void stop();
  void setHealth(Health health);
  // The faults behind the health, for the status board (worst first).
  void setFaults(std::vector<ipc::SnapshotFault> faults);
  // Hands the active role to the peer after `drain`; empty when accepted, else why it was
  // refused.
  std::string forceFailover(Millis drain = Millis{250});
  // Why a voluntary hand-over would lose acknowledged changes now (the peer is alive but does
  // not hold this SP's whole history yet); empty otherwise.
  std::string handOverGap();
  Role role() const { return role_.load(); }
  uint64_t epoch() const { return epoch_.load(); }
  // This SP's acknowledged history: written to the midplane at once (before the caller
  // acknowledges anything that depends on it), then carried in every beat. Any thread.
  void setHistory(const History& history);
  // How far the peer's acknowledged history reaches as this SP knows it: the midplane's
  // copy (readable even after the peer's death), else its last beat. Any thread.
  std::optional<History> peerHistory() const;
  // This SP can write its history area of the midplane (true when there is no midplane).
  bool historyPublishable() const;
  // The peer's history area can be read (neither side of the midplane cut; true without one).
  bool peerHistoryReadable() const;
  bool canServe() const { return can_serve_.load(); }
  // Shown on the status board: the route the peer link takes now.
  void setPeerLinkRoute(const std::string& route);

 private:
  void run();
  void onBeat(Path path, const Beat& beat);
  void onUdpBeat(Path path, const proto::Heartbeat& frame);
  // Reads the peer's midplane slot (and whether the midplane is readable) for the election.
  void pollMidplane();
  void noteMidplaneGap(bool readable, TimePoint now);
  // Own beat on every path now (after a role change).
  void beatNow();
  void execute(const Actions& actions);
  // Hands the active role over after `delay` (ForceFailover); a peer whose beats lag behind
  // this SP's history is looked at again every 20 ms, `gap_retries` times.
  void releaseAfter(Millis delay, int gap_retries);
  static constexpr int kHandOverGapRetries = 25;
  void addAddress();
  void announce(int remaining);
  void fence();
  void queryPeerPower();
  void pollCarrier();
  void publish();
  std::string frame();
  Beat stamped(Beat beat) const;
  void every(asio::steady_timer& timer, Millis period, std::function<void()> work);
  // Runs `f` on the heartbeat thread and returns its result (`fallback` if it does not run
  // within 2 s).
  std::string onThread(std::function<std::string()> f, const std::string& fallback);

  ServiceOptions options_;
  ServiceDependencies deps_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  Election election_;
  uint64_t boot_nonce_;
  std::unique_ptr<UdpPath> peer_path_;
  std::unique_ptr<UdpPath> mgmt_path_;
  std::unique_ptr<platform::MidplaneSegment> segment_;
  std::unique_ptr<MidplanePath> midplane_path_;
  asio::steady_timer peer_timer_;
  asio::steady_timer mgmt_timer_;
  asio::steady_timer midplane_timer_;
  asio::steady_timer tick_timer_;
  asio::steady_timer reconcile_timer_;
  asio::steady_timer publish_timer_;
  asio::steady_timer garp_timer_;
  asio::steady_timer failover_timer_;
  asio::steady_timer carrier_timer_;
  asio::steady_timer garp_refresh_timer_;
  std::thread thread_;
  std::thread fence_thread_;
  std::thread power_thread_;
  bool power_query_in_flight_ = false;
  bool power_query_again_ = false;
  std::atomic<Role> role_{Role::Starting};
  std::atomic<uint64_t> epoch_{0};
  uint64_t seq_ = 0;
  bool holds_ = false;
  std::string peer_boot_id_;
  std::vector<ipc::SnapshotFault> faults_;
  std::atomic<bool> can_serve_{true};
  std::optional<bool> carrier_;          // last read
  mutable std::mutex history_mu_;        // the midplane history area and peer_history_
  std::optional<History> peer_history_;  // from the peer's last beat
  std::string peer_link_route_;
  std::optional<TimePoint> last_midplane_beat_;
  std::chrono::microseconds longest_midplane_gap_{0};
};

}  // namespace dualsp::heartbeat
