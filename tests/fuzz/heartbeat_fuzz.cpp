// libFuzzer target for the heartbeat: what a UDP datagram and a midplane slot go through before
// the election hears them (heartbeat/heartbeat_frame.hpp, heartbeat/midplane_path.hpp,
// platform/midplane_segment.hpp), and the election itself (heartbeat/election.hpp,
// docs/ELECTION.md) driven by hostile beats.
//
// Input: byte 0 picks the mode (byte 0 % 8), the rest is
//   0 UDP raw: a datagram, decoded with the pair key and without one. Whatever decodes is
//     stable (parse, serialize, parse), and what the election hears of it has a known role,
//     health and SP, another SP than this one, this array's id, and every field as sent.
//   1 UDP structured: [u8 flags][i8 role][i8 health][u8 sp][u8 epoch][u8 seq][u8 sent]
//     [u8 boot counter][u8 history][bytes appended to the serialized frame...]. This target
//     builds and signs the frame, so mutations reach behind the MAC. Signed with the key and
//     untouched, it decodes to exactly what was sent; a flipped byte, a cut, another key or
//     no MAC is refused as BadMac, never parsed.
//   2 midplane raw: records [u16 BE offset][u8 length][bytes] poked into the 4 KiB window
//     (SP-B's slot, its auth area and history, the cut words...); SP-A reads the peer's slot
//     three times. Nothing that fails the MAC is heard; whatever is read has a known role
//     and health.
//   3 midplane structured: records [u8 flags][u8 role][u8 health][u8 epoch][u8 sent]
//     [u8 boot counter][u8 corruption offset]: SP-B's MidplanePath writes each beat, the
//     record may corrupt one byte of SP-B's slot or auth area, copy SP-A's slot over it, sign
//     with another key or cut a side; SP-A polls. A beat heard is exactly the beat written
//     (the history beside the slot is not signed: docs/SECURITY.md, left out); a corrupted
//     signed field or a copied slot is never heard.
//   4-7 election: [config 4 bytes] then events (see Sim::step): beats of the peer on any
//     path (fresh ones with fuzzer-chosen roles, health, epochs, boots, boot counters, send
//     times and flags; replays of beats sent earlier, on any path; beats of an older boot;
//     a reboot of the peer), time steps with a tick, fence results and chassis answers (only
//     to questions asked), health, carrier, history, midplane readability, ForceFailover.
//     Checked after every event:
//       - the epoch never decreases and is always the last one persisted (PersistEpoch);
//       - the address actions alternate (no add while held, no release while not), the
//         address is held exactly while the role is active, an SP never declares a role other
//         than active while it still holds the address, and takes it before it says active;
//       - every takeover (AddAddress) persists a new epoch first, higher than the previous
//         takeover's and than the peer's last accepted beat; it needs carrier, and either a
//         successful fence answered just now, or the peer's last accepted beat saying
//         passive, alive, naming this boot, after the startup wait;
//       - a fence is asked for only when none is under way, the peer is dead to this
//         target's own bookkeeping (every enabled path silent for its dead interval, or the
//         chassis said off or hung since the last beat), with carrier for a takeover fence, and
//         for a peer never heard since start only with startup_fence "always" or the chassis
//         saying off or hung; an active SP fences a silent passive only when the chassis says
//         it hung;
//       - a beat of an older boot counter, a replay on its path (an independent model of the
//         newest (boot, send time) taken per path), a beat claiming to come from this SP or on
//         a disabled path is not acted on: no action but its alerts, role, epoch, peer beat and
//         last heard unchanged;
//       - a beat older than one already taken from the same boot does not change the peer's
//         role as the election sees it;
//       - a claim to a role at an epoch lower than this SP's is refused (seen as starting);
//       - an active SP never keeps the role while an alive peer is active at a newer epoch
//         (or, for SP-B, at the same epoch);
//       - roles move only along starting -> passive <-> taking-over -> active, active ->
//         passive.
// With DUALSP_FUZZ_WRITE_SEEDS=<dir> it writes a small seed corpus there and exits.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/stubs/logging.h>
#include "heartbeat/election.hpp"
#include "heartbeat/heartbeat_frame.hpp"
#include "heartbeat/midplane_path.hpp"
#include "platform/log.hpp"
#include "platform/midplane_segment.hpp"

using namespace dualsp;
using namespace dualsp::heartbeat;

namespace {

#define FUZZ_EXPECT(cond)                                                 \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "heartbeat_fuzz: expectation failed: %s\n", #cond); \
      __builtin_trap();                                                   \
    }                                                                     \
  } while (0)

const std::string kKey = "fuzz-pair-key-0123456789abcdef";
const std::string kOtherKey = "another-pair-key-0123456789abc";
const std::string kArray = "fuzz-array";

struct Reader {
  const uint8_t* p;
  size_t left;
  uint8_t u8() {
    if (left == 0) return 0;
    --left;
    return *p++;
  }
  uint16_t u16() {
    uint16_t hi = u8();
    return static_cast<uint16_t>(hi << 8 | u8());
  }
  std::string rest() {
    std::string s(reinterpret_cast<const char*>(p), left);
    p += left;
    left = 0;
    return s;
  }
};

// ---------------------------------------------------------------- UDP frames

