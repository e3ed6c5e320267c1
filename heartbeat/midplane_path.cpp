#include "heartbeat/midplane_path.hpp"

namespace dualsp::heartbeat {

void MidplanePath::write(const Beat& beat) {
  platform::MidplaneBeat b;
  b.beat_seq = ++my_seq_;
  b.epoch = beat.epoch;
  b.role = beat.role;
  b.health = beat.health;
  b.boot = beat.boot;
  b.sent_us = beat.sent_us;
  b.yielding = beat.yielding;
  b.no_carrier = !beat.can_serve;
  b.heard_boot = beat.heard_boot;
  segment_.write(b);
}

std::optional<Beat> MidplanePath::poll(SpId peer) {
  auto b = segment_.readPeer();
  if (!b || b->beat_seq == last_peer_seq_) return std::nullopt;
  bool first = !primed_;
  primed_ = true;
  last_peer_seq_ = b->beat_seq;
  if (first) return std::nullopt;  // a slot left by a dead peer is not a heartbeat
  Beat beat{peer, b->role, b->health, b->epoch, b->boot, b->sent_us};
  beat.yielding = b->yielding;
  beat.can_serve = !b->no_carrier;
  beat.heard_boot = b->heard_boot;
  // The history lives beside the slot (written when it changes, not with every beat).
  if (auto h = segment_.readPeerHistory()) beat.history = *h;
  return beat;
}

}  // namespace dualsp::heartbeat
