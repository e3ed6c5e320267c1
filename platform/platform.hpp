#pragma once
// The hardware as DualSP sees it. Logic above this layer talks only to these interfaces;
// linux/ implements them on a real board, sim/ and loopback/ under the two-SP harness.

#include <chrono>
#include <memory>
#include <string>

#include "platform/sp_types.hpp"

namespace dualsp::platform {

struct Status {
  bool ok = true;
  std::string error;  // empty when ok
  int sys_errno = 0;  // the errno of the failed system call, 0 when none (a logic refusal)
  static Status success() { return {}; }
  static Status failure(std::string why) { return {false, std::move(why)}; }
  static Status failure(std::string why, int err) { return {false, std::move(why), err}; }
};

// The array's management address, held only by the active SP.
class FloatingAddress {
 public:
  virtual ~FloatingAddress() = default;
  virtual Status add() = 0;
  virtual Status remove() = 0;
  // Whether this SP holds the address right now (read from the system, not remembered).
  virtual bool held() = 0;
  // One round of gratuitous ARP so clients and switches learn the new holder's MAC.
  virtual Status announce() = 0;
  virtual std::string describe() const = 0;  // "198.18.0.10/24 on mgmt0"
};

// Powers the peer SP off (STONITH) before this SP takes the floating IP over.
// Blocking; called off the heartbeat thread. ok means the peer is certainly off.
class Fencer {
 public:
  virtual ~Fencer() = default;
  virtual Status fencePeer(std::chrono::milliseconds timeout) = 0;
  // What the chassis says of the peer's power: off, running, stopped (hung), or Unknown when
  // this platform cannot tell. Blocking, bounded by `timeout`; called off the heartbeat thread.
  virtual PowerState peerPower(std::chrono::milliseconds /*timeout*/) {
    return PowerState::Unknown;
  }
  virtual std::string describe() const = 0;
};

// Gives the calling thread real-time priority (SCHED_FIFO) when the system allows it.
Status makeRealtime(int priority);

}  // namespace dualsp::platform