void checkBeatOfFrame(const proto::Heartbeat& f, SpId self) {
  std::optional<Beat> b = beatOfFrame(f, kArray, self);
  const bool known_sp = f.sp() == proto::SP_A || f.sp() == proto::SP_B;
  const bool from_self =
      (self == SpId::A && f.sp() == proto::SP_A) || (self == SpId::B && f.sp() == proto::SP_B);
  const bool known_role = f.role() >= proto::ROLE_STARTING && f.role() <= proto::ROLE_ACTIVE;
  const bool known_health = f.health() >= proto::HEALTH_OK && f.health() <= proto::HEALTH_CRITICAL;
  if (!b) {
    FUZZ_EXPECT(f.array_id() != kArray || !known_sp || from_self || !known_role || !known_health);
    return;
  }
  FUZZ_EXPECT(f.array_id() == kArray);
  FUZZ_EXPECT(known_sp && !from_self && b->sp == peerOf(self));
  FUZZ_EXPECT(known_role && static_cast<int>(b->role) == static_cast<int>(f.role()));
  FUZZ_EXPECT(known_health && static_cast<int>(b->health) == static_cast<int>(f.health()));
  FUZZ_EXPECT(static_cast<uint8_t>(b->role) <= static_cast<uint8_t>(Role::Active));
  FUZZ_EXPECT(static_cast<uint8_t>(b->health) <= static_cast<uint8_t>(Health::Critical));
  FUZZ_EXPECT(b->epoch == f.epoch() && b->sent_us == f.sent_us());
  FUZZ_EXPECT(b->boot == bootNonce(f.boot_id()));
  FUZZ_EXPECT(b->yielding == f.yielding() && b->can_serve == !f.no_carrier());
  FUZZ_EXPECT(b->history.epoch == f.history_epoch() && b->history.seq == f.history_seq() &&
              b->history.last_event_id == f.last_event_id());
  FUZZ_EXPECT(b->heard_boot == f.heard_boot() && b->boot_counter == f.boot_counter());
}

void checkDecoded(const proto::Heartbeat& f) {
  const std::string once = f.SerializeAsString();
  proto::Heartbeat again;
  FUZZ_EXPECT(again.ParseFromString(once));
  FUZZ_EXPECT(again.SerializeAsString() == once);
  checkBeatOfFrame(f, SpId::A);
  checkBeatOfFrame(f, SpId::B);
}

void fuzzUdpRaw(const std::string& datagram) {
  FrameProblem problem = FrameProblem::None;
  std::optional<proto::Heartbeat> signed_frame = decodeHeartbeatFrame(datagram, kKey, problem);
  FUZZ_EXPECT(signed_frame.has_value() == (problem == FrameProblem::None));
  if (datagram.size() < 32) FUZZ_EXPECT(problem == FrameProblem::BadMac);
  if (signed_frame) checkDecoded(*signed_frame);
  std::optional<proto::Heartbeat> plain = decodeHeartbeatFrame(datagram, "", problem);
  FUZZ_EXPECT(problem != FrameProblem::BadMac);
  FUZZ_EXPECT(plain.has_value() == (problem == FrameProblem::None));
  if (plain) checkDecoded(*plain);
}

void fuzzUdpStructured(Reader in) {
  const uint8_t flags = in.u8();
  proto::Heartbeat f;
  f.set_version(1);
  f.set_array_id((flags & 0x80) ? "other-array" : kArray);
  f.set_role(static_cast<proto::Role>(static_cast<int8_t>(in.u8())));
  f.set_health(static_cast<proto::Health>(static_cast<int8_t>(in.u8())));
  f.set_sp(static_cast<proto::SpId>(in.u8() % 4));
  f.set_epoch(in.u8());
  f.set_seq(in.u8());
  f.set_boot_id((flags & 0x40) ? "boot-b-2" : "boot-b-1");
  f.set_sent_us(uint64_t{in.u8()} << 20);
  f.set_yielding(flags & 0x20);
  f.set_no_carrier(flags & 0x10);
  f.set_boot_counter(in.u8());
  const uint8_t h = in.u8();
  f.set_history_epoch(h >> 4);
  f.set_history_seq(h & 15);
  f.set_last_event_id(h);
  f.set_heard_boot(bootNonce("boot-a-1"));
  std::string body = f.SerializeAsString();
  const std::string extra = in.rest();
  const bool appended = (flags & 8) && !extra.empty();
  if (appended) body += extra;  // unknown fields, or garbage behind the message

  std::string datagram;
  switch (flags & 7) {
    case 0:
    case 1:
    case 2:
      datagram = signHeartbeatFrame(body, kKey);
      break;
    case 3:
      datagram = signHeartbeatFrame(body, kOtherKey);
      break;
    case 4:
      datagram = body;  // no MAC at all
      break;
    case 5:
      datagram = signHeartbeatFrame(body, kKey);
      datagram[(extra.size() + h) % datagram.size()] ^= static_cast<char>(1 + (h & 0x7f));
      break;
    case 6:
      datagram = signHeartbeatFrame(body, kKey);
      datagram.resize(datagram.size() - 1 - h % datagram.size());
      break;
    case 7:
      datagram = signHeartbeatFrame(body, kKey) + std::string(1 + h % 4, '\0');
      break;
  }
  FrameProblem problem = FrameProblem::None;
  std::optional<proto::Heartbeat> got = decodeHeartbeatFrame(datagram, kKey, problem);
  const int how = flags & 7;
  if (how <= 2) {
    if (!appended) {
      FUZZ_EXPECT(got.has_value() && problem == FrameProblem::None);
      FUZZ_EXPECT(got->SerializeAsString() == f.SerializeAsString());
    } else {
      FUZZ_EXPECT(problem != FrameProblem::BadMac);
    }
  } else {
    FUZZ_EXPECT(!got.has_value() && problem == FrameProblem::BadMac);
  }
  if (got) checkDecoded(*got);
  fuzzUdpRaw(datagram);
}

// ---------------------------------------------------------------- the midplane

struct Window {
  std::string path;
  uint8_t* bytes = nullptr;
  std::unique_ptr<platform::MidplaneSegment> a;  // SP-A's view (reads B's slot)
  std::unique_ptr<platform::MidplaneSegment> b;
};

