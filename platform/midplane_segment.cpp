#include "platform/midplane_segment.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "platform/private_shm.hpp"
#include "platform/unique_fd.hpp"

namespace bip = boost::interprocess;

namespace dualsp::platform {
namespace {

constexpr uint64_t kMagic = 0x4c50444d50534444ULL;  // bytes "DDSPMDPL", only a tag
constexpr uint32_t kLayoutVersion = 2;              // 2: slots authenticated

struct Slot {
  std::atomic<uint64_t> sequence;  // seqlock: odd while written
  std::atomic<uint64_t> beat_seq;
  std::atomic<uint64_t> epoch;
  std::atomic<uint32_t> role;
  std::atomic<uint32_t> health;
  std::atomic<uint64_t> boot;
  std::atomic<uint64_t> sent_us;
  std::atomic<uint32_t> flags;
  uint8_t pad[4];
  std::atomic<uint64_t> heard_boot;
};
static_assert(sizeof(Slot) == 64);
static_assert(offsetof(Slot, heard_boot) == 56);

// A slot's boot counter and MAC, beside it (the slot's 64 bytes were full).
struct SlotAuth {
  std::atomic<uint64_t> boot_counter;
  std::atomic<uint64_t> mac[4];
  uint8_t pad[24];
};
static_assert(sizeof(SlotAuth) == 64);

struct HistoryArea {
  std::atomic<uint64_t> sequence;  // seqlock: odd while written
  std::atomic<uint64_t> epoch;
  std::atomic<uint64_t> seq;
  std::atomic<uint64_t> last_event_id;
};
static_assert(sizeof(HistoryArea) == 32);

struct Layout {
  std::atomic<uint64_t> magic;
  std::atomic<uint32_t> version;
  uint32_t reserved;
  std::atomic<uint32_t> cut[2];
  uint8_t pad[40];
  Slot slots[2];
  uint8_t pad2[64];
  std::atomic<uint64_t> power_off_request[2];
  std::atomic<uint64_t> power_off_done[2];
  std::atomic<uint64_t> power_state[2];
  uint8_t pad3[16];
  HistoryArea history[2];
  SlotAuth auth[2];
};

// The seqlock both areas use: the writer makes the sequence odd, stores, makes it even again;
// a reader retries (at most 100 times) until it read the same even sequence before and after.
template <class Area, class Store>
void seqlockWrite(Area& area, Store store) {
  const uint64_t seq = area.sequence.load(std::memory_order_relaxed);
  area.sequence.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  store(area);
  area.sequence.store(seq + 2, std::memory_order_release);
}

// Runs load(area) until it saw a consistent copy; returns that copy's sequence (0: never
// written), or nullopt when the writer never let go.
template <class Area, class Load>
std::optional<uint64_t> seqlockRead(const Area& area, Load load) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const uint64_t before = area.sequence.load(std::memory_order_acquire);
    if (before & 1) continue;
    load(area);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (area.sequence.load(std::memory_order_relaxed) == before) return before;
  }
  return std::nullopt;
}
static_assert(offsetof(Layout, cut) == MidplaneSegment::kCutOffset);
static_assert(offsetof(Layout, slots) == 64);
static_assert(offsetof(Layout, power_off_request) == MidplaneSegment::kPowerRequestOffset);
static_assert(offsetof(Layout, power_off_done) == MidplaneSegment::kPowerDoneOffset);
static_assert(offsetof(Layout, power_state) == MidplaneSegment::kPowerStateOffset);
static_assert(offsetof(Layout, history) == MidplaneSegment::kHistoryOffset);
static_assert(offsetof(Layout, auth) == MidplaneSegment::kAuthOffset);
static_assert(sizeof(Layout) <= MidplaneSegment::kSize);

constexpr uint32_t kFlagYielding = 1u;
constexpr uint32_t kFlagNoCarrier = 2u;

int index(SpId sp) {
  return sp == SpId::A ? 0 : 1;
}

}  // namespace

struct MidplaneSegment::Impl {
  bip::shared_memory_object shm;
  bip::mapped_region region;
  void* file_map = nullptr;  // a file-backed window (ivshmem BAR): mmap'ed directly
  Layout* layout = nullptr;
  ~Impl() {
    if (file_map) ::munmap(file_map, kSize);
  }
};

namespace {

// Maps kSize bytes of a file shared. A device window (sysfs resource file) is used as it
// is; a regular file shorter than the window is extended (zero-filled).
void* mapFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) {
    throw std::runtime_error("midplane window " + path + ": open: " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) &&
      st.st_size < static_cast<off_t>(MidplaneSegment::kSize) &&
      ::ftruncate(fd.get(), MidplaneSegment::kSize) < 0) {
    throw std::runtime_error("midplane window " + path + ": ftruncate: " + std::strerror(errno));
  }
  void* p =
      ::mmap(nullptr, MidplaneSegment::kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) {
    throw std::runtime_error("midplane window " + path + ": mmap: " + std::strerror(errno));
  }
  return p;
}

}  // namespace

MidplaneSegment::MidplaneSegment(const std::string& name, SpId self)
    : self_(self), impl_(std::make_unique<Impl>()) {
  if (!name.empty() && name.front() == '/') {
    impl_->file_map = mapFile(name);
    impl_->layout = static_cast<Layout*>(impl_->file_map);
  } else {
    mapSharedMemory(name);
  }
  // A fresh segment is all zeroes; the first SP to map it stamps it. Both SPs stamping the
  // same values is harmless.
  impl_->layout->version.store(kLayoutVersion);
  impl_->layout->magic.store(kMagic);
}

