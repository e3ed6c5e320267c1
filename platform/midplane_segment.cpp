#include "platform/midplane_segment.hpp"

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cstring>
#include <stdexcept>

namespace bip = boost::interprocess;

namespace dualsp::platform {
namespace {

constexpr uint64_t kMagic = 0x4c50444d50534444ULL;  // bytes "DDSPMDPL", only a tag
constexpr uint32_t kLayoutVersion = 1;

struct Slot {
  std::atomic<uint64_t> sequence;  // seqlock: odd while written
  std::atomic<uint64_t> beat_seq;
  std::atomic<uint64_t> epoch;
  std::atomic<uint32_t> role;
  std::atomic<uint32_t> health;
  std::atomic<uint64_t> boot;
  std::atomic<uint64_t> sent_us;
  std::atomic<uint32_t> flags;
  uint8_t pad[12];
};
static_assert(sizeof(Slot) == 64);

struct Layout {
  std::atomic<uint64_t> magic;
  std::atomic<uint32_t> version;
  uint32_t reserved;
  std::atomic<uint32_t> cut[2];
  uint8_t pad[40];
  Slot slots[2];
};
static_assert(offsetof(Layout, cut) == MidplaneSegment::kCutOffset);
static_assert(offsetof(Layout, slots) == 64);
static_assert(sizeof(Layout) <= MidplaneSegment::kSize);

int index(SpId sp) {
  return sp == SpId::A ? 0 : 1;
}

}  // namespace

struct MidplaneSegment::Impl {
  bip::shared_memory_object shm;
  bip::mapped_region region;
  Layout* layout = nullptr;
};

MidplaneSegment::MidplaneSegment(const std::string& name, SpId self)
    : self_(self), impl_(std::make_unique<Impl>()) {
  try {
    impl_->shm = bip::shared_memory_object(bip::open_or_create, name.c_str(), bip::read_write);
    bip::offset_t size = 0;
    impl_->shm.get_size(size);
    if (size < static_cast<bip::offset_t>(kSize)) impl_->shm.truncate(kSize);  // zero-filled
    impl_->region = bip::mapped_region(impl_->shm, bip::read_write);
  } catch (const bip::interprocess_exception& e) {
    throw std::runtime_error("midplane segment " + name + ": " + e.what());
  }
  impl_->layout = static_cast<Layout*>(impl_->region.get_address());
  // A fresh segment is all zeroes; the first SP to map it stamps it. Both SPs stamping the
  // same values is harmless.
  impl_->layout->version.store(kLayoutVersion);
  impl_->layout->magic.store(kMagic);
}

MidplaneSegment::~MidplaneSegment() = default;

bool MidplaneSegment::cut(SpId side) const {
  return impl_->layout->cut[index(side)].load(std::memory_order_acquire) != 0;
}

bool MidplaneSegment::write(const MidplaneBeat& beat) {
  if (cut(self_)) return false;
  Slot& s = impl_->layout->slots[index(self_)];
  uint64_t seq = s.sequence.load(std::memory_order_relaxed);
  s.sequence.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  s.beat_seq.store(beat.beat_seq, std::memory_order_relaxed);
  s.epoch.store(beat.epoch, std::memory_order_relaxed);
  s.role.store(static_cast<uint32_t>(beat.role), std::memory_order_relaxed);
  s.health.store(static_cast<uint32_t>(beat.health), std::memory_order_relaxed);
  s.boot.store(beat.boot, std::memory_order_relaxed);
  s.sent_us.store(beat.sent_us, std::memory_order_relaxed);
  s.flags.store(beat.yielding ? 1u : 0u, std::memory_order_relaxed);
  s.sequence.store(seq + 2, std::memory_order_release);
  return true;
}

std::optional<MidplaneBeat> MidplaneSegment::readPeer() const {
  SpId peer = peerOf(self_);
  if (cut(self_) || cut(peer)) return std::nullopt;
  const Slot& s = impl_->layout->slots[index(peer)];
  for (int attempt = 0; attempt < 100; ++attempt) {
    uint64_t before = s.sequence.load(std::memory_order_acquire);
    if (before & 1) continue;
    MidplaneBeat beat;
    beat.beat_seq = s.beat_seq.load(std::memory_order_relaxed);
    beat.epoch = s.epoch.load(std::memory_order_relaxed);
    uint32_t role = s.role.load(std::memory_order_relaxed);
    uint32_t health = s.health.load(std::memory_order_relaxed);
    beat.boot = s.boot.load(std::memory_order_relaxed);
    beat.sent_us = s.sent_us.load(std::memory_order_relaxed);
    beat.yielding = (s.flags.load(std::memory_order_relaxed) & 1u) != 0;
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.sequence.load(std::memory_order_relaxed) != before) continue;
    if (role > static_cast<uint32_t>(Role::Active) ||
        health > static_cast<uint32_t>(Health::Critical))
      return std::nullopt;
    beat.role = static_cast<Role>(role);
    beat.health = static_cast<Health>(health);
    return beat;
  }
  return std::nullopt;
}

}  // namespace dualsp::platform