Window& window() {
  static Window w = [] {
    Window out;
    out.path = "/dev/shm/dualsp-fuzz-midplane-" + std::to_string(getpid());
    int fd = ::open(out.path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    FUZZ_EXPECT(fd >= 0);
    FUZZ_EXPECT(::ftruncate(fd, platform::MidplaneSegment::kSize) == 0);
    void* p = ::mmap(nullptr, platform::MidplaneSegment::kSize, PROT_READ | PROT_WRITE, MAP_SHARED,
                     fd, 0);
    FUZZ_EXPECT(p != MAP_FAILED);
    ::close(fd);
    out.bytes = static_cast<uint8_t*>(p);
    out.a = std::make_unique<platform::MidplaneSegment>(out.path, SpId::A);
    out.b = std::make_unique<platform::MidplaneSegment>(out.path, SpId::B);
    return out;
  }();
  return w;
}

constexpr size_t kSlotA = 64, kSlotB = 128, kSlotSize = 64;
constexpr size_t kAuthA = platform::MidplaneSegment::kAuthOffset, kAuthB = kAuthA + 64;
constexpr size_t kHistoryB = platform::MidplaneSegment::kHistoryOffset + 32;

void clearWindow(Window& w) {
  std::memset(w.bytes + 16, 0, platform::MidplaneSegment::kSize - 16);  // keep magic, version
}

bool macVerifies(const platform::MidplaneBeat& b, SpId writer) {
  return midplaneMac(kKey, writer, b) == b.mac;
}

void checkSlotRead(const std::optional<platform::MidplaneBeat>& b) {
  if (!b) return;
  FUZZ_EXPECT(static_cast<uint8_t>(b->role) <= static_cast<uint8_t>(Role::Active));
  FUZZ_EXPECT(static_cast<uint8_t>(b->health) <= static_cast<uint8_t>(Health::Critical));
}

void fuzzMidplaneRaw(Reader in) {
  Window& w = window();
  clearWindow(w);
  MidplanePath reader(*w.a, kKey);
  for (int round = 0; round < 3; ++round) {
    for (int records = 0; records < 4 && in.left > 0; ++records) {
      const size_t offset = in.u16() % platform::MidplaneSegment::kSize;
      size_t length = in.u8();
      length = std::min({length, in.left, platform::MidplaneSegment::kSize - offset});
      std::memcpy(w.bytes + offset, in.p, length);
      in.p += length;
      in.left -= length;
    }
    std::optional<platform::MidplaneBeat> raw = w.a->readPeer();
    checkSlotRead(raw);
    std::optional<platform::MidplaneBeat> checked = reader.readPeer(SpId::B);
    checkSlotRead(checked);
    if (checked) FUZZ_EXPECT(macVerifies(*checked, SpId::B));
    std::optional<Beat> heard = reader.poll(SpId::B);
    if (heard) {
      FUZZ_EXPECT(raw && macVerifies(*raw, SpId::B));
      FUZZ_EXPECT(heard->sp == SpId::B && heard->role == raw->role && heard->epoch == raw->epoch);
    }
    w.a->readPeerHistory();
    w.a->powerState(SpId::B);
  }
}

bool sameBeat(const Beat& x, const Beat& y) {
  return x.sp == y.sp && x.role == y.role && x.health == y.health && x.epoch == y.epoch &&
         x.boot == y.boot && x.sent_us == y.sent_us && x.yielding == y.yielding &&
         x.can_serve == y.can_serve && x.history == y.history && x.heard_boot == y.heard_boot &&
         x.boot_counter == y.boot_counter;
}

void fuzzMidplaneStructured(Reader in) {
  Window& w = window();
  clearWindow(w);
  MidplanePath reader(*w.a, kKey);
  MidplanePath writer(*w.b, kKey);
  MidplanePath forger(*w.b, kOtherKey);
  MidplanePath own(*w.a, kKey);  // SP-A's own slot, for the copy attack
  bool primed = false;
  uint64_t last_seq = 0;
  for (int records = 0; records < 32 && in.left > 0; ++records) {
    const uint8_t flags = in.u8();
    Beat b{SpId::B, static_cast<Role>(in.u8() % 5), static_cast<Health>(in.u8() % 4),
           in.u8(), bootNonce("boot-b-1"),          uint64_t{in.u8()} << 16};
    b.boot_counter = in.u8();
    b.yielding = flags & 0x40;
    b.can_serve = !(flags & 0x80);
    b.heard_boot = (flags & 0x20) ? bootNonce("boot-a-1") : 0;
    const uint8_t where = in.u8();
    std::memset(w.bytes + 16, 0, 8);  // both sides connected
    const int how = flags & 7;
    if (how == 5) {
      forger.write(b);
    } else {
      writer.write(b);
    }
    bool corrupt_signed = how == 5;
    switch (how) {
      case 3: {  // one byte of SP-B's slot (not its seqlock) or auth area
        const size_t span = (kSlotSize - 8) + 40;  // slot fields, then boot counter and MAC
        const size_t i = where % span;
        const size_t at = i < kSlotSize - 8 ? kSlotB + 8 + i : kAuthB + (i - (kSlotSize - 8));
        w.bytes[at] ^= static_cast<uint8_t>(1u << (flags >> 3 & 7));
        // The slot's padding (bytes 52-55) is not read; flags bits other than 0 and 1 neither.
        const bool pad = at >= kSlotB + 52 && at < kSlotB + 56;
        const bool spare_flag = at == kSlotB + 48 && (flags >> 3 & 7) >= 2;
        const bool spare_flag_hi = at > kSlotB + 48 && at < kSlotB + 52;
        corrupt_signed = !pad && !spare_flag && !spare_flag_hi;
        break;
      }
      case 4: {  // SP-A's signed slot copied over SP-B's
        Beat mine = b;
        mine.sp = SpId::A;
        own.write(mine);
        std::memcpy(w.bytes + kSlotB, w.bytes + kSlotA, kSlotSize);
        std::memcpy(w.bytes + kAuthB, w.bytes + kAuthA, 64);
        corrupt_signed = true;
        break;
      }
      case 6:  // a side cut
        w.bytes[16 + 4 * (where & 1)] = 1;
        break;
      case 7:  // the history beside the slot, unsigned
        w.bytes[kHistoryB + 8 + where % 24] ^= 0xff;
        break;
      default:
        break;
    }
    const bool cut = how == 6;
    // MidplanePath::poll hears a slot only when its beat sequence changed since the last read
    // (a forged slot may have used the number the writer takes next).
    bool seq_changed = false;
    if (std::optional<platform::MidplaneBeat> raw = w.a->readPeer()) {
      seq_changed = raw->beat_seq != last_seq;
      last_seq = raw->beat_seq;
    }
    std::optional<Beat> heard = reader.poll(SpId::B);
    const bool valid_fields =
        static_cast<uint8_t>(b.role) <= 3 && static_cast<uint8_t>(b.health) <= 2;
    if (heard) {
      FUZZ_EXPECT(!cut && !corrupt_signed && valid_fields);
      Beat expected = b;
      expected.history = heard->history;  // not signed: not compared
      FUZZ_EXPECT(sameBeat(*heard, expected));
    } else if (!cut && !corrupt_signed && valid_fields && primed && seq_changed) {
      FUZZ_EXPECT(false);  // a new, authentic beat must be heard
    }
    if (!cut && !corrupt_signed && valid_fields && seq_changed) primed = true;
    std::optional<platform::MidplaneBeat> left = reader.readPeer(SpId::B);
    if (left) {
      FUZZ_EXPECT(!cut && !corrupt_signed && valid_fields);
      FUZZ_EXPECT(left->epoch == b.epoch && left->boot_counter == b.boot_counter &&
                  left->role == b.role);
    }
  }
}

// ---------------------------------------------------------------- the election

// DUALSP_FUZZ_TRACE=1 prints every event and the actions it led to (to minimise a finding).
bool tracing() {
  static const bool on = getenv("DUALSP_FUZZ_TRACE") != nullptr;
  return on;
}

const uint64_t kOwnBoot = bootNonce("boot-a-1");
const uint64_t kOtherOwnBoot = bootNonce("boot-a-0");  // this SP's previous boot

bool claims(Role r) {
  return r == Role::Active || r == Role::TakingOver;
}

struct Sent {
  Path path;
  Beat beat;
};

class Sim {
 public:
  Sim(const ElectionConfig& config, uint64_t persisted, Health health)
      : config_(config),
        started_(TimePoint{} + std::chrono::hours(1)),
        now_(started_),
        e_(config, persisted, health, started_),
        persisted_(persisted),
        last_epoch_(persisted) {
    peer_boot_ = bootNonce("boot-b-1");
    peer_boot_counter_ = 5;
  }

  Election& election() { return e_; }

  void start(uint8_t hint, uint8_t noted_boot) {
    if (hint) apply(e_.onEpochHint(hint, now_), Event::Other);
    if (noted_boot) {
      e_.notePeerBoot(noted_boot % 8);
      FUZZ_EXPECT(e_.peerBootCounter() >= noted_boot % 8);
    }
  }

  // One event from the input.
  void step(Reader& in) {
    const uint8_t op = in.u8();
    if (tracing()) {
      static const char* const kOps[] = {
          "beat",           "beat",   "beat",    "beat",    "beat",
          "replay",         "tick",   "tick",    "tick",    "fence result",
          "chassis answer", "health", "carrier", "history", "midplane readable/ForceFailover",
          "peer restart"};
      fprintf(stderr, "-- %s (arg %d)\n", kOps[op % 16], in.left ? *in.p : -1);
    }
    switch (op % 16) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
        freshBeat(in, op);
        break;
      case 5:
        replay(in);
        break;
      case 6:
      case 7:
      case 8: {
        const uint8_t b = in.u8();
        now_ += b < 200 ? Millis{b % 25} : Millis{(b - 200) * 20};
        apply(e_.onTick(now_), Event::Tick);
        break;
      }
      case 9: {
        const uint8_t b = in.u8();
        if (fence_pending_) {
          fence_pending_ = false;
          const bool ok = b & 1;
          if (ok) {
            power_ = PowerState::Off;
            power_at_ = now_;
          } else {
            power_at_.reset();
          }
          apply(e_.onFenceResult(ok, ok ? "powered off" : "fuzz: no answer", now_),
                ok ? Event::FenceOk : Event::FenceFail);
        }
        break;
      }
      case 10: {
        const uint8_t b = in.u8();
        if (power_pending_) {
          power_pending_ = false;
          power_ = static_cast<PowerState>(b % 4);
          power_at_ = now_;
          apply(e_.onPeerPower(power_, now_), Event::Other);
        }
        break;
      }
      case 11:
        apply(e_.onHealth(static_cast<Health>(in.u8() % 3), now_), Event::Other);
        break;
      case 12:
        apply(e_.onCarrier(in.u8() & 1, now_), Event::Other);
        break;
      case 13: {
        const uint8_t b = in.u8();
        apply(e_.onHistory(History{uint64_t{b} >> 4, b & 15u, b}, now_), Event::Other);
        break;
      }
      case 14: {
        const uint8_t b = in.u8();
        e_.setMidplaneReadable(b & 1, now_);
        if (b & 2) {
          std::string refusal;
          Actions acts = e_.onForceFailover(now_, refusal);
          FUZZ_EXPECT(acts.empty() != refusal.empty());
          apply(acts, Event::Other);
        }
        break;
      }
      case 15: {  // the peer restarts: a new boot, a higher boot counter, its clock anew
        const uint8_t b = in.u8();
        old_boot_ = peer_boot_;
        old_boot_counter_ = peer_boot_counter_;
        peer_boot_ = bootNonce("boot-b-" + std::to_string(++reboots_ + 1));
        peer_boot_counter_ += 1 + (b & 3);
        peer_clock_us_ = 1000 + b;
        break;
      }
    }
  }

 private:
  enum class Event { Beat, Tick, FenceOk, FenceFail, Other };

  void freshBeat(Reader& in, uint8_t op) {
    const uint8_t a = in.u8();
    const uint8_t epoch = in.u8();
    const uint8_t flags = in.u8();
    const uint8_t misc = in.u8();
    Path path = static_cast<Path>(a % 3);
    Beat b;
    b.sp = (a & 3) == 3 ? config_.self : peerOf(config_.self);  // 3: a beat claiming to be ours
    b.role = static_cast<Role>(a >> 2 & 3);
    b.health = static_cast<Health>((a >> 4 & 3) % 3);
    b.yielding = a & 0x40;
    b.can_serve = !(a & 0x80);
    if (epoch < 0x80) {
      const int64_t e = static_cast<int64_t>(e_.epoch()) + (epoch % 8) - 3;
      b.epoch = e < 0 ? 0 : static_cast<uint64_t>(e);
    } else if (epoch < 0xf0) {
      b.epoch = epoch & 0x3f;
    } else {
      // Around the largest epoch adopted (kMaxEpoch: above it a beat is refused, else the
      // next takeover's epoch could wrap: ElectionEpochLimit in election_test.cpp), and 2^64-1.
      b.epoch = epoch == 0xff ? UINT64_MAX : kMaxEpoch + 8 - (epoch & 0xf);
    }
    switch (flags & 3) {
      case 0:
      case 1:
        b.boot = peer_boot_;
        b.boot_counter = peer_boot_counter_;
        break;
      case 2:  // a beat of the peer's previous boot (a replay of a captured frame)
        b.boot = old_boot_;
        b.boot_counter = old_boot_counter_;
        break;
      case 3:  // firmware without boot counter or nonce
        b.boot = 0;
        b.boot_counter = (flags & 4) ? peer_boot_counter_ : 0;
        break;
    }
    switch (flags >> 3 & 3) {
      case 0:
      case 1:
        peer_clock_us_ += 1 + misc * 97u;
        b.sent_us = peer_clock_us_;
        break;
      case 2:  // older than the newest sent
        b.sent_us = peer_clock_us_ > misc ? peer_clock_us_ - misc : 1;
        break;
      case 3:
        b.sent_us = 0;  // unknown
        break;
    }
    switch (flags >> 5 & 3) {
      case 0:
      case 1:
        b.heard_boot = kOwnBoot;
        break;
      case 2:
        b.heard_boot = 0;
        break;
      case 3:
        b.heard_boot = kOtherOwnBoot;
        break;
    }
    b.history = History{uint64_t{misc} >> 5, misc & 7u, misc};
    if (op & 0x80) {  // the same beat on every path, as the peer sends it
      for (Path p : {Path::Peer, Path::Mgmt, Path::Midplane}) deliver(p, b);
    } else {
      deliver(path, b);
    }
  }

  void replay(Reader& in) {
    if (sent_.empty()) return;
    const uint8_t i = in.u8();
    const uint8_t p = in.u8();
    Sent s = sent_[i % sent_.size()];
    deliver((p & 4) ? static_cast<Path>(p % 3) : s.path, s.beat);
  }

  void deliver(Path path, const Beat& b) {
    if (sent_.size() < 64) sent_.push_back({path, b});
    const size_t pi = static_cast<size_t>(path);
    const bool ignored = b.sp == config_.self || !config_.paths[pi].enabled;
    const bool old_boot = !ignored && b.boot_counter < e_.peerBootCounter();
    // An epoch no takeover can pass is refused before the boot counter moves (kMaxEpoch).
    const bool out_of_range = !ignored && !old_boot && b.epoch > kMaxEpoch;
    const auto& seen = seen_[pi];
    const bool replayed = !ignored && !old_boot && !out_of_range && b.sent_us != 0 && seen &&
                          seen->first == b.boot && b.sent_us <= seen->second;
    const std::optional<Beat> peer_before = e_.lastPeerBeat();
    const std::optional<TimePoint> heard_before = e_.lastHeard();
    const Role role_before = e_.role();
    const uint64_t epoch_before = e_.epoch();
    const uint64_t boot_counter_before = e_.peerBootCounter();
    const uint64_t old_before = e_.oldBootBeats(), replayed_before = e_.replayedBeats();
    const uint64_t outdated_before = e_.outdatedBeats();
    const uint64_t out_of_range_before = e_.epochOutOfRangeBeats();

    Actions acts = e_.onBeat(path, b, now_);
    if (tracing())
      fprintf(stderr, "t=%lld beat on %s: %s %s epoch %llu boot %llx/%llu sent %llu heard %s%s%s\n",
              ms(), std::string(pathName(path)).c_str(), std::string(spName(b.sp)).c_str(),
              std::string(roleName(b.role)).c_str(), (unsigned long long)b.epoch,
              (unsigned long long)(b.boot & 0xffff), (unsigned long long)b.boot_counter,
              (unsigned long long)b.sent_us, b.heard_boot == kOwnBoot ? "us" : "-",
              b.can_serve ? "" : " no-carrier", b.yielding ? " yielding" : "");

    FUZZ_EXPECT(e_.epochOutOfRangeBeats() == out_of_range_before + (out_of_range ? 1 : 0));
    if (ignored || old_boot || replayed || out_of_range) {
      // Not acted on: only its alerts (and this SP's own stall, noticed on any event).
      for (const Action& a : acts) {
        FUZZ_EXPECT(a.kind == Action::Kind::RaiseAlert);
        FUZZ_EXPECT(a.alert == Alert::OldBootRefused || a.alert == Alert::Stalled ||
                    a.alert == Alert::EpochOutOfRange);
      }
      if (ignored) FUZZ_EXPECT(acts.empty());
      FUZZ_EXPECT(e_.role() == role_before && e_.epoch() == epoch_before);
      FUZZ_EXPECT(peer_before.has_value() == e_.lastPeerBeat().has_value());
      if (peer_before) FUZZ_EXPECT(sameBeat(*peer_before, *e_.lastPeerBeat()));
      FUZZ_EXPECT(heard_before == e_.lastHeard());
      // A replay still names a boot the peer reached (its MAC is valid): the newest boot heard
      // may move up to it, never down.
      FUZZ_EXPECT(e_.peerBootCounter() ==
                  (replayed ? std::max(boot_counter_before, b.boot_counter) : boot_counter_before));
      FUZZ_EXPECT(e_.oldBootBeats() == old_before + (old_boot ? 1 : 0));
      FUZZ_EXPECT(e_.replayedBeats() == replayed_before + (replayed ? 1 : 0));
      apply(acts, Event::Other);
      return;
    }
    FUZZ_EXPECT(e_.oldBootBeats() == old_before && e_.replayedBeats() == replayed_before);
    FUZZ_EXPECT(e_.peerBootCounter() == b.boot_counter);
    if (b.sent_us != 0) seen_[pi] = std::make_pair(b.boot, b.sent_us);
    heard_[pi] = now_;
    last_beat_at_ = now_;
    if (b.heard_boot == kOwnBoot) mutual_ = true;

    const bool outdated = peer_before && b.sent_us != 0 && b.boot == peer_before->boot &&
                          b.sent_us < peer_before->sent_us;
    FUZZ_EXPECT(e_.outdatedBeats() == outdated_before + (outdated ? 1 : 0));
    if (outdated) {
      // Alive, but it cannot roll the peer's role back.
      FUZZ_EXPECT(sameBeat(*peer_before, *e_.lastPeerBeat()));
    } else {
      std::optional<Beat> now_peer = e_.lastPeerBeat();
      FUZZ_EXPECT(now_peer.has_value());
      if (claims(b.role) && b.epoch < epoch_before) {
        FUZZ_EXPECT(now_peer->role == Role::Starting);  // the stale claim refused
      } else {
        FUZZ_EXPECT(now_peer->role == b.role);
      }
      FUZZ_EXPECT(now_peer->epoch == b.epoch && now_peer->boot_counter == b.boot_counter);
    }
    apply(acts, Event::Beat);
  }

  // Is the peer dead by this target's own bookkeeping: every enabled path silent for its
  // dead interval, or the chassis said off or hung since it was last heard.
  bool deadByModel() const {
    bool silent = true;
    for (size_t i = 0; i < kPathCount; ++i) {
      if (!config_.paths[i].enabled || !heard_[i]) continue;
      if (now_ - *heard_[i] <= config_.paths[i].dead) silent = false;
    }
    const bool chassis = power_at_ && (!last_beat_at_ || *power_at_ >= *last_beat_at_) &&
                         (power_ == PowerState::Off || power_ == PowerState::Stopped);
    return silent || chassis;
  }

  long long ms() const {
    return static_cast<long long>(std::chrono::duration_cast<Millis>(now_ - started_).count());
  }

  void apply(const Actions& acts, Event event) {
    if (tracing()) {
      static const char* const kEvents[] = {"beat", "tick", "fence ok", "fence failed", "other"};
      fprintf(stderr, "t=%lld %s -> role %s epoch %llu:", ms(), kEvents[static_cast<int>(event)],
              std::string(roleName(e_.role())).c_str(), (unsigned long long)e_.epoch());
      for (const Action& a : acts) fprintf(stderr, " %s;", describe(a).c_str());
      fprintf(stderr, "\n");
    }
    const Role role_before = role_;
    bool persisted_here = false;
    for (const Action& a : acts) {
      switch (a.kind) {
        case Action::Kind::SetRole:
          FUZZ_EXPECT(a.role != role_);
          // starting -> passive | active; passive -> taking-over | active; taking-over ->
          // passive | active; active -> passive.
          FUZZ_EXPECT(a.role != Role::Starting);
          if (a.role == Role::TakingOver) FUZZ_EXPECT(role_ == Role::Passive);
          if (a.role == Role::Active) FUZZ_EXPECT(held_);   // the address first, then the role
          if (a.role != Role::Active) FUZZ_EXPECT(!held_);  // released before it says so
          role_ = a.role;
          break;
        case Action::Kind::PersistEpoch:
          FUZZ_EXPECT(a.epoch > persisted_);
          persisted_ = a.epoch;
          persisted_here = true;
          break;
        case Action::Kind::AddAddress: {
          FUZZ_EXPECT(!held_);
          held_ = true;
          // A new epoch, persisted first, above the last takeover's and the peer's.
          FUZZ_EXPECT(persisted_here && persisted_ == e_.epoch());
          FUZZ_EXPECT(e_.epoch() > last_takeover_epoch_);
          last_takeover_epoch_ = e_.epoch();
          std::optional<Beat> peer = e_.lastPeerBeat();
          if (peer) FUZZ_EXPECT(e_.epoch() > peer->epoch);
          FUZZ_EXPECT(e_.canServe());
          if (event != Event::FenceOk) {
            // Taken from a live peer only when it agreed: passive, hearing this boot, after the
            // startup wait.
            FUZZ_EXPECT(peer && peer->role == Role::Passive && e_.peerAlive(now_));
            FUZZ_EXPECT(peer->heard_boot == kOwnBoot);
            // From starting, only after the startup wait (a passive SP needs the beat naming
            // this boot only).
            if (role_before == Role::Starting) FUZZ_EXPECT(now_ - started_ >= config_.startup_wait);
          }
          break;
        }
        case Action::Kind::RemoveAddress:
          FUZZ_EXPECT(held_);
          held_ = false;
          break;
        case Action::Kind::FencePeer:
          FUZZ_EXPECT(!fence_pending_);
          fence_pending_ = true;
          FUZZ_EXPECT(!e_.peerAlive(now_));
          FUZZ_EXPECT(deadByModel());
          if (role_ == Role::Active) {
            // A hung passive: only on the chassis's word, fresh.
            FUZZ_EXPECT(power_ == PowerState::Stopped && power_at_ &&
                        now_ - *power_at_ <= config_.power_query_interval);
          } else {
            FUZZ_EXPECT(e_.canServe());
            if (!mutual_ && !config_.startup_fence_always)
              FUZZ_EXPECT(power_at_ &&
                          (power_ == PowerState::Off || power_ == PowerState::Stopped));
          }
          break;
        case Action::Kind::QueryPeerPower:
          power_pending_ = true;
          break;
        case Action::Kind::RaiseAlert:
          break;
      }
    }
    // The state after the event.
    FUZZ_EXPECT(role_ == e_.role());
    FUZZ_EXPECT(held_ == (e_.role() == Role::Active));
    FUZZ_EXPECT(e_.epoch() >= last_epoch_);
    last_epoch_ = e_.epoch();
    FUZZ_EXPECT(e_.epoch() == persisted_);  // the epoch acted on is always durable
    FUZZ_EXPECT(e_.fenceInFlight() == fence_pending_);
    // Active, with the peer last seen active at a newer epoch: never (it steps down on that
    // beat, and a later takeover passes the peer's epoch). At the same epoch only SP-A keeps
    // the role while the peer is alive.
    if (e_.role() == Role::Active) {
      std::optional<Beat> peer = e_.lastPeerBeat();
      if (peer && peer->role == Role::Active) {
        FUZZ_EXPECT(peer->epoch <= e_.epoch());
        if (peer->epoch == e_.epoch() && e_.peerAlive(now_)) FUZZ_EXPECT(config_.self == SpId::A);
      }
    }
  }

  ElectionConfig config_;
  TimePoint started_;
  TimePoint now_;
  Election e_;
  uint64_t persisted_;
  uint64_t last_epoch_;
  uint64_t last_takeover_epoch_ = 0;
  Role role_ = Role::Starting;
  bool held_ = false;
  bool fence_pending_ = false;
  bool power_pending_ = false;
  PowerState power_ = PowerState::Unknown;
  std::optional<TimePoint> power_at_;
  std::optional<TimePoint> last_beat_at_;
  std::array<std::optional<TimePoint>, kPathCount> heard_{};
  std::array<std::optional<std::pair<uint64_t, uint64_t>>, kPathCount> seen_{};
  bool mutual_ = false;
  uint64_t peer_boot_ = 0;
  uint64_t peer_boot_counter_ = 0;
  uint64_t old_boot_ = bootNonce("boot-b-0");
  uint64_t old_boot_counter_ = 4;
  uint64_t peer_clock_us_ = 1000;
  int reboots_ = 0;
  std::vector<Sent> sent_;
};