void MidplaneSegment::mapSharedMemory(const std::string& name) {
  try {
    // Both SPs of a simulated pair map the same segment: an existing one is kept when it is
    // theirs, replaced when someone else made it (platform/private_shm.hpp).
    impl_->shm = openPrivateShm(name);
    bip::offset_t size = 0;
    impl_->shm.get_size(size);
    if (size < static_cast<bip::offset_t>(kSize)) impl_->shm.truncate(kSize);  // zero-filled
    impl_->region = bip::mapped_region(impl_->shm, bip::read_write);
  } catch (const std::exception& e) {  // interprocess_exception or runtime_error
    throw std::runtime_error("midplane segment " + name + ": " + e.what());
  }
  impl_->layout = static_cast<Layout*>(impl_->region.get_address());
}

MidplaneSegment::~MidplaneSegment() = default;

bool MidplaneSegment::cut(SpId side) const {
  return impl_->layout->cut[index(side)].load(std::memory_order_acquire) != 0;
}

uint64_t MidplaneSegment::requestPowerOff(SpId target) {
  return impl_->layout->power_off_request[index(target)].fetch_add(1, std::memory_order_acq_rel) +
         1;
}

uint64_t MidplaneSegment::powerOffDone(SpId target) const {
  return impl_->layout->power_off_done[index(target)].load(std::memory_order_acquire);
}

PowerState MidplaneSegment::powerState(SpId target) const {
  uint64_t v = impl_->layout->power_state[index(target)].load(std::memory_order_acquire);
  return v <= static_cast<uint64_t>(PowerState::Stopped) ? static_cast<PowerState>(v)
                                                         : PowerState::Unknown;
}

bool MidplaneSegment::writeHistory(const History& history) {
  if (cut(self_)) return false;
  seqlockWrite(impl_->layout->history[index(self_)], [&](HistoryArea& h) {
    h.epoch.store(history.epoch, std::memory_order_relaxed);
    h.seq.store(history.seq, std::memory_order_relaxed);
    h.last_event_id.store(history.last_event_id, std::memory_order_relaxed);
  });
  return true;
}

std::optional<History> MidplaneSegment::readPeerHistory() const {
  SpId peer = peerOf(self_);
  if (cut(self_) || cut(peer)) return std::nullopt;
  History out;
  auto seq = seqlockRead(impl_->layout->history[index(peer)], [&](const HistoryArea& h) {
    out.epoch = h.epoch.load(std::memory_order_relaxed);
    out.seq = h.seq.load(std::memory_order_relaxed);
    out.last_event_id = h.last_event_id.load(std::memory_order_relaxed);
  });
  if (!seq || *seq == 0) return std::nullopt;  // the writer never let go, or never wrote
  return out;
}

bool MidplaneSegment::write(const MidplaneBeat& beat) {
  if (cut(self_)) return false;
  seqlockWrite(impl_->layout->slots[index(self_)], [&](Slot& s) {
    s.beat_seq.store(beat.beat_seq, std::memory_order_relaxed);
    s.epoch.store(beat.epoch, std::memory_order_relaxed);
    s.role.store(static_cast<uint32_t>(beat.role), std::memory_order_relaxed);
    s.health.store(static_cast<uint32_t>(beat.health), std::memory_order_relaxed);
    s.boot.store(beat.boot, std::memory_order_relaxed);
    s.sent_us.store(beat.sent_us, std::memory_order_relaxed);
    s.flags.store((beat.yielding ? kFlagYielding : 0u) | (beat.no_carrier ? kFlagNoCarrier : 0u),
                  std::memory_order_relaxed);
    s.heard_boot.store(beat.heard_boot, std::memory_order_relaxed);
    // Under the slot's seqlock too: a reader never pairs one beat with another's MAC.
    SlotAuth& a = impl_->layout->auth[index(self_)];
    a.boot_counter.store(beat.boot_counter, std::memory_order_relaxed);
    for (size_t i = 0; i < 4; ++i) {
      uint64_t word = 0;
      std::memcpy(&word, beat.mac.data() + 8 * i, 8);
      a.mac[i].store(word, std::memory_order_relaxed);
    }
  });
  return true;
}

std::optional<MidplaneBeat> MidplaneSegment::readPeer() const {
  SpId peer = peerOf(self_);
  if (cut(self_) || cut(peer)) return std::nullopt;
  MidplaneBeat beat;
  uint32_t role = 0;
  uint32_t health = 0;
  auto seq = seqlockRead(impl_->layout->slots[index(peer)], [&](const Slot& s) {
    beat.beat_seq = s.beat_seq.load(std::memory_order_relaxed);
    beat.epoch = s.epoch.load(std::memory_order_relaxed);
    role = s.role.load(std::memory_order_relaxed);
    health = s.health.load(std::memory_order_relaxed);
    beat.boot = s.boot.load(std::memory_order_relaxed);
    beat.sent_us = s.sent_us.load(std::memory_order_relaxed);
    const uint32_t flags = s.flags.load(std::memory_order_relaxed);
    beat.yielding = (flags & kFlagYielding) != 0;
    beat.no_carrier = (flags & kFlagNoCarrier) != 0;
    beat.heard_boot = s.heard_boot.load(std::memory_order_relaxed);
    const SlotAuth& a = impl_->layout->auth[index(peer)];
    beat.boot_counter = a.boot_counter.load(std::memory_order_relaxed);
    for (size_t i = 0; i < 4; ++i) {
      const uint64_t word = a.mac[i].load(std::memory_order_relaxed);
      std::memcpy(beat.mac.data() + 8 * i, &word, 8);
    }
  });
  if (!seq) return std::nullopt;
  if (role > static_cast<uint32_t>(Role::Active) ||
      health > static_cast<uint32_t>(Health::Critical))
    return std::nullopt;
  beat.role = static_cast<Role>(role);
  beat.health = static_cast<Health>(health);
  return beat;
}

}  // namespace dualsp::platform
