#include "heartbeat/midplane_path.hpp"

#include <cstring>

#include "ipc/frame_codec.hpp"
#include "platform/log.hpp"

namespace dualsp::heartbeat {
namespace {

void put64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

std::array<uint8_t, 32> midplaneMac(const std::string& key, SpId writer,
                                    const platform::MidplaneBeat& b) {
  // The writer's side is part of the input: SP-A's slot copied into SP-B's does not verify.
  std::string input = "dualsp-midplane-slot-v2";
  input.push_back(writer == SpId::A ? 'A' : 'B');
  for (uint64_t v :
       {b.beat_seq, b.epoch, static_cast<uint64_t>(b.role), static_cast<uint64_t>(b.health), b.boot,
        b.sent_us, static_cast<uint64_t>(b.yielding), static_cast<uint64_t>(b.no_carrier),
        b.heard_boot, b.boot_counter})
    put64(input, v);
  const std::string mac = ipc::hmacSha256(key, input);
  std::array<uint8_t, 32> out{};
  std::memcpy(out.data(), mac.data(), std::min(out.size(), mac.size()));
  return out;
}

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
  b.boot_counter = beat.boot_counter;
  if (!key_.empty()) b.mac = midplaneMac(key_, beat.sp, b);
  segment_.write(b);
}

bool MidplanePath::authentic(SpId writer, const platform::MidplaneBeat& b) {
  if (key_.empty()) return true;
  const auto want = midplaneMac(key_, writer, b);
  if (ipc::macEquals(std::string_view(reinterpret_cast<const char*>(want.data()), want.size()),
                     std::string_view(reinterpret_cast<const char*>(b.mac.data()), b.mac.size())))
    return true;
  if (bad_mac_++ % 1000 == 0)
    LOG_WARNING << "heartbeat midplane: refused " << spName(writer)
                << "'s slot: bad or missing HMAC (" << bad_mac_ << " so far)";
  return false;
}

std::optional<platform::MidplaneBeat> MidplanePath::readPeer(SpId peer) {
  auto b = segment_.readPeer();
  if (!b || !authentic(peer, *b)) return std::nullopt;
  return b;
}

std::optional<Beat> MidplanePath::poll(SpId peer) {
  auto b = segment_.readPeer();
  if (!b || b->beat_seq == last_peer_seq_) return std::nullopt;
  last_peer_seq_ = b->beat_seq;
  // A forged slot is not a heartbeat, and its sequence does not prime the path either.
  if (!authentic(peer, *b)) return std::nullopt;
  bool first = !primed_;
  primed_ = true;
  if (first) return std::nullopt;  // a slot left by a dead peer is not a heartbeat
  Beat beat{peer, b->role, b->health, b->epoch, b->boot, b->sent_us};
  beat.yielding = b->yielding;
  beat.can_serve = !b->no_carrier;
  beat.heard_boot = b->heard_boot;
  beat.boot_counter = b->boot_counter;
  // The history lives beside the slot (written when it changes, not with every beat).
  if (auto h = segment_.readPeerHistory()) beat.history = *h;
  return beat;
}

}  // namespace dualsp::heartbeat