void fuzzElection(Reader in) {
  const uint8_t c0 = in.u8();
  const uint8_t persisted = in.u8();
  const uint8_t hint = in.u8();
  const uint8_t noted = in.u8();
  ElectionConfig config;
  config.self = (c0 & 1) ? SpId::B : SpId::A;
  for (auto& p : config.paths) p = PathTiming{true, Millis{50}};
  if (c0 & 0x08) config.paths[static_cast<size_t>(Path::Mgmt)].enabled = false;
  if ((c0 & 0x30) == 0x30) config.paths[static_cast<size_t>(Path::Midplane)].enabled = false;
  config.startup_fence_always = c0 & 2;
  config.stall_threshold = (c0 & 4) ? Millis{40} : Millis{0};
  config.fence_delay = (c0 & 0x40) || config.self == SpId::B ? Millis{200} : Millis{0};
  config.midplane_suspect =
      config.paths[static_cast<size_t>(Path::Midplane)].enabled && !(c0 & 0x80) ? Millis{12}
                                                                                : Millis{0};
  config.own_boot = kOwnBoot;
  Sim sim(config, persisted % 16, static_cast<Health>((persisted >> 4) % 3));
  sim.start(hint % 32, noted);
  for (int events = 0; events < 400 && in.left > 0; ++events) sim.step(in);
}

// ---------------------------------------------------------------- seeds

struct SeedWriter {
  std::string s;
  SeedWriter& b(uint8_t v) {
    s += static_cast<char>(v);
    return *this;
  }
  // A fresh beat: role, health, epoch byte (3: this SP's epoch, 4: one more), flags, misc.
  SeedWriter& beat(Path path, Role role, uint8_t epoch = 3, uint8_t flags = 0, bool all = false,
                   Health health = Health::Ok) {
    b(all ? 0x80 : 0)
        .b(static_cast<uint8_t>(static_cast<uint8_t>(path) | static_cast<uint8_t>(role) << 2 |
                                static_cast<uint8_t>(health) << 4))
        .b(epoch)
        .b(flags)
        .b(0);  // history 0.0: no newer than this SP's
    return *this;
  }
  SeedWriter& tick(uint8_t ms) { return b(6).b(ms); }
  SeedWriter& fence(bool ok) { return b(9).b(ok); }
  SeedWriter& power(PowerState p) { return b(10).b(static_cast<uint8_t>(p)); }
};

void writeSeeds(const std::string& dir) {
  std::vector<std::string> seeds;
  // UDP raw: a signed frame as spd sends it.
  {
    proto::Heartbeat f;
    f.set_version(1);
    f.set_array_id(kArray);
    f.set_sp(proto::SP_B);
    f.set_role(proto::ROLE_ACTIVE);
    f.set_epoch(7);
    f.set_seq(42);
    f.set_boot_id("boot-b-1");
    f.set_sent_us(123456);
    f.set_heard_boot(kOwnBoot);
    f.set_boot_counter(5);
    seeds.push_back(std::string(1, '\0') + signHeartbeatFrame(f.SerializeAsString(), kKey));
    seeds.push_back(std::string(1, '\0') + f.SerializeAsString());
  }
  // UDP structured: clean, flipped, other key, appended fields.
  for (uint8_t flags : {0x00, 0x05, 0x03, 0x08, 0x46})
    seeds.push_back(std::string("\x01", 1) + static_cast<char>(flags) +
                    std::string("\x01\x00\x02\x07\x2a\x10\x05\x21", 8) +
                    std::string("\x78\x01", 2));
  // Midplane raw: a cut word, an odd seqlock, a role out of range.
  seeds.push_back(std::string("\x02", 1) + std::string("\x00\x10\x04\x01\x00\x00\x00", 7) +
                  std::string("\x00\x80\x01\x01", 4) + std::string("\x00\x98\x01\x09", 4));
  // Midplane structured: beats, a corrupted one, a copied slot, a cut, a forged one.
  {
    std::string s("\x03", 1);
    for (uint8_t how : {0, 0, 3, 0, 4, 0, 6, 0, 5, 0, 7, 0})
      s += std::string(1, static_cast<char>(how | 0x20)) + "\x01\x00\x07\x10\x05" +
           static_cast<char>(how * 11);
    seeds.push_back(s);
  }
  // Election: a normal start next to a passive peer that hears us (this SP takes the role).
  {
    SeedWriter w;
    w.b(4).b(0x00).b(2).b(0).b(0);
    for (int i = 0; i < 40; ++i) w.beat(Path::Peer, Role::Passive, 3, 0, true).tick(10);
    seeds.push_back(w.s);
  }
  // The peer active, then silent everywhere: fence, then takeover.
  {
    SeedWriter w;
    w.b(5).b(0x00).b(3).b(0).b(0);
    for (int i = 0; i < 10; ++i) w.beat(Path::Peer, Role::Active, 4, 0, true).tick(10);
    for (int i = 0; i < 8; ++i) w.tick(20);
    w.power(PowerState::Stopped).tick(2).fence(true).tick(2);
    w.beat(Path::Mgmt, Role::Active, 3, 0).tick(2);  // a late beat of the fenced peer
    seeds.push_back(w.s);
  }
  // Active here; a replay of the peer's previous boot claiming passive; a stale-epoch claim;
  // the peer restarts; then this SP turns unhealthy and hands over.
  {
    SeedWriter w;
    w.b(6).b(0x00).b(1).b(0).b(0);
    for (int i = 0; i < 35; ++i) w.beat(Path::Peer, Role::Passive, 3, 0, true).tick(10);
    w.beat(Path::Mgmt, Role::Passive, 3, 2).tick(1);  // boot counter of an older boot
    w.beat(Path::Peer, Role::Active, 1, 0).tick(1);   // active at a lower epoch
    w.b(15).b(0);                                     // the peer restarts
    w.beat(Path::Midplane, Role::Passive, 3, 0, true).tick(5);
    w.b(11).b(2);  // this SP critical
    for (int i = 0; i < 5; ++i) w.beat(Path::Peer, Role::Passive, 3, 0, true).tick(5);
    w.b(5).b(3).b(0);  // replay of an earlier beat
    seeds.push_back(w.s);
  }
  // Nobody heard: the chassis asked, powered off, fence, takeover; the carrier goes.
  {
    SeedWriter w;
    w.b(7).b(0x00).b(0).b(0).b(0);
    w.tick(2).power(PowerState::Off).tick(2).fence(false).tick(250).tick(250).tick(250);
    w.tick(250).power(PowerState::Off).tick(2).fence(true).b(12).b(0).tick(5);
    seeds.push_back(w.s);
  }
  for (size_t i = 0; i < seeds.size(); ++i)
    std::ofstream(dir + "/seed-" + std::to_string(i), std::ios::binary) << seeds[i];
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = getenv("DUALSP_FUZZ_WRITE_SEEDS")) {
    writeSeeds(dir);
    exit(0);
  }
  log::init("heartbeat_fuzz", "SP-A", "", log::Level::Critical);  // refusals are expected
  google::protobuf::SetLogHandler(nullptr);  // nor are protobuf's complaints about bad input news
  window();
  atexit([] { ::unlink(window().path.c_str()); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Reader in{data + 1, size - 1};
  switch (data[0] % 8) {
    case 0:
      fuzzUdpRaw(in.rest());
      break;
    case 1:
      fuzzUdpStructured(in);
      break;
    case 2:
      fuzzMidplaneRaw(in);
      break;
    case 3:
      fuzzMidplaneStructured(in);
      break;
    default:
      fuzzElection(in);
      break;
  }
  return 0;
}
